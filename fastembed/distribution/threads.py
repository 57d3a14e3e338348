"""OpenMP threads when several processes share a machine: each gets
cores // processes threads, and threads that wait sleep (passive) when the
processes outnumber the cores, so a spinning thread does not steal the
core another process computes on."""
import os

# Processes of the job on this machine, as MPICH, Open MPI and Slurm tell them.
_LOCAL_SIZE_VARIABLES = ("MPI_LOCALNRANKS", "OMPI_COMM_WORLD_LOCAL_SIZE",
                         "SLURM_NTASKS_PER_NODE")


def local_processes():
    """How many processes of this MPI job run on this machine (1 outside one)."""
    for name in _LOCAL_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit() and int(value) > 0:
            return int(value)
    return 1


def cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def set_wait_policy():
    """OMP_WAIT_POLICY=passive when this machine's processes outnumber its
    cores. Read once when the OpenMP runtime loads, so called before the
    kernels are imported; a value the user set stays."""
    if local_processes() > cores():
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")


def share_cores(processes):
    """cores // processes OpenMP threads (at least 1) unless the user chose
    a number with OMP_NUM_THREADS."""
    if "OMP_NUM_THREADS" in os.environ:
        return
    from fastembed import _kernels
    _kernels.set_num_threads(max(1, cores() // processes))

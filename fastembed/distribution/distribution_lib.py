"""Keras's distribution API (keras.distribution) over MPI processes: one
device per process, launched with `mpiexec -n N python train.py`.

mpi4py is imported only when a launcher started this process (a single
process needs no MPI), so the `mpi` extra stays optional."""
import collections.abc
import os
import re
import sys
import threading
import time

from fastembed.distribution import threads

# Environment variables an MPI launcher (MPICH's hydra, Open MPI, Slurm's PMI) sets.
_LAUNCHER_VARIABLES = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK")

_ABORT_GRACE_SECONDS = 0.5
# Seconds a process may wait in one MPI call before it decides another has
# died or hangs, and aborts the job (0: wait forever).
COLLECTIVE_TIMEOUT_VARIABLE = "FASTEMBED_COLLECTIVE_TIMEOUT"
DEFAULT_COLLECTIVE_TIMEOUT = 600.0

_world = None
_distribution = None


def _launched_by_mpi():
    return any(name in os.environ for name in _LAUNCHER_VARIABLES)


def world():
    """MPI's COMM_WORLD when this process belongs to an MPI job, else None."""
    global _world
    if _world is None and _launched_by_mpi():
        try:
            from mpi4py import MPI
        except ImportError:
            raise ImportError("fastembed.distribution under an MPI launcher needs mpi4py: "
                              "pip install \"fastembed-keras[mpi]\"") from None
        _world = MPI.COMM_WORLD
        if _world.Get_size() > 1:
            _abort_job_on_uncaught_exception(_world)
            timeout = _collective_timeout()
            if timeout:
                _world = WatchedComm(_world, timeout)
    return _world


def _collective_timeout():
    value = os.environ.get(COLLECTIVE_TIMEOUT_VARIABLE, str(DEFAULT_COLLECTIVE_TIMEOUT))
    try:
        timeout = float(value)
    except ValueError:
        timeout = -1.0
    if not timeout >= 0:
        raise ValueError(f"{COLLECTIVE_TIMEOUT_VARIABLE} must be a number of seconds >= 0 "
                         f"(0: no timeout), got {value!r}")
    return timeout


class WatchedComm:
    """A communicator whose calls abort the job when one waits longer than
    `timeout` seconds: a process that died, where the launcher does not end
    the others (srun without --kill-on-bad-exit), or one that hangs, would
    otherwise leave them waiting forever. A watcher thread checks the
    deadline (mpi4py releases the GIL while it waits in MPI)."""

    UNWATCHED = frozenset({"Get_size", "Get_rank", "Abort"})

    def __init__(self, comm, timeout):
        self.comm, self.timeout = comm, timeout
        self._waiting = None  # (what, deadline) of the call in progress
        threading.Thread(target=self._watch, name="fastembed-mpi-watchdog", daemon=True).start()

    def __getattr__(self, name):
        method = getattr(self.comm, name)
        if name in self.UNWATCHED or not callable(method):
            return method

        def watched(*args, **kwargs):
            self._waiting = (name, time.monotonic() + self.timeout)
            try:
                return method(*args, **kwargs)
            finally:
                self._waiting = None
        return watched

    def _watch(self):
        while True:
            time.sleep(min(1.0, self.timeout / 4))
            waiting = self._waiting
            if waiting is not None and time.monotonic() > waiting[1]:
                sys.stderr.write(
                    f"fastembed.distribution: process {self.comm.Get_rank()} waited more than "
                    f"{self.timeout:g} s in MPI {waiting[0]}: another process has died or "
                    f"hangs; aborting the job ({COLLECTIVE_TIMEOUT_VARIABLE} sets the "
                    f"timeout)\n")
                sys.stderr.flush()
                self.comm.Abort(1)


def _abort_job_on_uncaught_exception(comm):
    """An exception that ends one process ends the job (MPI_Abort), rather
    than leaving the others waiting in a collective forever. The abort
    waits a moment, so that processes failing the same check at once (the
    checks every process makes alike) all print their error first."""
    previous = sys.excepthook

    def excepthook(kind, value, traceback):
        previous(kind, value, traceback)
        sys.stderr.flush()
        time.sleep(_ABORT_GRACE_SECONDS)
        comm.Abort(1)

    sys.excepthook = excepthook


def num_processes():
    comm = world()
    return 1 if comm is None else comm.Get_size()


def process_id():
    comm = world()
    return 0 if comm is None else comm.Get_rank()


def initialize(job_addresses=None, num_processes=None, process_id=None):
    """Join the MPI job this process was launched in (a no-op in a single
    process) and give it its share of the cores' OpenMP threads. The
    arguments are Keras's; the launcher already knows them, so given ones
    must agree with it."""
    comm = world()
    size, rank = (1, 0) if comm is None else (comm.Get_size(), comm.Get_rank())
    for argument, given, actual in (("num_processes", num_processes, size),
                                    ("process_id", process_id, rank)):
        if given is not None and given != actual:
            raise ValueError(f"initialize({argument}={given!r}) disagrees with the MPI "
                             f"launcher, which started this process with {argument}={actual}")
    threads.share_cores(threads.local_processes())


def list_devices(device_type=None):
    """One device per process: 'cpu:<rank>'."""
    if device_type not in (None, "cpu", "CPU"):
        raise ValueError(f"fastembed runs on CPUs only; got device_type={device_type!r}")
    return [f"cpu:{rank}" for rank in range(num_processes())]


def get_device_count(device_type=None):
    return len(list_devices(device_type))


class DeviceMesh:
    """The processes as a mesh with named axes (Keras's DeviceMesh); fastembed
    uses its first axis: every process is one replica or one table shard."""

    def __init__(self, shape, axis_names, devices=None):
        if not shape or not axis_names:
            raise ValueError(f"Shape and axis_names cannot be empty. Received: shape={shape}, "
                             f"axis_names={axis_names}")
        if len(shape) != len(axis_names):
            raise ValueError(f"Shape and axis_names should have same size. Received: "
                             f"shape={shape}, axis_names={axis_names}")
        devices = list_devices() if devices is None else list(devices)
        count = 1
        for extent in shape:
            count *= extent
        if count != len(devices):
            raise ValueError(f"Shape does not match the number of devices. Received: "
                             f"shape={shape}; {len(devices)} devices ({devices})")
        self.shape, self.axis_names, self.devices = tuple(shape), list(axis_names), devices


class TensorLayout:
    """Per axis of a tensor, the mesh axis it is split along, or None."""

    def __init__(self, axes, device_mesh=None):
        self.axes, self.device_mesh = tuple(axes), device_mesh

    def __repr__(self):
        return f"TensorLayout(axes={self.axes})"


class LayoutMap(collections.abc.MutableMapping):
    """Variable paths ('user_vec/embeddings') or regexes matched in full,
    to layouts: ("model", None) splits a table by rows."""

    def __init__(self, device_mesh=None):
        self._layout_map = collections.OrderedDict()
        self._device_mesh = device_mesh

    def __getitem__(self, key):
        """The layout of exactly `key`, else of the one key matching it as a
        regex, else None; a path matching several keys is a ValueError."""
        if key in self._layout_map:
            return self._layout_map[key]
        matching = [pattern for pattern in self._layout_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"Path '{key}' matches multiple layout specification keys: "
                             f"{matching}. Please make sure each tensor/variable path only "
                             f"matches at most one layout specification key in the LayoutMap.")
        return self._layout_map[matching[0]] if matching else None

    def __setitem__(self, key, layout):
        if key in self._layout_map:
            raise ValueError(f"{key} already exist in the LayoutMap with value "
                             f"{self._layout_map[key]}. Please make sure to not use "
                             f"duplicated keys.")
        if isinstance(layout, tuple):
            layout = TensorLayout(layout, self._device_mesh)
        if not isinstance(layout, TensorLayout):
            raise ValueError(f"{layout} should be a TensorLayout type, got {type(layout)}")
        self._layout_map[key] = layout

    def __delitem__(self, key):
        return self._layout_map.pop(key)

    def __len__(self):
        return len(self._layout_map)

    def __iter__(self):
        return iter(self._layout_map)

    @property
    def device_mesh(self):
        return self._device_mesh


class Distribution:
    """How fit / evaluate spread their work over the processes."""

    def __init__(self, device_mesh, batch_dim_name=None, auto_shard_dataset=True):
        self.device_mesh = device_mesh
        self.batch_dim_name = batch_dim_name or device_mesh.axis_names[0]
        if not auto_shard_dataset:
            raise NotImplementedError("auto_shard_dataset=False (data already split per "
                                      "process) is not supported yet")
        self.auto_shard_dataset = True

    @property
    def num_processes(self):
        return num_processes()

    @property
    def process_id(self):
        return process_id()


class DataParallel(Distribution):
    """Every process holds the whole model and takes its share of each
    global batch; gradients are combined so that a step equals one
    process's step on the whole batch."""

    def __init__(self, device_mesh=None, devices=None, auto_shard_dataset=True):
        if device_mesh is not None and devices is not None:
            raise ValueError("DataParallel takes device_mesh or devices, not both")
        if device_mesh is None:
            devices = list_devices() if devices is None else list(devices)
            device_mesh = DeviceMesh((len(devices),), ["batch"], devices)
        super().__init__(device_mesh, device_mesh.axis_names[0], auto_shard_dataset)


class ModelParallel(Distribution):
    """DataParallel for everything but the tables whose layout splits
    their rows over the mesh ("model", None): each process holds one block
    of their rows (fastembed.distribution.sharding). Set it before the
    model is built, so that the tables are created split."""

    def __init__(self, *, layout_map=None, batch_dim_name=None, auto_shard_dataset=True,
                 **kwargs):
        kwargs.pop("device_mesh", None)
        if kwargs:
            raise TypeError(f"ModelParallel got unexpected keyword arguments: {sorted(kwargs)}")
        if layout_map is None:
            raise ValueError("You must specify a layout_map argument.")
        if not isinstance(layout_map, LayoutMap):
            raise ValueError(f"Argument `layout_map` must be a `LayoutMap` instance. "
                             f"Received: layout_map={layout_map}")
        mesh = layout_map.device_mesh or DeviceMesh((num_processes(),), ["model"])
        super().__init__(mesh, batch_dim_name, auto_shard_dataset)
        self.layout_map = layout_map


def distribution():
    """The distribution set by set_distribution (None: one process's fit)."""
    return _distribution


def set_distribution(value):
    if value is not None and not isinstance(value, Distribution):
        raise ValueError(f"set_distribution needs a Distribution (DataParallel, "
                         f"ModelParallel) or None, got {value!r}")
    global _distribution
    _distribution = value

"""DataParallel (and ModelParallel, which splits the batch the same way)
inside fit / evaluate: each process's share of every global batch,
weights broadcast from process 0, gradients combined so a step equals one
process's step on the whole batch, metrics summed. Row-sharded tables
(sharding.py) are not broadcast or all-reduced: their gradients go to the
processes that hold their rows.

The trainer calls the functions below at fixed points; each returns at
once when no distribution spans several processes."""
import numpy as np

from fastembed import _kernels
from fastembed.distribution import distribution_lib, sharding
from fastembed.distribution.sharding import ShardedTable, block_bounds
from fastembed.engine.variable import RowGrad
from fastembed.utils import random as random_module


def _world():
    """COMM_WORLD when a distribution spans several processes."""
    if distribution_lib.distribution() is None:
        return None
    comm = distribution_lib.world()
    return comm if comm is not None and comm.Get_size() > 1 else None


def is_writer():
    """Whether this process prints, writes callbacks' files and saves (process 0)."""
    return distribution_lib.distribution() is None or distribution_lib.process_id() == 0


def verbosity(verbose):
    """fit / evaluate's verbose on this process: 0 off process 0."""
    return verbose if is_writer() else 0


def writer_callbacks(callbacks):
    """The callbacks this process runs: off process 0, none of those that
    print or write files (ProgbarLogger, CSVLogger, TensorBoard)."""
    if is_writer() or callbacks is None:
        return callbacks
    from fastembed.callbacks import Callback, CSVLogger, ProgbarLogger, TensorBoard
    callbacks = [callbacks] if isinstance(callbacks, Callback) else list(callbacks)
    return [c for c in callbacks if not isinstance(c, (CSVLogger, ProgbarLogger, TensorBoard))]


def _agreed(comm, value, what):
    """value, after checking that every process has the same; else a
    ValueError on every process."""
    values = comm.allgather(value)
    if any(v != values[0] for v in values):
        raise ValueError(f"DataParallel needs the same {what} on every process; the "
                         f"processes have {values}")
    return value


class ShardedBatches:
    """This process's shares of the global batches of `data` (ArrayBatches
    or StreamBatches, the whole data on every process). Each epoch starts
    from process 0's random state, so every process shuffles alike."""

    def __init__(self, data, comm):
        self.data, self.comm, self.steps = data, comm, data.steps
        self.processes, self.rank = comm.Get_size(), comm.Get_rank()

    def epoch(self):
        shared = random_module.generator()
        shared.bit_generator.state = self.comm.bcast(shared.bit_generator.state, root=0)
        for step, batch in self.data.epoch():
            global_batch = len(batch[0])
            if global_batch < self.processes:
                raise ValueError(f"DataParallel over {self.processes} processes needs at least "
                                 f"one sample per process in every global batch; batch {step} "
                                 f"has {global_batch} (choose batch_size and the number of "
                                 f"samples so that no batch is smaller than the processes)")
            start, stop = block_bounds(global_batch, self.processes, self.rank)
            yield step, [a[start:stop] for a in batch]

    @property
    def exhausted(self):
        return self.data.exhausted

    def on_epoch_end(self):
        self.data.on_epoch_end()


def shard(data, batch_size, num_samples):
    """data as this process's shares (data unchanged without DataParallel).
    The global batch and the number of samples (None for streams) must
    agree across processes and leave every process a sample."""
    comm = _world()
    if comm is None:
        return data
    _agreed(comm, (batch_size, num_samples), "(batch_size, number of samples)")
    if batch_size is not None and batch_size < comm.Get_size():
        raise ValueError(f"batch_size is the global batch under DataParallel and must be at "
                         f"least the number of processes ({comm.Get_size()}); got "
                         f"batch_size={batch_size}")
    return ShardedBatches(data, comm)


def broadcast_weights(model):
    """Process 0's weights on every process (each built its own at random),
    but for row-sharded tables, whose blocks differ; the layout checked."""
    comm = _world()
    if comm is None:
        return
    sharding.check_layout(model)
    weights = model.weights
    _agreed(comm, [(w.name, w.shape) for w in weights], "model weights")
    for weight in weights:
        if not isinstance(weight, ShardedTable):
            comm.Bcast(weight.value, root=0)


def _dense_cheaper(table, rows_gathered, processes):
    """Whether a ring all-reduce of the whole table (2 (P-1)/P of it per
    process) moves fewer bytes than gathering every process's rows (ids
    and values, rows_gathered in all)."""
    num_rows, dim = table.value.shape
    all_reduce_bytes = 2 * (processes - 1) / processes * num_rows * dim * 4
    gather_bytes = rows_gathered * (8 + 4 * dim)
    return all_reduce_bytes < gather_bytes


def reduce_gradients(variables, local_batch):
    """Replace each variable's gradient of this process's share by the
    gradient of the global batch: the shares' gradients weighted by their
    sizes. Dense ones are summed in one flat all-reduce; a table's merged
    rows are gathered from every process and merged again by the embedding
    gradient kernel (in one flat all-reduce too when that moves fewer
    bytes, except for lazy tables, whose update must see only their rows)."""
    comm = _world()
    if comm is None:
        return
    from mpi4py import MPI
    with_grad = [v for v in variables if v.grad is not None]
    sharded = [v for v in with_grad if isinstance(v, ShardedTable)]
    with_grad = [v for v in with_grad if not isinstance(v, ShardedTable)]
    tables = [v for v in with_grad if isinstance(v.grad, RowGrad)]
    counts = np.array([local_batch] + [len(v.grad.rows) for v in tables], np.int64)
    all_counts = np.empty((comm.Get_size(), len(counts)), np.int64)
    comm.Allgather(counts, all_counts)
    share = np.float32(local_batch / all_counts[:, 0].sum())
    totals = all_counts[:, 1:].sum(axis=0)
    gathered = [(v, all_counts[:, 1 + i]) for i, v in enumerate(tables)
                if v.lazy or not _dense_cheaper(v, totals[i], comm.Get_size())]
    gathered_ids = {id(v) for v, _ in gathered}
    summed = [v for v in with_grad if id(v) not in gathered_ids]

    flat = np.empty(sum(v.value.size for v in summed), np.float32)
    offset = 0
    for variable in summed:
        part = flat[offset:offset + variable.value.size].reshape(variable.value.shape)
        if isinstance(variable.grad, RowGrad):
            part[...] = 0
            part[variable.grad.rows] = variable.grad.values * share
        else:
            np.multiply(variable.grad, share, out=part)
        variable.grad = part
        offset += variable.value.size
    comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)

    for table, row_counts in gathered:
        dim = table.value.shape[1]
        rows = np.empty(int(row_counts.sum()), np.int64)
        values = np.empty((len(rows), dim), np.float32)
        comm.Allgatherv(table.grad.rows, (rows, row_counts))
        comm.Allgatherv(table.grad.values * share, (values, row_counts * dim))
        table.grad = RowGrad(*_kernels.embedding_grad(values, rows, table.value.shape[0]))
    for table in sharded:
        table.route_gradient(share)


def merge_results(results):
    """Sum every loss tracker's and metric's state (metric.state_names)
    over the processes in one all-reduce, so logs cover the whole data."""
    comm = _world()
    if comm is None:
        return
    from mpi4py import MPI
    states = [(metric, name, np.asarray(getattr(metric, name), np.float64))
              for metric in results._all() for name in metric.state_names]
    flat = np.concatenate([value.ravel() for _, _, value in states] + [np.empty(0)])
    comm.Allreduce(MPI.IN_PLACE, flat, op=MPI.SUM)
    offset = 0
    for metric, name, value in states:
        merged = flat[offset:offset + value.size].reshape(value.shape)
        setattr(metric, name, merged if merged.ndim else float(merged))
        offset += value.size

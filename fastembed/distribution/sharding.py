"""ModelParallel's row-sharded tables: a table whose layout splits axis 0
over the mesh ("model", None) lives as one contiguous block of rows per
process, each block with its own (lazy) optimizer state. A lookup sends
each unique id to its owner (all-to-all), the owner gathers the rows in C
and sends them back; gradients go to the owners the same way
(route_gradient). The whole table exists only on process 0, and only
while get_weights or save collect it (numpy, collected)."""
import contextlib
import re

import numpy as np

from fastembed import _kernels
from fastembed.distribution import distribution_lib
from fastembed.engine.variable import RowGrad, Variable


def block_bounds(length, processes, rank):
    """[start, stop) of this process's contiguous block of `length` items
    (sizes differing by at most one, larger blocks first): a share of a
    batch, or a table's rows."""
    base, extra = divmod(length, processes)
    start = rank * base + min(rank, extra)
    return start, start + base + (rank < extra)


def _sharding():
    """(ModelParallel, COMM_WORLD) when a ModelParallel spans several processes."""
    spread = distribution_lib.distribution()
    if not isinstance(spread, distribution_lib.ModelParallel):
        return None, None
    comm = distribution_lib.world()
    return (spread, comm) if comm is not None and comm.Get_size() > 1 else (None, None)


def row_block(path, shape):
    """(start, stop) of the rows this process holds of the weight at `path`
    when the ModelParallel layout splits its rows, else None."""
    spread, comm = _sharding()
    layout = None if spread is None else spread.layout_map[path]
    if layout is None or all(axis is None for axis in layout.axes):
        return None
    processes = comm.Get_size()
    if len(shape) != 2 or len(layout.axes) != 2 or layout.axes[1] is not None \
            or layout.axes[0] not in spread.device_mesh.axis_names:
        raise NotImplementedError(f"ModelParallel splits tables by rows only: layout "
                                  f"{layout.axes} for weight {path!r} of shape {tuple(shape)}; "
                                  f"use (\"model\", None) for a (rows, dim) table")
    if shape[0] < processes:
        raise ValueError(f"weight {path!r} has {shape[0]} rows, fewer than the {processes} "
                         f"shards (processes) its layout splits it into")
    return block_bounds(shape[0], processes, comm.Get_rank())


class ShardedTable(Variable):
    """A (num_rows, dim) table of which this process holds rows
    [start, stop) as `value`; updated lazily (only the rows a step touched)."""

    __slots__ = ("comm", "num_rows", "starts")

    def __init__(self, name, value, num_rows, trainable=True, regularizer=None,
                 constraint=None):
        if regularizer is not None:
            raise NotImplementedError(f"a regularizer on the row-sharded table {name!r} is not "
                                      f"supported (its penalty needs the whole table)")
        super().__init__(name, value, trainable=trainable, lazy=True, constraint=constraint)
        self.comm, self.num_rows = distribution_lib.world(), num_rows
        processes = self.comm.Get_size()
        self.starts = np.array([block_bounds(num_rows, processes, rank)[0]
                                for rank in range(processes)] + [num_rows], np.int64)

    @property
    def shape(self):
        return (self.num_rows,) + self.value.shape[1:]

    def _owned(self):
        rank = self.comm.Get_rank()
        return self.starts[rank], self.starts[rank + 1]

    def assign(self, new_value):
        """Take this process's rows of the whole table new_value, or its
        block as read() gives it."""
        new_value = np.asarray(new_value)
        if new_value.shape == self.value.shape:
            self.value[...] = new_value
            return
        if new_value.shape != self.shape:
            raise ValueError(f"cannot assign a value of shape {new_value.shape} to weight "
                             f"{self.name!r} of shape {self.shape}")
        start, stop = self._owned()
        self.value[...] = new_value[start:stop]

    def read(self, dataset):
        """This process's rows of the table in an HDF5 dataset (only those
        are read: loading never holds the whole table)."""
        start, stop = self._owned()
        return np.ascontiguousarray(dataset[start:stop], np.float32)

    def _exchange(self, send, send_counts, dtype, width=1):
        """MPI all-to-all of rows grouped by destination; (received, counts)."""
        receive_counts = np.empty_like(send_counts)
        self.comm.Alltoall(send_counts, receive_counts)
        received = np.empty((int(receive_counts.sum()),) + send.shape[1:], dtype)
        self.comm.Alltoallv((send, send_counts * width), (received, receive_counts * width))
        return received, receive_counts

    def gather(self, indices):
        """The rows at `indices` (validated ids of the whole table), fetched
        from their owners: unique ids out, rows back."""
        ids, inverse = np.unique(indices, return_inverse=True)
        ids = ids.astype(np.int64, copy=False)
        per_owner = np.diff(np.searchsorted(ids, self.starts))
        requested, requested_counts = self._exchange(ids, per_owner, np.int64)
        rows = _kernels.gather(self.value, requested - self._owned()[0])
        dim = self.value.shape[1]
        unique_rows = np.empty((len(ids), dim), np.float32)
        self.comm.Alltoallv((rows, requested_counts * dim), (unique_rows, per_owner * dim))
        return _kernels.gather(unique_rows, inverse.reshape(np.shape(indices)))

    def route_gradient(self, share):
        """Send this process's row gradient (whole-table ids), times its
        share of the global batch, to the rows' owners; keep the sum of
        what this process receives for its own rows, merged in rank order."""
        grad = self.grad
        per_owner = np.diff(np.searchsorted(grad.rows, self.starts))
        rows, _ = self._exchange(grad.rows, per_owner, np.int64)
        dim = self.value.shape[1]
        values, _ = self._exchange(grad.values * share, per_owner, np.float32, dim)
        start, stop = self._owned()
        self.grad = RowGrad(*_kernels.embedding_grad(values, rows - start, stop - start))

    def numpy(self):
        """The whole table on process 0 (gathered from every process, which
        must all call this), None on the others."""
        if self.value.shape[0] == self.num_rows:  # collected() has gathered it
            return self.value.copy()
        return self._collect(self.value)

    def _collect(self, block):
        """The blocks of an array laid out as the table, whole on process 0."""
        counts = np.diff(self.starts) * int(np.prod(block.shape[1:]))
        whole = np.empty((self.num_rows,) + block.shape[1:], block.dtype) \
            if self.comm.Get_rank() == 0 else None
        self.comm.Gatherv(np.ascontiguousarray(block), (whole, counts), root=0)
        return whole


@contextlib.contextmanager
def collected(model):
    """Inside, on process 0, each sharded table of model and its optimizer
    slots hold the whole table (for saving); the blocks are back after."""
    tables = [w for w in model.weights if isinstance(w, ShardedTable)]
    optimizer = getattr(model, "optimizer", None)
    slots = getattr(optimizer, "_slots", {})
    saved = [(table, table.value, slots.get(table)) for table in tables]
    for table, block, table_slots in saved:
        whole = table._collect(block)
        whole_slots = None if table_slots is None else tuple(
            table._collect(slot) for slot in table_slots)
        if whole is not None:
            table.value = whole
            if whole_slots is not None:
                slots[table] = whole_slots
    try:
        yield
    finally:
        for table, block, table_slots in saved:
            table.value = block
            if table_slots is not None:
                slots[table] = table_slots


def check_layout(model):
    """Every LayoutMap key must name (or match) a weight of the model."""
    spread, _ = _sharding()
    if spread is None:
        return
    paths = [w.name for w in model.weights]
    for key in spread.layout_map:
        if not any(key == path or re.fullmatch(key, path) for path in paths):
            raise ValueError(f"ModelParallel's layout_map key {key!r} names no weight of the "
                             f"model; its weights are {paths}")

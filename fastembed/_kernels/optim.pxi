# Optimizer updates on dense weights and on (rows, row_grads) of a table.

cdef extern from "optim.h":
    ctypedef struct fe_optimizer:
        int kind
        float lr
        float momentum
        int nesterov
        float rho
        float beta_1
        float beta_2
        float epsilon
        int centered
        int amsgrad
        float decay
        float momentum_scale
        float gradient_scale
        float velocity_scale
        float lr_power
        float l1
        float l2
        float l2_shrinkage
    int fe_optimizer_num_slots(const fe_optimizer *opt) nogil
    ctypedef struct fe_update_item:
        fe_optimizer opt
        int mode
        float *param
        float *slots[3]
        const float *grad
        const int64_t *rows
        int64_t n_rows, dim, n_table_rows
        const fe_optimizer *history
        int64_t n_steps
        int64_t *row_step
    void fe_update_step(fe_update_item *items, int64_t n_items, const float *zeros,
                        int64_t n_zeros) nogil
    void fe_replay_rows(const fe_optimizer *history, int64_t n_steps, float *table,
                        float **slots, int64_t n_table_rows, int64_t dim, int64_t *row_step,
                        const int64_t *rows, int64_t n_rows, int64_t *scratch,
                        const float *zeros) nogil

from cpython.mem cimport PyMem_Malloc, PyMem_Free
from libc.math cimport powf, sqrtf
from libc.string cimport memset

UPDATE_KINDS = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3, "nadam": 4, "adamax": 5,
                "adadelta": 6, "ftrl": 7, "lion": 8}
# How apply_step moves a variable (fe_update_mode in csrc/optim.h).
UPDATE_DENSE, UPDATE_ROWS, UPDATE_ALL_ROWS, UPDATE_DEFERRED = 0, 1, 2, 3
# Untouched rows of a table are updated in spans of this many zero gradients;
# a deferred table's rows have at most this many elements.
DEF ZERO_SPAN = 4096
DEFERRED_MAX_DIM = ZERO_SPAN
cdef float ZEROS[ZERO_SPAN]
cdef int64_t ROW_ZERO = 0
# Steps a DeferredSteps records before it brings every row up to date.
DEF HISTORY_STEPS = 1024


def adam_rate(float lr, float beta_1, float beta_2, int64_t step):
    """Keras's Adam step size in float32: lr * sqrt(1 - beta_2^step) /
    (1 - beta_1^step) (what numpy's float32 scalars give, without their cost)."""
    cdef float one = 1.0, t = step
    cdef float rate = lr * sqrtf(one - powf(beta_2, t)) / (one - powf(beta_1, t))
    return rate


cdef inline bint _same_shape(cnp.ndarray a, cnp.ndarray b):
    if a.ndim != b.ndim:
        return False
    for i in range(a.ndim):
        if a.shape[i] != b.shape[i]:
            return False
    return True


cdef class UpdateRule:
    """One optimizer's formula and hyper-parameters; `lr` is set per step
    (for Adam, the bias-corrected step size alpha), or with set_step the
    step's other scalars too (see csrc/optim.h)."""
    cdef fe_optimizer opt
    cdef readonly int num_slots

    def __init__(self, kind, float momentum=0.0, bint nesterov=False, float rho=0.9,
                 float beta_1=0.9, float beta_2=0.999, float epsilon=1e-7,
                 bint centered=False, bint amsgrad=False, float lr_power=-0.5, float l1=0.0,
                 float l2_shrinkage=0.0):
        if kind not in UPDATE_KINDS:
            raise ValueError(f"kind must be one of {sorted(UPDATE_KINDS)}, got {kind!r}")
        self.opt.kind = UPDATE_KINDS[kind]
        self.opt.momentum = momentum
        self.opt.nesterov = nesterov
        self.opt.rho = rho
        self.opt.beta_1 = beta_1
        self.opt.beta_2 = beta_2
        self.opt.epsilon = epsilon
        self.opt.centered = centered
        self.opt.amsgrad = amsgrad
        self.opt.lr_power = lr_power
        self.opt.l1 = l1
        self.opt.l2_shrinkage = l2_shrinkage
        self.set_step(0.0)
        self.num_slots = fe_optimizer_num_slots(&self.opt)

    @property
    def lr(self):
        return self.opt.lr

    @lr.setter
    def lr(self, float value):
        self.opt.lr = value

    def set_step(self, float lr, float decay=0.0, float momentum_scale=0.0,
                 float gradient_scale=0.0, float velocity_scale=0.0, float l2=0.0):
        """The scalars of one step: the rate, the weight decay (decay * w
        comes off first), Nadam's scales of m, g and v, Ftrl's l2."""
        self.opt.lr = lr
        self.opt.decay = decay
        self.opt.momentum_scale = momentum_scale
        self.opt.gradient_scale = gradient_scale
        self.opt.velocity_scale = velocity_scale
        self.opt.l2 = l2

    cdef float *_param(self, param, str name) except NULL:
        if not is_float_carray(param) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>param):
            raise TypeError(f"{name} must be a writeable C-contiguous float32 array")
        return <float *>cnp.PyArray_DATA(<cnp.ndarray>param)

    cdef int _slots(self, cnp.ndarray param, tuple slots, float **out) except -1:
        if len(slots) != self.num_slots:
            raise ValueError(f"expected {self.num_slots} slot arrays, got {len(slots)}")
        for k in range(self.num_slots):
            out[k] = self._param(slots[k], "slot")
            if not _same_shape(<cnp.ndarray>slots[k], param):
                raise ValueError(f"slot {k} must have the parameter's shape {(<object>param).shape}")
        return 0

    cdef int _rows(self, cnp.ndarray table, rows, grads) except -1:
        if cnp.PyArray_NDIM(table) != 2:
            raise ValueError("table must be 2-D")
        if (type(rows) is not cnp.ndarray or cnp.PyArray_TYPE(<cnp.ndarray>rows) != cnp.NPY_INT64
                or not cnp.PyArray_ISCARRAY_RO(<cnp.ndarray>rows) or (<cnp.ndarray>rows).ndim != 1):
            raise TypeError("rows must be a C-contiguous 1-D int64 array")
        check_array("grads", grads, (len(rows), table.shape[1]))
        cdef const int64_t *r = <const int64_t *>cnp.PyArray_DATA(<cnp.ndarray>rows)
        cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>rows), i
        if n and (r[0] < 0 or r[n - 1] >= table.shape[0]):
            raise IndexError(f"rows must be in [0, {table.shape[0]})")
        for i in range(1, n):
            if r[i] <= r[i - 1]:
                raise ValueError("rows must be strictly increasing")
        return 0

    cdef int _item(self, fe_update_item *item, int mode, param, tuple slots, grad, rows,
                   bint decays, deferred) except -1:
        """Fill item after checking its arrays (as apply_step's entries)."""
        memset(item, 0, sizeof(fe_update_item))
        item.opt = self.opt
        if not decays:
            item.opt.decay = 0.0
        item.mode = mode
        item.param = self._param(param, "table" if mode != UPDATE_DENSE else "param")
        self._slots(<cnp.ndarray>param, slots, item.slots)
        cdef cnp.ndarray table = <cnp.ndarray>param
        if mode == UPDATE_DENSE:
            check_array("grad", grad, (<object>param).shape)
            item.rows, item.n_rows = &ROW_ZERO, 1
            item.n_table_rows, item.dim = 1, cnp.PyArray_SIZE(table)
        elif UPDATE_ROWS <= mode <= UPDATE_DEFERRED:
            self._rows(table, rows, grad)
            item.rows = <const int64_t *>cnp.PyArray_DATA(<cnp.ndarray>rows)
            item.n_rows, item.n_table_rows, item.dim = len(rows), table.shape[0], table.shape[1]
        else:
            raise ValueError(f"mode must be one of 0, 1, 2, 3, got {mode}")
        item.grad = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grad)
        if mode == UPDATE_DEFERRED:
            if not isinstance(deferred, DeferredSteps):
                raise TypeError(f"a deferred update needs its DeferredSteps, got {deferred!r}")
            (<DeferredSteps>deferred)._prepare_step(self, table, slots, item)
        return 0

    def apply_step(self, list entries):
        """One step of several variables in one parallel pass (bitwise the
        same as one call each). entries: (mode, param, slots, grad, rows,
        decays, deferred) per variable; mode one of UPDATE_DENSE (rows
        None), UPDATE_ROWS, UPDATE_ALL_ROWS, UPDATE_DEFERRED (with the
        table's DeferredSteps, else None); decays: whether the step's weight
        decay applies."""
        cdef Py_ssize_t n = len(entries), i
        cdef fe_update_item *items = <fe_update_item *>PyMem_Malloc(max(n, 1) * sizeof(fe_update_item))
        if items == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                mode, param, slots, grad, rows, decays, deferred = entries[i]
                self._item(&items[i], mode, param, slots, grad, rows, decays, deferred)
            with nogil:
                fe_update_step(items, n, ZEROS, ZERO_SPAN)
            for i in range(n):
                if items[i].mode == UPDATE_DEFERRED:
                    (<DeferredSteps>entries[i][6])._record(&items[i].opt)
        finally:
            PyMem_Free(items)

    def apply_dense(self, param, tuple slots, grad):
        """param -= update(grad): param, grad and every slot of the same shape."""
        self.apply_step([(UPDATE_DENSE, param, slots, grad, None, True, None)])

    def apply_rows(self, table, tuple slots, rows, grads):
        """Lazy update: only table[rows] moves (rows strictly increasing)."""
        self.apply_step([(UPDATE_ROWS, table, slots, grads, rows, True, None)])

    def apply_all_rows(self, table, tuple slots, rows, grads):
        """Dense-semantics update: every row moves, with zero gradient outside
        rows (strictly increasing): Keras's numbers for an Embedding."""
        self.apply_step([(UPDATE_ALL_ROWS, table, slots, grads, rows, True, None)])


cdef class DeferredSteps:
    """The dense-semantics steps of a table (Keras's Embedding without
    sparse=True) applied only at the rows each step touched. A row's
    zero-gradient updates depend on nothing but its own values and the
    step's scalars, so the steps it missed are recorded here and replayed
    on it, in order and with the same code, when it is next read or
    touched: the same floats as updating every row at every step.
    One per (table, optimizer); the slots are the optimizer's for the table."""
    cdef fe_optimizer history[HISTORY_STEPS]
    cdef readonly int64_t n_steps
    cdef cnp.ndarray row_step
    cdef readonly tuple slots
    cdef float *slot_ptrs[3]
    cdef int64_t n_table_rows, dim

    def __init__(self, table, tuple slots):
        if not is_float_carray(table) or cnp.PyArray_NDIM(<cnp.ndarray>table) != 2:
            raise TypeError("table must be a C-contiguous 2-D float32 array")
        self.n_table_rows, self.dim = table.shape
        if self.dim > ZERO_SPAN:
            raise ValueError(f"a deferred table has rows of at most {ZERO_SPAN} elements, "
                             f"got {self.dim}")
        if len(slots) > 3:
            raise ValueError(f"expected at most 3 slot arrays, got {len(slots)}")
        for k in range(len(slots)):
            if not is_float_carray(slots[k]) or not _same_shape(<cnp.ndarray>slots[k], <cnp.ndarray>table):
                raise ValueError(f"slot {k} must be a float32 array of the table's shape {table.shape}")
            self.slot_ptrs[k] = <float *>cnp.PyArray_DATA(<cnp.ndarray>slots[k])
        self.slots = slots
        self.row_step = np.zeros(self.n_table_rows, np.int64)
        self.n_steps = 0

    cdef int _check_table(self, table) except -1:
        if (not is_float_carray(table) or not cnp.PyArray_ISWRITEABLE(<cnp.ndarray>table)
                or (<object>table).shape != (self.n_table_rows, self.dim)):
            raise ValueError(f"table must be a writeable float32 array of shape "
                             f"{(self.n_table_rows, self.dim)}, got {getattr(table, 'shape', table)!r}")
        return 0

    cdef int _prepare_step(self, UpdateRule rule, cnp.ndarray table, tuple slots,
                           fe_update_item *item) except -1:
        if slots is not self.slots:
            raise ValueError("the slots of a deferred update must be its DeferredSteps' slots")
        if self.n_steps and self.history[0].kind != rule.opt.kind:
            raise ValueError("a DeferredSteps replays the steps of one optimizer kind")
        if self.n_steps == HISTORY_STEPS:
            self.flush(table)
        self._check_table(table)
        item.history = self.history
        item.n_steps = self.n_steps
        item.row_step = <int64_t *>cnp.PyArray_DATA(self.row_step)
        return 0

    cdef void _record(self, const fe_optimizer *opt):
        self.history[self.n_steps] = opt[0]
        self.n_steps += 1

    @property
    def pending(self):
        """Whether some row still lacks recorded steps."""
        return self.n_steps > 0

    def flush(self, table):
        """Bring every row of table up to date (and empty the history)."""
        self._check_table(table)
        cdef float *w = <float *>cnp.PyArray_DATA(<cnp.ndarray>table)
        cdef int64_t *row_step = <int64_t *>cnp.PyArray_DATA(self.row_step)
        with nogil:
            fe_replay_rows(self.history, self.n_steps, w, self.slot_ptrs, self.n_table_rows,
                           self.dim, row_step, NULL, 0, NULL, ZEROS)
        self.row_step.fill(0)
        self.n_steps = 0

    def flush_rows(self, table, indices):
        """Bring the rows indices (any shape, repeats allowed, each in
        [0, n_table_rows)) of table up to date, before they are read."""
        self._check_table(table)
        if not self.n_steps:
            return
        cdef cnp.ndarray rows = np.ascontiguousarray(
            as_indices(indices, self.n_table_rows), dtype=np.int64).reshape(-1)
        cdef int64_t n = cnp.PyArray_SIZE(rows)
        cdef cnp.ndarray scratch = np.empty(2 * n, np.int64)
        cdef float *w = <float *>cnp.PyArray_DATA(<cnp.ndarray>table)
        cdef int64_t *row_step = <int64_t *>cnp.PyArray_DATA(self.row_step)
        with nogil:
            fe_replay_rows(self.history, self.n_steps, w, self.slot_ptrs, self.n_table_rows,
                           self.dim, row_step, <const int64_t *>cnp.PyArray_DATA(rows), n,
                           <int64_t *>cnp.PyArray_DATA(scratch), ZEROS)

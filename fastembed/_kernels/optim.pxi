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
    void fe_update_rows(const fe_optimizer *opt, float *table, float **slots,
                        const int64_t *rows, const float *grads, int64_t n_rows,
                        int64_t dim) nogil
    void fe_update_all_rows(const fe_optimizer *opt, float *table, float **slots,
                            int64_t n_table_rows, const int64_t *rows,
                            const float *grads, int64_t n_rows, int64_t dim,
                            const float *zeros, int64_t n_zeros) nogil

UPDATE_KINDS = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3, "nadam": 4, "adamax": 5,
                "adadelta": 6, "ftrl": 7, "lion": 8}
# Untouched rows of a table are updated in spans of this many zero gradients.
DEF ZERO_SPAN = 4096
cdef float ZEROS[ZERO_SPAN]
cdef int64_t ROW_ZERO = 0


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

    def apply_dense(self, param, tuple slots, grad):
        """param -= update(grad): param, grad and every slot of the same shape."""
        cdef float *slot_ptrs[3]
        cdef float *w = self._param(param, "param")
        self._slots(<cnp.ndarray>param, slots, slot_ptrs)
        check_array("grad", grad, (<object>param).shape)
        cdef const float *g = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grad)
        cdef int64_t n = cnp.PyArray_SIZE(<cnp.ndarray>param)
        with nogil:
            fe_update_rows(&self.opt, w, slot_ptrs, &ROW_ZERO, g, 1, n)

    def apply_rows(self, table, tuple slots, rows, grads):
        """Lazy update: only table[rows] moves (rows strictly increasing)."""
        cdef float *slot_ptrs[3]
        cdef float *w = self._param(table, "table")
        self._slots(<cnp.ndarray>table, slots, slot_ptrs)
        self._rows(<cnp.ndarray>table, rows, grads)
        cdef const int64_t *r = <const int64_t *>cnp.PyArray_DATA(<cnp.ndarray>rows)
        cdef const float *g = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grads)
        cdef int64_t n_rows = len(rows), dim = (<cnp.ndarray>table).shape[1]
        with nogil:
            fe_update_rows(&self.opt, w, slot_ptrs, r, g, n_rows, dim)

    def apply_all_rows(self, table, tuple slots, rows, grads):
        """Dense-semantics update: every row moves, with zero gradient outside
        rows (strictly increasing): Keras's numbers for an Embedding."""
        cdef float *slot_ptrs[3]
        cdef float *w = self._param(table, "table")
        self._slots(<cnp.ndarray>table, slots, slot_ptrs)
        self._rows(<cnp.ndarray>table, rows, grads)
        cdef const int64_t *r = <const int64_t *>cnp.PyArray_DATA(<cnp.ndarray>rows)
        cdef const float *g = <const float *>cnp.PyArray_DATA(<cnp.ndarray>grads)
        cdef int64_t n_rows = len(rows)
        cdef int64_t n_table = (<cnp.ndarray>table).shape[0], dim = (<cnp.ndarray>table).shape[1]
        with nogil:
            fe_update_all_rows(&self.opt, w, slot_ptrs, n_table, r, g, n_rows, dim, ZEROS, ZERO_SPAN)

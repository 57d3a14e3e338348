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
    int fe_optimizer_num_slots(const fe_optimizer *opt) nogil
    void fe_update_rows(const fe_optimizer *opt, float *table, float **slots,
                        const int64_t *rows, const float *grads, int64_t n_rows,
                        int64_t dim) nogil
    void fe_update_all_rows(const fe_optimizer *opt, float *table, float **slots,
                            int64_t n_table_rows, const int64_t *rows,
                            const float *grads, int64_t n_rows, int64_t dim,
                            const float *zeros) nogil

UPDATE_KINDS = {"sgd": 0, "adagrad": 1, "rmsprop": 2, "adam": 3}


cdef class UpdateRule:
    """One optimizer's formula and hyper-parameters; `lr` is set per step
    (for Adam, the bias-corrected step size alpha)."""
    cdef fe_optimizer opt
    cdef readonly int num_slots

    def __init__(self, kind, float momentum=0.0, bint nesterov=False, float rho=0.9,
                 float beta_1=0.9, float beta_2=0.999, float epsilon=1e-7,
                 bint centered=False, bint amsgrad=False):
        if kind not in UPDATE_KINDS:
            raise ValueError(f"kind must be one of {sorted(UPDATE_KINDS)}, got {kind!r}")
        self.opt.kind = UPDATE_KINDS[kind]
        self.opt.lr = 0.0
        self.opt.momentum = momentum
        self.opt.nesterov = nesterov
        self.opt.rho = rho
        self.opt.beta_1 = beta_1
        self.opt.beta_2 = beta_2
        self.opt.epsilon = epsilon
        self.opt.centered = centered
        self.opt.amsgrad = amsgrad
        self.num_slots = fe_optimizer_num_slots(&self.opt)

    @property
    def lr(self):
        return self.opt.lr

    @lr.setter
    def lr(self, float value):
        self.opt.lr = value

    cdef int _slot_pointers(self, float[:, ::1] table, tuple slots, float **out) except -1:
        cdef float[:, ::1] slot
        if len(slots) != self.num_slots:
            raise ValueError(f"expected {self.num_slots} slot arrays, got {len(slots)}")
        for k in range(self.num_slots):
            if not isinstance(slots[k], np.ndarray) or slots[k].shape != (table.shape[0], table.shape[1]):
                raise ValueError(f"slot {k} must have the table's shape {(table.shape[0], table.shape[1])}")
            slot = slots[k]
            out[k] = &slot[0, 0]
        return 0

    def apply_dense(self, param, tuple slots, grad):
        """param -= update(grad): param, grad and every slot of the same shape."""
        if not isinstance(grad, np.ndarray) or grad.shape != param.shape:
            raise ValueError(f"grad must have the parameter's shape {param.shape}, "
                             f"got {np.shape(grad)}")
        if param.size == 0:
            return
        self.apply_rows(param.reshape(1, -1), tuple(s.reshape(1, -1) for s in slots),
                        np.zeros(1, dtype=np.int64), grad.reshape(1, -1))

    def apply_rows(self, float[:, ::1] table, tuple slots, const int64_t[::1] rows,
                   const float[:, ::1] grads):
        """Lazy update: only table[rows] moves (rows strictly increasing)."""
        cdef float *slot_ptrs[3]
        self._check_rows(table, rows, grads)
        self._slot_pointers(table, slots, slot_ptrs)
        if rows.shape[0] == 0 or table.shape[1] == 0:
            return
        with nogil:
            fe_update_rows(&self.opt, &table[0, 0], slot_ptrs, &rows[0], &grads[0, 0],
                           rows.shape[0], table.shape[1])

    def apply_all_rows(self, float[:, ::1] table, tuple slots, const int64_t[::1] rows,
                       const float[:, ::1] grads, const float[::1] zeros):
        """Dense-semantics update: every row moves, with zero gradient outside
        rows (strictly increasing). zeros: a (dim,) float32 array of zeros."""
        cdef float *slot_ptrs[3]
        self._check_rows(table, rows, grads)
        self._slot_pointers(table, slots, slot_ptrs)
        if zeros.shape[0] != table.shape[1]:
            raise ValueError(f"zeros must have length {table.shape[1]}")
        if table.shape[0] == 0 or table.shape[1] == 0:
            return
        cdef const int64_t *rows_ptr = &rows[0] if rows.shape[0] else NULL
        cdef const float *grads_ptr = &grads[0, 0] if rows.shape[0] else NULL
        with nogil:
            fe_update_all_rows(&self.opt, &table[0, 0], slot_ptrs, table.shape[0],
                               rows_ptr, grads_ptr, rows.shape[0], table.shape[1], &zeros[0])

    def _check_rows(self, float[:, ::1] table, const int64_t[::1] rows,
                    const float[:, ::1] grads):
        if grads.shape[0] != rows.shape[0] or grads.shape[1] != table.shape[1]:
            raise ValueError(f"grads must have shape ({rows.shape[0]}, {table.shape[1]}), "
                             f"got ({grads.shape[0]}, {grads.shape[1]})")
        r = np.asarray(rows)
        if r.size and (r.min() < 0 or r.max() >= table.shape[0]):
            raise IndexError(f"rows must be in [0, {table.shape[0]})")
        if r.size > 1 and not (r[1:] > r[:-1]).all():
            raise ValueError("rows must be strictly increasing")

# 1-D convolution over csrc/conv1d.c: a plan per input shape, forward, backward.

cdef extern from "conv1d.h":
    ctypedef struct fe_conv1d_plan:
        int64_t batch, steps, channels, filters, kernel_size, stride, dilation
        int64_t pad_left, out_steps
        int im2col, winograd_forward, winograd_backward
        int64_t padded_steps, row_stride, rows, operand_size, zrows_size, partials_size
        int64_t sparse_bytes, winograd_size, winograd_slot
    int fe_conv1d_winograd_fits(int64_t kernel_size, int64_t stride, int64_t dilation,
                                int64_t pad_left) nogil
    void fe_conv1d_make_plan(fe_conv1d_plan *plan, int64_t batch, int64_t steps,
                             int64_t channels, int64_t filters, int64_t kernel_size,
                             int64_t stride, int64_t dilation, int64_t pad_left,
                             int64_t out_steps, int strategy) nogil
    void fe_conv1d_forward(fe_sgemm_fn gemm, int blas_serial, const fe_conv1d_plan *plan,
                           float *y, const float *x, const float *w, const float *b, int act,
                           float *operand, float *zrows, float *winograd, int slots) nogil
    void fe_conv1d_backward(fe_sgemm_fn gemm, int blas_serial, const fe_conv1d_plan *plan,
                            float *dx, float *dw, float *db, const float *dy, const float *y,
                            int act, const float *x, const float *w, float *operand,
                            float *dz, float *dcols, float *partials, void *sparse_scratch,
                            float *winograd, int slots) nogil
    int fe_conv1d_pooled_fits(const fe_conv1d_plan *plan) nogil
    int64_t fe_conv1d_backward_pooled(const fe_conv1d_plan *plan, float *dx, float *dw, float *db,
                                      const int32_t *step, const float *g, const float *y,
                                      int act, const float *x, const float *w, float *operand,
                                      float *dcols, void *sparse_scratch) nogil

# Activations fused into the kernels; others run in Python on the linear output.
CONV1D_FUSED_ACTIVATIONS = {"linear": 0, "relu": 1}
_CONV1D_STRATEGIES = {"auto": -1, "strided": 0, "im2col": 1, "winograd": 2}


def _aligned_floats(int64_t n):
    """n float32s starting on a 64-byte line: vector loads of a row then never
    straddle two lines (the sparse products ran 1.8x slower on 16-byte
    aligned rows)."""
    buffer = np.empty(n + 16, dtype=np.float32)
    start = (-buffer.ctypes.data % 64) // 4
    return buffer[start:start + n]


cdef float *_scratch(object array):
    cdef float[::1] view = array
    return &view[0] if view.shape[0] else NULL


cdef class Conv1DPlan:
    """How one input shape is convolved (im2col, strided or winograd, see
    conv1d.h), and the scratch buffers for it, reused by every call on that
    shape."""
    cdef fe_conv1d_plan plan
    cdef object operand, zrows, dz, dcols, partials, sparse, winograd
    cdef int slots

    def __init__(self, int64_t batch, int64_t steps, int64_t channels, int64_t filters,
                 int64_t kernel_size, int64_t stride, int64_t dilation, int64_t pad_left,
                 int64_t out_steps, strategy="auto"):
        if strategy not in _CONV1D_STRATEGIES:
            raise ValueError(f"strategy must be one of {sorted(_CONV1D_STRATEGIES)}, "
                             f"got {strategy!r}")
        for name, value in (("batch", batch), ("steps", steps), ("channels", channels),
                            ("filters", filters), ("kernel_size", kernel_size), ("stride", stride),
                            ("dilation", dilation), ("out_steps", out_steps)):
            if value < 1:
                raise ValueError(f"{name} must be positive, got {value}")
        if pad_left < 0 or (out_steps - 1) * stride - pad_left >= steps:
            raise ValueError(f"pad_left={pad_left} and out_steps={out_steps} do not fit "
                             f"{steps} steps with stride {stride}")
        if batch * (steps + kernel_size * dilation) * max(kernel_size * channels, filters) \
                >= 2 ** 31:
            raise ValueError(f"batch={batch} x steps={steps} is too large for 32-bit BLAS indices")
        if strategy == "winograd" and not fe_conv1d_winograd_fits(kernel_size, stride, dilation,
                                                                   pad_left):
            raise ValueError(f"strategy='winograd' needs kernel_size 2 to 5, stride=1, dilation=1 "
                             f"and pad_left < kernel_size, got kernel_size={kernel_size}, "
                             f"stride={stride}, dilation={dilation}, pad_left={pad_left}")
        fe_conv1d_make_plan(&self.plan, batch, steps, channels, filters, kernel_size,
                            stride, dilation, pad_left, out_steps, _CONV1D_STRATEGIES[strategy])
        self.operand = _aligned_floats(self.plan.operand_size)
        self.zrows = _aligned_floats(self.plan.zrows_size)
        self.dz = None
        self.dcols = None
        self.partials = None
        self.sparse = None
        self.winograd = None
        self.slots = 0

    def _strategy(self, int winograd):
        if winograd:
            return "winograd"
        return "im2col" if self.plan.im2col else "strided"

    @property
    def strategy(self):
        """How the forward pass runs."""
        return self._strategy(self.plan.winograd_forward)

    @property
    def backward_strategy(self):
        """How the backward pass runs its dense products."""
        return self._strategy(self.plan.winograd_backward)

    cdef float *_winograd_scratch(self):
        """The winograd scratch, with a slot for each thread the kernels may use
        now (NULL unless the plan runs either pass by Winograd: then it has a
        slot size)."""
        if not self.plan.winograd_slot:
            return NULL
        cdef int threads = omp_get_max_threads()
        if threads > self.slots:
            self.winograd = _aligned_floats(self.plan.winograd_size +
                                            threads * self.plan.winograd_slot)
            self.slots = threads
        return _scratch(self.winograd)

    @property
    def input_shape(self):
        return (self.plan.batch, self.plan.steps, self.plan.channels)

    @property
    def output_shape(self):
        return (self.plan.batch, self.plan.out_steps, self.plan.filters)

    @property
    def kernel_shape(self):
        return (self.plan.kernel_size, self.plan.channels, self.plan.filters)

    def _check_weights(self, kernel, bias):
        check_array("kernel", kernel, self.kernel_shape)
        if bias is not None:
            check_array("bias", bias, (self.plan.filters,))

    def forward(self, x, kernel, bias, int act, out):
        """out = act(conv1d(x, kernel) + bias); act is a CONV1D_FUSED_ACTIVATIONS value."""
        check_array("x", x, self.input_shape)
        self._check_weights(kernel, bias)
        check_array("out", out, self.output_shape)
        cdef const float[:, :, ::1] xv = x
        cdef const float[:, :, ::1] wv = kernel
        cdef float[:, :, ::1] yv = out
        cdef const float *b = NULL
        cdef const float[::1] bv
        if bias is not None:
            bv = bias
            b = &bv[0]
        cdef float *operand = _scratch(self.operand)
        cdef float *zrows = _scratch(self.zrows)
        cdef float *winograd = self._winograd_scratch()
        cdef int serial = _blas_serial_enter()
        with nogil:
            fe_conv1d_forward(sgemm, serial, &self.plan, &yv[0, 0, 0], &xv[0, 0, 0],
                              &wv[0, 0, 0], b, act, operand, zrows, winograd, self.slots)
        _blas_serial_exit()
        return out

    cdef int _backward_checks(self, y, x, kernel, dkernel, dbias, dx) except -1:
        """Check backward's arrays (after forward(x, kernel, ..., out=y) on
        this plan) and make its scratch."""
        check_array("y", y, self.output_shape)
        check_array("x", x, self.input_shape)
        self._check_weights(kernel, dbias)
        check_array("dkernel", dkernel, self.kernel_shape)
        if self.dz is None:
            self.dz = _aligned_floats(self.plan.rows * self.plan.filters)
            self.partials = _aligned_floats(self.plan.partials_size)
            self.sparse = _aligned_floats((self.plan.sparse_bytes + 3) // 4)
        if dx is not None:
            check_array("dx", dx, self.input_shape)
            if self.dcols is None:
                self.dcols = _aligned_floats(self.plan.rows * self.plan.kernel_size
                                             * self.plan.channels)
        return 0

    @property
    def pooled_fits(self):
        """Whether backward_pooled runs this plan."""
        return bool(fe_conv1d_pooled_fits(&self.plan))

    def backward_pooled(self, step, g, y, int act, x, kernel, dkernel, dbias, dx):
        """backward for dy zero but at dy[b, step[b, f], f] = g[b, f] (a
        global max pooling's gradient), without making dy: the same bits.
        step: (batch, filters) int32; g: (batch, filters) float32."""
        if not self.pooled_fits:
            raise ValueError("this plan's lists cannot hold one non-zero per (sample, filter): "
                             "use backward")
        shape = (self.plan.batch, self.plan.filters)
        check_array("step", step, shape, np.int32)
        check_array("g", g, shape)
        self._backward_checks(y, x, kernel, dkernel, dbias, dx)
        cdef const int32_t[:, ::1] sv = step
        cdef const float[:, ::1] gv = g
        cdef const float[:, :, ::1] yv = y
        cdef const float[:, :, ::1] xv = x
        cdef const float[:, :, ::1] wv = kernel
        cdef float[:, :, ::1] dwv = dkernel
        cdef float[::1] dbv
        cdef float[:, :, ::1] dxv
        cdef float *db = NULL
        cdef float *dxp = NULL
        if dbias is not None:
            dbv = dbias
            db = &dbv[0]
        if dx is not None:
            dxv = dx
            dxp = &dxv[0, 0, 0]
        cdef float *operand = _scratch(self.operand)
        cdef float *dcols = _scratch(self.dcols) if dx is not None else NULL
        cdef void *sparse = _scratch(self.sparse)
        cdef int64_t outside
        with nogil:
            outside = fe_conv1d_backward_pooled(&self.plan, dxp, &dwv[0, 0, 0], db, &sv[0, 0],
                                                &gv[0, 0], &yv[0, 0, 0], act, &xv[0, 0, 0],
                                                &wv[0, 0, 0], operand, dcols, sparse)
        if outside:
            raise ValueError(f"step must lie in [0, {self.plan.out_steps}), got {outside} "
                             f"value(s) outside it (min {step.min()}, max {step.max()})")

    def backward(self, dy, y, int act, x, kernel, dkernel, dbias, dx):
        """Fill dkernel, dbias (or None) and dx (or None) from dy = dL/d(out),
        after forward(x, kernel, ..., out=y) on this plan."""
        check_array("dy", dy, self.output_shape)
        self._backward_checks(y, x, kernel, dkernel, dbias, dx)
        cdef const float[:, :, ::1] dyv = dy
        cdef const float[:, :, ::1] yv = y
        cdef const float[:, :, ::1] xv = x
        cdef const float[:, :, ::1] wv = kernel
        cdef float[:, :, ::1] dwv = dkernel
        cdef float[::1] dbv
        cdef float[:, :, ::1] dxv
        cdef float *db = NULL
        cdef float *dxp = NULL
        if dbias is not None:
            dbv = dbias
            db = &dbv[0]
        if dx is not None:
            dxv = dx
            dxp = &dxv[0, 0, 0]
        cdef float *operand = _scratch(self.operand)
        cdef float *dz = _scratch(self.dz)
        cdef float *dcols = _scratch(self.dcols) if dx is not None else NULL
        cdef float *partials = _scratch(self.partials)
        cdef void *sparse = _scratch(self.sparse)
        cdef float *winograd = self._winograd_scratch()
        cdef int serial = _blas_serial_enter()
        with nogil:
            fe_conv1d_backward(sgemm, serial, &self.plan, dxp, &dwv[0, 0, 0], db, &dyv[0, 0, 0],
                               &yv[0, 0, 0], act, &xv[0, 0, 0], &wv[0, 0, 0], operand, dz,
                               dcols, partials, sparse, winograd, self.slots)
        _blas_serial_exit()

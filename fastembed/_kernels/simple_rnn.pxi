# SimpleRNN over whole sequences: forward and backpropagation through time.
# Shares lstm.pxi's helpers (_f32_ptr, _mask_ptr, _rnn_dims, RNN_ACTIVATIONS).

cdef extern from "simple_rnn.h":
    void fe_simple_rnn_forward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d,
                               float *h_seq, float *gates, float *h_prev, const float *x,
                               const float *kernel, const float *recurrent, const float *bias,
                               const float *h0, const float *rmask, const uint8_t *mask,
                               float *work) nogil
    void fe_simple_rnn_backward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d,
                                float *dx, float *dh0, float *dkernel, float *drecurrent,
                                float *dbias, float *dz, float *work, const float *dh_seq,
                                const float *dh_last, const float *x, const float *kernel,
                                const float *recurrent, const float *gates,
                                const float *h_prev, const float *rmask,
                                const uint8_t *mask) nogil

# Saved by simple_rnn_forward for simple_rnn_backward, each (B, T, width * U).
SIMPLE_RNN_SAVED = (("gates", 1), ("h_prev", 1))


def simple_rnn_forward(x, kernel, recurrent, bias, h0, rmask, mask, h_seq, saved, work,
                       activation="tanh", bint reverse=False):
    """Run the SimpleRNN over x (B, T, I) from state h0 (B, U) or None (zeros).

    Writes h_seq (B, T, U) in processing order and the dict `saved` of the
    arrays named in SIMPLE_RNN_SAVED. bias (U,) or None; rmask (B, U) or
    None; mask (B, T) uint8 or None; work (B, U) scratch."""
    cdef int64_t U = (recurrent.shape[0]
                      if isinstance(recurrent, np.ndarray) and recurrent.ndim == 2 else 0)
    cdef fe_rnn_dims d = _rnn_dims(x, U, 1, activation, "sigmoid", reverse)
    cdef int64_t B = d.batch, T = d.steps
    cdef tuple state = (B, U)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, U))
    cdef const float *pb = _f32_ptr("bias", bias, (U,), True)
    cdef const float *ph0 = _f32_ptr("h0", h0, state, True)
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef float *ph = _f32_ptr("h_seq", h_seq, (B, T, U))
    cdef float *pg = _f32_ptr("gates", saved["gates"], (B, T, U))
    cdef float *php = _f32_ptr("h_prev", saved["h_prev"], (B, T, U))
    cdef float *pw = _f32_ptr("work", work, state)
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_simple_rnn_forward(sgemm, serial, &d, ph, pg, php, px, pk, pr, pb, ph0, prm, pm, pw)
    _blas_serial_exit()


def simple_rnn_backward(x, kernel, recurrent, rmask, mask, saved, dh_seq, dh_last, dx, dh0,
                        dkernel, drecurrent, dbias, dz, work, activation="tanh",
                        bint reverse=False):
    """Gradients of the simple_rnn_forward call that filled `saved` (same arguments).

    dh_seq (B, T, U) and dh_last (B, U) may be None. Writes dkernel,
    drecurrent, dbias (or None), dx and dh0 (each or None); dz (B, T, U) and
    work (2, B, U) are scratch."""
    cdef int64_t U = (recurrent.shape[0]
                      if isinstance(recurrent, np.ndarray) and recurrent.ndim == 2 else 0)
    cdef fe_rnn_dims d = _rnn_dims(x, U, 1, activation, "sigmoid", reverse)
    cdef int64_t B = d.batch, T = d.steps
    cdef tuple state = (B, U)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, U))
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef const float *pg = _f32_ptr("gates", saved["gates"], (B, T, U))
    cdef const float *php = _f32_ptr("h_prev", saved["h_prev"], (B, T, U))
    cdef const float *pdy = _f32_ptr("dh_seq", dh_seq, (B, T, U), True)
    cdef const float *pdh = _f32_ptr("dh_last", dh_last, state, True)
    cdef float *pdx = _f32_ptr("dx", dx, (B, T, d.input_dim), True)
    cdef float *pdh0 = _f32_ptr("dh0", dh0, state, True)
    cdef float *pdk = _f32_ptr("dkernel", dkernel, (d.input_dim, U))
    cdef float *pdr = _f32_ptr("drecurrent", drecurrent, (U, U))
    cdef float *pdb = _f32_ptr("dbias", dbias, (U,), True)
    cdef float *pdz = _f32_ptr("dz", dz, (B, T, U))
    cdef float *pw = _f32_ptr("work", work, (2, B, U))
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_simple_rnn_backward(sgemm, serial, &d, pdx, pdh0, pdk, pdr, pdb, pdz, pw, pdy, pdh,
                               px, pk, pr, pg, php, prm, pm)
    _blas_serial_exit()

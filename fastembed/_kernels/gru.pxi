# GRU over whole sequences: forward and backpropagation through time.
# Shares lstm.pxi's helpers (_f32_ptr, _mask_ptr, _rnn_dims, RNN_ACTIVATIONS).

cdef extern from "gru.h":
    void fe_gru_forward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d, float *h_seq,
                        float *gates, float *h_prev, float *aux, const float *x,
                        const float *kernel, const float *recurrent, const float *bias,
                        const float *h0, const float *rmask, const uint8_t *mask,
                        float *work) nogil
    void fe_gru_backward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d, float *dx,
                         float *dh0, float *dkernel, float *drecurrent, float *dbias,
                         float *dz, float *dh_in, float *work, const float *dh_seq,
                         const float *dh_last, const float *x, const float *kernel,
                         const float *recurrent, const float *gates, const float *h_seq,
                         const float *h_prev, const float *aux, const float *h0,
                         const float *rmask, const uint8_t *mask) nogil

# Saved by gru_forward for gru_backward, each (B, T, width * U).
GRU_SAVED = (("gates", 3), ("h_prev", 1), ("aux", 1))


cdef fe_rnn_dims _gru_dims(x, recurrent, activation, recurrent_activation, bint reverse,
                           bint reset_after) except *:
    cdef int64_t U = (recurrent.shape[0]
                      if isinstance(recurrent, np.ndarray) and recurrent.ndim == 2 else 0)
    return _rnn_dims(x, U, 3, activation, recurrent_activation, reverse, reset_after)


def gru_forward(x, kernel, recurrent, bias, h0, rmask, mask, h_seq, saved, work,
                activation="tanh", recurrent_activation="sigmoid", bint reverse=False,
                bint reset_after=True):
    """Run the GRU over x (B, T, I) from state h0 (B, U) or None (zeros).

    Writes h_seq (B, T, U), h after each step in processing order, and the
    dict `saved` of arrays named in GRU_SAVED that gru_backward reads (with
    h_seq). bias (2, 3U) if reset_after else (3U,), or None; rmask (B, U)
    recurrent-dropout multipliers or None; mask (B, T) uint8, 0 = carry the
    state over, or None; work (B, 3U) scratch."""
    cdef fe_rnn_dims d = _gru_dims(x, recurrent, activation, recurrent_activation, reverse,
                                   reset_after)
    cdef int64_t B = d.batch, T = d.steps, U = d.units
    cdef tuple state = (B, U)
    cdef tuple bias_shape = (2, 3 * U) if reset_after else (<object>(3 * U),)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, 3 * U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, 3 * U))
    cdef const float *pb = _f32_ptr("bias", bias, bias_shape, True)
    cdef const float *ph0 = _f32_ptr("h0", h0, state, True)
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef float *ph = _f32_ptr("h_seq", h_seq, (B, T, U))
    cdef float *pg = _f32_ptr("gates", saved["gates"], (B, T, 3 * U))
    cdef float *php = _f32_ptr("h_prev", saved["h_prev"], (B, T, U))
    cdef float *pa = _f32_ptr("aux", saved["aux"], (B, T, U))
    cdef float *pw = _f32_ptr("work", work, (B, 3 * U))
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_gru_forward(sgemm, serial, &d, ph, pg, php, pa, px, pk, pr, pb, ph0, prm, pm, pw)
    _blas_serial_exit()


def gru_backward(x, kernel, recurrent, h0, rmask, mask, h_seq, saved, dh_seq, dh_last,
                 dx, dh0, dkernel, drecurrent, dbias, dz, dh_in, work,
                 activation="tanh", recurrent_activation="sigmoid", bint reverse=False,
                 bint reset_after=True):
    """Gradients of the gru_forward call that filled h_seq and `saved` (same arguments).

    dh_seq (B, T, U) and dh_last (B, U): gradients of h_seq and of the final
    h, each may be None. Writes dkernel, drecurrent, dbias (or None), dx (or
    None) and dh0 (B, U) (or None); dz (B, T, 3U), dh_in (B, T, U) (reset_after
    only, else None) and work (3, B, U) are scratch."""
    cdef fe_rnn_dims d = _gru_dims(x, recurrent, activation, recurrent_activation, reverse,
                                   reset_after)
    cdef int64_t B = d.batch, T = d.steps, U = d.units
    cdef tuple state = (B, U)
    cdef tuple bias_shape = (2, 3 * U) if reset_after else (<object>(3 * U),)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, 3 * U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, 3 * U))
    cdef const float *ph0 = _f32_ptr("h0", h0, state, True)
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef const float *ph = _f32_ptr("h_seq", h_seq, (B, T, U))
    cdef const float *pg = _f32_ptr("gates", saved["gates"], (B, T, 3 * U))
    cdef const float *php = _f32_ptr("h_prev", saved["h_prev"], (B, T, U))
    cdef const float *pa = _f32_ptr("aux", saved["aux"], (B, T, U))
    cdef const float *pdy = _f32_ptr("dh_seq", dh_seq, (B, T, U), True)
    cdef const float *pdh = _f32_ptr("dh_last", dh_last, state, True)
    cdef float *pdx = _f32_ptr("dx", dx, (B, T, d.input_dim), True)
    cdef float *pdh0 = _f32_ptr("dh0", dh0, state, True)
    cdef float *pdk = _f32_ptr("dkernel", dkernel, (d.input_dim, 3 * U))
    cdef float *pdr = _f32_ptr("drecurrent", drecurrent, (U, 3 * U))
    cdef float *pdb = _f32_ptr("dbias", dbias, bias_shape, True)
    cdef float *pdz = _f32_ptr("dz", dz, (B, T, 3 * U))
    cdef float *pdin = NULL
    if reset_after:
        pdin = _f32_ptr("dh_in", dh_in, (B, T, U))
    elif dh_in is not None:
        raise ValueError("dh_in must be None unless reset_after")
    cdef float *pw = _f32_ptr("work", work, (3, B, U))
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_gru_backward(sgemm, serial, &d, pdx, pdh0, pdk, pdr, pdb, pdz, pdin, pw, pdy, pdh,
                        px, pk, pr, pg, ph, php, pa, ph0, prm, pm)
    _blas_serial_exit()

# LSTM over whole sequences: forward and backpropagation through time.
from libc.stdint cimport uint8_t

cdef extern from "rnn.h":
    ctypedef struct fe_rnn_dims:
        int64_t batch, steps, input_dim, units
        int activation, recurrent_activation
        int reverse, reset_after

cdef extern from "lstm.h":
    void fe_lstm_forward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d, float *h_seq,
                         float *c_seq, float *act_c, float *gates, float *h_prev,
                         const float *x, const float *kernel, const float *recurrent,
                         const float *bias, const float *h0, const float *c0,
                         const float *rmask, const uint8_t *mask, float *work) nogil
    void fe_lstm_backward(fe_sgemm_fn gemm, int blas_serial, const fe_rnn_dims *d, float *dx,
                          float *dh0, float *dc0, float *dkernel, float *drecurrent, float *dbias, float *dz,
                          float *work, const float *dh_seq, const float *dh_last,
                          const float *dc_last, const float *x, const float *kernel,
                          const float *recurrent, const float *c_seq, const float *act_c,
                          const float *gates, const float *h_prev, const float *c0,
                          const float *rmask, const uint8_t *mask) nogil

RNN_ACTIVATIONS = {"linear": 0, "relu": 1, "sigmoid": 2, "tanh": 3, "hard_sigmoid": 4}
# Saved by lstm_forward for lstm_backward, each (B, T, width * U).
LSTM_SAVED = (("c_seq", 1), ("act_c", 1), ("gates", 4), ("h_prev", 1))


cdef float *_f32_ptr(name, a, tuple shape, bint optional=False) except? NULL:
    """Pointer to a C-contiguous float32 array of exactly `shape` (or NULL for None)."""
    cdef const float[::1] flat
    if a is None and optional:
        return NULL
    if is_float_carray_of(a, shape):
        return <float *>cnp.PyArray_DATA(<cnp.ndarray>a) if cnp.PyArray_SIZE(<cnp.ndarray>a) \
            else NULL
    check_array(name, a, shape)  # raises, unless a subclass or unaligned: read below
    if a.size == 0:
        return NULL
    flat = a.reshape(-1)
    return <float *>&flat[0]


cdef uint8_t *_mask_ptr(mask, tuple shape) except? NULL:
    cdef const uint8_t[::1] flat
    if mask is None:
        return NULL
    check_array("mask", mask, shape, np.uint8)
    flat = mask.reshape(-1)
    return <uint8_t *>&flat[0]


cdef fe_rnn_dims _rnn_dims(x, int64_t units, int gate_count, activation,
                           recurrent_activation,
                           bint reverse, bint reset_after=False) except *:
    cdef fe_rnn_dims d
    if not isinstance(x, cnp.ndarray) or cnp.PyArray_NDIM(<cnp.ndarray>x) != 3:
        raise ValueError(f"x must be a 3-D array (batch, steps, features), got shape {np.shape(x)}")
    cdef cnp.npy_intp *shape = cnp.PyArray_DIMS(<cnp.ndarray>x)
    d.batch, d.steps, d.input_dim = shape[0], shape[1], shape[2]
    d.units = units
    if d.batch < 1 or d.steps < 1 or d.input_dim < 1 or units < 1:
        raise ValueError(f"batch, steps, features and units must be positive, got "
                         f"x {x.shape}, units {units}")
    if d.batch * d.steps * max(d.input_dim, gate_count * units) >= 2**31:
        raise ValueError(f"x {x.shape} with {units} units is too large for 32-bit BLAS")
    d.activation = _rnn_activation("activation", activation)
    d.recurrent_activation = _rnn_activation("recurrent_activation", recurrent_activation)
    d.reverse = reverse
    d.reset_after = reset_after
    return d


cdef int _rnn_activation(name, value) except -1:
    code = RNN_ACTIVATIONS.get(value) if type(value) is str else None
    if code is None:
        raise ValueError(f"{name} must be one of {sorted(RNN_ACTIVATIONS)}, got {value!r}")
    return code


def lstm_forward(x, kernel, recurrent, bias, h0, c0, rmask, mask, h_seq, saved, work,
                 activation="tanh", recurrent_activation="sigmoid", bint reverse=False):
    """Run the LSTM over x (B, T, I) from state (h0, c0) (B, U) or None (zeros).

    Writes h_seq (B, T, U), h after each step in processing order, and the
    dict `saved` of arrays named in LSTM_SAVED that lstm_backward reads.
    bias (4U) or None; rmask (B, U) recurrent-dropout multipliers or None;
    mask (B, T) uint8, 0 = carry the state over, or None; work (B, 4U) scratch."""
    cdef int64_t U = recurrent.shape[0] if isinstance(recurrent, np.ndarray) and recurrent.ndim == 2 else 0
    cdef fe_rnn_dims d = _rnn_dims(x, U, 4, activation, recurrent_activation, reverse)
    cdef int64_t B = d.batch, T = d.steps
    cdef tuple state = (B, U), seq = (B, T, U)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, 4 * U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, 4 * U))
    cdef const float *pb = _f32_ptr("bias", bias, (4 * U,), True)
    cdef const float *ph0 = _f32_ptr("h0", h0, state, True)
    cdef const float *pc0 = _f32_ptr("c0", c0, state, True)
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef float *ph = _f32_ptr("h_seq", h_seq, seq)
    cdef float *pc = _f32_ptr("c_seq", saved["c_seq"], seq)
    cdef float *pac = _f32_ptr("act_c", saved["act_c"], seq)
    cdef float *pg = _f32_ptr("gates", saved["gates"], (B, T, 4 * U))
    cdef float *php = _f32_ptr("h_prev", saved["h_prev"], seq)
    cdef float *pw = _f32_ptr("work", work, (B, 4 * U))
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_lstm_forward(sgemm, serial, &d, ph, pc, pac, pg, php, px, pk, pr, pb, ph0, pc0, prm,
                        pm, pw)
    _blas_serial_exit()


def lstm_backward(x, kernel, recurrent, c0, rmask, mask, saved, dh_seq, dh_last, dc_last,
                  dx, dh0, dc0, dkernel, drecurrent, dbias, dz, work,
                  activation="tanh", recurrent_activation="sigmoid", bint reverse=False):
    """Gradients of the lstm_forward call that filled `saved` (same arguments).

    dh_seq (B, T, U), dh_last and dc_last (B, U): gradients of h_seq and of
    the final h and c, each may be None. Writes dkernel, drecurrent, dbias
    (or None), dx (or None) and dh0, dc0 (B, U) (both or neither None); dz (B, T, 4U) and work (3, B, U) are scratch."""
    cdef int64_t U = recurrent.shape[0] if isinstance(recurrent, np.ndarray) and recurrent.ndim == 2 else 0
    cdef fe_rnn_dims d = _rnn_dims(x, U, 4, activation, recurrent_activation, reverse)
    cdef int64_t B = d.batch, T = d.steps
    cdef tuple state = (B, U)
    cdef const float *px = _f32_ptr("x", x, (B, T, d.input_dim))
    cdef const float *pk = _f32_ptr("kernel", kernel, (d.input_dim, 4 * U))
    cdef const float *pr = _f32_ptr("recurrent_kernel", recurrent, (U, 4 * U))
    cdef const float *pc0 = _f32_ptr("c0", c0, state, True)
    cdef const float *prm = _f32_ptr("rmask", rmask, state, True)
    cdef const uint8_t *pm = _mask_ptr(mask, (B, T))
    cdef const float *pc = _f32_ptr("c_seq", saved["c_seq"], (B, T, U))
    cdef const float *pac = _f32_ptr("act_c", saved["act_c"], (B, T, U))
    cdef const float *pg = _f32_ptr("gates", saved["gates"], (B, T, 4 * U))
    cdef const float *php = _f32_ptr("h_prev", saved["h_prev"], (B, T, U))
    cdef const float *pdy = _f32_ptr("dh_seq", dh_seq, (B, T, U), True)
    cdef const float *pdh = _f32_ptr("dh_last", dh_last, state, True)
    cdef const float *pdc = _f32_ptr("dc_last", dc_last, state, True)
    cdef float *pdx = _f32_ptr("dx", dx, (B, T, d.input_dim), True)
    cdef float *pdh0 = _f32_ptr("dh0", dh0, state, True)
    cdef float *pdc0 = _f32_ptr("dc0", dc0, state, True)
    if (pdh0 == NULL) != (pdc0 == NULL):
        raise ValueError("dh0 and dc0 must both be arrays or both be None")
    cdef float *pdk = _f32_ptr("dkernel", dkernel, (d.input_dim, 4 * U))
    cdef float *pdr = _f32_ptr("drecurrent", drecurrent, (U, 4 * U))
    cdef float *pdb = _f32_ptr("dbias", dbias, (4 * U,), True)
    cdef float *pdz = _f32_ptr("dz", dz, (B, T, 4 * U))
    cdef float *pw = _f32_ptr("work", work, (3, B, U))
    cdef int serial = _blas_serial_enter()
    with nogil:
        fe_lstm_backward(sgemm, serial, &d, pdx, pdh0, pdc0, pdk, pdr, pdb, pdz, pw, pdy, pdh,
                         pdc, px, pk, pr, pc, pac, pg, php, pc0, prm, pm)
    _blas_serial_exit()

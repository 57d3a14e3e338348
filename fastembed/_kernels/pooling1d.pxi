# 1-D max / average pooling (global pooling: pool = steps, out_steps = 1).

cdef extern from "pooling1d.h":
    void fe_pool1d_forward(float *out, int32_t *argmax, const float *x,
                           const uint8_t *mask, int64_t batch, int64_t steps,
                           int64_t channels, int64_t pool, int64_t stride,
                           int64_t pad_left, int64_t out_steps, int mode) nogil
    int64_t fe_pool1d_backward(float *dx, const float *dout, const int32_t *argmax,
                               const uint8_t *mask, int64_t batch, int64_t steps,
                               int64_t channels, int64_t pool, int64_t stride,
                               int64_t pad_left, int64_t out_steps, int mode) nogil

from libc.stdint cimport uint8_t

POOL_MODES = {"max": 0, "average": 1}


def _pool_mask(mask, shape, mode):
    if mask is None:
        return None
    if mode != "average":
        raise ValueError("a mask applies to average pooling only")
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise ValueError(f"mask must have shape {shape}, got {mask.shape}")
    return np.ascontiguousarray(mask != 0).view(np.uint8)


def _pool_sizes(x_shape, int64_t pool, int64_t stride, int64_t pad_left, int64_t out_steps):
    if len(x_shape) != 3:
        raise ValueError(f"x must be 3-D (batch, steps, channels), got shape {x_shape}")
    if pool < 1 or stride < 1 or out_steps < 1 or pad_left < 0 or pad_left >= pool:
        raise ValueError(f"invalid pooling sizes: pool={pool}, stride={stride}, "
                         f"pad_left={pad_left}, out_steps={out_steps}")
    if (out_steps - 1) * stride - pad_left >= x_shape[1]:
        raise ValueError(f"out_steps={out_steps} windows do not fit {x_shape[1]} steps")
    if x_shape[1] >= 2 ** 31:
        raise ValueError(f"steps must be below 2**31, got {x_shape[1]}")


def pool1d_forward(x, int64_t pool, int64_t stride, int64_t pad_left, int64_t out_steps,
                   mode, mask=None, out=None, argmax=None):
    """Pool x (batch, steps, channels) float32 into out (batch, out_steps, channels).

    mode "max" fills argmax (int32, same shape as out) for the backward pass;
    mode "average" takes an optional (batch, steps) mask. Returns out."""
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")
    check_array("x", x, np.shape(x), np.float32)
    _pool_sizes(x.shape, pool, stride, pad_left, out_steps)
    cdef int64_t batch = x.shape[0], steps = x.shape[1], channels = x.shape[2]
    shape = (batch, out_steps, channels)
    if out is None:
        out = np.empty(shape, dtype=np.float32)
    check_array("out", out, shape, np.float32)
    if mode == "max":
        check_array("argmax", argmax, shape, np.int32)
    m = _pool_mask(mask, (batch, steps), mode)
    if out.size == 0:
        return out
    cdef const float[:, :, ::1] xv = x
    cdef float[:, :, ::1] ov = out
    cdef int32_t[:, :, ::1] av
    cdef const uint8_t[:, ::1] mv
    cdef int32_t *ap = NULL
    cdef const uint8_t *mp = NULL
    cdef int imode = POOL_MODES[mode]
    if argmax is not None and mode == "max":
        av = argmax
        ap = &av[0, 0, 0]
    if m is not None:
        mv = m
        mp = &mv[0, 0]
    with nogil:
        fe_pool1d_forward(&ov[0, 0, 0], ap, &xv[0, 0, 0], mp, batch, steps, channels,
                          pool, stride, pad_left, out_steps, imode)
    return out


def pool1d_backward(dout, int64_t steps, int64_t pool, int64_t stride, int64_t pad_left,
                    mode, argmax=None, mask=None, dx=None):
    """Gradient of pool1d_forward: dx (batch, steps, channels) from dout."""
    if mode not in POOL_MODES:
        raise ValueError(f"mode must be 'max' or 'average', got {mode!r}")
    check_array("dout", dout, np.shape(dout), np.float32)
    if dout.ndim != 3:
        raise ValueError(f"dout must be 3-D, got shape {dout.shape}")
    cdef int64_t batch = dout.shape[0], out_steps = dout.shape[1], channels = dout.shape[2]
    _pool_sizes((batch, steps, channels), pool, stride, pad_left, out_steps)
    if dx is None:
        dx = np.empty((batch, steps, channels), dtype=np.float32)
    check_array("dx", dx, (batch, steps, channels), np.float32)
    if mode == "max":
        check_array("argmax", argmax, dout.shape, np.int32)
    m = _pool_mask(mask, (batch, steps), mode)
    if dx.size == 0:
        return dx
    cdef const float[:, :, ::1] gv = dout
    cdef float[:, :, ::1] dv = dx
    cdef const int32_t[:, :, ::1] av
    cdef const uint8_t[:, ::1] mv
    cdef const int32_t *ap = NULL
    cdef const uint8_t *mp = NULL
    cdef int imode = POOL_MODES[mode]
    if mode == "max":
        av = argmax
        ap = &av[0, 0, 0]
    if m is not None:
        mv = m
        mp = &mv[0, 0]
    cdef int64_t outside
    with nogil:
        outside = fe_pool1d_backward(&dv[0, 0, 0], &gv[0, 0, 0], ap, mp, batch, steps,
                                     channels, pool, stride, pad_left, out_steps, imode)
    if outside:
        raise ValueError(f"argmax must lie in [0, {steps}), got values in "
                         f"[{argmax.min()}, {argmax.max()}]")
    return dx

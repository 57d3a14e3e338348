"""check_gradients: a layer's backward against central finite differences,
so the author of a custom layer can verify it."""
import numpy as np


class GradientCheckError(AssertionError):
    """A gradient from backward differs from its finite-difference estimate."""


def _as_list(value):
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _to_dense(grad, shape):
    if hasattr(grad, "rows"):  # RowGrad
        dense = np.zeros(shape, np.float32)
        dense[grad.rows] = grad.values
        return dense
    return np.asarray(grad)


def check_gradients(layer, inputs, mask=None, eps=1e-2, rtol=2e-2, atol=2e-3, max_entries=25,
                    seed=0, check_input=True, training=False):
    """Check layer.backward at inputs (an array or a list of arrays).

    The loss is sum(output * R) for a fixed random R per output; up to
    max_entries random entries of every float input (when check_input) and
    of every trainable weight are perturbed by +-eps and the central
    difference is compared with the analytic gradient:
    |analytic - numeric| <= atol + rtol * |numeric|. Raises
    GradientCheckError naming the first entry that differs; returns the
    largest absolute difference seen."""
    from fastembed.engine.layer import record  # the engine imports utils
    rng = np.random.default_rng(seed)
    many = isinstance(inputs, (list, tuple))
    xs = [np.array(x, copy=True) for x in _as_list(inputs)]
    call_inputs = xs if many else xs[0]
    for w in layer.weights:
        w.grad = None  # backward adds into grad: start from none
    outputs, context = record(layer, call_inputs, training=training, mask=mask,
                              needs_input_grad=check_input)
    projections = [rng.standard_normal(np.shape(y)) for y in _as_list(outputs)]
    grads = [p.astype(np.float32) for p in projections]
    input_grads = layer.backward(context, grads if isinstance(outputs, list) else grads[0])

    def loss():
        values = layer(call_inputs, training=training, mask=mask)
        return sum(float(np.sum(np.asarray(y, np.float64) * p))
                   for y, p in zip(_as_list(values), projections))

    targets = [(f"weight {w.name}", w.value, w.grad) for w in layer.trainable_weights]
    if check_input:
        targets = [(f"input {i}", x, g) for i, (x, g) in
                   enumerate(zip(xs, _as_list(input_grads))) if x.dtype.kind == "f"] + targets
    worst = 0.0
    for label, array, analytic in targets:
        if analytic is None:
            raise GradientCheckError(f"backward gave no gradient for {label}")
        analytic = _to_dense(analytic, array.shape)
        if analytic.shape != array.shape:
            raise GradientCheckError(f"the gradient of {label} has shape {analytic.shape}, "
                                     f"the {label} {array.shape}")
        for flat_index in rng.choice(array.size, size=min(max_entries, array.size),
                                     replace=False):
            original = array.flat[flat_index]
            array.flat[flat_index] = original + eps
            plus = loss()
            array.flat[flat_index] = original - eps
            minus = loss()
            array.flat[flat_index] = original
            numeric = (plus - minus) / (2 * eps)
            got = float(analytic.flat[flat_index])
            worst = max(worst, abs(got - numeric))
            if abs(got - numeric) > atol + rtol * abs(numeric):
                raise GradientCheckError(
                    f"{label}[{np.unravel_index(flat_index, array.shape)}]: backward gives "
                    f"{got:.6g}, finite differences {numeric:.6g}")
    return worst

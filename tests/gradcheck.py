"""Finite-difference gradient checks for layers (shared by the layer tests)."""
import numpy as np

from fastembed.engine import record


def _perturbed_loss(layer, x, mask, projection, array, flat_index, delta):
    original = array.flat[flat_index]
    array.flat[flat_index] = original + delta
    loss = float(np.sum(layer(x, mask=mask).astype(np.float64) * projection))
    array.flat[flat_index] = original
    return loss


def check_layer_gradients(layer, x, mask=None, eps=1e-2, rtol=2e-2, atol=2e-3,
                          max_entries=25, seed=0, check_input=True):
    """Compare layer.backward with central differences of sum(layer(x) * R).

    Checks up to max_entries randomly chosen entries of the input (if it is a
    float array and check_input) and of every trainable weight."""
    rng = np.random.default_rng(seed)
    x = np.array(x, copy=True)
    for w in layer.weights:
        w.grad = None  # backward adds into grad: start from none
    out, context = record(layer, x, mask=mask, needs_input_grad=check_input)
    projection = rng.standard_normal(out.shape)
    grad_x = layer.backward(context, projection.astype(np.float32))
    targets = [(f"weight {w.name}", w.value, w.grad) for w in layer.trainable_weights]
    if check_input:
        assert x.dtype == np.float32
        targets.insert(0, ("input", x, grad_x))
    for label, array, analytic in targets:
        assert analytic is not None, f"no gradient for {label}"
        if hasattr(analytic, "rows"):  # RowGrad -> dense
            dense = np.zeros_like(array)
            dense[analytic.rows] = analytic.values
            analytic = dense
        assert analytic.shape == array.shape, label
        picks = rng.choice(array.size, size=min(max_entries, array.size), replace=False)
        for flat_index in picks:
            plus = _perturbed_loss(layer, x, mask, projection, array, flat_index, eps)
            minus = _perturbed_loss(layer, x, mask, projection, array, flat_index, -eps)
            numeric = (plus - minus) / (2 * eps)
            got = float(analytic.flat[flat_index])
            assert abs(got - numeric) <= atol + rtol * abs(numeric), (
                f"{label}[{np.unravel_index(flat_index, array.shape)}]: "
                f"backward {got:.6g} vs finite difference {numeric:.6g}")

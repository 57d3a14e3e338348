"""model.summary(): Keras 3's table of layers, output shapes and parameters."""


def _amount(count):
    size = count * 4.0
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{count:,} ({size:.2f} {unit})"
        size /= 1024


def print_summary(model, print_fn):
    layers = model.layers
    names = [f"{layer.name} ({type(layer).__name__})" for layer in layers]
    widths = (max([33] + [len(n) + 2 for n in names]), 24, 15)

    def row(cells, left, middle, right):
        return left + middle.join(f" {c:<{w - 2}} " if i < 2 else f" {c:>{w - 2}} "
                                  for i, (c, w) in enumerate(zip(cells, widths))) + right

    def rule(left, middle, right, fill):
        return left + middle.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"),
             row(("Layer (type)", "Output Shape", "Param #"), "┃", "┃", "┃"),
             rule("┡", "╇", "┩", "━")]
    for i, layer in enumerate(layers):
        shape = str(layer.output_shape) if layer.output_shape else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        lines.append(row((names[i], shape, params), "│", "│", "│"))
        if i + 1 < len(layers):
            lines.append(rule("├", "┼", "┤", "─"))
    lines.append(rule("└", "┴", "┘", "─"))
    trainable = sum(w.value.size for w in model.trainable_weights)
    weights = sum(w.value.size for w in model.weights)
    # As Keras (jax backend), once the optimizer is built: its variables count
    # in the total.
    optimizer = model.optimizer
    optimizer_count = optimizer.count_params() if optimizer is not None and optimizer.built else 0
    lines += [f" Total params: {_amount(weights + optimizer_count)}",
              f" Trainable params: {_amount(trainable)}",
              f" Non-trainable params: {_amount(weights - trainable)}"]
    if optimizer_count:
        lines.append(f" Optimizer params: {_amount(optimizer_count)}")
    for line in lines:
        print_fn(line)

"""model.summary(): Keras 3's table of layers, output shapes and parameters,
with a "Connected to" column for Functional models."""


def _amount(count):
    size = count * 4.0
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{count:,} ({size:.2f} {unit})"
        size /= 1024


def _connections(model, layer):
    """The tensors a layer is called on in model: name[node][output] each."""
    in_graph = {id(node) for node in model.graph.nodes}
    nodes = [n for n in layer._inbound_nodes if id(n) in in_graph]
    sources = []
    for node in nodes:
        for tensor in node.inputs:
            producer = tensor.node.layer
            index = [id(n) for n in producer._inbound_nodes if id(n) in in_graph] \
                .index(id(tensor.node))
            sources.append(f"{producer.name}[{index}][{tensor.index}]")
    return ", ".join(sources) or "-"


def print_summary(model, print_fn):
    layers = model.layers
    names = [f"{layer.name} ({type(layer).__name__})" for layer in layers]
    connected = getattr(model, "shows_connections", False)
    header = ["Layer (type)", "Output Shape", "Param #"] + (["Connected to"] if connected else [])
    rows = []
    for layer, name in zip(layers, names):
        shape = str(layer.output_shape) if layer.output_shape else "?"
        params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
        rows.append([name, shape, params] + ([_connections(model, layer)] if connected else []))
    widths = [max([33] + [len(n) + 2 for n in names]), 24, 15]
    if connected:
        widths.append(max([20] + [len(row[3]) + 2 for row in rows]))
    numeric = {2}

    def row(cells, left, middle, right):
        return left + middle.join(f" {c:>{w - 2}} " if i in numeric else f" {c:<{w - 2}} "
                                  for i, (c, w) in enumerate(zip(cells, widths))) + right

    def rule(left, middle, right, fill):
        return left + middle.join(fill * w for w in widths) + right

    lines = [f'Model: "{model.name}"', rule("┏", "┳", "┓", "━"), row(header, "┃", "┃", "┃"),
             rule("┡", "╇", "┩", "━")]
    for i, cells in enumerate(rows):
        lines.append(row(cells, "│", "│", "│"))
        if i + 1 < len(rows):
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

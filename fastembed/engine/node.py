"""Symbolic tensors and the nodes that record layer calls on them.

Calling a layer on a SymbolicTensor (from Input) computes no numbers: it
records a Node (the layer, its input tensors) whose outputs are new
symbolic tensors of the shapes the layer's compute_output_shape gives.
A Functional model later runs the nodes between its inputs and outputs.
"""


class SymbolicTensor:
    """A placeholder of known shape (batch dimension first, None if unknown),
    produced by node (None for an Input) as its output number index."""

    __slots__ = ("shape", "dtype", "name", "node", "index")

    def __init__(self, shape, dtype="float32", name=None, node=None, index=0):
        self.shape = tuple(shape)
        self.dtype = dtype
        self.name = name
        self.node = node
        self.index = index

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<SymbolicTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"


def is_symbolic(inputs):
    if isinstance(inputs, (list, tuple)):
        return any(isinstance(x, SymbolicTensor) for x in inputs)
    return isinstance(inputs, SymbolicTensor)


class Node:
    """One call of layer on input tensors (a list; `many` says whether the
    layer was given a list or a single tensor)."""

    __slots__ = ("layer", "inputs", "many", "outputs")

    def __init__(self, layer, inputs, many):
        self.layer = layer
        self.inputs = list(inputs)
        self.many = many
        self.outputs = []
        layer._inbound_nodes.append(self)

    def add_output(self, shape, dtype="float32"):
        tensor = SymbolicTensor(shape, dtype, f"{self.layer.name}_{len(self.outputs)}", self,
                                len(self.outputs))
        self.outputs.append(tensor)
        return tensor

    @property
    def parent_nodes(self):
        return [t.node for t in self.inputs if t.node is not None]

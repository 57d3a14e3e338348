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
    layer was given a list or a single tensor), and on tensor keyword
    arguments (an RNN's initial_state): kwargs maps a name to (tensors,
    whether a list was given). inputs holds the call's tensors, then the
    keyword arguments' in order, so that the graph orders and differentiates
    through both."""

    __slots__ = ("layer", "inputs", "many", "outputs", "num_main", "kwarg_spec")

    def __init__(self, layer, inputs, many, kwargs=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.num_main = len(self.inputs)
        self.kwarg_spec = []  # (name, tensor count, given as a list)
        for name, (tensors, is_list) in (kwargs or {}).items():
            self.kwarg_spec.append((name, len(tensors), is_list))
            self.inputs += tensors
        self.many = many
        self.outputs = []
        layer._inbound_nodes.append(self)

    def split_inputs(self, values):
        """(the call's values, {name: keyword argument value}) from values
        aligned with self.inputs."""
        kwargs, start = {}, self.num_main
        for name, count, is_list in self.kwarg_spec:
            part = list(values[start:start + count])
            kwargs[name] = part if is_list else part[0]
            start += count
        return values[:self.num_main], kwargs

    def add_output(self, shape, dtype="float32"):
        tensor = SymbolicTensor(shape, dtype, f"{self.layer.name}_{len(self.outputs)}", self,
                                len(self.outputs))
        self.outputs.append(tensor)
        return tensor

    @property
    def parent_nodes(self):
        return [t.node for t in self.inputs if t.node is not None]

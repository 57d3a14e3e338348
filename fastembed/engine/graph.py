"""The graph of a Functional model and the executor that runs it.

map_graph orders the nodes between a model's inputs and outputs as Keras's
map_graph does (its layer order is Keras's, so weights line up). Graph.run
executes them in topological order, each layer's call keeping its state
in a Context on the tape; Graph.backward walks the tape in reverse, sums
gradients where a tensor feeds several nodes, and skips every node whose
inputs and weights need no gradient. A layer's activity_regularizer adds
its penalty (divided by the batch size, as Keras 3) to the step's
activity loss, and its gradient to the layer's output gradient.
"""
import numpy as np

from fastembed.engine.layer import Context
from fastembed.engine.node import SymbolicTensor


def map_graph(inputs, outputs):
    """(nodes in topological order, layers in Keras's order) of the graph
    from the Input tensors `inputs` to `outputs`."""
    for i, tensor in enumerate(inputs):
        if not isinstance(tensor, SymbolicTensor) or tensor.node is None \
                or tensor.node.inputs or tensor.node.layer._inbound_nodes[0] is not tensor.node:
            raise ValueError(f"inputs[{i}] of a Model must be a tensor from fastembed.Input(), "
                             f"got {tensor!r}")
    for i, tensor in enumerate(outputs):
        if not isinstance(tensor, SymbolicTensor):
            raise ValueError(f"outputs[{i}] of a Model must be a symbolic tensor (a layer "
                             f"called on Input tensors), got {type(tensor).__name__}")
    input_nodes = {id(t.node) for t in inputs}
    order, finished, in_progress, first_seen = [], set(), set(), {}

    def visit(node):
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"Layer {node.layer.name!r} is part of a cycle")
        first_seen.setdefault(node.layer, len(first_seen))
        in_progress.add(id(node))
        for tensor in node.inputs:
            visit(tensor.node)
        in_progress.discard(id(node))
        finished.add(id(node))
        order.append(node)

    for tensor in outputs:
        visit(tensor.node)
    for node in order:
        if not node.inputs and id(node) not in input_nodes:
            raise ValueError(f"Graph disconnected: the outputs need Input {node.outputs[0].name!r}"
                             f", which is not among the model's inputs "
                             f"{[t.name for t in inputs]}")
    used = {id(node) for node in order}
    for i, tensor in enumerate(inputs):
        if id(tensor.node) not in used:
            raise ValueError(f"inputs[{i}] ({tensor.name!r}) is not connected to the outputs: "
                             f"no output depends on it")
    # Depth: the longest path to an output; layers sorted by decreasing depth,
    # ties in order of first visit (Keras's map_graph).
    node_depth, layer_depth = {}, {}
    for node in reversed(order):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))
    return order, layers


class Graph:
    """Executes nodes on arrays. Tensors are numbered slots; each step is
    (layer, input slots, whether the layer takes a list, output slots)."""

    def __init__(self, inputs, outputs):
        self.nodes, self.layers = map_graph(inputs, outputs)
        slot_of = {}

        def slot(tensor):
            return slot_of.setdefault(id(tensor), len(slot_of))

        self.input_slots = [slot(t) for t in inputs]
        self.steps = []
        for node in self.nodes:
            if node.inputs:  # Input nodes only hold their slot
                self.steps.append((node.layer, [slot(t) for t in node.inputs], node.many,
                                   [slot(t) for t in node.outputs]))
        self.output_slots = [slot(t) for t in outputs]
        self.num_slots = len(slot_of)
        self._needs = {}

    def invalidate(self):
        """Forget which gradients are needed (after a trainable change)."""
        self._needs.clear()
        for layer, _, _, _ in self.steps:
            graph = getattr(layer, "graph", None)
            if graph is not None:
                graph.invalidate()

    def _needed(self, input_grads):
        """Per step, whether its inputs need gradients, and whether its
        outputs do (else backward skips it)."""
        needs = self._needs.get(input_grads)
        if needs is None:
            wanted = [False] * self.num_slots
            for s in self.input_slots:
                wanted[s] = input_grads
            needs = []
            for layer, in_slots, _, out_slots in self.steps:
                inputs_need = any(wanted[s] for s in in_slots)
                outputs_need = inputs_need or bool(layer.trainable_weights)
                for s in out_slots:
                    wanted[s] = outputs_need
                needs.append((inputs_need, outputs_need))
            self._needs[input_grads] = needs
        return needs

    def run(self, inputs, masks=None, training=False, tape=None, input_grads=False):
        """(outputs, their masks) for the list of input arrays. tape is a
        list that receives the contexts of the calls, for backward; a tape
        of an earlier run of this graph is reused (its workspaces too)."""
        values = [None] * self.num_slots
        value_masks = [None] * self.num_slots
        for i, s in enumerate(self.input_slots):
            values[s] = inputs[i]
            if masks is not None:
                value_masks[s] = masks[i]
        needs = self._needed(input_grads)
        reuse = tape is not None and len(tape) == len(self.steps)
        if tape is not None and not reuse:
            tape.clear()
        for index, (layer, in_slots, many, out_slots) in enumerate(self.steps):
            if many:
                x = [values[s] for s in in_slots]
                mask = [value_masks[s] for s in in_slots]
                if all(m is None for m in mask):
                    mask = None
            else:
                x, mask = values[in_slots[0]], value_masks[in_slots[0]]
            context = tape[index] if reuse else Context()
            context.needs_input_grad = needs[index][0]
            context.activity_loss = 0.0
            y = layer.forward(context, x, training=training,
                              mask=mask if layer.supports_masking else None)
            if layer.activity_regularizer is not None:
                context.outputs = y
                context.activity_loss += sum(
                    layer.activity_regularizer(out) / len(out) for out in _tensors(y))
            y_mask = layer.compute_mask(x, mask)
            if len(out_slots) == 1:
                values[out_slots[0]], value_masks[out_slots[0]] = y, y_mask
            else:
                y_masks = y_mask if isinstance(y_mask, list) else [y_mask] * len(out_slots)
                for s, value, m in zip(out_slots, y, y_masks):
                    values[s], value_masks[s] = value, m
            if tape is not None and not reuse:
                tape.append(context)
        return [values[s] for s in self.output_slots], [value_masks[s] for s in self.output_slots]

    def backward(self, tape, output_grads, input_grads=False):
        """Gradients of the input arrays (None where not needed), after
        adding every trainable weight's gradient to its variable."""
        grads = [None] * self.num_slots
        for s, g in zip(self.output_slots, output_grads):
            if g is not None:
                grads[s] = g if grads[s] is None else grads[s] + g
        needs = self._needed(input_grads)
        for index in range(len(self.steps) - 1, -1, -1):
            inputs_need, outputs_need = needs[index]
            if not outputs_need:
                continue
            layer, in_slots, many, out_slots = self.steps[index]
            if len(out_slots) == 1:
                out_grads = grads[out_slots[0]]
                if out_grads is None:
                    continue
            else:
                out_grads = [grads[s] for s in out_slots]
                if all(g is None for g in out_grads):
                    continue
            if layer.activity_regularizer is not None:
                out_grads = _add_activity_grads(layer.activity_regularizer,
                                                tape[index].outputs, out_grads)
            in_grads = layer.backward(tape[index], out_grads)
            if not inputs_need:
                continue
            for s, g in zip(in_slots, in_grads if many else (in_grads,)):
                if g is not None:
                    grads[s] = g if grads[s] is None else grads[s] + g
        return [grads[s] for s in self.input_slots]

    def activity_loss(self, tape):
        """The activity regularizers' penalty of the run that filled tape
        (nested models included: theirs is in their context)."""
        return sum(context.activity_loss for context in tape)


def _tensors(outputs):
    return outputs if isinstance(outputs, list) else [outputs]


def _add_activity_grads(regularizer, outputs, out_grads):
    """out_grads (one array, or a list with None where no gradient came)
    plus the activity penalty's gradient of each output."""
    grads = [(regularizer.gradient(out) / np.float32(len(out))) if g is None
             else g + regularizer.gradient(out) / np.float32(len(out))
             for out, g in zip(_tensors(outputs), _tensors(out_grads))]
    return grads if isinstance(outputs, list) else grads[0]

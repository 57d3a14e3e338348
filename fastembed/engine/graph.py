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
import os
import threading

import numpy as np

from fastembed.engine.layer import Context, Layer
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


# Inference plans kept per thread (one per input signature: predict's full
# batches and its last, shorter one, and a few more).
_INFERENCE_PLANS_KEPT = 4

# A list, so that set_step_plans needs no global statement; FASTEMBED_STEP_PLANS=0 starts off.
_step_plans = [os.environ.get("FASTEMBED_STEP_PLANS", "1") != "0"]


def set_step_plans(enabled):
    """Run graphs through their step plans (the default) or walk every node
    through the general path; both give the same bits (tests/test_step_plan.py)."""
    _step_plans[0] = bool(enabled)


def step_plans_enabled():
    return _step_plans[0]


class PlannedNode:
    """One node of a step plan: what run and backward read for it each step,
    resolved once. `direct` nodes (one input tensor, one output, no tensor
    keyword arguments, no activity regularizer) take a short path that
    builds nothing per step; the others go through the general path."""

    __slots__ = ("layer", "node", "in_slots", "out_slots", "many", "inputs_need",
                 "outputs_need", "direct", "in_slot", "out_slot", "forward", "backward",
                 "masking", "own_mask", "max_step_grad")

    def __init__(self, layer, in_slots, many, out_slots, node, inputs_need, outputs_need):
        self.layer, self.node, self.many = layer, node, many
        self.in_slots, self.out_slots = in_slots, out_slots
        self.inputs_need, self.outputs_need = inputs_need, outputs_need
        self.direct = _step_plans[0] and not many and not node.kwarg_spec \
            and len(out_slots) == 1 and layer.activity_regularizer is None
        self.in_slot, self.out_slot = in_slots[0], out_slots[0]
        self.forward, self.backward = layer.forward, layer.backward
        self.masking = layer.supports_masking
        # Layer.compute_mask passes the mask on where the layer supports masking.
        self.own_mask = type(layer).compute_mask is not Layer.compute_mask
        self.max_step_grad = False  # see Graph.plan


class Graph:
    """Executes nodes on arrays. Tensors are numbered slots; each step is
    (layer, input slots, whether the layer takes a list, output slots, node);
    the input slots end with the node's keyword-argument tensors. A step
    plan (per input_grads, dropped by invalidate) resolves each step once
    into a PlannedNode."""

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
                                   [slot(t) for t in node.outputs], node))
        self.output_slots = [slot(t) for t in outputs]
        self.num_slots = len(slot_of)
        self._plans = {}
        self._inference = threading.local()  # per thread: inference plans, the walk's tape
        # Per output, the step that made it when nothing else reads it (no
        # other node, no second output), else None: see output_calls.
        read = [s for _, in_slots, *_ in self.steps for s in in_slots] + self.output_slots
        made_by = {out_slots[0]: index for index, (_, _, _, out_slots, _) in enumerate(self.steps)
                   if len(out_slots) == 1}
        self._made_by, self._read_once = made_by, {s for s in read if read.count(s) == 1}
        self._sole_makers = [made_by.get(s) if s in self._read_once else None
                             for s in self.output_slots]

    def invalidate(self):
        """Drop the step plans (after a trainable change, a new compile)."""
        self._plans.clear()
        self._inference = threading.local()
        for layer, *_ in self.steps:
            graph = getattr(layer, "graph", None)
            if graph is not None:
                graph.invalidate()

    def plan(self, input_grads):
        """The step plan: per step, a PlannedNode whose inputs_need says
        whether its inputs need gradients and outputs_need whether its
        outputs do (else backward skips it)."""
        key = (input_grads, _step_plans[0])
        plan = self._plans.get(key)
        if plan is None:
            wanted = [False] * self.num_slots
            for s in self.input_slots:
                wanted[s] = input_grads
            plan = self._plans[key] = []
            for layer, in_slots, many, out_slots, node in self.steps:
                inputs_need = any(wanted[s] for s in in_slots)
                outputs_need = inputs_need or bool(layer.trainable_weights)
                for s in out_slots:
                    wanted[s] = outputs_need
                plan.append(PlannedNode(layer, in_slots, many, out_slots, node, inputs_need,
                                        outputs_need))
            self._hand_on_max_step_grads(plan)
        return plan

    def _hand_on_max_step_grads(self, plan):
        """A direct global max pooling step whose input only it reads, made by
        a direct step whose backward takes a MaxStepGrad (Conv1D), passes its
        input gradient back as one (engine/max_step_grad.py)."""
        for step in plan:
            maker = self._made_by.get(step.in_slot)
            step.max_step_grad = (
                step.direct and step.inputs_need and maker is not None
                and getattr(step.layer, "gives_max_step_grads", False)
                and step.in_slot in self._read_once and plan[maker].direct
                and getattr(type(plan[maker].layer).backward, "takes_max_step_grads", False))

    def run(self, inputs, masks=None, training=False, tape=None, input_grads=False):
        """(outputs, their masks) for the list of input arrays. tape is a
        list that receives the contexts of the calls, for backward; a tape
        of an earlier run of this graph is reused (its workspaces too)."""
        values, value_masks = self.slots(inputs, masks)
        plan = self.plan(input_grads)
        reuse = tape is not None and len(tape) == len(plan)
        if tape is not None and not reuse:
            tape.clear()
        for index, step in enumerate(plan):
            context = tape[index] if reuse else Context()
            context.needs_input_grad = step.inputs_need
            context.max_step_input_grad = step.max_step_grad
            run_step(step, context, values, value_masks, training)
            if tape is not None and not reuse:
                tape.append(context)
        return [values[s] for s in self.output_slots], [value_masks[s] for s in self.output_slots]

    def slots(self, inputs, masks=None):
        """(values, masks) by slot, holding the inputs (and their masks)."""
        values, value_masks = [None] * self.num_slots, [None] * self.num_slots
        for i, s in enumerate(self.input_slots):
            values[s] = inputs[i]
            if masks is not None:
                value_masks[s] = masks[i]
        return values, value_masks

    def infer(self, inputs):
        """The outputs for the input arrays in inference mode, through the
        calling thread's inference plan for their shapes and dtypes (built
        on first use, dropped by invalidate), or with plans off through run
        on the calling thread's tape.
        The arrays returned may be the plan's buffers: the next call
        overwrites them."""
        local = self._inference
        if not _step_plans[0]:
            return self.run(inputs, tape=local.__dict__.setdefault("tape", []))[0]
        try:
            plans = local.plans
        except AttributeError:
            plans = local.plans = {}
        x = inputs[0]
        key = (x.shape, x.dtype) if len(inputs) == 1 else tuple((x.shape, x.dtype)
                                                               for x in inputs)
        plan = plans.get(key)
        if plan is not None:
            return plan.run(inputs)
        if len(plans) == _INFERENCE_PLANS_KEPT:
            del plans[next(iter(plans))]  # the oldest
        plan, outputs = InferencePlan.build(self, inputs)
        plans[key] = plan
        return outputs

    def backward(self, tape, output_grads, input_grads=False):
        """Gradients of the input arrays (None where not needed), after
        adding every trainable weight's gradient to its variable."""
        grads = [None] * self.num_slots
        for s, g in zip(self.output_slots, output_grads):
            if g is not None:
                grads[s] = g if grads[s] is None else grads[s] + g
        plan = self.plan(input_grads)
        for index in range(len(plan) - 1, -1, -1):
            step = plan[index]
            if not step.outputs_need:
                continue
            if step.direct:
                out_grads = grads[step.out_slot]
                if out_grads is None:
                    continue
                in_grads = step.backward(tape[index], out_grads)
                if step.inputs_need and in_grads is not None:
                    s = step.in_slot
                    grads[s] = in_grads if grads[s] is None else grads[s] + in_grads
            else:
                _backward_node(step, tape[index], grads)
        return [grads[s] for s in self.input_slots]

    def output_calls(self, tape):
        """Per output of the run that filled tape, (layer, context) of the
        call that made it when its gradient reaches that call's backward
        unchanged (nothing else reads the output, no activity regularizer),
        else None: a loss may then hand the call the gradient of its logits
        (Layer.softmax_logit_grads)."""
        return [None if index is None or self.steps[index][0].activity_regularizer is not None
                else (self.steps[index][0], tape[index]) for index in self._sole_makers]

    def activity_loss(self, tape):
        """The activity regularizers' penalty of the run that filled tape
        (nested models included: theirs is in their context)."""
        return sum(context.activity_loss for context in tape)


class InferencePlan:
    """A graph lowered for one signature of its inputs (shapes, dtypes):
    per node, the function its layer's inference_call gives (buffers
    reused, checks done once), else the walk's step with a context of its
    own. A node whose input carries a mask always takes the walk's step.
    When every node has a function and they form a chain, run is a loop
    over them."""

    __slots__ = ("graph", "steps", "chain")

    @classmethod
    def build(cls, graph, inputs):
        """(the plan, the outputs for inputs): built on a first run."""
        plan = cls()
        plan.graph, plan.steps = graph, []
        values, value_masks = graph.slots(inputs)
        for step in graph.plan(False):
            context = Context(needs_input_grad=False)
            call = None
            if step.direct and value_masks[step.in_slot] is None:
                call = step.layer.inference_call(values[step.in_slot])
            plan.steps.append((step, call, context))
            plan._run_step(step, call, context, values, value_masks)
        chain = [call for _, call, _ in plan.steps]
        slots = [graph.input_slots[0]] + [step.out_slot for step, _, _ in plan.steps]
        plan.chain = chain if (
            len(graph.input_slots) == 1 and graph.output_slots == slots[-1:]
            and all(call is not None and step.in_slot == slot
                    for (step, call, _), slot in zip(plan.steps, slots))) else None
        return plan, [values[s] for s in graph.output_slots]

    @staticmethod
    def _run_step(step, call, context, values, value_masks):
        if call is not None and value_masks[step.in_slot] is None:
            values[step.out_slot] = call(values[step.in_slot])
            value_masks[step.out_slot] = None
        else:
            run_step(step, context, values, value_masks, False)

    def run(self, inputs):
        if self.chain is not None:
            x = inputs[0]
            for call in self.chain:
                x = call(x)
            return [x]
        graph = self.graph
        values, value_masks = graph.slots(inputs)
        for step, call, context in self.steps:
            self._run_step(step, call, context, values, value_masks)
        return [values[s] for s in graph.output_slots]


def run_step(step, context, values, value_masks, training):
    """One planned node's forward: its outputs and their masks into the slots."""
    context.activity_loss = 0.0
    if step.direct:
        x, mask = values[step.in_slot], value_masks[step.in_slot]
        values[step.out_slot] = step.forward(
            context, x, training=training, mask=mask if step.masking else None)
        value_masks[step.out_slot] = step.layer.compute_mask(x, mask) \
            if step.own_mask else mask if step.masking else None
    else:
        _run_node(step, context, values, value_masks, training)


def _run_node(step, context, values, value_masks, training):
    """One node's forward through the general path: several inputs, tensor
    keyword arguments, several outputs, an activity regularizer."""
    layer, in_slots, out_slots, node = step.layer, step.in_slots, step.out_slots, step.node
    x, kwargs = node.split_inputs([values[s] for s in in_slots])
    if step.many:
        mask = [value_masks[s] for s in in_slots[:node.num_main]]
        if all(m is None for m in mask):
            mask = None
    else:
        x, mask = x[0], value_masks[in_slots[0]]
    y = layer.forward(context, x, training=training,
                      mask=mask if layer.supports_masking else None, **kwargs)
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


def _backward_node(step, context, grads):
    """One node's backward through the general path, its input gradients
    added into grads (by slot)."""
    layer, in_slots, out_slots, node = step.layer, step.in_slots, step.out_slots, step.node
    if len(out_slots) == 1:
        out_grads = grads[out_slots[0]]
        if out_grads is None:
            return
    else:
        out_grads = [grads[s] for s in out_slots]
        if all(g is None for g in out_grads):
            return
    if layer.activity_regularizer is not None:
        out_grads = _add_activity_grads(layer.activity_regularizer, context.outputs, out_grads)
    in_grads = layer.backward(context, out_grads)
    if not step.inputs_need:
        return
    in_grads = list(in_grads) if step.many else [in_grads]
    kwarg_grads = context.kwarg_grads or {}
    for name, count, _ in node.kwarg_spec:
        g = kwarg_grads.get(name)
        in_grads += [None] * count if g is None \
            else list(g) if isinstance(g, (list, tuple)) else [g]
    for s, g in zip(in_slots, in_grads):
        if g is not None:
            grads[s] = g if grads[s] is None else grads[s] + g


def _tensors(outputs):
    return outputs if isinstance(outputs, list) else [outputs]


def _add_activity_grads(regularizer, outputs, out_grads):
    """out_grads (one array, or a list with None where no gradient came)
    plus the activity penalty's gradient of each output."""
    grads = [(regularizer.gradient(out) / np.float32(len(out))) if g is None
             else g + regularizer.gradient(out) / np.float32(len(out))
             for out, g in zip(_tensors(outputs), _tensors(out_grads))]
    return grads if isinstance(outputs, list) else grads[0]

"""Functional: a model defined by calling layers on Input tensors.

Its config is Keras's: the layers with the nodes each was called at
(inbound_nodes naming the producing layer, node and output of each input),
and the model's input and output tensors as [layer name, node, output].
"""
import threading

import numpy as np

from fastembed.engine.graph import Graph
from fastembed.engine.input_layer import InputLayer
from fastembed.engine.node import is_symbolic
from fastembed.models.model import Model
from fastembed.saving.serialization import deserialize_layer, loading_scope, serialize_layer


def _flat_tensors(tensors, argument):
    """(the tensors as a list, the dict's keys or None): a dict's tensors in
    sorted order of their keys, as Keras flattens it."""
    if isinstance(tensors, dict):
        if not tensors:
            raise ValueError(f"`{argument}` of a Model must not be empty")
        if not all(isinstance(key, str) for key in tensors):
            raise ValueError(f"`{argument}` of a Model given as a dict must have string keys, "
                             f"got {list(tensors)}")
        keys = sorted(tensors)
        return [tensors[key] for key in keys], keys
    if isinstance(tensors, (list, tuple)):
        if not tensors:
            raise ValueError(f"`{argument}` of a Model must not be empty")
        return list(tensors), None
    return [tensors], None


class Functional(Model):
    """inputs and outputs: one tensor, a list, or a dict keyed by name. A
    dict's tensors are ordered by sorted key, as Keras flattens it; its
    keys name the data (x, y, sample_weight), compile's per-output entries
    and the logs, and __call__ / predict return a dict with those keys."""
    shows_connections = True  # summary() lists what each layer is called on
    # The keys of inputs / outputs given as dicts (sorted), else None; and
    # as given (get_config and calls keep that order, as Keras does).
    _input_dict_keys = _output_dict_keys = None
    _config_keys = (None, None)

    def __init__(self, inputs, outputs, name=None, trainable=True):
        super().__init__(name=name, trainable=trainable)
        flat_inputs, self._input_dict_keys = _flat_tensors(inputs, "inputs")
        flat_outputs, self._output_dict_keys = _flat_tensors(outputs, "outputs")
        self._config_keys = ([*inputs] if isinstance(inputs, dict) else None,
                             [*outputs] if isinstance(outputs, dict) else None)
        self._set_graph(flat_inputs, flat_outputs,
                        several_inputs=isinstance(inputs, (list, tuple, dict)),
                        several_outputs=isinstance(outputs, (list, tuple, dict)))
        if not trainable:
            self.trainable = False  # freezes the layers, as in Keras

    def _set_graph(self, inputs, outputs, several_inputs, several_outputs):
        self.graph = Graph(inputs, outputs)
        self.inputs, self.outputs = inputs, outputs
        self._several_inputs, self._several_outputs = several_inputs, several_outputs
        self.input_names = self._input_dict_keys or [t.node.layer.name for t in inputs]
        self.output_names = [t.node.layer.name for t in outputs]
        if len(set(self.input_names)) != len(self.input_names):
            raise ValueError(f"The inputs of a Model must have distinct names, got "
                             f"{self.input_names}")
        self._layers = self.graph.layers
        # predict's tape is per thread: its contexts hold a batch's buffers.
        self._train_tape, self._predict_tapes = [], threading.local()
        self._checked_input = None
        self.built = True
        self.batch_input_shape = inputs[0].shape if len(inputs) == 1 else None
        self.input_shape = [t.shape for t in inputs] if several_inputs else inputs[0].shape
        self.output_shape = [t.shape for t in outputs] if several_outputs else outputs[0].shape

    @property
    def layers(self):
        return list(self._layers)

    @property
    def _output_keys(self):
        """The names of the outputs in y, sample_weight, compile's per-output
        arguments and the logs: the outputs dict's keys, else (as Keras)
        the output layers' names."""
        return self._output_dict_keys or self.output_names

    def _packed_outputs(self, values):
        """values (one array per output) as predict returns them: a dict
        (in sorted key order, as Keras's predict) for dict outputs, else a
        list, or the array of a single output."""
        if self._output_dict_keys is not None:
            return dict(zip(self._output_dict_keys, values))
        return values[0] if len(values) == 1 else list(values)

    def _build_for_inputs(self, xs):
        """xs checked against the inputs' shapes; as Keras, an array one rank
        short of an input whose last dimension is 1 gets that axis."""
        adjusted = []
        for name, tensor, x in zip(self.input_names, self.inputs, xs):
            expected = tensor.shape
            if x.dtype.kind in "USTO":
                self._check_takes_strings(name, tensor, x.dtype)
            if x.ndim == len(expected) - 1 and expected[-1] == 1:
                x = x[..., None]
            adjusted.append(x)
            if x.ndim != len(expected) or any(
                    e is not None and e != s for e, s in zip(expected[1:], x.shape[1:])):
                raise ValueError(f"Input {name!r} of model {self.name!r} is incompatible: "
                                 f"expected shape={expected}, found shape={x.shape}")
        return adjusted

    def _check_takes_strings(self, name, tensor, dtype):
        """String data (x) may feed only layers that read strings (StringLookup,
        Hashing...): elsewhere it is a TypeError naming the input and the layer."""
        readers = [node.layer for node in self.graph.nodes if any(t is tensor for t in node.inputs)]
        numeric = [layer for layer in readers if not getattr(layer, "takes_strings", False)]
        if numeric:
            raise TypeError(f"`x` must be a numeric array, got dtype {dtype}: input {name!r} of "
                            f"model {self.name!r} feeds {type(numeric[0]).__name__} "
                            f"{numeric[0].name!r}, which takes numbers (strings must go through "
                            f"a layer such as StringLookup or Hashing first)")

    # ---- as a layer ----------------------------------------------------------
    def build_for(self, input_shape):
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        if len(shapes) != len(self.inputs):
            raise ValueError(f"Model {self.name!r} takes {len(self.inputs)} inputs, got "
                             f"{len(shapes)}")
        for name, tensor, shape in zip(self.input_names, self.inputs, shapes):
            if len(shape) != len(tensor.shape) or any(
                    e is not None and s is not None and e != s
                    for e, s in zip(tensor.shape[1:], shape[1:])):
                raise ValueError(f"Input {name!r} of model {self.name!r} expects shape "
                                 f"{tensor.shape}, got {tuple(shape)}")
        return self.output_shape

    def _input_list(self, inputs):
        if isinstance(inputs, dict):
            from fastembed.trainers.data_adapter import check_keys
            check_keys(inputs, self.input_names, "inputs")
            return [inputs[name] for name in self.input_names]
        return list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]

    def _output_value(self, values):
        """The outputs of forward (a list for several, dict outputs too)."""
        return values if self._several_outputs else values[0]

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        if isinstance(inputs, dict):
            inputs = self._input_list(inputs)
        if mask is not None or kwargs or not self.built or is_symbolic(inputs):
            outputs = super().__call__(inputs, training=training, mask=mask, **kwargs)
        else:
            # On arrays: the calling thread's predict tape, whose buffers are reused.
            xs = [np.asarray(x) for x in self._input_list(inputs)]
            outputs = self._output_value(self._predict_batch(xs, training))
        if self._output_dict_keys is not None:  # keyed in the order given, as Keras's call
            by_key = dict(zip(self._output_dict_keys, outputs))
            return {key: by_key[key] for key in self._config_keys[1]}
        return outputs

    def forward(self, context, inputs, training=False, mask=None):
        xs = [np.asarray(x) for x in self._input_list(inputs)]
        masks = None if mask is None else self._input_list(mask)
        tape = context.saved if isinstance(context.saved, list) else []
        outputs, output_masks = self.graph.run(xs, masks, training=training, tape=tape,
                                               input_grads=context.needs_input_grad)
        context.saved = tape
        context.activity_loss = self.graph.activity_loss(tape)
        return self._output_value(outputs)

    def backward(self, context, output_grads):
        grads = list(output_grads) if self._several_outputs else [output_grads]
        input_grads = self.graph.backward(context.saved, grads, context.needs_input_grad)
        return input_grads if len(self.inputs) > 1 or self._several_inputs else input_grads[0]

    def compute_mask(self, inputs, mask=None):
        return None

    # ---- config --------------------------------------------------------------
    def get_config(self):
        in_graph = {id(node) for node in self.graph.nodes}
        nodes_of = {layer: [n for n in layer._inbound_nodes if id(n) in in_graph]
                    for layer in self.layers}
        # A node is named by its layer and its number among that layer's nodes here.
        numbering = {id(node): i for nodes in nodes_of.values() for i, node in enumerate(nodes)}
        layers_config = []
        for layer, nodes in nodes_of.items():
            entry = serialize_layer(layer)
            entry["name"] = layer.name
            entry["inbound_nodes"] = [self._node_config(node, numbering)
                                      for node in nodes if node.inputs]
            layers_config.append(entry)

        def history(tensor):
            return [tensor.node.layer.name, numbering[id(tensor.node)], tensor.index]

        def structure(tensors, keys, given_keys, several):
            """Keras's: a dict (in the order given), a list, or one entry."""
            if keys is not None:
                by_key = dict(zip(keys, tensors))
                return {key: history(by_key[key]) for key in given_keys}
            return [history(t) for t in tensors] if several else history(tensors[0])

        input_keys, output_keys = self._config_keys
        return {"name": self.name, "trainable": self.trainable, "layers": layers_config,
                "input_layers": structure(self.inputs, self._input_dict_keys, input_keys,
                                          self._several_inputs),
                "output_layers": structure(self.outputs, self._output_dict_keys, output_keys,
                                           self._several_outputs)}

    @classmethod
    def _node_config(cls, node, numbering):
        main, kwargs = node.split_inputs(node.inputs)
        return {"args": [cls._tensor_config(main, numbering, node.many)],
                "kwargs": {name: cls._tensor_config(value if isinstance(value, list) else [value],
                                                    numbering, isinstance(value, list))
                           for name, value in kwargs.items()}}

    @staticmethod
    def _tensor_config(tensors, numbering, many):
        configs = [{"class_name": "__keras_tensor__",
                    "config": {"shape": list(t.shape), "dtype": t.dtype,
                               "keras_history": [t.node.layer.name, numbering[id(t.node)],
                                                 t.index]}}
                   for t in tensors]
        return configs if many else configs[0]

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if custom_objects:
            with loading_scope(custom_objects):
                return cls.from_config(config)
        layers, outputs_of = {}, {}
        pending = []
        for entry in config["layers"]:
            layer = deserialize_layer(entry)
            layers[entry.get("name", layer.name)] = layer
            if isinstance(layer, InputLayer):
                outputs_of[(layer.name, 0)] = [layer.output]
            pending.append((layer, list(entry.get("inbound_nodes", []))))
        # Call each layer on its inbound nodes' inputs once they exist, as
        # Keras does: a pass over the layers until no node is left.
        while any(nodes for _, nodes in pending):
            progressed = False
            for layer, nodes in pending:
                while nodes:
                    args = nodes[0]["args"][0] if isinstance(nodes[0], dict) else nodes[0]
                    kwargs = nodes[0].get("kwargs", {}) if isinstance(nodes[0], dict) else {}
                    inputs = _resolve(args, outputs_of)
                    tensor_kwargs = {name: _resolve(value, outputs_of)
                                     for name, value in kwargs.items() if _is_tensor_spec(value)}
                    if inputs is None or any(v is None for v in tensor_kwargs.values()):
                        break
                    node_count = sum(1 for key in outputs_of if key[0] == layer.name)
                    result = layer(inputs, **tensor_kwargs)
                    outputs_of[(layer.name, node_count)] = result if isinstance(result, list) \
                        else [result]
                    nodes.pop(0)
                    progressed = True
            if not progressed:
                raise ValueError("The model config's layers cannot be connected: a layer's "
                                 "inputs come from a layer that is not in the config")

        def tensors(spec):
            if isinstance(spec, dict):
                return {key: tensors(value) for key, value in spec.items()}
            if spec and isinstance(spec[0], list):
                return [outputs_of[(s[0], s[1])][s[2]] for s in spec]
            return outputs_of[(spec[0], spec[1])][spec[2]]

        return cls(tensors(config["input_layers"]), tensors(config["output_layers"]),
                   name=config.get("name"), trainable=config.get("trainable", True))


def _is_tensor_spec(value):
    """Whether a node's keyword argument in a config names tensors (else a constant)."""
    first = value[0] if isinstance(value, list) and value else value
    return isinstance(first, dict) and first.get("class_name") == "__keras_tensor__"


def _resolve(args, outputs_of):
    """The tensors an inbound node's args name, or None if one is not made yet."""
    if isinstance(args, list):
        resolved = [_resolve(a, outputs_of) for a in args]
        return None if any(r is None for r in resolved) else resolved
    layer_name, node_index, tensor_index = args["config"]["keras_history"]
    outputs = outputs_of.get((layer_name, node_index))
    return None if outputs is None else outputs[tensor_index]

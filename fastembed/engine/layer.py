"""Layer: the base of every fastembed layer, in Keras's shape.

A layer keeps its config in __init__, creates weights in build(input_shape)
and computes in call(inputs, training, mask), as in Keras. To train, the
executor calls forward(context, inputs, ...) instead: the layer computes the
same outputs and keeps what its backward needs in the context, never on
itself, so one layer can be called any number of times in a graph. Then
backward(context, output_grads) returns the gradient of the inputs (when
context.needs_input_grad) and adds each weight's gradient to variable.grad
(add_grad: a layer called N times gets the sum of its N gradients).

A custom layer writes build and call as in Keras, and backward(context,
output_grads) reading context.inputs, context.outputs, context.mask and
context.training, which the default forward keeps; a layer that needs more
overrides forward and stores it in context.saved.
"""
import contextlib
import inspect
import re
import threading

import numpy as np

from fastembed import constraints as constraints_module
from fastembed import initializers as initializers_module
from fastembed import regularizers as regularizers_module
from fastembed.distribution import sharding
from fastembed.engine.node import Node, SymbolicTensor, is_symbolic
from fastembed.engine.variable import Variable
from fastembed.utils.config import keras_arguments
from fastembed.utils import identifiers


class Context:
    """What one call of a layer keeps for its backward (torch's ctx).

    The executor keeps one context per node of a graph across steps, so
    workspace (scratch buffers, kernel plans) is allocated once per node and
    reused, while two calls of one layer never share it."""

    __slots__ = ("inputs", "outputs", "mask", "training", "saved", "needs_input_grad",
                 "workspace", "activity_loss", "kwarg_grads", "max_step_input_grad")

    def __init__(self, needs_input_grad=True):
        self.inputs = self.outputs = self.mask = self.saved = None
        self.activity_loss = 0.0
        # Whether backward may return its input gradient as a MaxStepGrad
        # (set by the graph, see engine/max_step_grad.py)
        self.max_step_input_grad = False
        # {name: gradient} of tensor keyword arguments, set by backward (initial_state)
        self.kwarg_grads = None
        self.training = False
        self.needs_input_grad = needs_input_grad
        self.workspace = {}

    def buffer(self, name, shape, dtype=np.float32):
        """A scratch array of this call site, reused while its shape holds."""
        array = self.workspace.get(name)
        if array is None or array.shape != shape:
            array = self.workspace[name] = np.empty(shape, dtype)
        return array


def record(layer, inputs, training=False, mask=None, needs_input_grad=True, context=None,
           **kwargs):
    """(outputs, context) of one call of layer on arrays, ready for
    layer.backward(context, output_grads): a layer's forward and backward
    outside a model (tests, gradient checks). Passing the context of an
    earlier call reuses its workspace."""
    inputs = _as_arrays(inputs)
    layer.build_for_arrays(inputs)
    context = context or Context()
    context.needs_input_grad = needs_input_grad
    return layer.forward(context, inputs, training=training, mask=mask, **kwargs), context


def set_weight_options(layer, **options):
    """Resolve a layer's *_regularizer / *_constraint arguments (names,
    configs or objects) into attributes of the same names."""
    for argument, value in options.items():
        module = regularizers_module if argument.endswith("_regularizer") else constraints_module
        setattr(layer, argument, module.get(value))


def weight_options_config(layer, *arguments):
    """The get_config entries of a layer's *_regularizer / *_constraint arguments."""
    return {argument: identifiers.serialize(getattr(layer, argument))
            for argument in arguments}


def sequence_features(layer, input_shape):
    """The feature (last) dimension of a 3-D (batch, steps, features) input
    shape, which must be known: what a sequence layer's build needs."""
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} expects 3-D inputs (rank 3: "
                         f"batch, steps, features), got input shape {shape}")
    if shape[-1] is None:
        raise ValueError(f"{type(layer).__name__} {layer.name!r} needs a known feature "
                         f"dimension, got input shape {shape}")
    return shape[-1]


def shape_tuple(shape, argument):
    try:
        return tuple(None if d is None else int(d) for d in shape)
    except TypeError:
        raise ValueError(f"{argument} must be a tuple of integers, got {shape!r}") from None


def _as_arrays(inputs):
    if isinstance(inputs, (list, tuple)):
        return [x if isinstance(x, np.ndarray) else np.asarray(x) for x in inputs]
    return inputs if isinstance(inputs, np.ndarray) else np.asarray(inputs)


_layer_counts = {}


def unique_name(base):
    _layer_counts[base] = _layer_counts.get(base, 0) + 1
    count = _layer_counts[base]
    return base if count == 1 else f"{base}_{count - 1}"


def _snake_case(name):
    """Keras's default layer names: Conv1D -> conv1d, GlobalMaxPooling1D -> global_max_pooling1d."""
    name = re.sub(r"(.)([A-Z][a-z0-9]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


_weights_scope = threading.local()


@contextlib.contextmanager
def weights_assigned_next():
    """Inside, add_weight allocates without running the initializer: for
    models whose every weight is assigned right after (load_model), where
    drawing a large table's random values would be wasted."""
    previous = getattr(_weights_scope, "assigned_next", False)
    _weights_scope.assigned_next = True
    try:
        yield
    finally:
        _weights_scope.assigned_next = previous


_call_arguments = {}
# The context of the node whose call() is running: a subclass that overrides
# a built-in layer's call and calls super().call() reaches the built-in
# forward with the node's context, so the built-in backward works.
_calling = threading.local()


def _accepted_call_arguments(layer_class):
    """Which of training / mask a class's call accepts (Keras passes only those)."""
    accepted = _call_arguments.get(layer_class)
    if accepted is None:
        parameters = inspect.signature(layer_class.call).parameters
        accepted = _call_arguments[layer_class] = (
            "training" in parameters, "mask" in parameters)
    return accepted


class Layer:
    supports_masking = False

    def __init_subclass__(cls, **kwargs):
        """A class whose call() overrides a parent's forward() computes
        through its call(): forward becomes the call-based default, and the
        parent's forward stays reachable from call() through super().call()."""
        super().__init_subclass__(**kwargs)
        owner = {name: next(k for k in cls.__mro__ if name in k.__dict__)
                 for name in ("call", "forward")}
        if owner["call"] is not Layer and owner["call"] is not owner["forward"] \
                and issubclass(owner["call"], owner["forward"]) \
                and owner["forward"] is not Layer:
            cls.forward = Layer.forward
        elif owner["forward"] is cls:
            cls.layer_forward = cls.forward
        # A built-in layer's inference_call computes what its forward does: a
        # user's subclass computing otherwise (its own forward or call, or
        # masks) has none unless it gives one.
        if not cls.__module__.startswith("fastembed.") and "inference_call" not in cls.__dict__ \
                and any(name in cls.__dict__ for name in ("forward", "call", "compute_mask")):
            cls.inference_call = Layer.inference_call

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None,
                 input_length=None, activity_regularizer=None, **kwargs):
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        if dtype not in (None, "float32", np.float32):
            raise ValueError(f"dtype must be float32, got {dtype!r}")
        self.name = name or unique_name(_snake_case(type(self).__name__))
        self.activity_regularizer = regularizers_module.get(activity_regularizer)
        self._trainable = bool(trainable)
        self.built = False
        self._weights = []
        self._inbound_nodes = []
        # Keras 2's ways of declaring the input of a model's first layer.
        if batch_input_shape is not None:
            batch_input_shape = shape_tuple(batch_input_shape, "batch_input_shape")
        elif input_shape is not None:
            batch_input_shape = (batch_size,) + shape_tuple(input_shape, "input_shape")
        elif input_dim is not None:
            batch_input_shape = (batch_size, input_length, input_dim) if input_length \
                else (batch_size, input_dim)
        self.batch_input_shape = batch_input_shape
        self.input_shape = None
        self.output_shape = None

    # ---- to override -------------------------------------------------------
    def build(self, input_shape):
        self.built = True

    def call(self, inputs, training=False, mask=None, **kwargs):
        layer_forward = type(self).layer_forward
        if layer_forward is Layer.forward:
            raise NotImplementedError(f"{type(self).__name__} must implement call()")
        frame = getattr(_calling, "frame", None)
        context = frame[1] if frame and frame[0] is self else Context(needs_input_grad=False)
        return layer_forward(self, context, inputs, training=training, mask=mask, **kwargs)

    def forward(self, context, inputs, training=False, mask=None):
        """call(), keeping inputs, outputs, mask and training in the context."""
        if type(self).call is Layer.call:
            raise NotImplementedError(f"{type(self).__name__} must implement call()")
        takes_training, takes_mask = _accepted_call_arguments(type(self))
        arguments = {}
        if takes_training:
            arguments["training"] = training
        if takes_mask:
            arguments["mask"] = mask
        previous, _calling.frame = getattr(_calling, "frame", None), (self, context)
        try:
            outputs = self.call(inputs, **arguments)
        finally:
            _calling.frame = previous
        context.inputs, context.outputs, context.mask, context.training = \
            inputs, outputs, mask, training
        return outputs

    layer_forward = forward  # the forward a built-in layer computes with

    def inference_call(self, inputs):
        """A function computing forward's output in inference mode, with no
        mask, for inputs of the shape and dtype of `inputs` (an array), its
        checks of what that signature fixes done here once and its buffers
        reused from call to call; it gives no mask. None (the default) where
        the layer has none: the engine's inference plans (engine/graph.py)
        then call forward."""
        return None

    def backward(self, context, output_grads):
        raise NotImplementedError(
            f"Layer {self.name!r} ({type(self).__name__}) has no backward(context, "
            f"output_grads), and training needs the gradient through it: implement backward "
            f"(see the README's custom layer contract) or set trainable=False on the layers "
            f"before it")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def softmax_logit_grads(self, context):
        """Asked by a loss that computes d loss / d logits of a softmax output
        itself (sparse categorical cross-entropy), after this call (context)
        made the output: None (the default) unless the output is softmax of
        logits this layer computed; else that output as (rows, classes),
        for the loss to overwrite with d loss / d logits, which this call's
        backward then takes as its output gradient (the mark lives in the
        context, per call)."""
        return None

    def compute_mask(self, inputs, mask=None):
        return mask if self.supports_masking else None

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32"}
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers_module.serialize(
                self.activity_regularizer)
        if self.batch_input_shape is not None:
            config["batch_input_shape"] = list(self.batch_input_shape)
        return config

    @classmethod
    def from_config(cls, config):
        """The layer of a config from get_config or from Keras (whose unset
        arguments fastembed lacks are dropped, and set ones refused)."""
        return cls(**keras_arguments(cls, config))

    # ---- machinery ---------------------------------------------------------
    @property
    def trainable(self):
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)

    def build_for(self, input_shape):
        """Build once for input_shape (batch dimension first, may be None; a
        list of shapes for a layer of several inputs)."""
        if isinstance(input_shape, list):
            input_shape = [shape_tuple(s, "input_shape") for s in input_shape]
        else:
            input_shape = shape_tuple(input_shape, "input_shape")
        if not self.built:
            self.build(input_shape)
            self.built = True
        self.input_shape = input_shape
        output_shape = self.compute_output_shape(input_shape)
        self.output_shape = [tuple(s) for s in output_shape] if isinstance(output_shape, list) \
            else tuple(output_shape)
        return self.output_shape

    def build_for_arrays(self, inputs):
        if not self.built:
            self.build_for([(None,) + x.shape[1:] for x in inputs]
                           if isinstance(inputs, list) else (None,) + inputs.shape[1:])

    def __call__(self, inputs, training=False, mask=None, **kwargs):
        if is_symbolic(inputs):
            return self._call_symbolic(inputs, kwargs)
        inputs = _as_arrays(inputs)
        self.build_for_arrays(inputs)
        return self.forward(Context(needs_input_grad=False), inputs, training=training,
                            mask=mask, **kwargs)

    def check_graph_kwargs(self, input_shape, kwarg_shapes):
        """Validate the shapes of tensor keyword arguments given in a graph
        ({name: shape or list of shapes}); layers that take some override it."""
        raise NotImplementedError(f"{type(self).__name__} {self.name!r}: arguments "
                                  f"{sorted(kwarg_shapes)} are not supported in a graph yet")

    def _call_symbolic(self, inputs, kwargs):
        """Record a node of the graph: the outputs are symbolic tensors of
        the shapes compute_output_shape gives. Keyword arguments must be
        symbolic tensors (or lists of them): they become inputs of the node."""
        tensor_kwargs = {}
        for name, value in kwargs.items():
            is_list = isinstance(value, (list, tuple))
            values = list(value) if is_list else [value]
            if not values or not all(isinstance(v, SymbolicTensor) for v in values):
                raise NotImplementedError(f"{type(self).__name__} {self.name!r}: argument "
                                          f"{name}={value!r} in a graph must be a symbolic "
                                          f"tensor or a list of them")
            tensor_kwargs[name] = (values, is_list)
        many = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if many else [inputs]
        for i, tensor in enumerate(tensors):
            if not isinstance(tensor, SymbolicTensor):
                raise TypeError(f"Layer {self.name!r} was called on a mix of symbolic tensors "
                                f"and other values; input {i} is {type(tensor).__name__}")
        shapes = [t.shape for t in tensors]
        try:
            output_shape = self.build_for(shapes if many else shapes[0])
        except ValueError as error:
            raise ValueError(f"Layer {self.name!r} ({type(self).__name__}) cannot take "
                             f"input of shape {shapes if many else shapes[0]}: {error}") from None
        if tensor_kwargs:
            self.check_graph_kwargs(shapes if many else shapes[0], {
                name: [t.shape for t in values] if is_list else values[0].shape
                for name, (values, is_list) in tensor_kwargs.items()})
        node = Node(self, tensors, many, tensor_kwargs)
        if isinstance(output_shape, list):
            return [node.add_output(shape) for shape in output_shape]
        return node.add_output(output_shape)

    def add_weight(self, name, shape, initializer="zeros", trainable=True, lazy=False,
                   regularizer=None, constraint=None):
        path, shape = f"{self.name}/{name}", tuple(shape)
        # ModelParallel: this process's block of a table whose layout splits its rows.
        block = sharding.row_block(path, shape)
        local_shape = shape if block is None else (block[1] - block[0],) + shape[1:]
        if getattr(_weights_scope, "assigned_next", False):
            value = np.empty(local_shape, np.float32)
        else:
            try:
                value = initializers_module.get(initializer)(local_shape)
            except MemoryError:
                raise MemoryError(f"{self.name}: weight {name!r} of shape {tuple(shape)} "
                                  f"({4 * int(np.prod(shape, dtype=object)):,} bytes as "
                                  "float32) does not fit in memory") from None
        constraint = constraints_module.get(constraint)
        if lazy and constraint is not None and not constraint.row_wise:
            raise ValueError(
                f"Layer {self.name!r}: weight {name!r} is updated lazily (sparse=True), so its "
                f"constraint applies to the rows a step touched, which needs norms along the "
                f"rows (axis=1 or -1) or an element-wise constraint; got {constraint!r} with "
                f"{constraint.get_config()}")
        if block is None:
            variable = Variable(path, value, trainable=trainable, lazy=lazy,
                                regularizer=regularizers_module.get(regularizer),
                                constraint=constraint)
        else:
            variable = sharding.ShardedTable(path, value, shape[0], trainable=trainable,
                                             regularizer=regularizers_module.get(regularizer),
                                             constraint=constraint)
        self._weights.append(variable)
        return variable

    def wants_grad(self, variable):
        """Whether training updates variable, so backward computes its gradient."""
        return self.trainable and variable.trainable

    @property
    def weights(self):
        return list(self._weights)

    @property
    def trainable_weights(self):
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for w in self.weights if not w.trainable]

    def get_weights(self):
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Assign every weight, after checking them all (a bad list changes none)."""
        weights = [np.asarray(w) for w in weights]
        variables = self.weights
        if len(weights) != len(variables):
            raise ValueError(f"set_weights of {self.name!r} expects a list of {len(variables)} "
                             f"arrays, got {len(weights)}")
        for variable, value in zip(variables, weights):
            if value.dtype.kind not in "biuf":
                raise TypeError(f"set_weights: weight {variable.name!r} must be numeric, got "
                                f"an array of dtype {value.dtype}")
            if value.shape != variable.shape:
                raise ValueError(f"set_weights: weight {variable.name!r} has shape "
                                 f"{variable.shape}, got an array of shape {value.shape}")
        for variable, value in zip(variables, weights):
            variable.assign(value)

    def count_params(self):
        return int(sum(w.value.size for w in self.weights))

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"

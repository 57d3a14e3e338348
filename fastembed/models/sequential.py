"""Sequential: a linear stack of layers, a Functional model rebuilt from
its layers whenever they change (add, pop) once the input shape is known."""
from fastembed.engine.input_layer import InputLayer
from fastembed.engine.layer import Layer, unique_name
from fastembed.engine.node import SymbolicTensor
from fastembed.models.functional import Functional
from fastembed.models.model import Model
from fastembed.saving.serialization import deserialize_layer, loading_scope, serialize_layer


class Sequential(Functional):
    shows_connections = False
    def __init__(self, layers=None, name=None, trainable=True):
        Model.__init__(self, name=name or unique_name("sequential"), trainable=trainable)
        self._stack = []
        self._input_layer = None
        self._input_shape = None
        self.graph = None
        self.built = False
        for layer in layers or []:
            self.add(layer)

    # ---- structure ---------------------------------------------------------
    @property
    def layers(self):
        return list(self._stack)

    @property
    def input_names(self):
        return [self._input_layer.name if self._input_layer else "input_layer"]

    @input_names.setter
    def input_names(self, value):
        pass  # derived from the input layer

    @property
    def output_names(self):
        return [self._stack[-1].name] if self._stack else []

    @output_names.setter
    def output_names(self, value):
        pass  # derived from the last layer

    def add(self, layer):
        if isinstance(layer, SymbolicTensor) and isinstance(layer.node.layer, InputLayer):
            layer = layer.node.layer  # Sequential([Input(shape), ...])
        if isinstance(layer, InputLayer):
            input_layer = layer
            if self._stack:
                raise ValueError("An Input must be the first entry of a Sequential model")
            self._input_layer = input_layer
            self._input_shape = input_layer.batch_input_shape
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Only instances of fastembed.layers.Layer can be added to a "
                            f"Sequential model. Received: {layer!r} (of type "
                            f"{type(layer).__name__})")
        if any(existing.name == layer.name for existing in self._stack):
            raise ValueError(f"All layers added to a Sequential model should have unique "
                             f"names. Name {layer.name!r} is already the name of a layer in "
                             f"this model.")
        self._stack.append(layer)
        if len(self._stack) == 1 and self._input_shape is None and layer.batch_input_shape:
            self._input_shape = layer.batch_input_shape
        if self._input_shape is not None:
            try:
                self.build(self._input_shape)
            except ValueError:
                self._stack.pop()
                raise

    def pop(self):
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        if self.built and self._stack:
            self.build(self._input_shape)
        elif not self._stack:
            self.graph, self.built, self._checked_input = None, False, None
        return layer

    def build(self, input_shape=None):
        input_shape = tuple(input_shape or self._input_shape or ())
        if not input_shape:
            raise ValueError("Sequential.build needs an input shape (or call the model on data)")
        if not self._stack:
            raise ValueError(f"Sequential model {self.name!r} has no layers to build")
        self._input_shape = input_shape
        if self._input_layer is None or self._input_layer.batch_input_shape != input_shape:
            name = self._input_layer.name if self._input_layer else None
            self._input_layer = InputLayer(batch_shape=input_shape, name=name)
        x = inputs = self._input_layer.output
        for layer in self._stack:
            x = layer(x)
        if isinstance(x, list):
            raise ValueError(f"The last layer of a Sequential model must have one output; "
                             f"{self._stack[-1].name!r} has {len(x)}")
        self._set_graph([inputs], [x], several_inputs=False, several_outputs=False)
        self._layers = list(self._stack)

    def _build_for_inputs(self, xs):
        if not self.built:
            self.build((None,) + xs[0].shape[1:])
        return super()._build_for_inputs(xs)

    def build_for(self, input_shape):
        if not self.built:
            self.build(input_shape)
        return super().build_for(input_shape)

    @property
    def input_shape(self):
        return self._input_shape

    @input_shape.setter
    def input_shape(self, value):
        pass  # the shape the model was built for

    # ---- config ------------------------------------------------------------
    def get_config(self):
        """Keras's: the InputLayer (once the input is known), then the layers."""
        layers = [serialize_layer(layer) for layer in self._stack]
        if self._input_layer is not None:
            layers.insert(0, serialize_layer(self._input_layer))
        config = {"name": self.name, "trainable": self.trainable, "dtype": "float32",
                  "layers": layers}
        if self._input_shape:
            config["build_input_shape"] = list(self._input_shape)
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if custom_objects:
            with loading_scope(custom_objects):
                return cls.from_config(config)
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for entry in config["layers"]:
            layer = deserialize_layer(entry)
            if isinstance(layer, InputLayer):
                model._input_layer, model._input_shape = layer, layer.batch_input_shape
                continue
            model._stack.append(layer)
        if model._input_shape is None and model._stack and model._stack[0].batch_input_shape:
            model._input_shape = model._stack[0].batch_input_shape  # Keras 2's configs
        shape = config.get("build_input_shape") or config.get("input_shape")
        if model._input_shape is None and shape:
            model._input_shape = tuple(shape)
        if model._input_shape and model._stack:
            model.build(model._input_shape)
        return model

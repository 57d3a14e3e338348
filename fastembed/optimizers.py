"""Optimizers with Keras 3's formulas, defaults and arguments.

The update itself runs in C (csrc/optim*.c) on each weight: dense gradients
as one row, an Embedding's RowGrad either lazily (only its rows, for
Embedding(sparse=True)) or with Keras's dense semantics in one streaming pass.
"""
import numpy as np

from fastembed import _kernels
from fastembed.engine.variable import RowGrad
from fastembed.utils.config import keras_arguments


# Keras 3's optimizer arguments fastembed has no use for, at their "off" values.
_KERAS_UNUSED = {"weight_decay": None, "use_ema": False, "ema_momentum": 0.99,
                 "ema_overwrite_frequency": None, "loss_scale_factor": None,
                 "gradient_accumulation_steps": None}


class Optimizer:
    _kind = None

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        if "lr" in kwargs:  # Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                             f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        self.learning_rate = learning_rate
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._rule = _kernels.UpdateRule(self._kind, **self._rule_arguments())
        self._slots = {}

    @property
    def learning_rate(self):
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if not callable(value) and (isinstance(value, bool) or not isinstance(value, (int, float, np.floating))
                                    or not np.isfinite(value) or value < 0):
            raise ValueError(f"learning_rate must be a non-negative number or a schedule, "
                             f"got {value!r}")
        self._learning_rate = value

    def _current_learning_rate(self):
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else float(lr)

    def _rule_arguments(self):
        return {}

    def _step_rate(self, learning_rate):
        """The rate handed to the C update this step (Adam folds in bias correction)."""
        return learning_rate

    def _initial_slot_value(self):
        return 0.0

    def slots_for(self, variable):
        slots = self._slots.get(variable)
        if slots is None:
            slots = tuple(np.full(variable.value.shape, self._initial_slot_value(), np.float32)
                          for _ in range(self._rule.num_slots))
            self._slots[variable] = slots
        return slots

    def _clip(self, grads):
        if not (self.clipvalue or self.clipnorm or self.global_clipnorm):
            return grads
        if self.clipvalue:
            v = np.float32(self.clipvalue)
            return [g._replace(values=np.clip(g.values, -v, v)) if isinstance(g, RowGrad)
                    else np.clip(g, -v, v) for g in grads]
        norms = [np.sqrt(np.sum(np.square(g.values if isinstance(g, RowGrad) else g), dtype=np.float32))
                 for g in grads]
        if self.clipnorm:
            scales = [np.float32(self.clipnorm) / max(n, np.float32(self.clipnorm)) for n in norms]
        else:
            total = np.sqrt(np.sum(np.square(norms)))
            scales = [np.float32(self.global_clipnorm) / max(total, np.float32(self.global_clipnorm))] * len(grads)
        return [g._replace(values=(g.values * s).astype(np.float32)) if isinstance(g, RowGrad)
                else (g * s).astype(np.float32) for g, s in zip(grads, scales)]

    def apply_gradients(self, variables):
        """One step on every variable that has a gradient; grads are consumed."""
        variables = [v for v in variables if v.grad is not None]
        grads = self._clip([v.grad for v in variables])
        self._rule.lr = self._step_rate(np.float32(self._current_learning_rate()))
        for variable, grad in zip(variables, grads):
            slots = self.slots_for(variable)
            if isinstance(grad, RowGrad):
                if variable.lazy:
                    self._rule.apply_rows(variable.value, slots, grad.rows, grad.values)
                else:
                    self._rule.apply_all_rows(variable.value, slots, grad.rows, grad.values)
            else:
                self._rule.apply_dense(variable.value, slots, np.ascontiguousarray(grad, np.float32))
            variable.grad = None
        self.iterations += 1

    @property
    def built(self):
        """Whether the optimizer has made its per-weight state (at its first step)."""
        return bool(self._slots)

    def count_params(self):
        """Its variables, as Keras counts them: the slots, the iteration
        counter and the learning rate (unless a schedule)."""
        slots = sum(s.size for slots in self._slots.values() for s in slots)
        return slots + 1 + int(not callable(self.learning_rate))

    def _keras_slot_groups(self):
        """The slots in the order of Keras's optimizer variables: groups of
        slot indices, each group interleaved over the model's variables."""
        return [[0]] if self._rule.num_slots else []

    def keras_variables(self, variables):
        """Keras's optimizer.variables for the model's trainable variables:
        the iteration counter, the learning rate, then the slots (only once
        built, at the first step, as in Keras)."""
        arrays = [np.array(self.iterations, np.int64),
                  np.array(self._current_learning_rate(), np.float32)]
        if self.built:
            slots = [self.slots_for(v) for v in variables]
            arrays += [s[k] for group in self._keras_slot_groups() for s in slots for k in group]
        return arrays

    def load_keras_variables(self, variables, arrays):
        """Set the state from arrays in keras_variables' order; ValueError
        (and nothing changed) if they do not fit these variables."""
        arrays = list(arrays)
        if len(arrays) < 2:
            raise ValueError(f"the optimizer state has {len(arrays)} variables; Keras's has "
                             f"at least the iteration counter and the learning rate")
        iterations, learning_rate, slot_arrays = arrays[0], arrays[1], arrays[2:]
        groups = self._keras_slot_groups()
        expected = sum(len(group) for group in groups) * len(variables)
        if slot_arrays and len(slot_arrays) != expected:
            raise ValueError(f"the optimizer state holds {len(arrays)} variables; "
                             f"{type(self).__name__} of this model has {2 + expected}")
        targets = [(v, k) for group in groups for v in variables for k in group] \
            if slot_arrays else []
        for (variable, _), value in zip(targets, slot_arrays):
            if value.shape != variable.shape:
                raise ValueError(f"the optimizer state of {variable.name!r} has shape "
                                 f"{value.shape}; the weight has shape {variable.shape}")
        for (variable, k), value in zip(targets, slot_arrays):
            self.slots_for(variable)[k][...] = value
        self.iterations = int(np.asarray(iterations))
        saved_rate = np.float32(np.asarray(learning_rate))
        if not callable(self._learning_rate) and saved_rate != np.float32(self._learning_rate):
            self.learning_rate = float(saved_rate)  # changed in training (a callback)

    def get_config(self):
        lr = self._learning_rate
        if callable(lr):
            raise ValueError(f"{type(self).__name__}.learning_rate is a Python callable ({lr!r}), "
                             "which cannot be saved; save_weights() keeps the weights")
        return {"name": self.name, "learning_rate": float(lr), **_KERAS_UNUSED,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        if isinstance(config.get("learning_rate"), dict):
            raise ValueError(f"{cls.__name__}: learning rate schedules are not supported; got "
                             f"learning_rate={config['learning_rate']!r}")
        return cls(**keras_arguments(cls, config, inert=_KERAS_UNUSED))


class SGD(Optimizer):
    _kind = "sgd"

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        if not 0 <= momentum <= 1:
            raise ValueError(f"`momentum` must be in [0, 1]. Received: momentum={momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}


class Adagrad(Optimizer):
    _kind = "adagrad"

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7, **kwargs):
        self.initial_accumulator_value, self.epsilon = float(initial_accumulator_value), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"epsilon": self.epsilon}

    def _initial_slot_value(self):
        return self.initial_accumulator_value

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class RMSprop(Optimizer):
    _kind = "rmsprop"

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}

    def _keras_slot_groups(self):
        # slots: velocity, [average gradient], [momentum]; Keras: velocities,
        # momentums, average gradients
        momentum = [[2 if self.centered else 1]] if self.momentum > 0 else []
        return [[0]] + momentum + ([[1]] if self.centered else [])

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}


class Adam(Optimizer):
    _kind = "adam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}

    def _keras_slot_groups(self):
        # Keras interleaves momentum and velocity per variable, then the velocity_hats
        return [[0, 1]] + ([[2]] if self.amsgrad else [])

    def _step_rate(self, learning_rate):
        # Keras: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), in float32.
        step = np.float32(self.iterations + 1)
        beta_1_power = np.float32(self.beta_1) ** step
        beta_2_power = np.float32(self.beta_2) ** step
        return learning_rate * np.sqrt(np.float32(1) - beta_2_power) / (np.float32(1) - beta_1_power)

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}


_BY_NAME = {"sgd": SGD, "adam": Adam, "rmsprop": RMSprop, "adagrad": Adagrad}


def get(identifier):
    """An Optimizer from its Keras name ('adam', ...), a config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str) and identifier.lower() in _BY_NAME:
        return _BY_NAME[identifier.lower()]()
    if isinstance(identifier, dict) and identifier.get("class_name", "").lower() in _BY_NAME:
        return _BY_NAME[identifier["class_name"].lower()].from_config(identifier.get("config", {}))
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}; expected "
                     f"one of {sorted(_BY_NAME)} or an Optimizer")


def serialize(optimizer):
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}

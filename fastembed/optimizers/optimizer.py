"""Optimizers with Keras 3's formulas, defaults and arguments.

The update runs in C (csrc/optim*.c), all of a step's weights in one call:
dense gradients as one row, an Embedding's RowGrad either lazily (only its
rows, for Embedding(sparse=True)) or with Keras's dense semantics. Those
move every row at every step, which a table too large for the cache gets
without a pass over all its rows: the step is applied at the rows it
touches and recorded for the others, which replay it (same code, same
floats) when they are next read (see DeferredSteps and Variable.value).
FASTEMBED_LAZY_DENSE_UPDATES=0 or set_lazy_dense_updates(False) updates
every row at every step instead.
"""
import os
import re

import numpy as np

from fastembed import _kernels
from fastembed.engine.variable import RowGrad
from fastembed.optimizers import schedules


_lazy_dense_updates = os.environ.get("FASTEMBED_LAZY_DENSE_UPDATES", "1") != "0"
# Narrower rows replay slower than a streaming pass updates them (a replay
# step works on one row, the pass on whole vectors of a cached table).
_DEFERRED_MIN_DIM = 8
# So does a table whose rows and slots fit in this many bytes, which stay in
# cache: its rows are all read again within a few steps, so deferring saves
# no update. The seed models' 1,000 x 64 Adam table (768 KiB): the step
# plus the replays cost 9% more instructions than a streaming pass.
_DEFERRED_MIN_BYTES = 1 << 20


def lazy_dense_updates():
    """Whether dense-semantics tables defer the steps of untouched rows."""
    return _lazy_dense_updates


def set_lazy_dense_updates(enabled):
    """Defer (True, the default) or not the dense-semantics steps of the
    rows a batch does not touch; the numbers are the same either way."""
    global _lazy_dense_updates
    _lazy_dense_updates = bool(enabled)


class Optimizer:
    _kind = None

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, name=None, **kwargs):
        if "lr" in kwargs:  # Keras 2 spelling
            learning_rate = kwargs.pop("lr")
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to "
                            f"{type(self).__name__}: {kwargs}")
        if sum(a is not None for a in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                             f"be set. Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                             f"global_clipnorm={global_clipnorm}")
        if weight_decay is not None and not _is_rate(weight_decay):
            raise ValueError(f"`weight_decay` must be None or a non-negative number. "
                             f"Received: weight_decay={weight_decay!r}")
        if not _is_rate(ema_momentum) or ema_momentum > 1:
            raise ValueError(f"`ema_momentum` must be in the range [0, 1]. "
                             f"Received: ema_momentum={ema_momentum!r}")
        if ema_overwrite_frequency is not None and (
                not isinstance(ema_overwrite_frequency, (int, np.integer))
                or isinstance(ema_overwrite_frequency, bool) or ema_overwrite_frequency < 1):
            raise ValueError(f"`ema_overwrite_frequency` must be None or a positive integer. "
                             f"Received: ema_overwrite_frequency={ema_overwrite_frequency!r}")
        self._learning_rate = None
        self.learning_rate = learning_rate
        self.weight_decay = None if weight_decay is None else float(weight_decay)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.use_ema, self.ema_momentum = bool(use_ema), float(ema_momentum)
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.name = name or type(self).__name__.lower()
        self.iterations = 0
        self._rule = _kernels.UpdateRule(self._kind, **self._rule_arguments())
        self._slots = {}
        self._deferred = {}
        self._averages = {}
        self._excluded_ids, self._excluded_pattern = set(), None

    @property
    def learning_rate(self):
        """The rate of the next step: the number, or the schedule's value."""
        lr = self._learning_rate
        return self._current_learning_rate() if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError("This optimizer was created with a `LearningRateSchedule` object as "
                            "its `learning_rate` constructor argument, hence its learning rate "
                            "is not settable. If you need the learning rate to be settable, you "
                            "should instantiate the optimizer with a float `learning_rate` "
                            "argument.")
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value[()]
        if not callable(value) and not _is_rate(value):
            raise ValueError(f"learning_rate must be a non-negative number, a "
                             f"LearningRateSchedule or a zero-argument callable, got {value!r}")
        self._learning_rate = value

    def _current_learning_rate(self):
        """The rate of this step, checked: a schedule gets the step count, any
        other callable no argument (as Keras calls them)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            value = lr(self.iterations)
        elif callable(lr):
            value = lr()
        else:
            return float(lr)
        try:
            value = float(np.asarray(value))
        except (TypeError, ValueError):
            value = None
        if value is None or not np.isfinite(value) or value < 0:
            raise ValueError(f"The learning rate {lr!r} gave {value!r} at step "
                             f"{self.iterations}: it must be a finite non-negative number "
                             f"(nothing was updated in this step)")
        return value

    def _rule_arguments(self):
        return {}

    def _step_scalars(self, learning_rate):
        """The per-step scalars handed to the C update (see UpdateRule.set_step):
        by default the rate itself."""
        return {"lr": learning_rate}

    def _initial_slot_value(self):
        return 0.0

    def _initial_slot_values(self):
        return (self._initial_slot_value(),) * self._rule.num_slots

    def slots_for(self, variable):
        """The slot arrays of a variable, up to date (its pending steps applied)."""
        variable.apply_pending()
        return self._slots_of(variable)

    def _slots_of(self, variable):
        slots = self._slots.get(variable)
        if slots is None:
            slots = tuple(np.full(variable.value.shape, value, np.float32)
                          for value in self._initial_slot_values())
            self._slots[variable] = slots
        return slots

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Keep weight decay off the given variables, and off those whose name
        contains one of var_names (a regular expression each)."""
        if self.built:
            raise ValueError("`exclude_from_weight_decay()` can only be configured before the "
                             "optimizer is built.")
        self._excluded_ids = {id(v) for v in var_list or ()}
        self._excluded_pattern = re.compile("|".join(var_names)) if var_names else None

    def _decays(self, variable):
        if self.weight_decay is None or id(variable) in self._excluded_ids:
            return False
        return self._excluded_pattern is None or not self._excluded_pattern.search(variable.name)

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
        """One step on every variable that has a gradient; grads are consumed.
        The order is Keras's: clip, weight decay (folded into the C update),
        update, moving averages."""
        variables = [v for v in variables if v.grad is not None]
        learning_rate = np.float32(self._current_learning_rate())
        grads = self._clip([v.grad for v in variables])
        self._rule.set_step(**self._step_scalars(learning_rate),
                            decay=np.float32(self.weight_decay or 0.0) * learning_rate)
        entries = [self._update_entry(v, g) for v, g in zip(variables, grads)]
        self._rule.apply_step(entries)
        for variable, entry in zip(variables, entries):
            variable.grad = None
            if entry[0] == _kernels.UPDATE_DEFERRED:
                variable.deferred = entry[6]
        if self.use_ema:
            self._update_moving_averages(variables)
        self.iterations += 1

    def _update_entry(self, variable, grad):
        """The apply_step entry of one variable (see UpdateRule.apply_step)."""
        slots, decays = self._slots_of(variable), self._decays(variable)
        if not isinstance(grad, RowGrad):
            return (_kernels.UPDATE_DENSE, variable.value, slots,
                    np.ascontiguousarray(grad, np.float32), None, decays, None)
        if variable.lazy:
            return (_kernels.UPDATE_ROWS, variable.value, slots, grad.values, grad.rows, decays, None)
        deferred = self._deferred_steps(variable, slots)
        if deferred is None:
            return (_kernels.UPDATE_ALL_ROWS, variable.value, slots, grad.values, grad.rows,
                    decays, None)
        if variable.deferred is not deferred:  # steps of another optimizer pending
            variable.apply_pending()
        return (_kernels.UPDATE_DEFERRED, variable._value, slots, grad.values, grad.rows,
                decays, deferred)

    def _deferred_steps(self, variable, slots):
        """The DeferredSteps of a dense-semantics table, or None where its
        rows must all move at each step: lazy updates off, rows too narrow
        to gain, a table small enough to stay in cache, or something reading
        the whole table at every step (moving averages, a regularizer, a
        constraint)."""
        if (not _lazy_dense_updates or self.use_ema or variable.regularizer is not None
                or variable.constraint is not None
                or not _DEFERRED_MIN_DIM <= variable.shape[1] <= _kernels.DEFERRED_MAX_DIM
                or variable._value.nbytes * (1 + self._rule.num_slots) < _DEFERRED_MIN_BYTES):
            return None
        deferred = self._deferred.get(variable)
        if deferred is None:
            deferred = self._deferred[variable] = _kernels.DeferredSteps(variable._value, slots)
        return deferred

    def _update_moving_averages(self, variables):
        """Keras's EMA: average = m * average + (1 - m) * value, with m = 0 at
        the first step; every ema_overwrite_frequency steps the values become
        the averages."""
        momentum = np.float32(self.ema_momentum if self.iterations else 0.0)
        overwrite = self.ema_overwrite_frequency and \
            (self.iterations + 1) % self.ema_overwrite_frequency == 0
        for variable in variables:
            average = self._averages.get(variable)
            if average is None:
                average = self._averages[variable] = variable.value.copy()
            average *= momentum
            average += (np.float32(1) - momentum) * variable.value
            if overwrite:
                variable.value[...] = average

    def finalize_variable_values(self, variables):
        """At the end of fit, as Keras: with use_ema, the weights become their
        moving averages."""
        if self.use_ema:
            for variable in variables:
                if variable in self._averages:
                    variable.value[...] = self._averages[variable]

    @property
    def built(self):
        """Whether the optimizer has made its per-weight state (at its first step)."""
        return bool(self._slots)

    def count_params(self):
        """Its variables, as Keras counts them: the slots, the moving
        averages, the iteration counter and the learning rate (unless a
        schedule)."""
        slots = sum(s.size for slots in self._slots.values() for s in slots)
        averages = sum(a.size for a in self._averages.values())
        return slots + averages + 1 + int(not callable(self._learning_rate))

    def variables_state(self, variables):
        """Slot arrays of the given variables, in order, then their moving
        averages with use_ema (for saving)."""
        state = [s for v in variables for s in self.slots_for(v)]
        if self.use_ema:
            state += [self._averages.get(v, v.value) for v in variables]
        return state

    def load_variables_state(self, variables, arrays, iterations):
        arrays = list(arrays)
        expected = (self._rule.num_slots + self.use_ema) * len(variables)
        if len(arrays) != expected:
            raise ValueError(f"optimizer state holds {len(arrays)} arrays, expected {expected}")
        targets = [(v, s) for v in variables for s in self.slots_for(v)]
        if self.use_ema:
            targets += [(v, self._averages.setdefault(v, v.value.copy())) for v in variables]
        for (variable, target), value in zip(targets, arrays):
            if value.shape != target.shape:
                raise ValueError(f"optimizer state of {variable.name} has shape "
                                 f"{value.shape}, expected {target.shape}")
            target[...] = value
        self.iterations = int(iterations)

    def _keras_slot_groups(self):
        """The slots in the order of Keras's optimizer variables: groups of
        slot indices, each group interleaved over the model's variables (by
        default one group of all slots, as Keras's add_optimizer_variables)."""
        return [list(range(self._rule.num_slots))] if self._rule.num_slots else []

    def _keras_scalars(self):
        """Keras's optimizer variables after the slots (Nadam's u_product)."""
        return []

    def _set_keras_scalars(self, values):
        pass

    def _keras_state(self, variables):
        """The arrays behind Keras's optimizer variables after the counter and
        the rate: the moving averages (use_ema, made by Keras's base build
        first), then the slots by group; the scalars follow them."""
        arrays = [self._averages.setdefault(v, v.value.copy()) for v in variables] \
            if self.use_ema else []
        slots = [self.slots_for(v) for v in variables]
        return arrays + [s[k] for group in self._keras_slot_groups() for s in slots for k in group]

    def keras_variables(self, variables):
        """Keras's optimizer.variables for the model's trainable variables:
        the iteration counter, the learning rate, then the rest (only once
        built, at the first step, as in Keras)."""
        arrays = [np.array(self.iterations, np.int64),
                  np.array(self._current_learning_rate(), np.float32)]
        if self.built:
            arrays += self._keras_state(variables) + self._keras_scalars()
        return arrays

    def load_keras_variables(self, variables, arrays):
        """Set the state from arrays in keras_variables' order; ValueError
        (and nothing changed) if they do not fit these variables."""
        arrays = list(arrays)
        if len(arrays) < 2:
            raise ValueError(f"the optimizer state has {len(arrays)} variables; Keras's has "
                             f"at least the iteration counter and the learning rate")
        iterations, learning_rate, state = arrays[0], arrays[1], arrays[2:]
        if state:
            n_scalars = len(self._keras_scalars())
            per_variable = len(sum(self._keras_slot_groups(), [])) + self.use_ema
            expected = per_variable * len(variables) + n_scalars
            if len(state) != expected:
                raise ValueError(f"the optimizer state holds {len(arrays)} variables; "
                                 f"{type(self).__name__}"
                                 f"{' with use_ema' if self.use_ema else ''} of this model "
                                 f"has {2 + expected}")
            owners = (list(variables) if self.use_ema else []) + \
                [v for group in self._keras_slot_groups() for v in variables for _ in group]
            for variable, value in zip(owners, state):
                if value.shape != variable.shape:
                    raise ValueError(f"the optimizer state of {variable.name!r} has shape "
                                     f"{value.shape}; the weight has shape {variable.shape}")
            scalars = state[len(state) - n_scalars:]
            if any(np.shape(value) != () for value in scalars):
                raise ValueError(f"the optimizer state ends with arrays of shapes "
                                 f"{[np.shape(v) for v in scalars]}; {type(self).__name__} "
                                 f"keeps {n_scalars} scalar(s) there")
            for target, value in zip(self._keras_state(variables), state):
                target[...] = value
            self._set_keras_scalars(scalars)
        self.iterations = int(np.asarray(iterations))
        saved_rate = np.float32(np.asarray(learning_rate))
        if not callable(self._learning_rate) and saved_rate != np.float32(self._learning_rate):
            self.learning_rate = float(saved_rate)  # changed in training (a callback)

    def get_config(self):
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        elif callable(lr):
            raise ValueError(f"{type(self).__name__}.learning_rate is a Python callable ({lr!r}), "
                             "which cannot be saved; save_weights() keeps the weights")
        else:
            lr = float(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "global_clipnorm": self.global_clipnorm,
                "clipvalue": self.clipvalue, "use_ema": self.use_ema,
                "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects)
        for keras_only in ("loss_scale_factor", "gradient_accumulation_steps"):
            if config.get(keras_only) is None:  # Keras writes them; None is the default
                config.pop(keras_only, None)
        return cls(**config)


def _is_rate(value):
    return not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating)) \
        and bool(np.isfinite(value)) and value >= 0


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

    def _step_scalars(self, learning_rate):
        # Keras: alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t), in float32.
        return {"lr": _kernels.adam_rate(learning_rate, self.beta_1, self.beta_2,
                                         self.iterations + 1)}

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}



class AdamW(Adam):
    """Adam with decoupled weight decay (Keras's default 0.004)."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: "
                             "weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad,
                         weight_decay=weight_decay, **kwargs)


class Nadam(Optimizer):
    """Adam with Nesterov momentum and Keras's momentum schedule
    u_t = beta_1 * (1 - 0.5 * 0.96^t)."""
    _kind = "nadam"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        super().__init__(learning_rate, **kwargs)
        self._u_product = np.float32(1)

    def _rule_arguments(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _momentum_factor(self, step):
        return np.float32(self.beta_1) * (np.float32(1) - np.float32(0.5)
                                          * np.float32(0.96) ** np.float32(step))

    def _step_scalars(self, learning_rate):
        # Keras's update_step in float32, its u_product advanced once per step.
        one = np.float32(1)
        self._u_product = self._u_product * np.float32(self.beta_1) * (
            one - np.float32(0.5) * np.float32(0.96) ** np.float32(self.iterations + 1))
        u_t = self._momentum_factor(self.iterations + 1)
        u_t_1 = self._momentum_factor(self.iterations + 2)
        u_product_t_1 = self._u_product * u_t_1
        beta_2_power = np.float32(self.beta_2) ** np.float32(self.iterations + 1)
        return {"lr": learning_rate, "momentum_scale": u_t_1 / (one - u_product_t_1),
                "gradient_scale": (one - u_t) / (one - self._u_product),
                "velocity_scale": one / (one - beta_2_power)}

    def _keras_scalars(self):
        return [np.array(self._u_product, np.float32)]

    def _set_keras_scalars(self, values):
        (u_product,) = values
        self._u_product = np.float32(u_product)

    def load_variables_state(self, variables, arrays, iterations):
        super().load_variables_state(variables, arrays, iterations)
        self._u_product = np.float32(1)  # replayed: the same float32 products as the steps
        for step in range(1, self.iterations + 1):
            self._u_product = self._u_product * np.float32(self.beta_1) * (
                np.float32(1) - np.float32(0.5) * np.float32(0.96) ** np.float32(step))

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}


class Adamax(Optimizer):
    """Adam with the infinity norm: u = max(beta_2 * u, |g|)."""
    _kind = "adamax"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}

    def _step_scalars(self, learning_rate):
        beta_1_power = np.float32(self.beta_1) ** np.float32(self.iterations + 1)
        return {"lr": learning_rate / (np.float32(1) - beta_1_power)}

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}


class Adadelta(Optimizer):
    _kind = "adadelta"

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        self.rho, self.epsilon = float(rho), float(epsilon)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"rho": self.rho, "epsilon": self.epsilon}

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}


class Ftrl(Optimizer):
    """Follow The Regularized Leader, as Keras: slots accumulator (starting
    at initial_accumulator_value) and linear."""
    _kind = "ftrl"

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, **kwargs):
        if initial_accumulator_value < 0.0:
            raise ValueError("`initial_accumulator_value` needs to be positive or zero. "
                             f"Received: initial_accumulator_value={initial_accumulator_value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        for argument, value in (("l1_regularization_strength", l1_regularization_strength),
                                ("l2_regularization_strength", l2_regularization_strength),
                                ("l2_shrinkage_regularization_strength",
                                 l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"`{argument}` needs to be positive or zero. Received: "
                                 f"{argument}={value}.")
        self.learning_rate_power = float(learning_rate_power)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.l1_regularization_strength = float(l1_regularization_strength)
        self.l2_regularization_strength = float(l2_regularization_strength)
        self.l2_shrinkage_regularization_strength = float(l2_shrinkage_regularization_strength)
        self.beta = float(beta)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"lr_power": self.learning_rate_power, "l1": self.l1_regularization_strength,
                "l2_shrinkage": self.l2_shrinkage_regularization_strength}

    def _initial_slot_values(self):
        return (self.initial_accumulator_value, 0.0)

    def _step_scalars(self, learning_rate):
        l2 = np.float32(self.l2_regularization_strength) + \
            np.float32(self.beta) / (np.float32(2) * learning_rate)
        return {"lr": learning_rate, "l2": l2}

    def get_config(self):
        return {**super().get_config(), "learning_rate_power": self.learning_rate_power,
                "initial_accumulator_value": self.initial_accumulator_value,
                "l1_regularization_strength": self.l1_regularization_strength,
                "l2_regularization_strength": self.l2_regularization_strength,
                "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
                "beta": self.beta}


class Lion(Optimizer):
    """w -= lr * sign(beta_1 * m + (1 - beta_1) * g); m = beta_2 * m + (1 - beta_2) * g."""
    _kind = "lion"

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, **kwargs):
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                             f"optimizer degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = float(beta_1), float(beta_2)
        super().__init__(learning_rate, **kwargs)

    def _rule_arguments(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2}

    def get_config(self):
        return {**super().get_config(), **self._rule_arguments()}

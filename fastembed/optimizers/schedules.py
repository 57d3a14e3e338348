"""Learning-rate schedules with Keras 3's formulas, computed in float32 as
Keras computes them on jax: `schedule(step)` is the rate of the step that
follows `step` completed updates (the optimizer passes its `iterations`)."""
import math

import numpy as np

_F = np.float32


class LearningRateSchedule:
    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must implement get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _StepsDecay(LearningRateSchedule):
    """A decay driven by p = step / decay_steps, floored when staircase."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name=None):
        _check_decay_steps(decay_steps, "decay_steps")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase = decay_rate, staircase
        self.name = name or type(self).__name__

    def _progress(self, step):
        p = _F(step) / _F(self.decay_steps)
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class ExponentialDecay(_StepsDecay):
    """initial_learning_rate * decay_rate ** (step / decay_steps), the exponent
    floored when staircase."""

    def __call__(self, step):
        return _F(self.initial_learning_rate) * np.power(_F(self.decay_rate),
                                                         self._progress(step))


class PiecewiseConstantDecay(LearningRateSchedule):
    """values[0] up to boundaries[0] (inclusive), values[i] on
    (boundaries[i-1], boundaries[i]], values[-1] after the last boundary."""

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError("The length of boundaries should be 1 less than the length of "
                             f"values. Received: boundaries={boundaries} of length "
                             f"{len(boundaries)}, and values={values} of length {len(values)}.")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name

    def __call__(self, step):
        index = int(np.searchsorted(np.asarray(self.boundaries, np.float64), float(step),
                                    side="left"))
        return _F(self.values[index])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """(initial - end) * (1 - step / decay_steps) ** power + end, step held at
    decay_steps, or decay_steps stretched to the next multiple when cycle."""

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        _check_decay_steps(decay_steps, "decay_steps")
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.end_learning_rate, self.power, self.cycle, self.name = \
            end_learning_rate, power, cycle, name

    def __call__(self, step):
        initial, end = _F(self.initial_learning_rate), _F(self.end_learning_rate)
        step, decay_steps = _F(step), _F(self.decay_steps)
        if self.cycle:
            decay_steps = decay_steps * (_F(1) if step == 0 else np.ceil(step / decay_steps))
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return (initial - end) * np.power(_F(1) - p, _F(self.power)) + end

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(_StepsDecay):
    """initial_learning_rate / (1 + decay_rate * step / decay_steps), the
    quotient floored when staircase."""

    def __call__(self, step):
        return _F(self.initial_learning_rate) / (_F(1) + _F(self.decay_rate)
                                                 * self._progress(step))


def _cosine(completed_fraction, alpha, scale=_F(1)):
    """(1 - alpha) * scale * (1 + cos(pi * completed_fraction)) / 2 + alpha."""
    cosine_decayed = _F(0.5) * scale * (_F(1) + np.cos(_F(math.pi) * completed_fraction))
    return (_F(1) - alpha) * cosine_decayed + alpha


class CosineDecay(LearningRateSchedule):
    """Optionally a linear warmup from initial_learning_rate to warmup_target
    over warmup_steps, then a cosine decay over decay_steps down to alpha
    times the rate it started from."""

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps(decay_steps, "decay_steps")
        self.initial_learning_rate, self.decay_steps, self.alpha = \
            initial_learning_rate, decay_steps, alpha
        self.name, self.warmup_target, self.warmup_steps = name, warmup_target, warmup_steps

    def __call__(self, step):
        initial, decay_steps, alpha = \
            _F(self.initial_learning_rate), _F(self.decay_steps), _F(self.alpha)
        step = _F(step)
        if self.warmup_target is None:
            return initial * _cosine(min(step, decay_steps) / decay_steps, alpha)
        target, warmup_steps = _F(self.warmup_target), _F(self.warmup_steps)
        step = min(step, decay_steps + warmup_steps)
        if step < warmup_steps:
            return (target - initial) * (step / warmup_steps) + initial
        return target * _cosine((step - warmup_steps) / decay_steps, alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay restarted after first_decay_steps, each period t_mul
    times longer than the last and its peak m_mul times lower."""

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        _check_decay_steps(first_decay_steps, "first_decay_steps")
        self.initial_learning_rate, self.first_decay_steps = \
            initial_learning_rate, first_decay_steps
        self.t_mul, self.m_mul, self.alpha, self.name = t_mul, m_mul, alpha, name

    def __call__(self, step):
        t_mul, m_mul = _F(self.t_mul), _F(self.m_mul)
        completed_fraction = _F(step) / _F(self.first_decay_steps)
        if t_mul == 1:
            i_restart = np.floor(completed_fraction)
            completed_fraction = completed_fraction - i_restart
        else:
            i_restart = np.floor(np.log(_F(1) - completed_fraction * (_F(1) - t_mul))
                                 / np.log(t_mul))
            sum_r = (_F(1) - np.power(t_mul, i_restart)) / (_F(1) - t_mul)
            completed_fraction = (completed_fraction - sum_r) / np.power(t_mul, i_restart)
        decayed = _cosine(completed_fraction, _F(self.alpha), np.power(m_mul, i_restart))
        return _F(self.initial_learning_rate) * decayed

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


def _check_decay_steps(value, argument):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not value > 0:
        raise ValueError(f"`{argument}` must be a positive number. Received: {argument}={value!r}")


_BY_NAME = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                           PolynomialDecay, InverseTimeDecay, CosineDecay,
                                           CosineDecayRestarts)}


def serialize(learning_rate_schedule):
    """The schedule as Keras serialises it: module, class_name and config."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    classes = {**_BY_NAME, **(custom_objects or {})}
    name = config.get("class_name") if isinstance(config, dict) else None
    if name not in classes:
        raise ValueError(f"Unknown learning rate schedule: {name!r}; expected one of "
                         f"{sorted(classes)}")
    return classes[name].from_config(config.get("config", {}))

"""Weight initializers with Keras's names, arguments and defaults."""
import numpy as np

from fastembed.utils.config import keras_arguments
from fastembed.utils.random import generator


def compute_fans(shape):
    """(fan_in, fan_out) as Keras computes them; conv kernels are
    (*receptive_field, in_channels, out_channels)."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    return shape[-2] * receptive_field, shape[-1] * receptive_field


# Elements drawn per call when an initializer fills its float32 output in
# pieces: a big table then never exists as float64 (3x its memory at build).
SAMPLE_CHUNK = 1 << 20


class Initializer:
    # Whether draw(rng, size) draws each element independently, in order, so
    # that drawing in pieces from one generator gives the values of one call.
    elementwise = False
    seed = None

    def __call__(self, shape, dtype="float32"):
        shape = tuple(shape)
        if not self.elementwise:
            return np.ascontiguousarray(self.sample(shape), dtype=np.float32)
        rng = generator(self.seed)
        out = np.empty(shape, np.float32)
        flat = out.reshape(-1)
        for start in range(0, flat.size, SAMPLE_CHUNK):
            stop = min(start + SAMPLE_CHUNK, flat.size)
            flat[start:stop] = self.draw(rng, stop - start)
        return out

    def draw(self, rng, size):
        raise NotImplementedError

    def sample(self, shape):
        """The values of `shape` (float64; any dtype that casts to float32)."""
        return self.draw(generator(self.seed), shape)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class Zeros(Initializer):
    elementwise = True

    def draw(self, rng, size):
        return 0.0

    def sample(self, shape):
        return np.zeros(shape)


class Ones(Initializer):
    elementwise = True

    def draw(self, rng, size):
        return 1.0

    def sample(self, shape):
        return np.ones(shape)


class Constant(Initializer):
    """A scalar filling the shape, or an array broadcast to it (Keras 3's
    spelling of pretrained vectors: Embedding(n, d,
    embeddings_initializer=Constant(matrix))). Its config holds the value as
    a float, or a nested list for an array (Keras's {"class_name":
    "__numpy__", ...} serialisation of an array is read too)."""

    def __init__(self, value=0.0):
        if isinstance(value, dict) and value.get("class_name") in ("__numpy__", "__tensor__"):
            value = value.get("config", {}).get("value")
        try:
            if value is None:
                raise TypeError
            self.value = float(value) if np.ndim(value) == 0 else np.array(value, np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"Constant needs a number or an array of numbers, got "
                             f"value={value!r}") from None

    def sample(self, shape):
        if isinstance(self.value, float):
            return np.full(shape, self.value)
        try:
            return np.broadcast_to(self.value, shape)
        except ValueError:
            raise ValueError(f"Constant: the value of shape {self.value.shape} cannot be "
                             f"broadcast to the requested shape {tuple(shape)}") from None

    def get_config(self):
        return {"value": self.value if isinstance(self.value, float) else self.value.tolist()}


class RandomUniform(Initializer):
    elementwise = True

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def draw(self, rng, size):
        return rng.uniform(self.minval, self.maxval, size)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class RandomNormal(Initializer):
    elementwise = True

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def draw(self, rng, size):
        return rng.normal(self.mean, self.stddev, size)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal, redrawn outside two standard deviations."""
    elementwise = False  # redraws out-of-range values

    def sample(self, shape):
        rng = generator(self.seed)
        values = rng.normal(0.0, 1.0, shape)
        outside = np.abs(values) > 2.0
        while outside.any():
            values[outside] = rng.normal(0.0, 1.0, int(outside.sum()))
            outside = np.abs(values) > 2.0
        return self.mean + self.stddev * values


class VarianceScaling(Initializer):
    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError(f"distribution must be truncated_normal, untruncated_normal "
                             f"or uniform, got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def sample(self, shape):
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        variance = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = np.sqrt(3.0 * variance)
            return generator(self.seed).uniform(-limit, limit, shape)
        if self.distribution == "untruncated_normal":
            return generator(self.seed).normal(0.0, np.sqrt(variance), shape)
        # 0.8796... is the std of a unit normal truncated at two std, as in Keras.
        return TruncatedNormal(0.0, np.sqrt(variance) / 0.87962566103423978, self.seed).sample(shape)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "seed": self.seed}


class GlorotUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class GlorotNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_avg", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class HeNormal(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(2.0, "fan_in", "truncated_normal", seed)

    def get_config(self):
        return {"seed": self.seed}


class LecunUniform(VarianceScaling):
    def __init__(self, seed=None):
        super().__init__(1.0, "fan_in", "uniform", seed)

    def get_config(self):
        return {"seed": self.seed}


class Orthogonal(Initializer):
    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, shape):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal needs a shape of rank >= 2, got {shape}")
        rows = int(np.prod(shape[:-1]))
        cols = shape[-1]
        flat = generator(self.seed).normal(0.0, 1.0, (max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


_ALIASES = {
    "zeros": Zeros, "ones": Ones, "constant": Constant,
    "uniform": RandomUniform, "random_uniform": RandomUniform,
    "normal": RandomNormal, "random_normal": RandomNormal,
    "truncated_normal": TruncatedNormal, "variance_scaling": VarianceScaling,
    "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
    "orthogonal": Orthogonal,
}
_CLASSES = {cls.__name__: cls for cls in set(_ALIASES.values())}


def get(identifier):
    """An Initializer from a name, a Keras config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, str):
        key = identifier if identifier in _CLASSES else identifier.lower()
        cls = _CLASSES.get(key) or _ALIASES.get(key)
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier!r}")
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"]) or _ALIASES.get(identifier["class_name"])
        if cls is None:
            raise ValueError(f"Unknown initializer: {identifier['class_name']!r}")
        return cls.from_config(keras_arguments(cls, identifier.get("config") or {}))
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def serialize(initializer):
    if isinstance(initializer, Initializer):
        return {"module": "keras.initializers", "class_name": type(initializer).__name__,
                "config": initializer.get_config(), "registered_name": None}
    raise ValueError(f"Cannot serialize initializer {initializer!r}")

"""The seed's three models, and their IMDB-sized versions, built the same way
in fastembed, Keras (jax backend) and PyTorch eager, on the same data.

A spec names the architecture (flatten / lstm / gru / cnn, or lm: a language
model) and its sizes; every builder returns an object with .train_epoch(x, y)
that runs one epoch of Adam at the spec's batch size, without shuffling:
binary cross-entropy on one sigmoid output, or for lm Embedding -> LSTM
(return_sequences) -> Dense(vocab, softmax) with sparse categorical
cross-entropy on the next word of every step.
"""
import numpy as np

SPECS = {
    # The seed's models: vocabulary 1,000, 10 steps, Embedding 64, batch 32.
    "seed-flatten": dict(kind="flatten", vocab=1_000, steps=10, dim=64, batch=32, samples=25_000),
    "seed-lstm": dict(kind="lstm", vocab=1_000, steps=10, dim=64, units=32, batch=32, samples=25_000),
    "seed-cnn": dict(kind="cnn", vocab=1_000, steps=10, dim=64, filters=128, kernel=5,
                     batch=32, samples=25_000),
    # IMDB-sized: vocabulary 20,000, Embedding 128, batch 64 (epoch subsampled).
    "imdb-lstm": dict(kind="lstm", vocab=20_000, steps=200, dim=128, units=64, batch=64, samples=2_048),
    "imdb-gru": dict(kind="gru", vocab=20_000, steps=200, dim=128, units=64, batch=64, samples=2_048),
    # A word-level language model (epoch subsampled).
    "lm-lstm": dict(kind="lm", vocab=10_000, steps=64, dim=128, units=256, batch=64, samples=512),
    "imdb-cnn": dict(kind="cnn", vocab=20_000, steps=400, dim=128, filters=250, kernel=3,
                     batch=64, samples=2_048),
}


def make_data(spec, seed=0):
    """A learnable binary task: the label says whether low ids dominate; for
    lm, windows of a random text and the same windows one word later."""
    rng = np.random.default_rng(seed)
    if spec["kind"] == "lm":
        text = rng.integers(1, spec["vocab"], spec["samples"] * spec["steps"] + 1)
        shape = (spec["samples"], spec["steps"])
        return text[:-1].reshape(shape), text[1:].reshape(shape)
    x = rng.integers(1, spec["vocab"], (spec["samples"], spec["steps"]))
    y = (np.mean(x < spec["vocab"] // 2, axis=1) > 0.5).astype(np.float32)
    return x, y


def _head_layers(layers, spec):
    if spec["kind"] == "flatten":
        return [layers.Flatten()]
    if spec["kind"] in ("lstm", "gru"):
        return [getattr(layers, spec["kind"].upper())(spec["units"])]
    if spec["kind"] == "lm":
        return [layers.LSTM(spec["units"], return_sequences=True)]
    return [layers.Conv1D(spec["filters"], spec["kernel"], activation="relu"),
            layers.GlobalMaxPooling1D()]


def _output_layer(layers, spec):
    if spec["kind"] == "lm":
        return layers.Dense(spec["vocab"], activation="softmax")
    return layers.Dense(1, activation="sigmoid")


class _KerasLike:
    def __init__(self, model, spec):
        self.model, self.spec = model, spec
        loss = "sparse_categorical_crossentropy" if spec["kind"] == "lm" \
            else "binary_crossentropy"
        model.compile(optimizer="adam", loss=loss, metrics=["accuracy"])

    def train_epoch(self, x, y):
        return self.model.fit(x, y, epochs=1, batch_size=self.spec["batch"], shuffle=False, verbose=0)


def build_fastembed(spec):
    from fastembed import layers
    from fastembed.models import Sequential
    model = Sequential([layers.Embedding(spec["vocab"], spec["dim"], input_length=spec["steps"])]
                       + _head_layers(layers, spec) + [_output_layer(layers, spec)])
    return _KerasLike(model, spec)


def build_keras(spec):
    import keras
    model = keras.Sequential([keras.Input((spec["steps"],)), keras.layers.Embedding(spec["vocab"], spec["dim"])]
                             + _head_layers(keras.layers, spec) + [_output_layer(keras.layers, spec)])
    return _KerasLike(model, spec)


class TorchModel:
    """The same architecture in PyTorch eager, with Keras's Adam epsilon."""

    def __init__(self, spec):
        import torch
        from torch import nn
        # Denormals flushed, as Keras on jax (XLA) and fastembed's recurrent
        # backward run: the strongest setup (torch's IMDB GRU epoch is ~7x
        # slower with them, its gradients decaying through 200 steps).
        torch.set_flush_denormal(True)
        self.torch, self.spec = torch, spec
        self.embedding = nn.Embedding(spec["vocab"], spec["dim"])
        if spec["kind"] == "flatten":
            self.head, width = None, spec["steps"] * spec["dim"]
        elif spec["kind"] in ("lstm", "gru", "lm"):
            recurrent = getattr(nn, "GRU" if spec["kind"] == "gru" else "LSTM")
            self.head, width = recurrent(spec["dim"], spec["units"], batch_first=True), spec["units"]
        else:
            self.head, width = nn.Conv1d(spec["dim"], spec["filters"], spec["kernel"]), spec["filters"]
        self.dense = nn.Linear(width, spec["vocab"] if spec["kind"] == "lm" else 1)
        modules = [m for m in (self.embedding, self.head, self.dense) if m is not None]
        self.parameters = [p for m in modules for p in m.parameters()]
        self.optimizer = torch.optim.Adam(self.parameters, lr=1e-3, eps=1e-7)
        # lm: softmax + sparse categorical cross-entropy, fused on the logits
        self.loss = nn.CrossEntropyLoss() if spec["kind"] == "lm" else nn.BCEWithLogitsLoss()

    def forward(self, x):
        h = self.embedding(x)
        kind = self.spec["kind"]
        if kind == "lm":
            return self.dense(self.head(h)[0]).flatten(0, 1)
        if kind == "flatten":
            h = h.flatten(1)
        elif kind in ("lstm", "gru"):
            h = self.head(h)[0][:, -1]
        else:
            h = self.torch.relu(self.head(h.transpose(1, 2))).amax(dim=2)
        return self.dense(h)[:, 0]

    def train_epoch(self, x, y):
        x, y = self.torch.from_numpy(x), self.torch.from_numpy(y)
        batch = self.spec["batch"]
        for start in range(0, len(x), batch):
            self.optimizer.zero_grad(set_to_none=True)
            target = y[start:start + batch]
            loss = self.loss(self.forward(x[start:start + batch]),
                             target.flatten() if self.spec["kind"] == "lm" else target)
            loss.backward()
            self.optimizer.step()


def build_torch(spec):
    return TorchModel(spec)


BUILDERS = {"fastembed": build_fastembed, "keras": build_keras, "torch": build_torch}

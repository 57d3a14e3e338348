"""A matrix-factorisation recommender built the same way in fastembed, Keras
(jax backend) and PyTorch, on the same synthetic ratings.

The model: user and item Embeddings (32 dimensions), their Dot, plus a user
and an item bias Embedding, trained with MSE and Adam (lr 1e-3, epsilon 1e-7,
Keras's) at batch 1,024, without shuffling. fastembed and Keras run the very
same Functional-API code (`_functional_model`); PyTorch runs the same graph
eagerly, its tables initialised as Keras's (uniform in [-0.05, 0.05]).

Two update semantics:
  dense   Keras's default: Adam updates every row's moments at every step
          (fastembed's default Embedding, Keras, torch nn.Embedding + Adam);
  sparse  lazy: only the rows a batch touches move (fastembed
          Embedding(sparse=True), torch nn.Embedding(sparse=True) + SparseAdam,
          eager and with the loss under torch.compile).

Every builder returns an object whose .train_epoch(users, items, ratings)
runs one epoch and returns its loss (the mean over the epoch's samples, as
Keras's fit reports it).
"""
SPEC = dict(users=100_000, items=50_000, dim=32, ratings=1_000_000, batch=1_024, lr=1e-3, epsilon=1e-7)


def make_data(spec=SPEC, seed=0):
    """users, items: int64 (n, 1); ratings: float32 (n, 1), from synthetic_ratings."""
    from fastembed.datasets import synthetic_ratings
    (users, items, ratings), _ = synthetic_ratings.load_data(
        num_users=spec["users"], num_items=spec["items"], num_ratings=spec["ratings"],
        test_split=0, seed=seed)
    return users[:, None], items[:, None], ratings[:, None]


def _functional_model(lib, spec, **embedding_args):
    """The Keras spelling, run unchanged with lib = keras or lib = fastembed."""
    from importlib import import_module
    layers = import_module(f"{lib.__name__}.layers")
    optimizers = import_module(f"{lib.__name__}.optimizers")
    Input, Model = lib.Input, lib.Model
    Add, Dot, Embedding, Flatten = layers.Add, layers.Dot, layers.Embedding, layers.Flatten
    num_users, num_items, dim = spec["users"], spec["items"], spec["dim"]

    user = Input(shape=(1,), name="user")
    item = Input(shape=(1,), name="item")
    u = Flatten()(Embedding(num_users, dim, name="user_vec", **embedding_args)(user))
    i = Flatten()(Embedding(num_items, dim, name="item_vec", **embedding_args)(item))
    ub = Flatten()(Embedding(num_users, 1, name="user_bias", **embedding_args)(user))
    ib = Flatten()(Embedding(num_items, 1, name="item_bias", **embedding_args)(item))
    out = Add()([Dot(axes=1)([u, i]), ub, ib])
    model = Model([user, item], out)
    model.compile(optimizer=optimizers.Adam(learning_rate=spec["lr"], epsilon=spec["epsilon"]), loss="mse")
    return model


class _KerasLike:
    def __init__(self, model, spec):
        self.model, self.spec = model, spec

    def train_epoch(self, users, items, ratings):
        history = self.model.fit([users, items], ratings, batch_size=self.spec["batch"], epochs=1,
                                 shuffle=False, verbose=0)
        return float(history.history["loss"][-1])


def build_fastembed(spec, sparse=False):
    import fastembed
    return _KerasLike(_functional_model(fastembed, spec, sparse=sparse), spec)


def build_keras(spec):
    import keras
    return _KerasLike(_functional_model(keras, spec), spec)


class TorchMF:
    """The same model in PyTorch: dense tables + Adam, or sparse tables + SparseAdam.

    fused=True uses Adam's fused CPU implementation; compile=True wraps the
    loss (forward) in torch.compile.
    """

    def __init__(self, spec, sparse=False, fused=False, compile=False):
        import torch
        from torch import nn
        # Denormals flushed, as Keras on jax and fastembed's updates run: the
        # strongest setup (Adam's moments of rows unread for hundreds of
        # steps decay into the denormal range).
        torch.set_flush_denormal(True)
        self.torch, self.spec = torch, spec
        tables = [nn.Embedding(spec["users"], spec["dim"], sparse=sparse),
                  nn.Embedding(spec["items"], spec["dim"], sparse=sparse),
                  nn.Embedding(spec["users"], 1, sparse=sparse),
                  nn.Embedding(spec["items"], 1, sparse=sparse)]
        with torch.no_grad():
            for table in tables:
                table.weight.uniform_(-0.05, 0.05)  # Keras's "uniform" initializer
        self.user_vec, self.item_vec, self.user_bias, self.item_bias = tables
        parameters = [table.weight for table in tables]
        if sparse:
            self.optimizer = torch.optim.SparseAdam(parameters, lr=spec["lr"], eps=spec["epsilon"])
        else:
            self.optimizer = torch.optim.Adam(parameters, lr=spec["lr"], eps=spec["epsilon"],
                                              **({"fused": True} if fused else {}))
        self.loss = torch.compile(self._loss) if compile else self._loss

    def _loss(self, users, items, ratings):
        prediction = ((self.user_vec(users) * self.item_vec(items)).sum(1, keepdim=True)
                      + self.user_bias(users) + self.item_bias(items))
        return self.torch.nn.functional.mse_loss(prediction, ratings)

    def train_epoch(self, users, items, ratings):
        torch = self.torch
        users, items = torch.from_numpy(users[:, 0]), torch.from_numpy(items[:, 0])
        ratings = torch.from_numpy(ratings)
        batch, total = self.spec["batch"], 0.0
        for start in range(0, len(users), batch):
            stop = start + batch
            self.optimizer.zero_grad(set_to_none=True)
            loss = self.loss(users[start:stop], items[start:stop], ratings[start:stop])
            loss.backward()
            self.optimizer.step()
            total += loss.item() * len(users[start:stop])
        return total / len(users)


def build_torch(spec, sparse=False, fused=False, compile=False):
    return TorchMF(spec, sparse=sparse, fused=fused, compile=compile)


# (semantics, framework) -> builder(spec)
BUILDERS = {
    ("dense", "fastembed"): build_fastembed,
    ("dense", "keras"): build_keras,
    ("dense", "torch"): lambda spec: build_torch(spec, fused=True),
    ("sparse", "fastembed"): lambda spec: build_fastembed(spec, sparse=True),
    ("sparse", "torch"): lambda spec: build_torch(spec, sparse=True),
    ("sparse", "torch-compile"): lambda spec: build_torch(spec, sparse=True, compile=True),
}

"""Step plans (fastembed.set_step_plans) give the same bits as the graph walk.

Every model family of the suite is fit for 3 epochs (shuffled, so dropout
and the batch order draw from the seeded generator) with plans and with
the general walk, on 1 and on 2 threads; the weights and the predictions
(through inference plans, or the walk with plans off) must match bit for bit.
"""
import numpy as np
import pytest

import fastembed
from fastembed import layers, optimizers
from fastembed.engine import Context
from fastembed.engine.layer import Layer
from fastembed.layers.base_rnn import BaseRNN
from fastembed.utils import set_random_seed

VOCAB, STEPS, SAMPLES = 40, 6, 80


class Scale(Layer):
    """A user's layer in Python (call and backward): y = x * w per feature."""

    def build(self, input_shape):
        self.w = self.add_weight("w", (input_shape[-1],), "ones")

    def call(self, inputs):
        return inputs * self.w.value

    def backward(self, context, output_grads):
        if self.wants_grad(self.w):
            self.w.add_grad((output_grads * context.inputs).sum(axis=0))
        return output_grads * self.w.value if context.needs_input_grad else None


def _tokens(rng, padded=False):
    x = rng.integers(1, VOCAB, (SAMPLES, STEPS))
    if padded:  # trailing zeros of varying length: what mask_zero masks
        lengths = rng.integers(2, STEPS + 1, SAMPLES)
        x[np.arange(STEPS)[None, :] >= lengths[:, None]] = 0
    return x


def _binary(x):
    return (np.mean(x < VOCAB // 2, axis=1) > 0.5).astype(np.float32)


def _sequential(head, padded=False, **embedding_args):
    def build(rng):
        model = fastembed.Sequential([layers.Embedding(VOCAB, 8, input_length=STEPS,
                                                       **embedding_args)] + head()
                                     + [layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        x = _tokens(rng, padded)
        return model, x, _binary(x)
    return build


def _recommender(rng):
    """Shared layers: one Embedding and one Dense called on both inputs."""
    user, item = fastembed.Input(shape=(1,), name="user"), fastembed.Input(shape=(1,), name="item")
    table = layers.Embedding(VOCAB, 8, name="ids")
    project = layers.Dense(4, activation="tanh", name="project")
    u = project(layers.Flatten()(table(user)))
    i = project(layers.Flatten()(table(item)))
    bias = layers.Flatten()(layers.Embedding(VOCAB, 1, name="bias")(item))
    model = fastembed.Model([user, item], layers.Add()([layers.Dot(axes=1)([u, i]), bias]))
    model.compile(optimizer=optimizers.Adam(learning_rate=0.01), loss="mse")
    ids = rng.integers(0, VOCAB, (2, SAMPLES, 1))
    return model, [ids[0], ids[1]], rng.standard_normal((SAMPLES, 1)).astype(np.float32)


def _multi_output(rng):
    tokens = fastembed.Input(shape=(STEPS,), name="tokens")
    h = layers.Dense(6, activation="relu")(layers.Flatten()(layers.Embedding(VOCAB, 4)(tokens)))
    flag = layers.Dense(1, activation="sigmoid", name="flag")(h)
    kind = layers.Dense(3, activation="softmax", name="kind")(h)
    model = fastembed.Model(tokens, [flag, kind])
    model.compile(optimizer="rmsprop", loss=["binary_crossentropy",
                                             "sparse_categorical_crossentropy"],
                  loss_weights=[1.0, 0.5], metrics=[["accuracy"], ["accuracy"]])
    x = _tokens(rng)
    return model, x, [_binary(x), x[:, 0] % 3]


def _nested(rng):
    inner = fastembed.Sequential([layers.Embedding(VOCAB, 4, input_length=STEPS),
                                  layers.LSTM(5)])
    tokens = fastembed.Input(shape=(STEPS,))
    model = fastembed.Model(tokens, layers.Dense(1, activation="sigmoid")(inner(tokens)))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = _tokens(rng)
    return model, x, _binary(x)


def _two_poolings(rng):
    """Conv1D's output read by two poolings: the max pooling's gradient is
    added to the other's, so it must come back dense."""
    tokens = fastembed.Input(shape=(STEPS,))
    h = layers.Conv1D(8, 3, activation="relu")(layers.Embedding(VOCAB, 4)(tokens))
    pooled = layers.Concatenate()([layers.GlobalMaxPooling1D()(h),
                                   layers.GlobalAveragePooling1D()(h)])
    model = fastembed.Model(tokens, layers.Dense(1, activation="sigmoid")(pooled))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = _tokens(rng)
    return model, x, _binary(x)


FAMILIES = {
    "seed-flatten": _sequential(lambda: [layers.Flatten()]),
    "seed-lstm": _sequential(lambda: [layers.LSTM(8)]),
    # The max pooling hands Conv1D its gradient as a MaxStepGrad; with a
    # Python activation, or with too few steps for the sparse lists, Conv1D
    # makes it dense; read twice, the pooling's input takes it dense.
    "seed-cnn": _sequential(lambda: [layers.Conv1D(8, 3, activation="relu"),
                                     layers.GlobalMaxPooling1D()]),
    "cnn-tanh": _sequential(lambda: [layers.Conv1D(8, 3, activation="tanh"),
                                     layers.GlobalMaxPooling1D()]),
    "cnn-two-steps": _sequential(lambda: [layers.Conv1D(8, 5, activation="relu"),
                                          layers.GlobalMaxPooling1D()]),
    "cnn-two-poolings": _two_poolings,
    "gru-masked": _sequential(lambda: [layers.GRU(6)], padded=True, mask_zero=True),
    "gru-backwards-reset-before": _sequential(lambda: [layers.GRU(6, go_backwards=True,
                                                                 reset_after=False)]),
    "simple-rnn-dropout": _sequential(lambda: [layers.SimpleRNN(6, dropout=0.2,
                                                                recurrent_dropout=0.2)]),
    "bidirectional-masked": _sequential(
        lambda: [layers.Bidirectional(layers.LSTM(4, return_sequences=True)),
                 layers.GlobalAveragePooling1D()], padded=True, mask_zero=True),
    "sparse-embedding": _sequential(lambda: [layers.Flatten()], sparse=True),
    "batchnorm-dropout": _sequential(lambda: [layers.Flatten(), layers.Dense(8),
                                              layers.BatchNormalization(),
                                              layers.Dropout(0.3)]),
    "custom-layer-activity-regularizer": _sequential(
        lambda: [layers.Flatten(), Scale(), layers.Dense(4, activity_regularizer="l2")]),
    "recommender-shared-layers": _recommender,
    "multi-output": _multi_output,
    "nested-model": _nested,
}


@pytest.fixture
def restore_plans_and_threads():
    threads, plans = fastembed.get_num_threads(), fastembed.step_plans_enabled()
    yield
    fastembed.set_num_threads(threads)
    fastembed.set_step_plans(plans)


def _rows(x, stop):
    return [a[:stop] for a in x] if isinstance(x, list) else x[:stop]


def _fit(build, plans, threads):
    """(weights, predictions) as uint32 bit patterns after 3 shuffled epochs:
    predict's batches (the last one shorter), one sample, model(x)."""
    fastembed.set_step_plans(plans)
    fastembed.set_num_threads(threads)
    set_random_seed(7)
    model, x, y = build(np.random.default_rng(0))
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    predictions = []
    for outputs in (model.predict(x, batch_size=32, verbose=0),
                    model.predict(_rows(x, 1), verbose=0), model(_rows(x, 5))):
        predictions += outputs if isinstance(outputs, list) else [outputs]
    return [w.view(np.uint32) for w in model.get_weights() + predictions]


@pytest.mark.parametrize("family", list(FAMILIES))
def test_plans_match_the_graph_walk_bit_for_bit(family, restore_plans_and_threads):
    build = FAMILIES[family]
    walk = _fit(build, plans=False, threads=1)
    for plans, threads in ((True, 1), (True, 2), (False, 2)):
        got = _fit(build, plans, threads)
        assert len(got) == len(walk)
        for i, (a, b) in enumerate(zip(got, walk)):
            assert np.array_equal(a, b), \
                f"{family}: array {i} differs (plans={plans}, threads={threads})"


def test_plan_takes_the_direct_path_only_where_it_holds(restore_plans_and_threads):
    """One-input, one-output nodes run direct; the custom layer too; the
    layer with an activity regularizer, merges and multi-output nodes take
    the general path; with plans off every node does."""
    fastembed.set_step_plans(True)
    model, _, _ = FAMILIES["custom-layer-activity-regularizer"](np.random.default_rng(0))
    direct = {step.layer.name: step.direct for step in model.graph.plan(False)}
    regularized = model.layers[3].name
    assert not direct.pop(regularized)
    assert all(direct.values()), direct
    model, _, _ = _recommender(np.random.default_rng(0))
    merges = [step for step in model.graph.plan(False)
              if isinstance(step.layer, (layers.Add, layers.Dot))]
    assert merges and not any(step.direct for step in merges)
    fastembed.set_step_plans(False)
    assert not any(step.direct for step in model.graph.plan(False))


def test_max_pooling_hands_conv1d_a_sparse_gradient_where_it_may(restore_plans_and_threads):
    """The plan marks a GlobalMaxPooling1D after a Conv1D that only it reads
    (see the cnn families above for the bits)."""
    fastembed.set_step_plans(True)

    def marked(build):
        model, _, _ = build(np.random.default_rng(0))
        return {type(step.layer).__name__ for step in model.graph.plan(False)
                if step.max_step_grad}

    assert marked(FAMILIES["seed-cnn"]) == {"GlobalMaxPooling1D"}
    assert marked(FAMILIES["cnn-tanh"]) == {"GlobalMaxPooling1D"}  # Conv1D makes it dense
    assert marked(FAMILIES["cnn-two-poolings"]) == set()
    assert marked(_sequential(lambda: [layers.LSTM(4, return_sequences=True),
                                       layers.GlobalMaxPooling1D()])) == set()
    fastembed.set_step_plans(False)
    assert marked(FAMILIES["seed-cnn"]) == set()


def test_freezing_a_layer_replans_the_backward(restore_plans_and_threads):
    """trainable toggles change which nodes backward visits: after
    freezing, the frozen table keeps its values, with plans as without."""
    results = []
    for plans in (False, True):
        fastembed.set_step_plans(plans)
        set_random_seed(3)
        model, x, y = FAMILIES["seed-cnn"](np.random.default_rng(0))
        model.fit(x, y, batch_size=16, epochs=1, verbose=0)
        table = model.layers[0]
        frozen = table.get_weights()[0].copy()
        table.trainable = False
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)
        np.testing.assert_array_equal(table.get_weights()[0], frozen)
        results.append([w.view(np.uint32) for w in model.get_weights()])
    for a, b in zip(*results):
        assert np.array_equal(a, b)


def test_one_batch_predict_paths_agree_with_the_layers(restore_plans_and_threads):
    """predict (one batch), predict_on_batch and model(x) on the shared
    predict tape give what the layers compute one after another, and a
    later call does not overwrite an earlier call's result."""
    model, x, _ = FAMILIES["seed-lstm"](np.random.default_rng(0))
    first, second = x[:1], x[1:3]
    want = []
    for batch in (first, second):
        h = batch
        for layer in model.layers:
            h = layer.forward(Context(needs_input_grad=False), h)
        want.append(h)
    got_first = model.predict(first, verbose=0)
    np.testing.assert_array_equal(model.predict_on_batch(second), want[1])
    np.testing.assert_array_equal(model(second), want[1])
    np.testing.assert_array_equal(got_first, want[0])
    np.testing.assert_array_equal(model(first), want[0])
    assert model.predict(x[:0], verbose=0).shape == (0, 1)


def test_inference_plan_chains_the_layers_calls_where_every_layer_gives_one(
        restore_plans_and_threads):
    """The seed models predict through a loop over their layers' inference
    calls; a mask, a user's layer, several inputs take the walk's steps."""
    fastembed.set_step_plans(True)

    def plan_of(build):
        model, x, _ = build(np.random.default_rng(0))
        model.predict(_rows(x, 2), verbose=0)
        (plan,) = model.graph._inference.plans.values()
        return plan

    for family in ("seed-flatten", "seed-lstm", "seed-cnn", "sparse-embedding",
                   "simple-rnn-dropout", "gru-backwards-reset-before"):
        assert plan_of(FAMILIES[family]).chain is not None, family
    for family in ("gru-masked", "custom-layer-activity-regularizer",
                   "recommender-shared-layers", "cnn-two-poolings"):
        assert plan_of(FAMILIES[family]).chain is None, family

    def walked(family):
        return [(type(step.layer).__name__, call is None)
                for step, call, _ in plan_of(FAMILIES[family]).steps]

    assert walked("gru-masked") == [("Embedding", True), ("GRU", True), ("Dense", False)]
    # The Dense with an activity regularizer is no direct node.
    assert walked("custom-layer-activity-regularizer") == [
        ("Embedding", False), ("Flatten", False), ("Scale", True), ("Dense", True),
        ("Dense", False)]


def test_a_subclass_computing_otherwise_predicts_through_its_own_call(
        restore_plans_and_threads):
    """A user's Dense whose call doubles the output: the plan must not use
    Dense's inference call, which computes Dense's output."""
    class Doubled(layers.Dense):
        def call(self, inputs):
            return 2.0 * super().call(inputs)

    class Masking(layers.Dense):
        def compute_mask(self, inputs, mask=None):
            return np.ones(inputs.shape[:1], bool)

    fastembed.set_step_plans(True)
    assert Doubled.inference_call is Layer.inference_call
    assert Masking.inference_call is Layer.inference_call
    assert layers.Dense.inference_call is not Layer.inference_call
    for recurrent in (layers.LSTM, layers.GRU, layers.SimpleRNN):
        assert recurrent.inference_call is BaseRNN.inference_call
    x = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    model = fastembed.Sequential([fastembed.Input((4,)), Doubled(2)])
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), 2.0 * (x @ kernel + bias),
                               rtol=1e-6)


def test_an_index_out_of_range_is_refused_by_a_planned_embedding(restore_plans_and_threads):
    fastembed.set_step_plans(True)
    model, x, _ = FAMILIES["seed-lstm"](np.random.default_rng(0))
    want = model.predict(x[:1], verbose=0)  # builds the plan
    bad = x[:1].copy()
    bad[0, 2] = VOCAB
    with pytest.raises(IndexError, match=r"indices\[0,2\] = 40 is not in \[0, 40\)"):
        model.predict(bad, verbose=0)
    np.testing.assert_array_equal(model.predict(x[:1], verbose=0), want)

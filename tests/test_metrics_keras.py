"""Stateful metrics against real Keras 3 (jax backend): results after
several weighted batches, and their logs in fit / evaluate by string name."""
import keras
import numpy as np
import pytest

import fastembed
from fastembed import metrics
from keras_twins import LENGTH, SAMPLES, VOCAB, twin_classifiers

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")

RNG = np.random.default_rng(0)


def batches(kind, num=3, n=40, classes=5):
    out = []
    for _ in range(num):
        if kind == "binary":
            y = (RNG.random((n, 1)) < 0.4).astype(np.float32)
            p = np.clip(0.6 * y + 0.7 * RNG.random((n, 1)) - 0.15, 0, 1).astype(np.float32)
        elif kind == "onehot":
            y = np.eye(classes, dtype=np.float32)[RNG.integers(0, classes, n)]
            p = RNG.random((n, classes)).astype(np.float32)
        elif kind == "multilabel":
            y = (RNG.random((n, 4)) < [0.2, 0.4, 0.5, 0.7]).astype(np.float32)
            p = np.clip(0.5 * y + 0.8 * RNG.random((n, 4)) - 0.15, 0, 1).astype(np.float32)
        elif kind == "sparse":
            y = RNG.integers(0, classes, (n, 1)).astype(np.int32)
            p = RNG.random((n, classes)).astype(np.float32)
        else:
            y = RNG.normal(0, 1, (n, 3)).astype(np.float32)
            p = RNG.normal(0, 1, (n, 3)).astype(np.float32)
        out.append((y, p, RNG.uniform(0, 2, n).astype(np.float32)))
    return out


CASES = {  # name: (fastembed metric, keras metric, data kind, tolerance)
    "auc roc": (metrics.AUC(), keras.metrics.AUC(), "binary", 1e-5),
    "auc pr": (metrics.AUC(curve="PR"), keras.metrics.AUC(curve="PR"), "binary", 1e-5),
    "auc roc minoring 50": (metrics.AUC(50, summation_method="minoring"),
                            keras.metrics.AUC(50, summation_method="minoring"), "binary", 1e-5),
    "auc pr majoring": (metrics.AUC(curve="PR", summation_method="majoring"),
                        keras.metrics.AUC(curve="PR", summation_method="majoring"), "binary",
                        1e-5),
    "precision": (metrics.Precision(), keras.metrics.Precision(), "binary", 1e-5),
    "recall 0.3": (metrics.Recall(thresholds=0.3), keras.metrics.Recall(thresholds=0.3),
                   "binary", 1e-5),
    "precision top 2": (metrics.Precision(top_k=2), keras.metrics.Precision(top_k=2), "onehot",
                        1e-5),
    "recall top 3": (metrics.Recall(top_k=3), keras.metrics.Recall(top_k=3), "onehot", 1e-5),
    "precision class 1": (metrics.Precision(class_id=1), keras.metrics.Precision(class_id=1),
                          "onehot", 1e-5),
    "recall class 2 top 1 at 0.3": (metrics.Recall(0.3, top_k=1, class_id=2),
                                    keras.metrics.Recall(0.3, top_k=1, class_id=2), "onehot",
                                    1e-5),
    "precision multilabel top 2 class 3": (metrics.Precision(top_k=2, class_id=3),
                                           keras.metrics.Precision(top_k=2, class_id=3),
                                           "multilabel", 1e-5),
    # multi_label: Keras buckets evenly spaced thresholds in float32, a
    # prediction within rounding of one may land in the next bucket
    "auc multi_label": (metrics.AUC(multi_label=True), keras.metrics.AUC(multi_label=True),
                        "multilabel", 1e-4),
    "auc pr multi_label weighted labels": (
        metrics.AUC(curve="PR", multi_label=True, num_labels=4,
                    label_weights=[1.0, 2.0, 0.5, 0.0]),
        keras.metrics.AUC(curve="PR", multi_label=True, num_labels=4,
                          label_weights=[1.0, 2.0, 0.5, 0.0]), "multilabel", 1e-4),
    "auc roc majoring multi_label 30": (
        metrics.AUC(30, summation_method="majoring", multi_label=True),
        keras.metrics.AUC(30, summation_method="majoring", multi_label=True), "multilabel",
        1e-4),
    "auc label_weights flattened": (metrics.AUC(label_weights=[0.5, 1.0, 2.0, 1.5]),
                                    keras.metrics.AUC(label_weights=[0.5, 1.0, 2.0, 1.5]),
                                    "multilabel", 1e-4),
    "top 3": (metrics.TopKCategoricalAccuracy(k=3),
              keras.metrics.TopKCategoricalAccuracy(k=3), "onehot", 1e-5),
    "sparse top 2": (metrics.SparseTopKCategoricalAccuracy(k=2),
                     keras.metrics.SparseTopKCategoricalAccuracy(k=2), "sparse", 1e-5),
    "f1 per class": (metrics.F1Score(), keras.metrics.F1Score(), "onehot", 1e-5),
    "f1 macro 0.6": (metrics.F1Score("macro", 0.6), keras.metrics.F1Score("macro", 0.6),
                     "onehot", 1e-5),
    "f1 micro": (metrics.F1Score("micro"), keras.metrics.F1Score("micro"), "onehot", 1e-5),
    "fbeta weighted": (metrics.FBetaScore("weighted", beta=2.0),
                       keras.metrics.FBetaScore("weighted", beta=2.0), "onehot", 1e-5),
    "mse": (metrics.MeanSquaredError(), keras.metrics.MeanSquaredError(), "real", 1e-5),
    "rmse": (metrics.RootMeanSquaredError(), keras.metrics.RootMeanSquaredError(), "real",
             1e-5),
    "mae": (metrics.MeanAbsoluteError(), keras.metrics.MeanAbsoluteError(), "real", 1e-5),
    "bce": (metrics.BinaryCrossentropy(), keras.metrics.BinaryCrossentropy(), "binary", 1e-5),
    "bce logits smoothed": (metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
                            keras.metrics.BinaryCrossentropy(from_logits=True,
                                                             label_smoothing=0.1),
                            "binary", 1e-5),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("weighted", [False, True])
def test_metric_results_match_keras(case, weighted):
    f_metric, k_metric, kind, tolerance = CASES[case]
    f_metric.reset_state()
    k_metric.reset_state()
    for y, p, w in batches(kind):
        f_metric.update_state(y, p, sample_weight=w if weighted else None)
        k_metric.update_state(y, p, sample_weight=w if weighted else None)
        np.testing.assert_allclose(f_metric.result(), np.asarray(k_metric.result()), rtol=tolerance,
                                   atol=1e-7)
    f_metric.reset_state()
    assert np.all(f_metric.result() == 0.0)


def test_auc_of_a_perfect_and_a_reversed_ranking():
    y = np.array([0, 0, 1, 1], np.float32)
    for scores, expected in (([0.1, 0.2, 0.8, 0.9], 1.0), ([0.9, 0.8, 0.2, 0.1], 0.0)):
        metric = metrics.AUC()
        metric.update_state(y, np.array(scores, np.float32))
        assert metric.result() == pytest.approx(expected, abs=1e-6)


def test_multi_label_auc_is_the_mean_of_each_labels_auc():
    """Independently of Keras: the per-label AUCs of single-label metrics."""
    y, p, w = batches("multilabel", num=1, n=200)[0]
    combined = metrics.AUC(multi_label=True)
    combined.update_state(y, p, sample_weight=w)
    each = []
    for label in range(4):
        single = metrics.AUC()
        single.update_state(y[:, label], p[:, label], sample_weight=w)
        each.append(single.result())
    assert combined.result() == pytest.approx(np.mean(each), rel=1e-6)
    assert len(set(np.round(each, 4))) == 4, "the labels must differ for this to show"


def test_confusion_metric_arguments_are_checked_as_keras():
    with pytest.raises(ValueError, match="`num_labels` is needed only when `multi_label`"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="label_weights"):
        metrics.AUC(label_weights=[1.0, -1.0])
    with pytest.raises(ValueError, match="`top_k` must be a positive integer"):
        metrics.Precision(top_k=0)
    auc = metrics.AUC(multi_label=True, num_labels=3)
    with pytest.raises(ValueError, match="predictions of 4 labels"):
        auc.update_state(np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="must have rank 2 when `multi_label=True`"):
        metrics.AUC(multi_label=True).update_state(np.zeros(3), np.zeros(3))
    with pytest.raises(IndexError, match="class_id=5 is out of range for predictions of 3"):
        metrics.Recall(class_id=5).update_state(np.zeros((2, 3)), np.zeros((2, 3)))




def test_metrics_by_string_in_fit_and_evaluate_match_keras():
    x = np.random.default_rng(1).integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    y = (x[:, :1] < VOCAB // 2).astype(np.float32)  # (n, 1): Keras's bce metric needs it
    vx = np.random.default_rng(2).integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    vy = (vx[:, :1] < VOCAB // 2).astype(np.float32)
    names = ["auc", "precision", "recall", "mse", "root_mean_squared_error", "mae",
             "binary_crossentropy"]
    km, fm = twin_classifiers(1, "sigmoid")
    histories = []
    for model in (km, fm):
        model.compile("adam", "binary_crossentropy", metrics=names)
        histories.append(model.fit(x, y, epochs=3, batch_size=32, shuffle=False, verbose=0,
                                   validation_data=(vx, vy)).history)
    kh, fh = histories
    assert sorted(fh) == sorted(kh)
    for key in kh:
        np.testing.assert_allclose(fh[key], kh[key], rtol=1e-4, err_msg=key)
    np.testing.assert_allclose(fm.evaluate(vx, vy, verbose=0), km.evaluate(vx, vy, verbose=0),
                               rtol=1e-4)


def test_top_k_by_string_matches_keras():
    x = np.random.default_rng(1).integers(0, VOCAB, (SAMPLES, LENGTH)).astype(np.int32)
    y = (x[:, 0] * 6 // VOCAB).astype(np.int32)
    km, fm = twin_classifiers(6, "softmax")
    for model in (km, fm):
        model.compile("adam", "sparse_categorical_crossentropy",
                      metrics=["sparse_top_k_categorical_accuracy"])
    np.testing.assert_allclose(fm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=1e-5)


def test_unknown_metric_string_is_a_clear_error():
    model = fastembed.Sequential([fastembed.Input((3,)), fastembed.layers.Dense(1)])
    with pytest.raises(ValueError, match="Unknown metric: 'aucc'"):
        model.compile("sgd", "mse", metrics=["aucc"])
    with pytest.raises(ValueError, match="Unknown metric: 'presicion'"):
        model.compile("sgd", "mse", weighted_metrics=["presicion"])

"""Utilities against Keras's own implementations."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest

import fastembed
from fastembed.datasets import synthetic_sentiment
from fastembed.utils import to_categorical


@pytest.mark.parametrize("ids, num_classes", [
    ([0, 2, 1, 2], None), ([[1], [0], [3]], 5), (np.array([[0, 1], [2, 0]]), 3), ([], 4),
])
def test_to_categorical_matches_keras(ids, num_classes):
    np.testing.assert_array_equal(to_categorical(ids, num_classes),
                                  keras.utils.to_categorical(ids, num_classes))


def test_to_categorical_rejects_out_of_range():
    with pytest.raises(ValueError, match=r"class id 3 is not in \[0, 3\)"):
        to_categorical([0, 3], 3)


def test_synthetic_sentiment_labels_follow_the_rule():
    (x, y), (x_test, y_test) = synthetic_sentiment.load_data(train_samples=300, test_samples=50)
    assert x.shape == (300, 10) and x_test.shape == (50, 10) and x.dtype == np.int64
    assert 0 <= x.min() and x.max() < 1000
    polarity = synthetic_sentiment._polarity(1000, np.random.default_rng(113))
    for words, label in zip(x, y):  # recompute each label from the words, independently
        signs = polarity[words]
        flipped = np.r_[False, words[:-1] == synthetic_sentiment.NOT]
        assert label == (np.sum(np.where(flipped, -signs, signs)) > 0)
    assert 0.3 < y.mean() < 0.7


def test_show_config_reports_isa_and_threads(capsys):
    fastembed.show_config()
    out = capsys.readouterr().out
    assert f"isa:            {fastembed._kernels.isa_name()}" in out
    assert f"openmp_threads: {fastembed.get_num_threads()}" in out
    assert "blas:" in out and fastembed.__version__ in out


@pytest.mark.parametrize("user_env, spincount", [
    ({}, "10000"), ({"GOMP_SPINCOUNT": "123"}, "123"), ({"OMP_WAIT_POLICY": "passive"}, "0")])
def test_openmp_spin_setting_is_ours_only_and_yields_to_the_user(user_env, spincount):
    # libgomp prints the settings it took when it loads; the environment
    # itself is left as the user had it.
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env.update(user_env, OMP_DISPLAY_ENV="verbose")
    run = subprocess.run([sys.executable, "-c", "import os, fastembed; "
                          "print(os.environ.get('GOMP_SPINCOUNT'))"],
                         env=env, capture_output=True, text=True, check=True)
    assert run.stdout.strip() == str(user_env.get("GOMP_SPINCOUNT"))
    assert f"GOMP_SPINCOUNT = '{spincount}'" in run.stderr

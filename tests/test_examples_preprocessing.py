"""The preprocessing examples run end to end on small sizes and learn:
the recommender on string ids beats predicting the mean, the tabular model
beats the majority class."""
import runpy
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def example(name):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"))["main"]


def test_recommend_string_ids_learns(capsys):
    rmse, baseline = example("recommend_string_ids")(num_users=100, num_items=200,
                                                     num_ratings=5000, epochs=3)
    assert rmse < 0.9 * baseline
    assert "test RMSE" in capsys.readouterr().out


def test_tabular_mixed_learns(capsys):
    accuracy, majority = example("tabular_mixed")(rows=2000, epochs=3)
    assert accuracy > majority + 0.08
    assert "test accuracy" in capsys.readouterr().out

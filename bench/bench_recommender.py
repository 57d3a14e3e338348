"""Training a matrix-factorisation recommender: fastembed vs Keras (jax
backend) vs PyTorch, same model, same data, same run.

100,000 users, 50,000 items, 32 dimensions, ratings from
fastembed.datasets.synthetic_ratings, batch 1,024, MSE, Adam (lr 1e-3,
epsilon 1e-7), no shuffling; the model is in bench/recommender_peers.py.

Two groups, one per update semantics (see recommender_peers.py):
  epoch-recommender-dense   fastembed (default Embedding), Keras, torch;
  epoch-recommender-sparse  fastembed Embedding(sparse=True), torch
                            nn.Embedding(sparse=True) + SparseAdam, eager
                            and with torch.compile.

Timed: one whole epoch (1,000,000 ratings: 976 batches of 1,024 and one of
576), 3 rounds, each round training the same model one more epoch; the
file runs in ~2-3.5 minutes on a 2-core machine. Before timing, each model
trains WARMUP_BATCHES batches and one as short as the epoch's last (build,
jit for both batch shapes, first-touch of the optimizer's moments).
samples_per_s and each round's loss (the mean over its samples, as Keras's
fit reports it) are in extra_info, and printed with -s: all frameworks
reach the same loss per semantics (~11.35 after the first epoch with dense
Adam, ~11.85 with lazy Adam). Ratios: bench/report.py.

The strongest torch setup a user would pick, as measured on the 2-core
machine these were written on: the dense entry uses torch.optim.Adam(
fused=True), as its default implementation is ~5x slower here (23 vs 4.5 ms a
step: it allocates several table-sized temporaries per step); torch.compile
of the loss is no faster on top of it (5.3 ms; 18 ms with the default Adam),
so the dense group has no compiled entry. With SparseAdam, torch.compile of
the loss was faster in an isolated run (2.4 vs 3.7 ms a step) but not in
every run of this file, so the sparse group has both.
torch.compile's first call compiles for ~20 s (outside timing).

On a 2-core machine, run it with nothing else busy: torch's OpenMP threads
slow down by up to 10x when a core is taken by another process.
"""
import pytest

from recommender_peers import BUILDERS, SPEC, make_data

TIMED_RATINGS = SPEC["ratings"]
WARMUP_BATCHES = 4


@pytest.fixture(scope="module")
def data():
    return make_data(SPEC)


@pytest.mark.parametrize("semantics, framework", list(BUILDERS))
def test_train_recommender(benchmark, data, semantics, framework):
    if framework.startswith("torch"):
        torch = pytest.importorskip("torch")
        from fastembed import get_num_threads
        torch.set_num_threads(get_num_threads())
    elif framework == "keras":
        pytest.importorskip("keras")
    users, items, ratings = data
    model = BUILDERS[semantics, framework](SPEC)
    # Build / jit outside timing, on full batches and one as short as the epoch's last.
    warm = WARMUP_BATCHES * SPEC["batch"] + TIMED_RATINGS % SPEC["batch"]
    model.train_epoch(users[:warm], items[:warm], ratings[:warm])
    timed = (users[:TIMED_RATINGS], items[:TIMED_RATINGS], ratings[:TIMED_RATINGS])
    losses = []
    benchmark.group = f"epoch-recommender-{semantics}"
    benchmark.extra_info["samples"] = TIMED_RATINGS
    benchmark.pedantic(lambda: losses.append(model.train_epoch(*timed)), rounds=3, iterations=1)
    benchmark.extra_info["samples_per_s"] = TIMED_RATINGS / benchmark.stats.stats.median
    benchmark.extra_info["losses"] = losses
    print(f"\n{semantics} {framework}: loss per round {[round(loss, 4) for loss in losses]}")

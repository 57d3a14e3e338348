"""Replays the fuzz corpora (tests/fuzz/corpus/<target>/: seeds and every
past finding) through their targets: a finding that comes back fails here,
and under .ci/sanitize the replay runs with ASan/UBSan."""
import os
import sys

import pytest

FUZZ = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fuzz")
sys.path.insert(0, FUZZ)
from targets import TARGETS  # noqa: E402

CASES = [(target, name) for target in sorted(TARGETS)
         for name in sorted(os.listdir(os.path.join(FUZZ, "corpus", target)))]


def test_every_target_has_a_corpus():
    assert {target for target, _ in CASES} == set(TARGETS)


@pytest.mark.parametrize("target, name", CASES)
def test_corpus_input(target, name):
    with open(os.path.join(FUZZ, "corpus", target, name), "rb") as handle:
        TARGETS[target](handle.read())

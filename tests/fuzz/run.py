"""Run one fuzz target under atheris (pip install -e ".[fuzz]").

    python tests/fuzz/run.py TARGET [libFuzzer options...]

The corpus directory tests/fuzz/corpus/TARGET/ seeds the run; new inputs go
to a scratch directory unless a writable corpus directory is given as an
option-free argument. fastembed's Python code is instrumented for coverage;
the C extension is not (GCC has no -fsanitize=fuzzer): .ci/sanitize replays
the corpora under ASan/UBSan instead. Findings are written as crash-* files:
add each to the corpus and as a regression test.
A CI run:      python tests/fuzz/run.py vectors_glove -max_total_time=15
A release run: python tests/fuzz/run.py vectors_glove -max_total_time=3600 -jobs=2
"""
import os
import sys
import tempfile

import atheris

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

with atheris.instrument_imports(include=["fastembed", "targets"]):
    import fastembed.models  # noqa: F401
    import fastembed.preprocessing  # noqa: F401
    from targets import TARGETS


def main():
    name = sys.argv[1]
    target = TARGETS[name]
    seeds = os.path.join(HERE, "corpus", name)
    options = [a for a in sys.argv[2:] if a.startswith("-")]
    directories = [a for a in sys.argv[2:] if not a.startswith("-")] \
        or [tempfile.mkdtemp(prefix=f"fuzz-{name}-")]
    atheris.Setup([sys.argv[0], *options, *directories, seeds], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()

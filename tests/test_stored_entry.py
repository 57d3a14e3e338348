"""Reading a .keras file's weights entry in place (fastembed.saving.stored_entry):
the CRC-32 of two halves combined as zlib computes it whole, a flipped or
missing byte anywhere in the entry refused before any weight changes, and
compressed entries (other writers' files) still read."""
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

import fastembed
from fastembed.models import load_model
from fastembed.saving import stored_entry


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300), st.binary(max_size=300))
def test_crc32_combine_is_zlibs_crc_of_the_concatenation(first, second):
    combined = stored_entry.crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second))
    assert combined == zlib.crc32(first + second)


def test_crc32_combine_over_long_runs():
    second = bytes(3 << 20) + b"tail"  # exponents of many bits
    first = np.random.default_rng(0).bytes(1000)
    assert stored_entry.crc32_combine(zlib.crc32(first), zlib.crc32(second), len(second)) \
        == zlib.crc32(first + second)


def _model():
    return fastembed.Sequential([fastembed.Input((5,), dtype="int32"),
                                 fastembed.layers.Embedding(4000, 16),
                                 fastembed.layers.Flatten(), fastembed.layers.Dense(1)])


@pytest.fixture
def saved(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    return model, tmp_path / "m.keras"


@pytest.fixture(params=["one pass", "two halves in chunks"])
def checking(request, monkeypatch):
    if request.param == "two halves in chunks":
        monkeypatch.setattr(stored_entry, "PARALLEL", 1 << 10)
        monkeypatch.setattr(stored_entry, "CHUNK", 4096 + 7)


def _weights_range(path):
    """(first byte, size) of the weights entry's data within the file."""
    with zipfile.ZipFile(path) as archive:
        entry = stored_entry.StoredEntry(path, archive.getinfo("model.weights.h5"))
        with entry:
            return entry.start, entry.size


def test_stored_weights_load_exactly(saved, checking):
    model, path = saved
    for ours, theirs in zip(model.get_weights(), load_model(path).get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("where", [0.0, 0.3, 0.5, 0.999])
def test_a_flipped_byte_anywhere_is_refused(saved, checking, where):
    model, path = saved
    start, size = _weights_range(path)
    data = bytearray(path.read_bytes())
    data[start + int(where * (size - 1))] ^= 0x10
    path.write_bytes(bytes(data))
    target = _model()
    before = [w.copy() for w in target.get_weights()]
    for load in (load_model, target.load_weights):
        with pytest.raises(ValueError, match=r"model\.weights\.h5 is corrupted: its CRC-32"):
            load(path)
    for value, expected in zip(target.get_weights(), before):
        np.testing.assert_array_equal(value, expected)


def test_an_entry_cut_short_is_refused(saved, checking):
    model, path = saved
    start, size = _weights_range(path)
    with zipfile.ZipFile(path) as archive:  # a central directory that promises more bytes
        info = archive.getinfo("model.weights.h5")
    data = path.read_bytes()
    path.write_bytes(data[:start + size // 2])
    entry = stored_entry.StoredEntry(path, info)
    with entry, pytest.raises(ValueError, match="truncated inside model.weights.h5"):
        entry.verify()


def test_compressed_weights_entries_load(saved, tmp_path):
    model, path = saved
    deflated = tmp_path / "deflated.keras"
    with zipfile.ZipFile(path) as source, \
            zipfile.ZipFile(deflated, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
    for ours, theirs in zip(model.get_weights(), load_model(deflated).get_weights(),
                            strict=True):
        np.testing.assert_array_equal(ours, theirs)

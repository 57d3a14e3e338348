"""The TensorBoard callback (through tensorboardX): the scalars read back
from the event files are the fit's history, with Keras's tags and run
directories; the projector export holds each Embedding's matrix and labels."""
import glob
import os
import struct

import numpy as np
import pytest

from fastembed import callbacks
from fastembed.layers import Dense, Embedding, Flatten
from fastembed.models import Sequential
from fastembed.utils import set_random_seed

from tensorboardX.proto import event_pb2  # in the `test` extra, as `tensorboard`


def read_events(directory):
    """{tag: [(step, value)]} of the scalars, and the set of other tags, in
    the TFRecord-framed event files of a directory."""
    scalars, others = {}, set()
    for path in sorted(glob.glob(os.path.join(directory, "events.out.tfevents.*"))):
        with open(path, "rb") as f:
            data = f.read()
        offset = 0
        while offset < len(data):
            (length,) = struct.unpack("<Q", data[offset:offset + 8])
            event = event_pb2.Event.FromString(data[offset + 12:offset + 12 + length])
            offset += 12 + length + 4
            for value in event.summary.value:
                if value.HasField("simple_value"):
                    scalars.setdefault(value.tag, []).append((event.step, value.simple_value))
                else:
                    others.add(value.tag)
    return scalars, others


def trained(tmp_path, **kwargs):
    set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(0, 50, (96, 4))
    y = (x[:, 0] < 25).astype(np.float32)
    model = Sequential([Embedding(50, 3, name="words"), Flatten(), Dense(1, "sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    board = callbacks.TensorBoard(tmp_path / "logs", **kwargs)
    history = model.fit(x, y, epochs=3, batch_size=32, validation_data=(x[:32], y[:32]),
                        verbose=0, callbacks=[board])
    return model, history.history


def test_epoch_scalars_are_the_history_under_keras_tags(tmp_path):
    _, history = trained(tmp_path, histogram_freq=1)
    train, train_other = read_events(tmp_path / "logs" / "train")
    validation, _ = read_events(tmp_path / "logs" / "validation")
    for name in ("loss", "accuracy"):
        assert [s for s, _ in train[f"epoch_{name}"]] == [0, 1, 2]
        np.testing.assert_allclose([v for _, v in train[f"epoch_{name}"]], history[name],
                                   rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{name}"]],
                                   history[f"val_{name}"], rtol=1e-6)
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.001] * 3,
                               rtol=1e-6)
    assert "words/embeddings/histogram" in train_other
    assert "model" in " ".join(train_other)  # the summary, as text


def test_batch_scalars_every_update_freq_batches(tmp_path):
    trained(tmp_path, update_freq=2, write_graph=False)
    train, _ = read_events(tmp_path / "logs" / "train")
    assert [s for s, _ in train["batch_loss"]] == [2, 4, 6, 8]  # 3 batches x 3 epochs


def test_embedding_projector_export_with_metadata(tmp_path):
    labels = tmp_path / "labels.tsv"
    labels.write_text("".join(f"word{i}\n" for i in range(50)))
    # as Keras: exported when epoch % embeddings_freq == 0, here after epochs 0 and 2
    model, _ = trained(tmp_path, embeddings_freq=2, embeddings_metadata={"words": labels})
    log = tmp_path / "logs" / "train"
    config = (log / "projector_config.pbtxt").read_text()
    assert "words" in config
    tensors = sorted(glob.glob(str(log / "*" / "words" / "tensors.tsv")))
    assert [os.path.basename(os.path.dirname(os.path.dirname(t))) for t in tensors] == \
        ["00000", "00002"]
    np.testing.assert_allclose(np.loadtxt(tensors[-1], delimiter="\t"),
                               model.layers[0].embeddings.value, rtol=1e-5, atol=1e-7)
    metadata = os.path.join(os.path.dirname(tensors[0]), "metadata.tsv")
    assert open(metadata).read().split() == [f"word{i}" for i in range(50)]


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="update_freq"):
        callbacks.TensorBoard(tmp_path, update_freq=0)
    with pytest.raises(NotImplementedError, match="profile_batch"):
        callbacks.TensorBoard(tmp_path, profile_batch=2)
    labels = tmp_path / "labels.tsv"
    labels.write_text("a\nb\n")
    with pytest.raises(ValueError, match="has 2 labels, the Embedding 50 rows"):
        trained(tmp_path, embeddings_freq=1, embeddings_metadata=str(labels))

"""Keras's TensorBoard callback without TensorFlow, through tensorboardX
(`pip install fastembed-keras[tensorboard]`): epoch (and batch) scalars
under log_dir/train and log_dir/validation with Keras's tags, weight
histograms, and an embedding-projector export of every Embedding."""
import os
import time

import numpy as np

from fastembed.callbacks import Callback, _logged_rate


def _summary_writer(log_dir):
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ImportError("The TensorBoard callback writes through tensorboardX: "
                          "pip install 'fastembed-keras[tensorboard]'") from None
    return SummaryWriter(log_dir)


class TensorBoard(Callback):
    """log_dir/train gets "epoch_<name>" scalars of the training logs (with
    "epoch_learning_rate" and, with write_steps_per_second,
    "epoch_steps_per_second"), log_dir/validation those of the val_ logs
    without the prefix; update_freq ("batch" or N) adds "batch_<name>" every
    N batches. histogram_freq writes each weight's histogram as
    "<layer>/<weight>/histogram" (the weight's path); write_graph writes the model's summary as
    text (there is no TensorFlow graph to write). embeddings_freq exports
    each Embedding's matrix for the projector every that many epochs, with
    the labels of embeddings_metadata (a file of one label per row: a path,
    or a dict from layer name to path)."""

    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=True, write_images=False,
                 write_steps_per_second=False, update_freq="epoch", profile_batch=0,
                 embeddings_freq=0, embeddings_metadata=None):
        super().__init__()
        if write_images:
            raise NotImplementedError("TensorBoard(write_images=True) is not supported")
        if profile_batch:
            raise NotImplementedError("TensorBoard(profile_batch=...) is not supported: "
                                      "there is no TensorFlow profiler")
        if update_freq != "epoch" and update_freq != "batch" and (
                isinstance(update_freq, bool) or not isinstance(update_freq, int)
                or update_freq < 1):
            raise ValueError(f"`update_freq` must be 'epoch', 'batch' or a positive integer, "
                             f"got {update_freq!r}")
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq, self.write_graph = histogram_freq, write_graph
        self.write_steps_per_second = write_steps_per_second
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.embeddings_freq, self.embeddings_metadata = embeddings_freq, embeddings_metadata
        self._writers = {}
        self._global_batch = 0

    def _writer(self, name):
        if name not in self._writers:
            self._writers[name] = _summary_writer(os.path.join(self.log_dir, name))
        return self._writers[name]

    def uses_batch_hooks(self):
        return self.update_freq != "epoch"

    def on_train_begin(self, logs=None):
        self._global_batch = 0
        if self.write_graph:
            lines = []
            self.model.summary(print_fn=lambda line, *args, **kwargs: lines.append(line))
            self._writer("train").add_text("model", "\n".join(
                "    " + line for line in lines), 0)

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch_start, self._epoch_batches = time.perf_counter(), self._global_batch

    def on_train_batch_end(self, batch, logs=None):
        self._global_batch += 1
        if self.update_freq != "epoch" and self._global_batch % self.update_freq == 0:
            writer = self._writer("train")
            for name, value in (logs or {}).items():
                writer.add_scalar(f"batch_{name}", value, self._global_batch)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        train = {k: v for k, v in logs.items() if not k.startswith("val_")}
        train["learning_rate"] = _logged_rate(self.model.optimizer)
        if self.write_steps_per_second:
            train["steps_per_second"] = (self._global_batch - self._epoch_batches) / \
                (time.perf_counter() - self._epoch_start)
        for writer_name, values in (("train", train), ("validation", {
                k[4:]: v for k, v in logs.items() if k.startswith("val_")})):
            if values:
                writer = self._writer(writer_name)
                for name, value in values.items():
                    writer.add_scalar(f"epoch_{name}", value, epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for layer in self.model.layers:
                for weight in layer.weights:
                    writer.add_histogram(f"{weight.name}/histogram",
                                         np.asarray(weight.value), epoch)
        if self.embeddings_freq and epoch % self.embeddings_freq == 0:
            self._write_embeddings(epoch)
        for writer in self._writers.values():
            writer.flush()

    def _write_embeddings(self, epoch):
        from fastembed.layers import Embedding
        writer = self._writer("train")
        for layer in self.model.layers:
            if isinstance(layer, Embedding):
                writer.add_embedding(np.asarray(layer.embeddings.value),
                                     metadata=self._labels(layer), tag=layer.name,
                                     global_step=epoch)

    def _labels(self, layer):
        path = self.embeddings_metadata
        if isinstance(path, dict):
            path = path.get(layer.name)
        if path is None:
            return None
        with open(path, encoding="utf-8") as f:
            labels = f.read().splitlines()
        if len(labels) != layer.input_dim:
            raise ValueError(f"embeddings_metadata for {layer.name!r} ({path}) has "
                             f"{len(labels)} labels, the Embedding {layer.input_dim} rows")
        return labels

    def on_train_end(self, logs=None):
        for writer in self._writers.values():
            writer.close()
        self._writers = {}

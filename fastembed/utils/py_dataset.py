"""Keras's PyDataset: a dataset of batches for fit / evaluate / predict."""


class PyDataset:
    """Subclass it and define __len__ (the number of batches) and
    __getitem__(index) (batch `index`: x, (x, y) or (x, y, sample_weight));
    on_epoch_begin / on_epoch_end are called around each epoch.

    workers > 1 fetches batches ahead on that many threads (in order);
    max_queue_size bounds the batches fetched ahead."""

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 0:
            raise ValueError(f"`workers` must be a non-negative integer, got {workers!r}")
        if use_multiprocessing:
            raise ValueError("PyDataset(use_multiprocessing=True) is not supported: use "
                             "workers > 1 (threads)")
        if isinstance(max_queue_size, bool) or not isinstance(max_queue_size, int) \
                or max_queue_size < 1:
            raise ValueError(f"`max_queue_size` must be a positive integer, got "
                             f"{max_queue_size!r}")
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must implement __getitem__(index)")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must implement __len__()")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass

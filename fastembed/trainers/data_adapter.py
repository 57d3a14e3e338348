"""Data given to fit / evaluate / predict, as lists of arrays in the
model's input and output order, and the batches of an epoch."""
import itertools
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fastembed.utils.random import generator

DEFAULT_BATCH_SIZE = 32


def _is_string_array(array):
    """A numpy array of strings: 'U'/'S', or object whose first value is a
    str or bytes (a preprocessing layer checks every value)."""
    if array.dtype.kind in "UST":
        return True
    return array.dtype == object and array.size > 0 and \
        isinstance(array.flat[0], (str, bytes))


def as_array(data, argument, allow_strings=False):
    """data as a numeric numpy array; with allow_strings (model inputs,
    for a StringLookup / Hashing first layer) also as an array of strings."""
    if data is None:
        raise ValueError(f"`{argument}` must be given")
    if isinstance(data, np.ndarray) and (data.dtype != object or allow_strings):
        array = data
    else:
        try:
            array = np.asarray(data)
        except ValueError:  # numpy >= 1.24 refuses ragged nested lists
            array = None
        if array is not None and array.dtype == object and allow_strings \
                and _is_string_array(array):
            pass
        elif array is None or array.dtype == object:
            kind = "a generator or iterator" if hasattr(data, "__next__") else \
                "ragged or object data"
            raise TypeError(f"`{argument}` must be a numeric array, got {kind} (pad sequences "
                            f"first with fastembed.utils.pad_sequences)")
    if not (array.dtype.kind in "biuf" or (allow_strings and _is_string_array(array))):
        what = "a numeric or string array" if allow_strings else "a numeric array"
        raise TypeError(f"`{argument}` must be {what}, got dtype {array.dtype}")
    if array.ndim == 0:
        raise ValueError(f"`{argument}` must have a batch dimension, got a scalar")
    return array


def check_finite(arrays, argument):
    """Training data must be finite: one NaN would turn every weight it
    reaches into NaN. Names the first bad entry."""
    for i, array in enumerate(arrays):
        if array.dtype.kind == "f" and not np.isfinite(array).all():
            where = np.unravel_index(np.argmin(np.isfinite(array)), array.shape)
            name = argument if len(arrays) == 1 else f"{argument}[{i}]"
            raise ValueError(f"`{name}` holds a non-finite value: {name}"
                             f"[{', '.join(map(str, where))}] = {array[where]}")


def check_keys(data, names, argument):
    """A dict given for `argument` must have exactly the keys names."""
    missing = [n for n in names if n not in data]
    unknown = [k for k in data if k not in names]
    if missing or unknown:
        raise ValueError(f"`{argument}` is a dict whose keys must be {names}; "
                         f"missing: {missing}, unknown: {unknown}")


def as_list(data, names, argument, allow_strings=False):
    """data (one array, a list, or a dict keyed by names) as a list of
    arrays in the order of names."""
    if isinstance(data, dict):
        check_keys(data, names, argument)
        return [as_array(data[n], f"{argument}[{n!r}]", allow_strings) for n in names]
    if len(names) == 1:
        if isinstance(data, (list, tuple)) and len(data) == 1 and hasattr(data[0], "shape"):
            data = data[0]
        return [as_array(data, argument, allow_strings)]
    if not isinstance(data, (list, tuple)):
        raise ValueError(f"`{argument}` must be a list of {len(names)} arrays (or a dict "
                         f"keyed by {names}), got a single {type(data).__name__}")
    if len(data) != len(names):
        raise ValueError(f"`{argument}` must be a list of {len(names)} arrays, one per "
                         f"{names}, got a list of {len(data)}")
    return [as_array(a, f"{argument}[{i}]", allow_strings) for i, a in enumerate(data)]


def check_cardinality(xs, ys=None):
    sizes = {len(a) for a in xs + (ys or [])}
    if len(sizes) > 1:
        raise ValueError(f"Data cardinality is ambiguous: x sizes: "
                         f"{', '.join(str(len(a)) for a in xs)}, y sizes: "
                         f"{', '.join(str(len(a)) for a in ys or [])}. Make sure all arrays "
                         f"contain the same number of samples.")
    return sizes.pop()


def check_batch_size(batch_size):
    if batch_size is None:
        return DEFAULT_BATCH_SIZE
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive integer, got {batch_size!r}")
    return int(batch_size)


def check_steps(steps, argument):
    if steps is not None and (isinstance(steps, bool) or not isinstance(
            steps, (int, np.integer)) or steps <= 0):
        raise ValueError(f"`{argument}` must be None or a positive integer, got {steps!r}")


def split_validation(xs, ys, validation_split):
    """(xs, ys, validation data) with the last validation_split of the
    samples held out, as Keras does."""
    if not 0 <= validation_split < 1:
        raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
    split = int(len(xs[0]) * (1 - validation_split))
    return ([a[:split] for a in xs], [a[:split] for a in ys],
            ([a[split:] for a in xs], [a[split:] for a in ys]))


def ran_out(step, steps_argument):
    """Keras's warning when the data ends before an epoch's `steps`."""
    warnings.warn(f"Your input ran out of data; interrupting training. Make sure that your "
                  f"dataset or generator can generate at least `{steps_argument} * epochs` "
                  f"batches. (It ran out after {step} batches of this epoch.)", stacklevel=3)


class Epochs:
    """Which batches each epoch takes from passes over data, as Keras's
    EpochIterator: without `steps` each epoch is one fresh pass; with
    `steps`, an epoch takes the next `steps` batches of the current pass,
    so the next epoch continues where it stopped. A pass of a known
    num_batches that ends within an epoch ends that epoch early (with
    Keras's warning) and the next epoch starts a new pass. A pass that
    ends unforeseen (a generator, an iterable of unknown length) ends the
    epoch; when `steps` was given or nothing came, with the warning, and
    `ran_dry` is set."""

    def __init__(self, num_batches, steps, steps_argument):
        self.num_batches, self.given_steps = num_batches, steps
        self.steps_argument = steps_argument
        self.steps = steps or num_batches  # None: until the data ends
        self.ran_dry = False
        self._pass, self._seen = None, 0

    def start(self, new_pass):
        """The pass the coming epoch reads (a new one unless continuing);
        reading its next batch ahead is allowed before epoch() (push it back)."""
        if self._pass is None or (self.given_steps is None and self._seen):
            self._pass, self._seen = new_pass(), 0
        return self._pass

    def push_back(self, item):
        self._pass = itertools.chain([item], self._pass)

    def epoch(self, new_pass):
        """(step, item of the pass) of one epoch."""
        source = self.start(new_pass)
        step = 0
        while self.steps is None or step < self.steps:
            if self.num_batches is not None and self._seen >= self.num_batches:
                ran_out(step, self.steps_argument)
                break
            item = next(source, _END)
            if item is _END:
                if self.steps is not None or step == 0:
                    ran_out(step, self.steps_argument)
                    self.ran_dry = True
                self._pass = None
                return
            self._seen += 1
            yield step, item
            step += 1
        if self.num_batches is not None and self._seen >= self.num_batches:
            self._pass = None


class ArrayBatches:
    """The batches of in-memory arrays: passes of consecutive slices (of a
    fresh permutation of the samples, when shuffling), num_batches to a
    pass, served to epochs as Keras's EpochIterator does (Epochs)."""

    def __init__(self, arrays, num_samples, batch_size, steps=None, shuffle=False,
                 steps_argument="steps"):
        self.arrays, self.num_samples, self.batch_size = arrays, num_samples, batch_size
        self.shuffle = shuffle
        self._epochs = Epochs(-(-num_samples // batch_size), steps, steps_argument)
        self.steps = self._epochs.steps
        self.exhausted = False  # arrays never run dry

    def epoch(self):
        return self._epochs.epoch(self._pass)

    def _pass(self):
        order = generator().permutation(self.num_samples) if self.shuffle else None
        for start in range(0, self.num_samples, self.batch_size):
            if order is None:
                yield [a[start:start + self.batch_size] for a in self.arrays]
            else:
                index = order[start:start + self.batch_size]
                yield [a[index] for a in self.arrays]

    def on_epoch_end(self):
        pass


def is_stream(data):
    """Whether data is a source of batches (a generator or iterator, a
    PyDataset or an object with its protocol, an iterable such as a torch
    DataLoader) rather than arrays (anything np.asarray takes as numbers)."""
    if data is None or isinstance(data, (np.ndarray, list, tuple, dict, str, bytes)) \
            or hasattr(data, "__array__") or hasattr(data, "shape"):
        return False
    return hasattr(data, "__next__") or hasattr(data, "__iter__") or \
        (hasattr(data, "__getitem__") and hasattr(data, "__len__"))


class _Replayed:
    """Batches read once, iterated afresh each time."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def validation_source(data, steps):
    """fit's validation data: as Keras documents validation_steps, each
    epoch evaluates from the start of the data, the same batches; so the
    first `steps` batches of a generator or iterator are kept."""
    if steps is None or not hasattr(data, "__next__"):
        return data
    return _Replayed(list(itertools.islice(data, steps)))


def unpack_batch(batch):
    """(x, y, sample_weight) of a batch given as x, (x,), (x, y) or
    (x, y, sample_weight), as Keras unpacks them."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if not 1 <= len(batch) <= 3:
        raise ValueError(f"A batch must be x, (x,), (x, y) or (x, y, sample_weight); got a "
                         f"tuple of {len(batch)} elements")
    return batch + (None,) * (3 - len(batch))


class StreamBatches:
    """The batches of a stream, as lists of arrays: the model's inputs, its
    targets, then the sample weights of the outputs that have them (the
    first batch decides which; sample_weights.pack's layout), each batch
    checked against the first one.

    A PyDataset (or an object with __len__ and __getitem__) makes passes
    over batches 0 .. len - 1, in a shuffled order when asked, hears
    on_epoch_begin and on_epoch_end around each epoch, and with workers > 1
    threads fetch its batches ahead, in order. An iterable (a torch
    DataLoader) is iterated afresh for each pass; a generator or iterator is
    one pass. Epochs take the passes' batches as Keras's do (Epochs): with
    `steps`, an epoch continues where the last one stopped. Data that runs
    dry before `steps` ends the epoch with Keras's warning; a generator or
    iterator is then `exhausted`, and fit stops.

    `weigh(sample_weight, ys, where)` turns a batch's sample_weight into
    one array or None per output; it runs on the first batch only when
    first_sample_weights() is asked (once the model is built)."""

    def __init__(self, data, input_names, output_names, steps, steps_argument,
                 shuffle=False, weigh=None):
        check_steps(steps, steps_argument)
        self.data, self.input_names, self.output_names = data, input_names, output_names
        self.shuffle, self.weigh = shuffle, weigh
        self.one_shot = hasattr(data, "__next__")
        self.indexed = not self.one_shot and hasattr(data, "__getitem__") \
            and hasattr(data, "__len__")
        self._epochs = Epochs(len(data) if not self.one_shot and hasattr(data, "__len__")
                              else None, steps, steps_argument)
        self.steps = self._epochs.steps
        self._shapes = None
        self._weighted = None  # which outputs have sample weights, from the first batch
        self._first = None  # (first raw batch, its xs + ys), read early to build
        self._begun = False  # on_epoch_begin heard for the coming epoch

    @property
    def exhausted(self):
        return self.one_shot and self._epochs.ran_dry

    def first(self):
        """The first batch as (xs, ys), read ahead of the first epoch (which
        still serves it first)."""
        if self._first is None:
            self._begin()
            raw = next(self._epochs.start(self._source), _END)
            if raw is _END:
                raise ValueError(f"The data ({type(self.data).__name__}) ran out before its "
                                 f"first batch: it must yield at least one")
            self._epochs.push_back(raw)
            self._first = (raw, self._convert(0, raw))
        arrays = self._first[1]
        return arrays[:len(self.input_names)], arrays[len(self.input_names):]

    def first_sample_weights(self):
        """The first batch's sample weights: one array or None per output."""
        raw, arrays = self._first
        return self._sample_weights(0, raw, arrays[len(self.input_names):])

    def epoch(self):
        """(step, xs + ys + sample weights) of one epoch."""
        self._begin()
        for step, raw in self._epochs.epoch(self._source):
            arrays = self._convert(step, raw)
            yield step, arrays + self._present_weights(step, raw, arrays)

    def _begin(self):
        if not self._begun and callable(getattr(self.data, "on_epoch_begin", None)):
            self.data.on_epoch_begin()
        self._begun = True

    def on_epoch_end(self):
        self._begun = False
        if callable(getattr(self.data, "on_epoch_end", None)):
            self.data.on_epoch_end()

    def _source(self):
        """A new pass over the data."""
        if self.one_shot:
            return self.data
        if not self.indexed:
            return iter(self.data)
        order = generator().permutation(len(self.data)) if self.shuffle \
            else range(len(self.data))
        if getattr(self.data, "use_multiprocessing", False):
            raise ValueError(f"{type(self.data).__name__}(use_multiprocessing=True) is not "
                             f"supported: use workers > 1 (threads)")
        workers = getattr(self.data, "workers", 1) or 1
        if workers > 1:
            return _prefetched(self.data, order, workers,
                               getattr(self.data, "max_queue_size", 10) or 10)
        return (self.data[int(i)] for i in order)

    def _convert(self, step, raw):
        """xs + ys of a raw batch, checked against the first batch."""
        x, y, _ = unpack_batch(raw)
        where = f"batch {step} of the data"
        xs = as_list(x, self.input_names, f"x of {where}", allow_strings=True)
        ys = []
        if self.output_names:
            if y is None:
                raise ValueError(f"{where.capitalize()} has no targets: batches must be "
                                 f"(x, y) or (x, y, sample_weight)")
            ys = as_list(y, self.output_names, f"y of {where}")
        arrays = xs + ys
        shapes = [(a.shape[1:], a.dtype.kind) for a in arrays]
        if any(len(a) != len(arrays[0]) for a in arrays):
            check_cardinality(xs, ys)
        if self._shapes is None:
            self._shapes = shapes
        elif shapes != self._shapes:
            names = [f"x[{n!r}]" for n in self.input_names] + \
                [f"y[{n!r}]" for n in self.output_names]
            bad = next(i for i, (a, b) in enumerate(zip(shapes, self._shapes)) if a != b)
            raise ValueError(f"Inconsistent batches: {names[bad]} of {where} has per-sample "
                             f"shape {shapes[bad][0]} and dtype kind {shapes[bad][1]!r}, the "
                             f"first batch had {self._shapes[bad][0]} and "
                             f"{self._shapes[bad][1]!r}")
        return arrays

    def _sample_weights(self, step, raw, ys):
        """One array or None per output (none without `weigh`: predict)."""
        sample_weight = unpack_batch(raw)[2]
        if self.weigh is None or sample_weight is None:
            weights = [None] * len(self.output_names)
        else:
            weights = self.weigh(sample_weight, ys, f"sample_weight of batch {step} of the data")
        weighted = [w is not None for w in weights]
        if self._weighted is None:
            self._weighted = weighted
        elif weighted != self._weighted:
            raise ValueError(f"Inconsistent batches: batch {step} of the data has sample "
                             f"weights for outputs {_flagged(self.output_names, weighted)}, "
                             f"the first batch for {_flagged(self.output_names, self._weighted)}")
        return weights

    def _present_weights(self, step, raw, arrays):
        ys = arrays[len(self.input_names):]
        return [w for w in self._sample_weights(step, raw, ys) if w is not None]


def _flagged(names, flags):
    return [name for name, flag in zip(names, flags) if flag]


_END = object()


def _prefetched(dataset, order, workers, queue_size):
    """dataset[i] for i in order, fetched ahead by `workers` threads,
    yielded in order; at most queue_size batches wait."""
    with ThreadPoolExecutor(workers) as pool:
        pending = deque()
        for index in order:
            pending.append(pool.submit(dataset.__getitem__, int(index)))
            if len(pending) >= queue_size:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

"""Model files in Keras's formats, both ways: .keras (Keras 3), .weights.h5
(Keras 3's weights), and the legacy HDF5 .h5 of Keras 2 / tf.keras (read).
Files are written atomically and read without unpickling or running code;
a file that is not what it claims is a ValueError, and a model is changed
only once everything in the file has been checked against it."""
import os

import h5py

from fastembed.engine.layer import weights_assigned_next
from fastembed.saving import keras_file, legacy_h5, weights_h5
from fastembed.saving.files import file_kind, write_atomically
from fastembed.saving.h5_image import h5_image
from fastembed.saving.serialization import (  # noqa: F401
    compile_from_config, deserialize_layer, deserialize_model, loading_scope, serialize_layer)

# What parsing a damaged file raises from zipfile, json and h5py: whatever
# the file's bytes make them raise (h5py reports corrupt internals as
# RuntimeError, and a group where a dataset belongs as TypeError or
# AttributeError), so all of it is the file's fault.
_FILE_ERRORS = (Exception,)


def _check_overwrite(filepath, overwrite):
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} exists and overwrite=False")


def save_model(model, filepath, overwrite=True):
    """Keras 3's .keras file, or the legacy HDF5 format for .h5 / .hdf5 (as Keras)."""
    filepath = os.fspath(filepath)
    legacy = filepath.endswith((".h5", ".hdf5"))
    if not (legacy or filepath.endswith(".keras")):
        raise ValueError(f"Invalid filepath extension for saving: {filepath!r}. Please add "
                         f"either a `.keras` extension for the native Keras format "
                         f"(recommended) or a `.h5` extension (legacy HDF5)")
    _check_overwrite(filepath, overwrite)
    if not model.built:
        raise ValueError("Save needs a built model: call it on data, fit it or build() it first")
    if legacy:
        with h5_image(lambda h5file, dataset: legacy_h5.write_legacy(
                h5file, dataset, model, keras_file.KERAS_VERSION)) as image:
            write_atomically(filepath, image.write_to)
    else:
        write_atomically(filepath, lambda handle: keras_file.write_keras_file(handle, model))


def save_weights(model, filepath, overwrite=True):
    filepath = os.fspath(filepath)
    if not filepath.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: "
                         f"filepath={filepath!r}")
    _check_overwrite(filepath, overwrite)
    with h5_image(lambda h5file, dataset: weights_h5.write_state(h5file, dataset, model)) \
            as image:
        write_atomically(filepath, image.write_to)


def _guarded(filepath, read):
    """read(), with a file that cannot be parsed reported as a ValueError."""
    try:
        return read()
    except (FileNotFoundError, MemoryError):
        raise
    except ValueError as error:  # every error about a file names the file
        if os.fspath(filepath) in str(error):
            raise
        raise ValueError(f"{os.fspath(filepath)!r}: {error}") from None
    except _FILE_ERRORS as error:
        raise ValueError(f"{filepath!r} is not a readable Keras file: it is truncated, "
                         f"corrupted or of another kind ({type(error).__name__}: "
                         f"{error})") from None


def _open(filepath):
    """(config or None, weights h5py group, optimizer arrays or None, layout)
    of a Keras file: layout 'keras' (Keras 3) or 'legacy' (HDF5 .h5)."""
    kind = file_kind(filepath)
    if kind == "zip":
        config, h5file = keras_file.read_keras_file(filepath)
        if h5file is None:
            raise ValueError(f"{filepath!r} has no {keras_file.WEIGHTS}")
        return config, h5file, weights_h5.read_optimizer_state(h5file), "keras"
    if kind == "hdf5":
        h5file = h5py.File(filepath, "r")
        if "layers" in h5file or "vars" in h5file:
            return None, h5file, weights_h5.read_optimizer_state(h5file), "keras"
        config = legacy_h5.read_config(h5file, "model_config")
        if config is not None:
            config["compile_config"] = legacy_h5.read_config(h5file, "training_config")
        return config, h5file, legacy_h5.read_optimizer_state(h5file), "legacy"
    raise ValueError(f"{filepath!r} is neither a .keras (zip) nor an HDF5 file")


def _read_weights(h5file, model, layout, source):
    if layout == "keras":
        return weights_h5.read_state(h5file, model, source)
    return legacy_h5.read_weights(legacy_h5.weights_group(h5file), model, source)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A model from a .keras or legacy .h5 file written by Keras or fastembed."""
    filepath = os.fspath(filepath)

    def read():
        config, h5file, optimizer_state, layout = _open(filepath)
        with h5file:
            if config is None:
                raise ValueError(f"{filepath!r} holds weights only; build the model and call "
                                 f"load_weights")
            with weights_assigned_next():  # _read_weights covers every weight, or fails
                model = deserialize_model(config, custom_objects, safe_mode)
            for variable, value in _read_weights(h5file, model, layout, repr(filepath)):
                variable.value = value  # a fresh array nothing else holds yet: no copy
            if file_kind(filepath) == "zip":
                keras_file.load_assets(filepath, model)
            if compile and config.get("compile_config"):
                with loading_scope(custom_objects, safe_mode):
                    compile_from_config(model, config["compile_config"])
                if optimizer_state:
                    weights_h5.assign_optimizer_state(model, optimizer_state, repr(filepath))
            return model
    return _guarded(filepath, read)


def load_weights(model, filepath):
    """The weights (and a compiled model's optimizer state) of a .keras,
    .weights.h5 or legacy .h5 file; the model is unchanged on any error."""
    filepath = os.fspath(filepath)

    def read():
        _, h5file, optimizer_state, layout = _open(filepath)
        with h5file:
            pairs = _read_weights(h5file, model, layout, repr(filepath))
        for variable, value in pairs:
            variable.assign(value)
        if optimizer_state and getattr(model, "optimizer", None) is not None:
            weights_h5.assign_optimizer_state(model, optimizer_state, repr(filepath))
    _guarded(filepath, read)

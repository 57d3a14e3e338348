"""Weight and model files: .npz archives (zip), never pickled, written
atomically so that a failed save leaves the old file intact."""
import json
import os
import tempfile
import zipfile

import numpy as np

FORMAT_KEY = "__fastembed_format__"
WEIGHTS_FORMAT = "fastembed-weights-1"
MODEL_FORMAT = "fastembed-model-1"


def _encode_text(text):
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def _decode_text(array):
    return array.tobytes().decode("utf-8")


def write_archive(path, file_format, arrays, metadata=None):
    """Write arrays (name -> ndarray) and a JSON metadata dict to path, atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    entries = {FORMAT_KEY: _encode_text(file_format)}
    if metadata is not None:
        entries["__metadata__"] = _encode_text(json.dumps(metadata))
    entries.update(arrays)
    prefix = f".{os.path.basename(path)}.tmp-"
    _remove_orphans(directory, prefix)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f"{prefix}{os.getpid()}-")
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **entries)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


def _remove_orphans(directory, prefix):
    """Remove the temporary files of earlier saves to the same path whose
    process is gone (killed mid-save); a live process's file stays."""
    for name in os.listdir(directory):
        pid = name[len(prefix):].split("-", 1)[0]
        if not (name.startswith(prefix) and pid.isdigit()):
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join(directory, name))
            except FileNotFoundError:
                pass
        except PermissionError:  # alive, another user's
            pass


def read_archive(path, file_format):
    """(arrays, metadata) of a file written by write_archive with file_format.
    Any malformed file raises ValueError naming it (FileNotFoundError if there
    is none); arrays are numeric ndarrays and metadata a dict or None."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    try:
        archive = np.load(path, allow_pickle=False)
        if not isinstance(archive, np.lib.npyio.NpzFile):  # a bare .npy array
            raise ValueError("a single array, not an archive")
        with archive:
            entries = {name: archive[name] for name in archive.files}
        for name, value in entries.items():
            if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
                raise ValueError(f"entry {name!r} is not a numeric array")
        found = _decode_text(entries.pop(FORMAT_KEY)) if FORMAT_KEY in entries else None
        metadata = json.loads(_decode_text(entries.pop("__metadata__"))) \
            if "__metadata__" in entries else None
    except Exception as error:  # noqa: BLE001 - zipfile, numpy's header parser, json
        raise ValueError(f"{path!r} is not a readable fastembed file "
                         f"({type(error).__name__}: {error})") from None
    if found != file_format:
        raise ValueError(f"{path!r} is not a {file_format} file (found format {found!r})")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValueError(f"{path!r}: its metadata is not a JSON object")
    return entries, metadata


def serialize_layer(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(entry, custom_objects=None):
    """A layer (or a nested model) from {"class_name", "config"}: fastembed's
    classes, or custom_objects for a user's own."""
    from fastembed import layers as layers_module
    from fastembed import models as models_module
    from fastembed.engine.layer import Layer
    if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
        raise ValueError(f"A layer entry must be a dict with 'class_name' and 'config', "
                         f"got {entry!r}")
    name = entry.get("class_name")
    layer_class = (custom_objects or {}).get(name) or getattr(layers_module, str(name), None) \
        or getattr(models_module, str(name), None)
    if not (isinstance(layer_class, type) and issubclass(layer_class, Layer)):
        raise ValueError(f"Unknown layer class {name!r}; pass it in custom_objects")
    config = dict(entry["config"])
    if hasattr(layer_class, "graph") or name in ("Sequential", "Functional", "Model"):
        return layer_class.from_config(config, custom_objects)
    return layer_class.from_config(config)

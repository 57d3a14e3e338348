"""The .keras file of Keras 3: a zip of metadata.json, config.json (the
model's config, fastembed.saving.serialization), model.weights.h5
(fastembed.saving.weights_h5) and assets/ (files of layers with
save_assets / load_assets, such as a lookup's vocabulary.txt)."""
import datetime
import io
import json
import os
import tempfile
import zipfile

import h5py

from fastembed.saving import weights_h5
from fastembed.saving.h5_image import h5_image
from fastembed.saving.stored_entry import StoredEntry
from fastembed.saving.serialization import serialize_layer

KERAS_VERSION = "3.15.1"  # the Keras release whose format fastembed writes
CONFIG = "config.json"
METADATA = "metadata.json"
WEIGHTS = "model.weights.h5"
ASSETS = "assets/"


def write_keras_file(handle, model):
    from fastembed import __version__
    config = json.dumps(serialize_layer(model))
    metadata = json.dumps({"keras_version": KERAS_VERSION, "fastembed_version": __version__,
                           "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")})
    with h5_image(lambda h5file, dataset: weights_h5.write_state(h5file, dataset, model)) \
            as weights, zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA, metadata)
        archive.writestr(CONFIG, config)
        with archive.open(WEIGHTS, "w", force_zip64=True) as entry:
            weights.write_to(entry)
        write_assets(archive, model)


def write_assets(archive, model):
    """Each asset layer's files under assets/<its path>/, as Keras stores them."""
    for path, layer in weights_h5.asset_layers(model):
        with tempfile.TemporaryDirectory() as directory:
            layer.save_assets(directory)
            for name in sorted(os.listdir(directory)):
                archive.write(os.path.join(directory, name), f"{ASSETS}{path}/{name}")


def load_assets(path, model):
    """Give each asset layer of model its files from the .keras file at path.
    Only plain file names directly under a layer's folder are written out."""
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for layer_path, layer in weights_h5.asset_layers(model):
            prefix = f"{ASSETS}{layer_path}/"
            files = [n for n in names if n.startswith(prefix) and "/" not in n[len(prefix):]
                     and n[len(prefix):] not in ("", ".", "..")]
            if not files:
                continue
            with tempfile.TemporaryDirectory() as directory:
                for name in files:
                    with open(os.path.join(directory, name[len(prefix):]), "wb") as handle:
                        handle.write(archive.read(name))
                layer.load_assets(directory)


def read_keras_file(path):
    """(config dict, weights h5py.File or None) of a .keras file."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if CONFIG not in names:
                raise ValueError(f"{path!r} is not a Keras model file: the zip has no {CONFIG} "
                                 f"(it holds {sorted(names)[:10]})")
            config = json.loads(archive.read(CONFIG).decode("utf-8"))
            weights = _weights_file(archive, path) if WEIGHTS in names else None
    except ValueError:
        raise
    except Exception as error:  # noqa: BLE001 - zipfile, zlib and json parse the bytes
        raise ValueError(f"{path!r} is not a readable Keras file: its zip is truncated, "
                         f"corrupted or unsupported ({type(error).__name__}: {error})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path!r}: {CONFIG} holds {type(config).__name__}, not a model config")
    return config, None if weights is None else h5py.File(weights, "r")


def _weights_file(archive, path):
    """The weights entry of the open archive (of the file at path) as a file
    for h5py: read in place when stored (fastembed and Keras store it), else
    inflated into memory."""
    info = archive.getinfo(WEIGHTS)
    if info.compress_type != zipfile.ZIP_STORED:
        return io.BytesIO(archive.read(info))
    entry = StoredEntry(path, info)
    try:
        entry.verify()
    except BaseException:
        entry.close()
        raise
    return entry

"""Writing files atomically and telling Keras's file formats apart."""
import io
import os
import tempfile

ZIP_MAGIC = b"PK\x03\x04"
HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def write_atomically(path, write):
    """write(handle) into a temporary file beside path, then rename it to
    path: a failed save leaves the old file intact."""
    path = os.fspath(path)
    directory, prefix = _temporary_prefix(path)
    _remove_orphans(directory, prefix)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=f"{prefix}{os.getpid()}-")
    try:
        with io.BufferedWriter(_WritebackFile(fd, "w")) as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class _WritebackFile(io.FileIO):
    """A file whose written bytes the kernel starts writing to disk at once
    (posix_fadvise DONTNEED does that on Linux): the final fsync then finds
    little left to write, and no backlog of dirty pages slows the writes."""

    def write(self, data):
        start = self.tell()
        count = super().write(data)
        if count and hasattr(os, "posix_fadvise"):
            os.posix_fadvise(self.fileno(), start, count, os.POSIX_FADV_DONTNEED)
        return count


def _temporary_prefix(path):
    """(directory, name prefix) of write_atomically's temporary files for path."""
    return os.path.dirname(os.path.abspath(path)), f".{os.path.basename(path)}.tmp-"


def remove_orphans(path):
    """Remove what saves to path killed mid-write left (see _remove_orphans)."""
    _remove_orphans(*_temporary_prefix(os.fspath(path)))


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


def file_kind(path):
    """'zip', 'hdf5' or None (another kind of file), from its first bytes."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(ZIP_MAGIC):
        return "zip"
    if head == HDF5_MAGIC:
        return "hdf5"
    return None

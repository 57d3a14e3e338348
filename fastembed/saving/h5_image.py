"""HDF5 files written without copying the datasets' bytes: h5py builds the
file's metadata in memory, a large dataset's storage is allocated in the
file but never written by HDF5, and write_to sends the metadata's bytes
with each large array's bytes in its place to a file or a zip entry."""
import io
import mmap

import h5py
import numpy as np

SMALL = 1 << 16  # bytes: smaller arrays (and scalars) are written by h5py itself
CHUNK = 16 << 20  # bytes per write of a large array


class H5Image(io.RawIOBase):
    """The file h5py writes the HDF5 file into: an anonymous memory map,
    whose pages stay unallocated where nothing is written (the large
    datasets' storage). Close it (or use it in a with) after write_to."""

    def __init__(self):
        super().__init__()
        self.buffer = mmap.mmap(-1, 1 << 20, flags=mmap.MAP_PRIVATE)  # (a shared one cannot grow)
        self.position = self.size = 0
        self.arrays = []  # (file offset, C-contiguous array) of the large datasets

    def close(self):
        self.buffer.close()
        super().close()

    def dataset(self, group, name, array):
        """Add to group a dataset of array's shape, dtype and values."""
        array = np.asarray(array, order="C")
        if array.ndim == 0 or array.nbytes < SMALL:
            group.create_dataset(name, data=array)
            return
        plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
        plist.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)  # its place is known now
        plist.set_fill_time(h5py.h5d.FILL_TIME_NEVER)  # and HDF5 never writes it
        dataset = group.create_dataset(name, array.shape, array.dtype, dcpl=plist)
        self.arrays.append((dataset.id.get_offset(), array))

    def write_to(self, handle):
        """The file's bytes, in order, to handle (a binary file or zip entry)."""
        position = 0
        with memoryview(self.buffer) as image:
            for offset, array in sorted(self.arrays, key=lambda item: item[0]):
                handle.write(image[position:offset])
                data = memoryview(array.reshape(-1).view(np.uint8))
                for start in range(0, len(data), CHUNK):
                    handle.write(data[start:start + CHUNK])
                position = offset + len(data)
            handle.write(image[position:self.size])

    # ---- the file object h5py's fileobj driver uses ------------------------
    def readable(self):
        return True

    def writable(self):
        return True

    def seekable(self):
        return True

    def _reserve(self, end):
        if end > len(self.buffer):
            self.buffer.resize(max(end, 2 * len(self.buffer)))

    def seek(self, offset, whence=0):
        self.position = (0, self.position, self.size)[whence] + offset
        return self.position

    def tell(self):
        return self.position

    def write(self, data):
        data = memoryview(data).cast("B")
        end = self.position + len(data)
        self._reserve(end)
        self.buffer[self.position:end] = data
        self.position, self.size = end, max(self.size, end)
        return len(data)

    def readinto(self, out):
        out = memoryview(out).cast("B")
        count = max(0, min(len(out), self.size - self.position))
        out[:count] = self.buffer[self.position:self.position + count]
        self.position += count
        return count

    def truncate(self, size):
        self._reserve(size)
        if size < self.size:  # bytes past the end read as zeros if it grows again
            self.buffer[size:self.size] = bytes(self.size - size)
        self.size = size
        return size


def h5_image(write):
    """The H5Image of the file write(h5file, dataset) builds, where
    dataset(group, name, array) adds a dataset (large ones keep array,
    which must not change until write_to)."""
    image = H5Image()
    try:
        with h5py.File(image, "w") as h5file:
            write(h5file, image.dataset)
    except BaseException:
        image.close()
        raise
    return image

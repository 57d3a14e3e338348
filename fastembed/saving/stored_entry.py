"""A zip entry stored without compression (how .keras files keep
model.weights.h5), read in place: h5py opens it as a file, and each read
copies the archive's bytes once, straight into the caller's buffer (a
dataset's array). verify() checks the entry's CRC-32 first, on two
threads, so a flipped byte is an error rather than a wrong weight."""
import io
import os
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import numpy as np

LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., name length, extra length
CHUNK = 8 << 20  # bytes per read while checking the CRC
PARALLEL = 64 << 20  # bytes: larger entries are checked in two halves at once
CRC_POLYNOMIAL = 0xEDB88320  # zlib's CRC-32, bit-reversed


def _multiply(a, b):
    """a * b modulo the CRC polynomial, both bit-reversed (bit 31 is x^0)."""
    product = 0
    for bit in range(31, -1, -1):
        if a >> bit & 1:
            product ^= b
        b = (b >> 1) ^ (CRC_POLYNOMIAL if b & 1 else 0)  # b *= x
    return product


def crc32_combine(crc_a, crc_b, length_b):
    """zlib.crc32(a + b) from zlib.crc32(a), zlib.crc32(b) and len(b): crc_a
    moved past length_b zero bytes (times x^(8 length_b)), xor crc_b."""
    power, shift, exponent = 1 << 31, 1 << 30, 8 * length_b  # x^0, x^1
    while exponent:
        if exponent & 1:
            power = _multiply(power, shift)
        shift = _multiply(shift, shift)
        exponent >>= 1
    return _multiply(crc_a, power) ^ crc_b


class StoredEntry(io.RawIOBase):
    """The bytes of one ZIP_STORED entry (info) of the archive at path, as a
    read-only, seekable file."""

    def __init__(self, path, info):
        super().__init__()
        self.file = open(path, "rb")
        header = os.pread(self.file.fileno(), LOCAL_HEADER.size, info.header_offset)
        if len(header) != LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
            self.file.close()
            raise ValueError(f"the zip's local header of {info.filename} is missing or damaged")
        _, name_length, extra_length = LOCAL_HEADER.unpack(header)
        self.start = info.header_offset + LOCAL_HEADER.size + name_length + extra_length
        self.size, self.crc, self.name = info.file_size, info.CRC, info.filename
        self.position = 0

    def close(self):
        self.file.close()
        super().close()

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.position

    def seek(self, offset, whence=io.SEEK_SET):
        self.position = {io.SEEK_SET: 0, io.SEEK_CUR: self.position,
                         io.SEEK_END: self.size}[whence] + offset
        return self.position

    def readinto(self, buffer):
        with memoryview(buffer) as view, view.cast("B") as target:
            wanted = max(0, min(len(target), self.size - self.position))
            count = os.preadv(self.file.fileno(), [target[:wanted]], self.start + self.position)
        self.position += count
        return count

    def _crc(self, start, stop):
        scratch = np.empty(min(CHUNK, stop - start), np.uint8)
        crc = 0
        for offset in range(start, stop, CHUNK):
            wanted = min(CHUNK, stop - offset)
            if os.preadv(self.file.fileno(), [scratch[:wanted]], self.start + offset) != wanted:
                raise ValueError(f"the zip is truncated inside {self.name}")
            crc = zlib.crc32(scratch[:wanted], crc)  # (zlib releases the GIL)
        return crc

    def verify(self):
        """Raise a ValueError unless the entry's bytes are all there and
        match the CRC-32 the archive records for them."""
        if self.size < PARALLEL:
            crc = self._crc(0, self.size)
        else:
            middle = self.size // 2
            with ThreadPoolExecutor(1) as pool:
                second = pool.submit(self._crc, middle, self.size)
                first = self._crc(0, middle)
                crc = crc32_combine(first, second.result(), self.size - middle)
        if crc != self.crc:
            raise ValueError(f"{self.name} is corrupted: its CRC-32 is {crc:#010x}, the zip "
                             f"records {self.crc:#010x}")

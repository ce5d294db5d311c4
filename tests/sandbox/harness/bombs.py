"""Compressed bodies that grow huge once decoded, made in well under a second."""

from __future__ import annotations

import gzip
import struct
import zlib

MiB = 1024 * 1024
GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"


def gzip_zeros(size: int) -> bytes:
    """Return a gzip stream of `size` zero bytes (a whole number of MiB), about 1 KB per GiB.

    After a full flush deflate forgets what came before, so every further MiB of zeros
    compresses to the same bytes: compress one, repeat it, and add the trailer by hand.
    """
    count, rest = divmod(size, MiB)
    if rest or not count:
        raise ValueError("size must be a whole, positive number of MiB")
    zeros = bytes(MiB)
    deflate = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    block = deflate.compress(zeros) + deflate.flush(zlib.Z_FULL_FLUSH)
    last = deflate.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(zeros, crc)
    trailer = struct.pack("<II", crc, size & 0xFFFFFFFF)
    return GZIP_HEADER + block * count + last + trailer


def gzip_twice(size: int) -> bytes:
    """Return `size` zero bytes gzip-encoded twice over (Content-Encoding: gzip, gzip)."""
    return gzip.compress(gzip_zeros(size), 9)

"""Small 8-bit grey PNG files (Fashion-MNIST crops) decoded without Pillow's plugin machinery.

Opening a 28x28 PNG through ``Image.open`` costs ~50 µs, most of it Python parsing the chunks;
checking them here and handing the image data to Pillow's own zlib/PNG-filter decoder gives
the same bytes in ~30 µs. Only files that are plainly well-formed take this way: every chunk's
CRC is right, the header says 8-bit grey, not interlaced, and no chunk that could change what
the general path (:func:`ranet.images.load_image`) returns (EXIF orientation, transparency,
text, colour profiles, animation). Everything else, damaged files included, returns None and
is read the general way, which also gives the reason when it cannot.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from pathlib import Path
from typing import Callable

from PIL import Image

__all__ = ["read_grey_png", "MAX_BYTES"]

MAX_BYTES = 64 * 1024  # larger files are not small crops: the general path reads them
_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GREY_8_BIT = (8, 0, 0, 0, 0)  # bit depth, colour type, compression, filter method, no interlace
# Chunks Pillow only stores, with the length it parses (another length makes Pillow fail).
_HARMLESS = {b"pHYs": 9, b"gAMA": 4, b"sRGB": 1}


def read_grey_png(path: str | Path, fits: Callable[[int, int], bool]) -> Image.Image | None:
    """The decoded grey image of ``path`` when it is a small, well-formed 8-bit grey PNG whose
    size ``fits(width, height)`` accepts (checked before any pixel memory is allocated); None
    otherwise, including on any error."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or not 0 < info.st_size <= MAX_BYTES:
            return None
        with open(path, "rb") as file:
            data = file.read(MAX_BYTES + 1)
    except (OSError, ValueError):
        return None
    parsed = _grey_image_data(data)
    if parsed is None or not fits(*parsed[0]):
        return None
    size, idat = parsed
    try:
        return Image.frombytes("L", size, idat, "zip", "L")  # the decoder Image.open's PNG tiles use
    except Exception:  # damaged image data: the general path names the problem
        return None


def _grey_image_data(data: bytes) -> tuple[tuple[int, int], bytes] | None:
    """``((width, height), image data)`` of a well-formed 8-bit grey PNG, else None."""
    if not data.startswith(_SIGNATURE):
        return None
    pos, end_of_data = len(_SIGNATURE), len(data)
    size: tuple[int, int] | None = None
    idat: list[bytes] = []
    previous = b""
    while pos + 12 <= end_of_data:
        length, kind = struct.unpack_from(">I4s", data, pos)
        end = pos + 12 + length
        if end > end_of_data or zlib.crc32(data[pos + 4:end - 4]) != struct.unpack_from(">I", data, end - 4)[0]:
            return None
        if size is None:
            if kind != b"IHDR" or length != 13:
                return None
            width, height, *layout = struct.unpack_from(">IIBBBBB", data, pos + 8)
            if tuple(layout) != _GREY_8_BIT or width == 0 or height == 0:
                return None
            size = (width, height)
        elif kind == b"IEND":
            return (size, b"".join(idat)) if idat else None
        elif kind == b"IDAT":
            if idat and previous != b"IDAT":  # Pillow decodes the first run of IDAT chunks only
                return None
            idat.append(data[pos + 8:end - 4])
        elif _HARMLESS.get(kind) != length:
            return None
        previous = kind
        pos = end
    return None

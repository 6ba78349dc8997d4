"""Small grey PNG files read without Pillow's plugin machinery: the same pixels as the general
path, and every file out of the ordinary left to the general path (which gives the reasons)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from ranet.datasets import get_preprocessing
from ranet.images import load_image
from ranet.png import read_grey_png

FITS = get_preprocessing("fashion-mnist").takes_grey_crop


def _grey(size=(28, 28), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 256, size[::-1], dtype=np.uint8), "L")


def _chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    out, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack_from(">I", data, pos)
        out.append((data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]))
        pos += 12 + length
    return out


def _assemble(chunks: list[tuple[bytes, bytes]]) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body)) for kind, body in chunks)


def _saved(tmp_path, image: Image.Image, **options) -> bytes:
    path = tmp_path / "saved.png"
    image.save(path, **options)
    return path.read_bytes()


@pytest.mark.parametrize("size", [(28, 28), (20, 28), (28, 13)])
def test_the_pixels_are_those_of_the_general_path(tmp_path, size):
    path = tmp_path / "a.png"
    _grey(size, seed=sum(size)).save(path)
    image = read_grey_png(path, FITS)
    assert image is not None and image.mode == "L" and image.size == size
    assert image.tobytes() == load_image(path).tobytes()


def test_chunks_that_change_no_pixel_keep_the_short_way(tmp_path):
    chunks = _chunks(_saved(tmp_path, _grey(), dpi=(96, 96)))
    assert b"pHYs" in [kind for kind, _ in chunks]
    chunks[1:1] = [(b"gAMA", struct.pack(">I", 45455)), (b"sRGB", b"\x00")]
    idat = next(body for kind, body in chunks if kind == b"IDAT")  # the data in two IDAT chunks
    at = chunks.index((b"IDAT", idat))
    chunks[at:at + 1] = [(b"IDAT", idat[:10]), (b"IDAT", idat[10:])]
    path = tmp_path / "a.png"
    path.write_bytes(_assemble(chunks))
    image = read_grey_png(path, FITS)
    assert image is not None and image.tobytes() == load_image(path).tobytes()


def _edit(tmp_path, change) -> bytes:
    chunks = _chunks(_saved(tmp_path, _grey()))
    change(chunks)
    return _assemble(chunks)


def _ihdr(chunks, **fields):
    width, height, depth, colour, compression, filtering, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    values = {**dict(width=width, height=height, depth=depth, colour=colour, interlace=interlace), **fields}
    chunks[0] = (b"IHDR", struct.pack(">IIBBBBB", values["width"], values["height"], values["depth"],
                                      values["colour"], compression, filtering, values["interlace"]))


def _insert_before_idat(kind: bytes, body: bytes):
    def change(chunks):
        chunks.insert(1, (kind, body))
    return change


OTHER_FILES = {
    "colour": lambda tmp: _saved(tmp, _grey().convert("RGB")),
    "palette": lambda tmp: _saved(tmp, _grey().convert("P")),
    "16-bit grey": lambda tmp: _saved(tmp, Image.new("I;16", (28, 28), 300)),
    "grey and alpha": lambda tmp: _saved(tmp, _grey().convert("LA")),
    "transparency": lambda tmp: _saved(tmp, _grey(), transparency=0),
    "EXIF orientation": lambda tmp: _edit(tmp, _insert_before_idat(b"eXIf", b"MM\x00*\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x06\x00\x00\x00\x00\x00\x00")),
    "text": lambda tmp: _edit(tmp, _insert_before_idat(b"tEXt", b"exif\x00whatever")),
    "a chunk of the wrong length": lambda tmp: _edit(tmp, _insert_before_idat(b"gAMA", b"\x00\x01")),
    "interlaced": lambda tmp: _edit(tmp, lambda chunks: _ihdr(chunks, interlace=1)),
    "larger than a crop": lambda tmp: _saved(tmp, _grey((29, 29))),
    "a declared size of 10^10 pixels": lambda tmp: _edit(tmp, lambda chunks: _ihdr(chunks, width=100_000, height=100_000)),
    "a wrong checksum": lambda tmp: (lambda d: d[:-13] + bytes([d[-13] ^ 1]) + d[-12:])(_saved(tmp, _grey())),
    "no end chunk": lambda tmp: _saved(tmp, _grey())[:-12],
    "image data split by another chunk": lambda tmp: _edit(tmp, lambda chunks: chunks.__setitem__(
        slice(1, 2), [(b"IDAT", chunks[1][1][:10]), (b"pHYs", bytes(9)), (b"IDAT", chunks[1][1][10:])])),
    "damaged image data": lambda tmp: _edit(tmp, lambda chunks: chunks.__setitem__(1, (b"IDAT", b"\x78\x9c garbage"))),
    "a JPEG file": lambda tmp: _saved(tmp, _grey(), format="JPEG"),
    "empty": lambda tmp: b"",
}


@pytest.mark.parametrize("case", OTHER_FILES)
def test_every_other_file_is_left_to_the_general_path(tmp_path, case):
    path = tmp_path / "a.png"
    path.write_bytes(OTHER_FILES[case](tmp_path))
    assert read_grey_png(path, FITS) is None


def test_folders_and_missing_files_are_left_to_the_general_path(tmp_path):
    assert read_grey_png(tmp_path, FITS) is None
    assert read_grey_png(tmp_path / "missing.png", FITS) is None

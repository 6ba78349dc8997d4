"""Reading images a person drops: every failure becomes :class:`ImageLoadError` with a reason a
person understands; folder scans skip system junk and never loop on symbolic links."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterable, Iterator

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

__all__ = ["ImageLoadError", "load_image", "scan_images", "IMAGE_EXTENSIONS", "MAX_PIXELS"]

MAX_PIXELS = 100_000_000  # ~ a 10,000 x 10,000 photo; larger is treated as a decompression bomb
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
IMAGE_EXTENSIONS = {ext.lower() for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}

ImageFile.LOAD_TRUNCATED_IMAGES = False


class ImageLoadError(Exception):
    """An image that cannot be classified; ``str(err)`` is a one-line reason."""


def _is_junk(path: Path) -> bool:
    name = path.name.lower()
    return name in JUNK_NAMES or name.startswith("._")


def load_image(path: str | Path) -> Image.Image:
    """Open, fully decode, apply EXIF orientation and take the first frame of an animation."""
    path = Path(path)
    if path.is_dir():
        raise ImageLoadError("is a folder, not an image")
    if not path.exists():
        raise ImageLoadError("broken link" if path.is_symlink() else "file not found")
    try:
        if path.stat().st_size == 0:
            raise ImageLoadError("empty file")
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                w, h = im.size
                if w * h > MAX_PIXELS:
                    raise ImageLoadError(f"image too large ({w}x{h} pixels; the limit is {MAX_PIXELS // 1_000_000} megapixels)")
                im.seek(0)
                im.load()
                image = ImageOps.exif_transpose(im) or im.copy()
    except ImageLoadError:
        raise
    except PermissionError:
        raise ImageLoadError("permission denied") from None
    except UnidentifiedImageError:
        raise ImageLoadError("not an image, or a format Pillow cannot read") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageLoadError("image too large (declared size looks like a decompression bomb)") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        text = str(exc).lower()
        if "truncated" in text or "premature" in text or isinstance(exc, EOFError):
            raise ImageLoadError("the file is truncated or corrupt") from None
        raise ImageLoadError(f"cannot decode the image ({exc})") from None
    except Exception as exc:  # Pillow plugins raise assorted types on hostile files
        raise ImageLoadError(f"cannot decode the image ({type(exc).__name__})") from None
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        image = image.point(lambda v: v / 256).convert("L")
    elif image.mode in ("CMYK", "YCbCr", "LAB", "HSV", "F", "1"):
        image = image.convert("RGB")
    return image


def scan_images(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield image files under ``paths`` (files are always yielded; folders are walked
    recursively, sorted, by image extension, any case). Links are followed once: a folder
    already visited (a loop) is skipped. Dangling links are yielded so they can be reported."""
    seen: set[str] = set()
    for root in paths:
        root = Path(root)
        if not root.is_dir():
            if not _is_junk(root):
                yield root
            continue
        yield from _walk(root, seen)


def _walk(folder: Path, seen: set[str]) -> Iterator[Path]:
    try:
        real = os.path.realpath(folder)
    except OSError:
        return
    if real in seen:
        return
    seen.add(real)
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = Path(entry.path)
        if _is_junk(path) or entry.name.startswith("."):
            continue
        try:
            is_dir = entry.is_dir()  # follows links
        except OSError:
            is_dir = False
        if is_dir:
            yield from _walk(path, seen)
        elif path.suffix.lower() in IMAGE_EXTENSIONS:
            yield path

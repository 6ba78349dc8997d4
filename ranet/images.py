"""Reading images a person drops: every failure becomes :class:`ImageLoadError` with a reason a
person understands; folder scans skip system junk and never loop on symbolic links."""

from __future__ import annotations

import errno
import functools
import os
import stat
from pathlib import Path
from typing import Iterable, Iterator

from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from .errors import ImageLoadError

__all__ = ["ImageLoadError", "load_image", "scan_images", "standard_mode", "IMAGE_EXTENSIONS", "MAX_PIXELS",
           "STANDARD_MODES"]

MAX_PIXELS = 100_000_000  # ~ a 10,000 x 10,000 photo; larger is treated as a decompression bomb
JUNK_NAMES = {".ds_store", "thumbs.db", "desktop.ini"}
# Pillow renders EPS by running Ghostscript on the file: never on a file someone dropped.
REFUSED_FORMATS = {"EPS"}
STANDARD_MODES = ("L", "LA", "RGB", "RGBA")
IMAGE_EXTENSIONS = {ext.lower() for ext, fmt in Image.registered_extensions().items()
                    if fmt in Image.OPEN and fmt not in REFUSED_FORMATS}

ImageFile.LOAD_TRUNCATED_IMAGES = False


def _is_junk(name: str) -> bool:
    name = name.lower()
    return name in JUNK_NAMES or name.startswith("._")


def load_image(path: str | Path) -> Image.Image:
    """Open, fully decode, apply EXIF orientation, take the first frame of an animation and bring
    the colours to one of :data:`STANDARD_MODES` (see :func:`standard_mode`)."""
    path = Path(path)
    _check_file(path)
    try:
        with Image.open(path, formats=_formats(path)) as im:
            _check_size(*im.size)
            image = _decode(im)
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError("not an image file, or an image format that cannot be read") from None
    except Image.DecompressionBombError:
        raise ImageLoadError(f"image too large (its declared size is far over {MAX_PIXELS // 1_000_000} "
                             "megapixels: a damaged file or a decompression bomb)") from None
    except OSError as exc:
        if exc.errno is not None:  # the file system's error, not the decoder's
            raise ImageLoadError(_os_reason(exc, path)) from None
        raise ImageLoadError("damaged image file: its header cannot be read") from None
    except MemoryError:
        raise ImageLoadError("not enough memory to open this image") from None
    except Exception:  # Pillow's plugins raise assorted types on hostile headers
        raise ImageLoadError("damaged image file: its header cannot be read") from None
    try:
        return standard_mode(image)
    except ValueError:  # a colour mode Pillow cannot convert
        raise ImageLoadError(f"unsupported colour mode ({image.mode})") from None


def _formats(path: Path) -> tuple[str, ...]:
    """The formats tried, the one the file's extension names first: most files are what their
    name says, and each plugin tried before the right one costs about a decoding's time."""
    return _formats_for(path.suffix.lower(), len(Image.OPEN))


@functools.lru_cache(maxsize=256)
def _formats_for(extension: str, _plugins: int) -> tuple[str, ...]:
    # Keyed on the number of plugins too: one registered later must not be missed.
    formats = sorted(set(Image.OPEN) - REFUSED_FORMATS)
    named = Image.registered_extensions().get(extension)
    if named in formats:
        formats.insert(0, formats.pop(formats.index(named)))
    return tuple(formats)


def _check_file(path: Path) -> None:
    """Reasons known before reading a byte. Pipes and devices are refused here: opening one
    could block forever."""
    try:
        info = path.stat()
    except OSError as exc:
        raise ImageLoadError(_os_reason(exc, path)) from None
    except ValueError:  # e.g. a NUL character in the name
        raise ImageLoadError("invalid file name") from None
    if stat.S_ISDIR(info.st_mode):
        raise ImageLoadError(_folder_reason(path))
    if not stat.S_ISREG(info.st_mode):
        raise ImageLoadError("not a regular file (a device, pipe or socket)")
    if info.st_size == 0:
        raise ImageLoadError("empty file")


def _os_reason(exc: OSError, path: Path) -> str:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "broken link (its target does not exist)" if path.is_symlink() else "file not found"
    if exc.errno == errno.ELOOP:
        return "symbolic link loop"
    return (exc.strerror or "cannot read the file").lower()  # 'permission denied', 'input/output error'


def _folder_reason(path: Path) -> str:
    # scan_images yields the folders it cannot list so that they are reported, not skipped.
    try:
        with os.scandir(path):
            pass
    except OSError as exc:
        return f"folder cannot be read ({_os_reason(exc, path)})"
    return "is a folder, not an image"


def _check_size(width: int, height: int) -> None:
    if width * height > MAX_PIXELS:
        raise ImageLoadError(f"image too large ({width}x{height} pixels; the limit is "
                             f"{MAX_PIXELS // 1_000_000} megapixels)")


def _decode(im: Image.Image) -> Image.Image:
    """The first frame (where open() leaves every format), fully decoded and upright; decoder
    failures become a reason."""
    try:
        im.load()
    except MemoryError:
        raise ImageLoadError("not enough memory to decode this image") from None
    except Exception as exc:  # OSError, ValueError, EOFError, struct.error ... from the decoders
        raise ImageLoadError(_damage_reason(exc, im.format)) from None
    try:
        return ImageOps.exif_transpose(im) or im.copy()
    except Exception:  # a damaged EXIF block: the picture itself is fine, keep it as stored
        return im.copy()


def _damage_reason(exc: Exception, fmt: str | None) -> str:
    text = str(exc).lower()
    if isinstance(exc, EOFError) or any(s in text for s in ("truncated", "premature", "expected to read",
                                                             "not enough", "reached eof")):
        return "the file is truncated (an incomplete download or copy?)"
    return f"damaged {fmt or 'image'} data, or a variant of the format that cannot be decoded"


def standard_mode(image: Image.Image) -> Image.Image:
    """``image`` in L, LA, RGB or RGBA, the modes every later step handles; transparency is kept
    (as RGBA), 16-bit, 32-bit and float grey are scaled to 8 bits."""
    mode = image.mode
    if mode in STANDARD_MODES:
        return image
    if mode == "1":
        return image.convert("L")
    if mode == "La":
        return image.convert("LA")
    if mode in ("I", "F") or mode.startswith("I;16"):
        return _wide_gray_to_l(image)
    bands = image.getbands()
    keep_alpha = "A" in bands or "a" in bands or "transparency" in image.info
    return image.convert("RGBA" if keep_alpha else "RGB")


def _wide_gray_to_l(image: Image.Image) -> Image.Image:
    # A plain conversion clips: a 16-bit photo would turn almost white, a 0..1 float one black.
    wide = image.convert("F")  # I;16B and friends have no point() or getextrema()
    lo, hi = wide.getextrema()
    if image.mode.startswith("I;16"):
        scale, offset = 1 / 256, 0.0
    elif image.mode == "F" and 0 <= lo and hi <= 1:
        scale, offset = 255.0, 0.0
    elif 0 <= lo and hi <= 255:
        scale, offset = 1.0, 0.0
    elif image.mode == "I" and 0 <= lo and hi <= 65535:  # 16-bit data in a 32-bit image
        scale, offset = 1 / 256, 0.0
    else:  # no known range: stretch what is there (NaN/inf give a black image, not an error)
        span = (hi - lo) or 1.0
        scale, offset = 255 / span, -lo * 255 / span
    return wide.point(lambda v: v * scale + offset).convert("L")


def scan_images(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Yield image files under ``paths``, each once, by its real path: files are always yielded;
    folders are walked recursively, sorted, by image extension (any case), skipping hidden files
    and system junk. A folder link is followed only while its target stays inside the folder
    given (a link to ``..`` or to a sibling tree is skipped), and a folder already visited (a loop)
    is skipped. Dangling links, link loops named like images and folders that cannot be listed
    are yielded as they are named, so that :func:`load_image` reports them."""
    seen: set[str] = set()  # real paths of the folders walked and the files yielded
    for root in paths:
        root = Path(root)
        if _is_folder(root):
            yield from _walk(root, seen)
        elif not _is_junk(root.name):
            yield from _once(root, seen)


def _real(path: Path | str) -> str | None:
    """The path with every link resolved; None for a dangling link, a link loop or a bad name."""
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, ValueError):
        return None


def _once(path: Path, seen: set[str]) -> Iterator[Path]:
    """``path`` by its real path unless already yielded; as named when it cannot be resolved."""
    real = _real(path)
    if real is None:
        yield path
    elif real not in seen:
        seen.add(real)
        yield Path(real)


def _is_folder(path: Path) -> bool:
    try:
        return stat.S_ISDIR(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _walk(top: Path, seen: set[str]) -> Iterator[Path]:
    # A stack of listings rather than recursion: a very deep tree cannot hit the recursion limit.
    tree = _real(top) or str(top)
    stack = [_listing(top, seen, tree)]
    while stack:
        item = next(stack[-1], None)
        if item is None:
            stack.pop()
        elif item[1]:
            stack.append(_listing(item[0], seen, tree))
        else:
            yield item[0]


def _listing(folder: Path, seen: set[str], tree: str) -> Iterator[tuple[Path, bool]]:
    """``(path, is_folder)`` for the entries of ``folder`` worth a look, in name order; nothing
    for a folder already seen or one whose real path lies outside ``tree``; each file once (see
    :func:`_once`); the folder itself when it cannot be listed."""
    real = _real(folder)
    if real is None or real in seen or os.path.commonpath([real, tree]) != tree:
        return
    seen.add(real)
    try:
        with os.scandir(folder) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError:
        yield folder, False
        return
    for entry in entries:
        if entry.name.startswith(".") or _is_junk(entry.name):
            continue
        try:
            is_dir = entry.is_dir()  # follows links
        except OSError:
            is_dir = False
        if is_dir:
            yield Path(entry.path), True
        elif os.path.splitext(entry.name)[1].lower() in IMAGE_EXTENSIONS:
            if entry.is_symlink():
                yield from ((path, False) for path in _once(Path(entry.path), seen))
                continue
            # Not a link, in a folder whose real path is known: resolving it again would cost a
            # system call per part of the path, for every file.
            path = os.path.join(real, entry.name)
            if path not in seen:
                seen.add(path)
                yield Path(path), False

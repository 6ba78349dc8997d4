"""Image files to model inputs, batch by batch, decoded in threads one batch ahead of the model.

One path for every command that classifies files (``ranet classify``, the folder case of
``ranet bench``): Pillow and the preprocessing release the GIL for much of their work, and
so do the model's kernels, so reading the next batch overlaps with classifying this one.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator

import torch
from PIL import Image
from torch import Tensor

from .errors import ImageLoadError, one_line
from .images import load_image
from .transforms import Preprocessing

__all__ = ["Batch", "read_batches", "model_input", "DECODE_WORKERS"]

DECODE_WORKERS = 2


@dataclass
class Batch:
    """One batch of files: the images read, in order, and the files that could not be."""

    paths: list[Path] = field(default_factory=list)
    inputs: Tensor | None = None  # normalised [len(paths), 3, S, S]; None when no file was readable
    read_ms: list[float] = field(default_factory=list)  # per image: reading and preprocessing
    failures: list[tuple[Path, str]] = field(default_factory=list)  # file, one-line reason


def model_input(image: Image.Image, prep: Preprocessing) -> Tensor:
    """``prep``'s uint8 input for a decoded image; ImageLoadError with the reason when the
    preprocessing cannot take it."""
    try:
        return prep.pil_to_uint8(image)
    except Exception as exc:
        raise ImageLoadError(f"cannot prepare the image ({one_line(exc)})") from None


def _read(paths: list[Path], prep: Preprocessing) -> Batch:
    batch = Batch()
    pixels = []
    for path in paths:
        start = time.perf_counter()
        try:
            pixels.append(model_input(load_image(path), prep))
        except ImageLoadError as exc:
            batch.failures.append((path, str(exc)))
            continue
        batch.paths.append(path)
        batch.read_ms.append((time.perf_counter() - start) * 1000)
    if pixels:
        batch.inputs = prep.normalize(torch.stack(pixels))
    return batch


def read_batches(paths: Iterable[Path], prep: Preprocessing, batch_size: int,
                 workers: int = DECODE_WORKERS) -> Iterator[Batch]:
    """Read ``paths`` (taken lazily, e.g. from :func:`~ranet.images.scan_images`) in batches of
    ``batch_size`` files, ``workers`` threads decoding at most ``workers + 1`` batches ahead, so
    memory stays flat on a big folder; ``workers=0`` reads each batch when it is asked for."""
    source = iter(paths)
    chunks = iter(lambda: list(islice(source, batch_size)), [])
    if workers == 0:
        yield from (_read(chunk, prep) for chunk in chunks)
        return
    with ThreadPoolExecutor(workers, thread_name_prefix="ranet-read") as pool:
        pending = deque(pool.submit(_read, chunk, prep) for chunk in islice(chunks, workers + 1))
        while pending:
            batch = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(_read, following, prep))
            yield batch

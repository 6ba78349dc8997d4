"""Image files to model inputs, batch by batch, decoded in a thread ahead of the model.

One path for every place that classifies files (``ranet classify``, the folder case of
``ranet bench``, the app's first pass): Pillow and the preprocessing release the GIL for much
of their work, and so do the model's kernels, so reading the next batch overlaps with
classifying this one. One reading thread keeps ahead of the engine's two lanes on two cores;
a second one only took time from them (docs/benchmarks.md).
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, Sequence

import torch
from PIL import Image
from torch import Tensor

from .errors import ImageLoadError, one_line
from .images import load_image
from .png import read_grey_png
from .transforms import Preprocessing, grey_pixels

__all__ = ["Batch", "read_batch", "read_batches", "model_input", "DECODE_WORKERS"]

DECODE_WORKERS = 1


@dataclass
class Batch:
    """One batch of files: the images read, in order, and the files that could not be."""

    paths: list[Path] = field(default_factory=list)
    positions: list[int] = field(default_factory=list)  # per image read: its index in the files given
    inputs: Tensor | None = None  # normalised [len(paths), 3, S, S]; None when no file was readable
    read_ms: list[float] = field(default_factory=list)  # per image: reading and preprocessing
    failures: list[tuple[Path, str]] = field(default_factory=list)  # file, one-line reason; in the order given


def model_input(image: Image.Image, prep: Preprocessing) -> Tensor:
    """``prep``'s uint8 input for a decoded image; ImageLoadError with the reason when the
    preprocessing cannot take it."""
    try:
        return prep.pil_to_uint8(image)
    except Exception as exc:
        raise ImageLoadError(f"cannot prepare the image ({one_line(exc)})") from None


def read_batch(paths: Sequence[Path], prep: Preprocessing) -> Batch:
    """Read and preprocess ``paths``: unreadable files become failures with their reason.

    Small well-formed grey PNG files are decoded without Pillow's plugin machinery
    (:func:`~ranet.png.read_grey_png`), and every grey image that needs no crop or resize is
    placed in the canvas for the whole batch at once; the bytes are those of
    :func:`model_input`, in a third of its time per file."""
    batch = Batch()
    rows: list[Tensor] = []  # per image read: its input, or its grey pixels [h, w] to be placed
    crops: dict[tuple[int, int], list[int]] = {}  # rows of grey pixels, by size
    for position, path in enumerate(paths):
        start = time.perf_counter()
        try:
            image = read_grey_png(path, prep.takes_grey_crop)
            if image is None:
                image = load_image(path)
            if image.mode == "L" and prep.takes_grey_crop(*image.size):  # load_image has turned it upright
                crops.setdefault(image.size, []).append(len(rows))
                rows.append(grey_pixels(image))
            else:
                rows.append(model_input(image, prep))
        except ImageLoadError as exc:
            batch.failures.append((path, str(exc)))
            continue
        batch.paths.append(path)
        batch.positions.append(position)
        batch.read_ms.append((time.perf_counter() - start) * 1000)
    for members in crops.values():
        start = time.perf_counter()
        for row, pixels in zip(members, prep.grey_crops_to_uint8(torch.stack([rows[r] for r in members]))):
            rows[row] = pixels
        share = (time.perf_counter() - start) * 1000 / len(members)
        for row in members:
            batch.read_ms[row] += share
    if rows:
        batch.inputs = prep.normalize(torch.stack(rows))
    return batch


def read_batches(paths: Iterable[Path], prep: Preprocessing, batch_size: int,
                 workers: int = DECODE_WORKERS) -> Iterator[Batch]:
    """Read ``paths`` (taken lazily, e.g. from :func:`~ranet.images.scan_images`) in batches of
    ``batch_size`` files, ``workers`` threads decoding at most ``workers + 1`` batches ahead, so
    memory stays flat on a big folder; ``workers=0`` reads each batch when it is asked for."""
    source = iter(paths)
    chunks = iter(lambda: list(islice(source, batch_size)), [])
    if workers == 0:
        yield from (read_batch(chunk, prep) for chunk in chunks)
        return
    # One intra-op thread each: the few tensor operations of reading are small, and a team of
    # threads per reader would only spin against the engine's.
    with ThreadPoolExecutor(workers, thread_name_prefix="ranet-read", initializer=torch.set_num_threads,
                            initargs=(1,)) as pool:
        pending = deque(pool.submit(read_batch, chunk, prep) for chunk in islice(chunks, workers + 1))
        while pending:
            batch = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(read_batch, following, prep))
            yield batch

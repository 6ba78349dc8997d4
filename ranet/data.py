"""Labelled image sets for training and evaluation, held in memory as uint8 tensors.

Small data sets (Fashion-MNIST, CIFAR, a folder tree of a few thousand images) fit in memory
easily, and augmenting whole batches with tensor ops keeps a 2-core machine busy with the model
instead of with Python image decoding.
"""

from __future__ import annotations

import gzip
import math
import pickle
import struct
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DEFAULT_FASHION_MNIST_ROOT",
    "ImageSet",
    "DataError",
    "load_dataset",
    "train_val_split",
    "augment",
]

FASHION_MNIST_CLASSES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]
DEFAULT_FASHION_MNIST_ROOT = Path("/usr/share/datasets/fashion-mnist")
VALIDATION_SIZE = 5000


class DataError(RuntimeError):
    """A data set that is missing or malformed; the message says which file and why."""


@dataclass
class ImageSet:
    """Images as ``uint8 [N, C, H, W]`` with integer labels and class names."""

    images: Tensor
    labels: Tensor
    classes: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def subset(self, index: Tensor) -> "ImageSet":
        return ImageSet(self.images[index], self.labels[index], self.classes)


def _read_idx(path: Path) -> Tensor:
    try:
        raw = gzip.open(path).read() if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
        raise DataError(f"{path}: not an unsigned-byte idx file")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    data = raw[4 + 4 * ndim :]
    if len(data) != int(torch.tensor(dims).prod()):
        raise DataError(f"{path}: truncated idx file")
    return torch.frombuffer(bytearray(data), dtype=torch.uint8).reshape(dims)


def _fashion_mnist(root: Path, split: str) -> ImageSet:
    prefix = "train" if split == "train" else "t10k"
    def find(kind: str) -> Path:
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                     f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
            if (root / name).exists():
                return root / name
        raise DataError(f"{root}: no Fashion-MNIST {prefix} {kind} (install with: apt-get install dataset-fashion-mnist)")
    images = _read_idx(find("images"))
    labels = _read_idx(find("labels")).long()
    return ImageSet(images.unsqueeze(1), labels, list(FASHION_MNIST_CLASSES))


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """CIFAR's python batches are pickles of numpy arrays: allow exactly that, nothing else."""

    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
        ("builtins", "bytes"), ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a data file")
        return super().find_class(module, name)


def _cifar(root: Path, split: str, fine: bool) -> ImageSet:
    files = [f"data_batch_{i}" for i in range(1, 6)] if not fine else ["train"]
    if split == "test":
        files = ["test_batch"] if not fine else ["test"]
    meta_name = "meta" if fine else "batches.meta"
    for sub in ("", "cifar-10-batches-py", "cifar-100-python"):
        if (root / sub / files[0]).exists():
            root = root / sub
            break
    else:
        raise DataError(f"{root}: no CIFAR python batches ({files[0]} not found)")
    images, labels = [], []
    for name in files:
        try:
            with open(root / name, "rb") as fh:
                batch = _NumpyOnlyUnpickler(fh, encoding="latin1").load()
        except (OSError, pickle.UnpicklingError, EOFError) as exc:
            raise DataError(f"{root / name}: cannot read CIFAR batch ({exc})") from None
        images.append(torch.as_tensor(batch["data"]).reshape(-1, 3, 32, 32))
        labels.append(torch.as_tensor(batch["fine_labels" if fine else "labels"]))
    with open(root / meta_name, "rb") as fh:
        meta = _NumpyOnlyUnpickler(fh, encoding="latin1").load()
    classes = meta["fine_label_names" if fine else "label_names"]
    return ImageSet(torch.cat(images), torch.cat(labels).long(), list(classes))


def _folder(root: Path, size: int) -> ImageSet:
    from .images import ImageLoadError, load_image, scan_images

    classes = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DataError(f"{root}: expected one sub-folder per class")
    images, labels = [], []
    for label, name in enumerate(classes):
        for path in scan_images([root / name]):
            try:
                img = load_image(path).convert("RGB").resize((size, size))
            except ImageLoadError:
                continue
            images.append(torch.frombuffer(bytearray(img.tobytes()), dtype=torch.uint8).reshape(size, size, 3))
            labels.append(label)
    if not images:
        raise DataError(f"{root}: no readable images")
    return ImageSet(torch.stack(images).permute(0, 3, 1, 2).contiguous(), torch.tensor(labels), classes)


def load_dataset(name: str, root: str | Path | None, split: str, image_size: int = 32) -> ImageSet:
    """``name``: ``fashion-mnist``, ``cifar10``, ``cifar100`` or ``folder``; ``split``: train or test.

    For ``folder``, ``root/train`` and ``root/test`` are used when present, else ``root`` itself.
    """
    if name == "fashion-mnist":
        return _fashion_mnist(Path(root or DEFAULT_FASHION_MNIST_ROOT), split)
    if root is None:
        raise DataError(f"--data-root is required for {name}")
    root = Path(root)
    if name in ("cifar10", "cifar100"):
        return _cifar(root, split, fine=name == "cifar100")
    if name == "folder":
        return _folder(root / split if (root / split).is_dir() else root, image_size)
    raise DataError(f"unknown data set {name!r}: use fashion-mnist, cifar10, cifar100 or folder")


def train_val_split(data: ImageSet, seed: int = 0, val_size: int = VALIDATION_SIZE) -> tuple[ImageSet, ImageSet]:
    """Hold out ``val_size`` training images (fixed by ``seed``) for threshold calibration."""
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(seed))
    val_size = min(val_size, len(data) // 10 or 1)
    return data.subset(order[val_size:]), data.subset(order[:val_size])


def augment(batch: Tensor, generator: torch.Generator, pad: int = 4, flip: bool = True,
            erase: float = 0.0) -> Tensor:
    """Random crop with zero padding, horizontal flip and random erasing (probability ``erase``,
    Zhong et al. 2017: a rectangle of 2-40 % of the image filled with noise) for a uint8 or float
    batch ``[N,C,H,W]``."""
    n, _, h, w = batch.shape
    padded = torch.nn.functional.pad(batch, (pad, pad, pad, pad))
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator)
    rows = (dy[:, None] + torch.arange(h)[None, :])  # [N, H]
    cols = (dx[:, None] + torch.arange(w)[None, :])  # [N, W]
    out = padded[torch.arange(n)[:, None, None, None], torch.arange(batch.shape[1])[None, :, None, None],
                 rows[:, None, :, None], cols[:, None, None, :]]
    if flip:
        mirror = torch.rand(n, generator=generator) < 0.5
        out[mirror] = out[mirror].flip(-1)
    if erase > 0:
        out = _random_erase(out, generator, erase)
    return out


def _random_erase(batch: Tensor, generator: torch.Generator, probability: float) -> Tensor:
    n, c, h, w = batch.shape
    area = torch.empty(n).uniform_(0.02, 0.4, generator=generator) * h * w
    aspect = torch.empty(n).uniform_(math.log(0.3), math.log(1 / 0.3), generator=generator).exp()
    eh = (area * aspect).sqrt().round().clamp(1, h)
    ew = (area / aspect).sqrt().round().clamp(1, w)
    y0 = (torch.rand(n, generator=generator) * (h - eh + 1)).floor()
    x0 = (torch.rand(n, generator=generator) * (w - ew + 1)).floor()
    chosen = torch.rand(n, generator=generator) < probability
    ys, xs = torch.arange(h)[None, :], torch.arange(w)[None, :]
    inside_rows = (ys >= y0[:, None]) & (ys < (y0 + eh)[:, None])  # [N, H]
    inside_cols = (xs >= x0[:, None]) & (xs < (x0 + ew)[:, None])  # [N, W]
    mask = (inside_rows[:, :, None] & inside_cols[:, None, :] & chosen[:, None, None])[:, None]  # [N, 1, H, W]
    # One noise plane for all channels: grayscale inputs (replicated to 3 channels) stay grayscale.
    if batch.dtype == torch.uint8:
        noise = torch.randint(0, 256, (n, 1, h, w), generator=generator, dtype=torch.uint8)
    else:
        low, high = batch.min(), batch.max()
        noise = (low + (high - low) * torch.rand(n, 1, h, w, generator=generator)).to(batch.dtype)
    return torch.where(mask, noise.expand(n, c, h, w), batch)

"""The data sets the project knows, in one registry, and their images held in memory.

A :class:`DatasetSpec` is everything about one data set: its class names, the preprocessing a
model trained on it uses (and so its input size), how its files are read, where they are by
default, its training augmentation and the files whose hashes a trained model records.
Adding a data set means adding one entry at the bottom of this module.

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
from typing import Callable, Sequence

import torch
from torch import Tensor

from .errors import DataError
from .files import file_sha256
from .images import ImageLoadError, load_image, scan_images
from .transforms import Preprocessing

__all__ = [
    "DatasetSpec", "DATASETS", "register", "get_dataset", "dataset_for_authors", "get_preprocessing",
    "ImageSet", "load_dataset", "train_val_split", "augment", "match_category",
]

VALIDATION_SIZE = 5000


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


@dataclass(frozen=True)
class DatasetSpec:
    """One data set: what a model trained on it needs to know, and how to read it."""

    name: str  # as the commands spell it (``--data``)
    preprocessing: Preprocessing
    class_names: Callable[[], Sequence[str]] = tuple  # empty: named by the data (class folders)
    num_classes: int | None = None  # None: as many as the data have
    load: Callable[[Path, str, int], ImageSet] | None = None  # (root, "train"/"test", image size); None: not here
    default_root: Path | None = None
    authors_name: str | None = None  # the ``data`` value of the authors' args.txt, if they trained on it
    crop_padding: int = 4  # training: random crop with this much zero padding
    random_erasing: float = 0.0  # training: default probability of random erasing
    hashed_files: str = ""  # glob (under the root) of the files whose sha256 a trained model records

    def categories(self, num_classes: int) -> list[str]:
        """Names for ``num_classes`` outputs: the data set's own, or generic ones when they differ."""
        names = list(self.class_names())
        return names if len(names) == num_classes else [f"class {i}" for i in range(num_classes)]

    def file_hashes(self, root: str | Path | None) -> dict[str, str]:
        """sha256 of the data set's files under ``root`` (default: its usual place), by file name."""
        folder = Path(root) if root else self.default_root
        if not self.hashed_files or folder is None:
            return {}
        return {p.name: file_sha256(p) for p in sorted(folder.glob(self.hashed_files))}


DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add a data set to the registry; a name already taken is an error."""
    if spec.name in DATASETS:
        raise ValueError(f"a data set named {spec.name!r} is already registered")
    DATASETS[spec.name] = spec
    return spec


def get_dataset(name: str) -> DatasetSpec:
    try:
        return DATASETS[name]
    except KeyError:
        raise DataError(f"unknown data set {name!r}: use {', '.join(DATASETS)}") from None


def dataset_for_authors(data: str) -> DatasetSpec | None:
    """The entry for the ``data`` value of an authors' ``args.txt`` (``cifar10``, ``ImageNet``…)."""
    return next((spec for spec in DATASETS.values() if spec.authors_name == data), None)


def get_preprocessing(name: str) -> Preprocessing:
    """The preprocessing a weights file names (``fashion-mnist``, ``cifar10``, ``imagenet``…)."""
    for spec in DATASETS.values():
        if spec.preprocessing.name == name:
            return spec.preprocessing
    known = sorted({spec.preprocessing.name for spec in DATASETS.values()})
    raise ValueError(f"unknown preprocessing {name!r}; known: {', '.join(known)}")


def _norm(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def match_category(folder_name: str, categories: Sequence[str]) -> int | None:
    """Index of the category a folder is named after (case and punctuation ignored: the folder
    ``T-shirt-top`` matches ``T-shirt/top``), or None."""
    key = _norm(folder_name)
    return next((i for i, name in enumerate(categories) if _norm(name) == key), None)


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


def _fashion_mnist(root: Path, split: str, _size: int) -> ImageSet:
    prefix = "train" if split == "train" else "t10k"
    def find(kind: str) -> Path:
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                     f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
            if (root / name).exists():
                return root / name
        raise DataError(f"{root}: no Fashion-MNIST {prefix} {kind} (install with: apt-get install dataset-fashion-mnist)")
    images = _read_idx(find("images"))
    labels = _read_idx(find("labels")).long()
    return ImageSet(images.unsqueeze(1), labels, list(FASHION_MNIST.class_names()))


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
    """The python batches of CIFAR-10 (``fine=False``) or CIFAR-100 (``fine=True``)."""
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


def _folder(root: Path, split: str, size: int) -> ImageSet:
    """``root/train`` and ``root/test`` when present, else ``root`` itself: one sub-folder per class."""
    root = root / split if (root / split).is_dir() else root
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
    """The ``split`` (train or test) of a registered data set, from ``root`` or its usual place."""
    spec = get_dataset(name)
    if spec.load is None:
        raise DataError(f"the {name} data set cannot be read here: its entry has no loader")
    folder = Path(root) if root else spec.default_root
    if folder is None:
        raise DataError(f"--data-root is required for {name}")
    return spec.load(folder, split, image_size)


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


def _imagenet_classes() -> Sequence[str]:
    try:  # optional: the packaged app leaves torchvision out, and then shows generic names
        from torchvision.models._meta import _IMAGENET_CATEGORIES
    except ImportError:
        return ()
    return _IMAGENET_CATEGORIES


CIFAR100_CLASSES = """apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle bowl boy bridge bus
butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach couch crab
crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard
lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom
oak_tree orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine
possum rabbit raccoon ray road rocket rose sea seal shark shrew skunk skyscraper snail snake
spider squirrel streetcar sunflower sweet_pepper table tank telephone television tiger tractor
train trout tulip turtle wardrobe whale willow_tree wolf woman worm""".split()

CIFAR10_PREPROCESSING = Preprocessing(
    "cifar10", (0.4914, 0.4824, 0.4467), (0.2471, 0.2435, 0.2616), 32, "resize",
    "RGB resized to 32x32, CIFAR-10 normalisation",
)

FASHION_MNIST = register(DatasetSpec(
    "fashion-mnist",
    Preprocessing(
        "fashion-mnist", (0.2860,) * 3, (0.3530,) * 3, 32, "garment",
        "grayscale; a light background is inverted to the dataset's dark one; the object is cropped, "
        "fitted inside 28x28 keeping its aspect, centred on a black 32x32 canvas, replicated to 3 "
        "channels and normalised with mean 0.2860, std 0.3530",
    ),
    class_names=lambda: ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
    num_classes=10, load=_fashion_mnist, default_root=Path("/usr/share/datasets/fashion-mnist"),
    crop_padding=2, random_erasing=0.5, hashed_files="*-ubyte*",
))
register(DatasetSpec(
    "cifar10", CIFAR10_PREPROCESSING,
    class_names=lambda: ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"),
    num_classes=10, load=lambda root, split, _size: _cifar(root, split, fine=False), authors_name="cifar10",
))
register(DatasetSpec(
    "cifar100",
    Preprocessing("cifar100", (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761), 32, "resize",
                  "RGB resized to 32x32, CIFAR-100 normalisation"),
    class_names=lambda: CIFAR100_CLASSES, num_classes=100,
    load=lambda root, split, _size: _cifar(root, split, fine=True), authors_name="cifar100",
))
register(DatasetSpec(
    "imagenet",
    Preprocessing("imagenet", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 224, "center-crop",
                  "RGB, resize 256, centre crop 224, ImageNet normalisation"),
    class_names=_imagenet_classes, num_classes=1000, authors_name="ImageNet",
))
register(DatasetSpec("folder", CIFAR10_PREPROCESSING, load=_folder))


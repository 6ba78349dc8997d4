"""Preprocessing: how an image (a PIL photo or a training tensor) becomes a model input.

A weights file names its preprocessing (``fashion-mnist``, ``cifar10``, ``cifar100``,
``imagenet``); each data set's entry in :mod:`ranet.datasets` holds its :class:`Preprocessing`,
and :func:`ranet.datasets.get_preprocessing` turns the name into the transform, as torchvision's
``Weights.transforms`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image, ImageOps
from torch import Tensor

from .images import standard_mode

__all__ = ["Preprocessing", "GEOMETRIES", "grey_pixels"]

GEOMETRIES = ("garment", "resize", "center-crop")


@dataclass(frozen=True)
class Preprocessing:
    """Normalisation and geometry of one family of models."""

    name: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_size: int
    geometry: str  # one of GEOMETRIES: how a photo is brought to the input size
    description: str

    def __post_init__(self) -> None:
        if self.geometry not in GEOMETRIES:
            raise ValueError(f"unknown geometry {self.geometry!r}; known: {', '.join(GEOMETRIES)}")

    def normalize(self, batch: Tensor) -> Tensor:
        """uint8 ``[N,C,H,W]`` (C = 1 or 3) at the input size → normalised float ``[N,3,H,W]``."""
        x = batch.float().div_(255)
        if x.shape[1] == 1:
            x = x.expand(-1, 3, -1, -1)
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return (x - mean) / std

    def pil_to_uint8(self, image: Image.Image) -> Tensor:
        """Geometry and colour for one PIL image (any mode; EXIF orientation applied) → uint8 ``[C, S, S]``."""
        if image.getexif().get(0x0112, 1) != 1:  # load_image already did this; a bare PIL image may not have
            image = ImageOps.exif_transpose(image)
        image = standard_mode(image)
        if image.mode == "L" and self.takes_grey_crop(*image.size):
            return self.grey_crops_to_uint8(grey_pixels(image).unsqueeze(0))[0]
        if self.geometry == "garment":
            image = _garment_like(image)
        elif self.geometry == "center-crop":
            # ImageNet's convention: the shorter side to 256/224 of the input, then the centre crop
            # (for 224: fit to 256x256, trim 16 px on each side).
            outer = round(self.input_size * 256 / 224)
            margin = (outer - self.input_size) // 2
            image = ImageOps.fit(image.convert("RGB"), (outer, outer), Image.Resampling.BILINEAR)
            image = image.crop((margin, margin, margin + self.input_size, margin + self.input_size))
        else:
            image = image.convert("RGB").resize((self.input_size, self.input_size), Image.Resampling.BILINEAR)
        channels = len(image.getbands())
        data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        return data.reshape(image.height, image.width, channels).permute(2, 0, 1).contiguous()

    def takes_grey_crop(self, width: int, height: int) -> bool:
        """Whether a grey image of this size needs no crop or resize (a Fashion-MNIST crop: the
        longer side is 28), so that :meth:`grey_crops_to_uint8` places it as it is."""
        return self.geometry == "garment" and max(width, height) == 28

    def grey_crops_to_uint8(self, crops: Tensor) -> Tensor:
        """uint8 grey images ``[N, h, w]`` that :meth:`takes_grey_crop` → uint8 ``[N, 1, S, S]``, the
        bytes :meth:`pil_to_uint8` gives each (light backgrounds inverted, centred on black), for
        a whole batch at once."""
        n, h, w = crops.shape
        crops = torch.where(_light_backgrounds(crops).view(n, 1, 1), 255 - crops, crops)
        top, left = (self.input_size - h) // 2, (self.input_size - w) // 2
        padding = (left, self.input_size - w - left, top, self.input_size - h - top)
        return torch.nn.functional.pad(crops, padding).unsqueeze(1)

    def prepare_training_batch(self, batch: Tensor) -> Tensor:
        """Training tensors (e.g. Fashion-MNIST 28x28) → uint8 at the input size."""
        pad = (self.input_size - batch.shape[-1]) // 2
        if pad > 0:
            batch = torch.nn.functional.pad(batch, (pad, pad, pad, pad))
        return batch

    def __call__(self, image: Image.Image) -> Tensor:
        """One PIL image → normalised float ``[3, S, S]``, ready to stack into a batch."""
        return self.normalize(self.pil_to_uint8(image).unsqueeze(0))[0]


def _garment_like(image: Image.Image) -> Image.Image:
    """Bring a photo (in a standard mode) close to a Fashion-MNIST crop: grey, light object on
    black, kept aspect, fitted in 28x28 and centred in 32x32."""
    gray = ImageOps.grayscale(image)
    if image.mode in ("RGBA", "LA"):
        # Transparent background counts as background (composited onto white, inverted below).
        alpha = image.getchannel("A")
        white = Image.new("L", gray.size, 255)
        gray = Image.composite(gray, white, alpha)
    if _light_backgrounds(grey_pixels(gray).unsqueeze(0))[0]:  # a product photo: the dataset's are dark
        gray = ImageOps.invert(gray)
    if max(gray.size) > 32:
        box = gray.point(lambda v: 255 if v > 40 else 0).getbbox()
        if box:
            gray = gray.crop(box)
    gray = ImageOps.autocontrast(gray) if max(gray.size) > 32 else gray
    scale = 28 / max(gray.size)
    size = (max(1, round(gray.width * scale)), max(1, round(gray.height * scale)))
    gray = gray.resize(size, Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BILINEAR)
    canvas = Image.new("L", (32, 32), 0)
    canvas.paste(gray, ((32 - size[0]) // 2, (32 - size[1]) // 2))
    return canvas


def grey_pixels(image: Image.Image) -> Tensor:
    """An L image's pixels as uint8 ``[height, width]``."""
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(image.height, image.width)


def _light_backgrounds(grey: Tensor) -> Tensor:
    """Per image of uint8 ``[N, h, w]``: whether the mean of its outermost rows and columns
    (corners counted twice) is over 127, compared in integers."""
    _, h, w = grey.shape
    edge = grey[:, [0, -1], :].sum((1, 2)) + grey[:, :, [0, -1]].sum((1, 2))
    return edge > 127 * 2 * (w + h)

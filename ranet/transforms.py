"""Preprocessing: how an image (a PIL photo or a training tensor) becomes a model input.

A weights file names its preprocessing (``fashion-mnist``, ``cifar10``, ``cifar100``,
``imagenet``); :func:`get_preprocessing` turns the name into the transform, as torchvision's
``Weights.transforms`` does.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from PIL import Image, ImageOps
from torch import Tensor

from .images import standard_mode

__all__ = ["Preprocessing", "get_preprocessing", "PREPROCESSING"]


@dataclass(frozen=True)
class Preprocessing:
    """Normalisation and geometry of one family of models."""

    name: str
    mean: tuple[float, ...]
    std: tuple[float, ...]
    input_size: int
    description: str

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
        if self.name == "fashion-mnist":
            image = _garment_like(image)
        elif self.name == "imagenet":
            # Resize the shorter side to 256 and centre-crop 224 (fit to 256x256 then trim 16 px).
            image = ImageOps.fit(image.convert("RGB"), (256, 256), Image.Resampling.BILINEAR)
            image = image.crop((16, 16, 240, 240))
        else:
            image = image.convert("RGB").resize((self.input_size, self.input_size), Image.Resampling.BILINEAR)
        channels = len(image.getbands())
        data = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        return data.reshape(image.height, image.width, channels).permute(2, 0, 1).contiguous()

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
    border = _border_mean(gray)
    if border > 127:  # light background (a product photo): the dataset has dark ones
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


def _border_mean(gray: Image.Image) -> float:
    w, h = gray.size
    px = gray.load()
    edge = [px[x, 0] for x in range(w)] + [px[x, h - 1] for x in range(w)]
    edge += [px[0, y] for y in range(h)] + [px[w - 1, y] for y in range(h)]
    return sum(edge) / len(edge)


PREPROCESSING: dict[str, Preprocessing] = {
    "fashion-mnist": Preprocessing(
        "fashion-mnist", (0.2860,) * 3, (0.3530,) * 3, 32,
        "grayscale; a light background is inverted to the dataset's dark one; the object is cropped, "
        "fitted inside 28x28 keeping its aspect, centred on a black 32x32 canvas, replicated to 3 "
        "channels and normalised with mean 0.2860, std 0.3530",
    ),
    "cifar10": Preprocessing(
        "cifar10", (0.4914, 0.4824, 0.4467), (0.2471, 0.2435, 0.2616), 32,
        "RGB resized to 32x32, CIFAR-10 normalisation",
    ),
    "cifar100": Preprocessing(
        "cifar100", (0.5071, 0.4867, 0.4408), (0.2675, 0.2565, 0.2761), 32,
        "RGB resized to 32x32, CIFAR-100 normalisation",
    ),
    "imagenet": Preprocessing(
        "imagenet", (0.485, 0.456, 0.406), (0.229, 0.224, 0.225), 224,
        "RGB, resize 256, centre crop 224, ImageNet normalisation",
    ),
}


def get_preprocessing(name: str) -> Preprocessing:
    try:
        return PREPROCESSING[name]
    except KeyError:
        raise ValueError(f"unknown preprocessing {name!r}; known: {', '.join(PREPROCESSING)}") from None

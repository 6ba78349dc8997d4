"""The model's transform: EXIF orientation, any mode, photos brought close to Fashion-MNIST."""

from __future__ import annotations

import torch
from PIL import Image, ImageDraw

from ranet.datasets import get_preprocessing


def _photo() -> Image.Image:
    """A dark 'garment' on a light background, wider than tall, off-centre."""
    im = Image.new("RGB", (400, 200), (235, 235, 230))
    ImageDraw.Draw(im).rectangle((40, 50, 160, 170), fill=(30, 30, 40))
    return im


def test_exif_orientation_is_applied(tmp_path):
    prep = get_preprocessing("fashion-mnist")
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise when displayed
    _photo().save(tmp_path / "rot.png", exif=exif)
    rotated = Image.open(tmp_path / "rot.png")
    upright = _photo().transpose(Image.Transpose.ROTATE_270)
    assert torch.equal(prep.pil_to_uint8(rotated), prep.pil_to_uint8(upright))


def test_photo_on_light_background_becomes_a_centred_light_object_on_black():
    x = get_preprocessing("fashion-mnist").pil_to_uint8(_photo())
    assert x.shape == (1, 32, 32)
    assert x[0, 0].float().mean() < 10 and x[0, -1].float().mean() < 10  # dark background
    assert x[0, 12:20, 12:20].float().mean() > 200  # the object, inverted and centred
    assert x[0, 2:30, 2:30].float().mean() > 100  # fitted inside 28x28, filling it


def test_every_preprocessing_gives_normalised_three_channel_input():
    for name, size in (("fashion-mnist", 32), ("cifar10", 32), ("cifar100", 32), ("imagenet", 224)):
        out = get_preprocessing(name)(Image.new("P", (37, 53)))
        assert out.shape == (3, size, size) and out.dtype == torch.float32


def test_a_preprocessing_names_a_known_geometry():
    import pytest

    from ranet.transforms import Preprocessing

    with pytest.raises(ValueError, match="unknown geometry"):
        Preprocessing("x", (0.5,) * 3, (0.5,) * 3, 32, "stretch", "a typo would otherwise fall back to resizing")

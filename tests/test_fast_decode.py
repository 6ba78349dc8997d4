"""The folder path's shortcuts give the same bytes as the general path: grey 28-pixel images skip
the PIL geometry, and a file is opened by the format its extension names first (a misnamed file
still opens)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ranet.datasets import get_preprocessing
from ranet.images import _formats, load_image
from ranet.transforms import _garment_like


@pytest.mark.parametrize("size", [(28, 28), (20, 28), (28, 13)])
@pytest.mark.parametrize("background", [0, 255])
def test_grey_28_pixel_images_give_the_pil_paths_bytes(size, background):
    rng = np.random.default_rng(sum(size) + background)
    pixels = rng.integers(0, 256, size[::-1], dtype=np.uint8)
    pixels[[0, -1], :] = background  # a light or a dark frame
    pixels[:, [0, -1]] = background
    image = Image.fromarray(pixels, "L")
    slow = torch.frombuffer(bytearray(_garment_like(image).tobytes()), dtype=torch.uint8).view(1, 32, 32)
    fast = get_preprocessing("fashion-mnist").pil_to_uint8(image)
    assert fast.dtype == torch.uint8 and fast.shape == (1, 32, 32)
    assert torch.equal(fast, slow)
    top, left = (32 - size[1]) // 2, (32 - size[0]) // 2
    inner = fast[0, top:top + size[1], left:left + size[0]].numpy()
    assert np.array_equal(inner, 255 - pixels if background == 255 else pixels)  # a light frame is inverted
    assert int(fast.sum()) == int(inner.astype(np.int64).sum())  # black around it


def test_a_file_opens_whatever_its_extension_says(tmp_path):
    pixels = np.arange(28 * 28, dtype=np.uint32).reshape(28, 28).astype(np.uint8)
    Image.fromarray(pixels, "L").save(tmp_path / "a.png")
    Image.fromarray(pixels, "L").save(tmp_path / "b.jpg", format="PNG")  # a PNG misnamed .jpg
    assert _formats(tmp_path / "a.png")[0] == "PNG" and _formats(tmp_path / "b.JPG")[0] == "JPEG"
    for name in ("a.png", "b.jpg"):
        assert np.array_equal(np.asarray(load_image(tmp_path / name)), pixels)

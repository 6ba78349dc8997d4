"""Files to model inputs for the commands: batches in scan order, unreadable files reported with
their reason, the same tensors whether decoded ahead in threads or inline."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from ranet.datasets import get_preprocessing
from ranet.images import load_image, scan_images
from ranet.errors import ImageLoadError
from ranet.reading import model_input, read_batch, read_batches

from testsupport import SAMPLES


def _folder(tmp_path):
    for i, src in enumerate(sorted((SAMPLES / "Bag").glob("*.png"))[:5]):
        (tmp_path / f"{i}.png").write_bytes(src.read_bytes())
    (tmp_path / "2b.png").write_bytes(b"not a png")
    return list(scan_images([tmp_path]))


def test_batches_keep_scan_order_and_report_unreadable_files(tmp_path):
    paths = _folder(tmp_path)
    prep = get_preprocessing("fashion-mnist")
    batches = list(read_batches(paths, prep, batch_size=2, workers=2))
    assert [len(b.paths) + len(b.failures) for b in batches] == [2, 2, 2]
    assert [p for b in batches for p in b.paths] == [p for p in paths if p.name != "2b.png"]
    assert [(p.name, reason) for b in batches for p, reason in b.failures] == [
        ("2b.png", "not an image file, or an image format that cannot be read")]
    for b in batches:
        assert b.inputs.shape == (len(b.paths), 3, 32, 32) and len(b.read_ms) == len(b.paths)
        expected = torch.stack([prep(load_image(p)) for p in b.paths])
        assert torch.equal(b.inputs, expected)


def test_threads_and_inline_reading_agree(tmp_path):
    paths = _folder(tmp_path)
    prep = get_preprocessing("fashion-mnist")
    ahead = list(read_batches(iter(paths), prep, batch_size=4, workers=2))
    inline = list(read_batches(iter(paths), prep, batch_size=4, workers=0))
    assert [b.paths for b in ahead] == [b.paths for b in inline]
    assert all(torch.equal(a.inputs, b.inputs) for a, b in zip(ahead, inline))


def test_a_batch_of_unreadable_files_has_no_inputs(tmp_path):
    (tmp_path / "a.png").write_bytes(b"")
    [batch] = read_batches([tmp_path / "a.png"], get_preprocessing("fashion-mnist"), batch_size=8)
    assert batch.inputs is None and batch.failures == [(tmp_path / "a.png", "empty file")]


def test_an_image_the_preprocessing_cannot_take_gets_a_reason():
    class Refusing:
        def __init__(self, exc):
            self.exc = exc

        def pil_to_uint8(self, image):
            raise self.exc

    image = Image.new("L", (28, 28))
    with pytest.raises(ImageLoadError, match=r"^cannot prepare the image \(too small\)$"):
        model_input(image, Refusing(ValueError("too small")))
    with pytest.raises(ImageLoadError, match=r"^cannot prepare the image \(RuntimeError: boom\)$"):
        model_input(image, Refusing(RuntimeError("boom\nsecond line")))
    assert model_input(image, get_preprocessing("fashion-mnist")).shape == (1, 32, 32)


def test_a_batch_of_every_kind_gives_the_general_paths_inputs(tmp_path):
    """Short-way PNG files, grey crops placed for the whole batch (light backgrounds inverted,
    shorter sides padded), a rotated and a colour image, a JPEG crop, and an unreadable file."""
    rng = np.random.default_rng(7)

    def grey(size, light=False):
        pixels = rng.integers(0, 256, size[::-1], dtype=np.uint8)
        pixels[[0, -1], :] = pixels[:, [0, -1]] = 250 if light else 5
        return Image.fromarray(pixels, "L")

    grey((28, 28)).save(tmp_path / "a.png")
    grey((28, 28), light=True).save(tmp_path / "b.png")
    grey((20, 28)).save(tmp_path / "c.png")
    rotated = Image.Exif()
    rotated[0x0112] = 6
    grey((28, 20)).save(tmp_path / "d.png", exif=rotated)
    grey((28, 28)).convert("RGB").save(tmp_path / "e.png")
    grey((28, 28)).save(tmp_path / "f.jpg", quality=95)
    grey((64, 48)).save(tmp_path / "g.png")
    (tmp_path / "h.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    paths = sorted(tmp_path.iterdir())
    prep = get_preprocessing("fashion-mnist")
    batch = read_batch(paths, prep)
    assert [p.stem for p in batch.paths] == list("abcdefg") and len(batch.read_ms) == 7
    with pytest.raises(ImageLoadError) as general:
        load_image(tmp_path / "h.png")
    assert batch.failures == [(tmp_path / "h.png", str(general.value))]
    assert torch.equal(batch.inputs, torch.stack([prep(load_image(p)) for p in batch.paths]))
    assert load_image(tmp_path / "d.png").size == (20, 28)  # turned upright before it was placed


def test_a_batch_says_where_each_image_read_came_from(tmp_path):
    Image.new("L", (28, 28), 9).save(tmp_path / "a.png")
    Image.new("L", (28, 28), 99).save(tmp_path / "b.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    given = [tmp_path / "a.png", tmp_path / "broken.png", tmp_path / "a.png", tmp_path / "missing.png", tmp_path / "b.png"]
    batch = read_batch(given, get_preprocessing("fashion-mnist"))
    assert batch.positions == [0, 2, 4] and batch.paths == [given[k] for k in batch.positions]
    assert [path for path, _ in batch.failures] == [given[1], given[3]]

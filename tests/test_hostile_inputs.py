"""Whatever a person drops: images, folders and model files that are broken, odd or hostile.

Every file here is generated in ``tmp_path``. The rules under test: a good image is classified, a
bad one is reported with one line a person understands, a scan never loops or stops, nothing in
a model file or an args.txt runs, and the CLI never writes beside the images.
"""

from __future__ import annotations

import errno
import io
import json
import os
import pickle
import re
import struct
import threading
import warnings
import zlib
from contextlib import suppress
from datetime import timedelta
from pathlib import Path
from typing import Callable, Iterator

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from testsupport import TINY_CONFIG
from ranet import CheckpointError, ConfigError, ImageLoadError, RANet, RANetConfig, load_image, load_model, scan_images
from ranet import save_authors_checkpoint
from ranet.commands.cli import main
from ranet.config import parse_args_text
from ranet.images import IMAGE_EXTENSIONS, STANDARD_MODES, standard_mode
from ranet.datasets import DATASETS, get_preprocessing

JARGON = re.compile(r"Traceback|Exception|[A-Z][a-z]+Error|errno|\bint\(|b'|\\x|\bPIL\b|Pillow|\bNone\b"
                    r"|\b0x[0-9a-f]{4,}")
# Pillow warns about the oddities fed to it here on purpose (corrupt EXIF, bomb-sized headers).
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning", "ignore::DeprecationWarning",
                                        "ignore::PIL.Image.DecompressionBombWarning")


def assert_human(reason: str) -> None:
    """One short line, no Python or library internals."""
    assert reason and "\n" not in reason and len(reason) < 200, reason
    assert not JARGON.search(reason), reason


# -- generated images --------------------------------------------------------------------------

def picture(mode: str = "RGB", size: tuple[int, int] = (24, 16)) -> Image.Image:
    """A gradient (compressors and decoders see real structure) in ``mode``."""
    w, h = size
    im = Image.new("RGB", size)
    im.putdata([((x * 255) // max(w - 1, 1), (y * 255) // max(h - 1, 1), 128) for y in range(h) for x in range(w)])
    return im.convert(mode)


def encoded(fmt: str, image: Image.Image | None = None, **params) -> bytes:
    buf = io.BytesIO()
    (image or picture()).save(buf, format=fmt, **params)
    return buf.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width x height`` but holds a few bytes: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def animated_gif(colors: list[tuple[int, int, int]]) -> bytes:
    frames = [Image.new("RGB", (10, 10), c) for c in colors]
    buf = io.BytesIO()
    frames[0].save(buf, format="GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    return buf.getvalue()


def rotated_jpeg() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    return encoded("JPEG", picture(size=(40, 20)), exif=exif)


def readable_formats() -> list[tuple[str, str, Image.Image]]:
    """Every format Pillow both writes and reads (so a sample can be generated): name, extension,
    a small image it accepts."""
    extension = {}
    for ext, fmt in Image.registered_extensions().items():
        extension.setdefault(fmt, ext)
    found = []
    for fmt in sorted(set(Image.SAVE) & set(Image.OPEN) - {"EPS"}):
        for mode in ("RGB", "L", "1", "F"):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", DeprecationWarning)  # Pillow retires some old formats
                    Image.open(io.BytesIO(encoded(fmt, picture(mode)))).load()
            except Exception:
                continue
            found.append((fmt, extension.get(fmt, "." + fmt.lower()), picture(mode)))
            break
    return found


# -- images: good ones ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt,ext,image", readable_formats(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_readable_format_loads_and_is_found_by_extension(tmp_path, fmt, ext, image):
    path = tmp_path / f"sample{ext.upper()}"  # upper case on purpose
    image.save(path, format=fmt)
    loaded = load_image(path)
    assert loaded.mode in STANDARD_MODES and loaded.size[0] > 0
    if ext in IMAGE_EXTENSIONS:  # a few formats (SPIDER) have no registered extension
        assert list(scan_images([tmp_path])) == [path]
    for prep in {spec.preprocessing for spec in DATASETS.values()}:
        assert prep(loaded).shape == (3, prep.input_size, prep.input_size)


MODES = ["1", "L", "P", "PA", "LA", "La", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
         "I", "I;16", "I;16B", "I;16L", "F"]


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_becomes_standard_and_passes_every_transform(mode):
    image = Image.new(mode, (37, 23)) if mode.startswith("I;16") else picture(mode, (37, 23))
    assert standard_mode(image).mode in STANDARD_MODES
    for prep in {spec.preprocessing for spec in DATASETS.values()}:
        x = prep(image)
        assert x.shape == (3, prep.input_size, prep.input_size) and bool(torch.isfinite(x).all())
        assert prep.pil_to_uint8(image).dtype == torch.uint8


def test_palette_with_transparency_keeps_its_alpha_and_odd_shapes_pass(tmp_path):
    pal = picture("P")
    pal.info["transparency"] = 0
    pal.save(tmp_path / "t.png")
    assert load_image(tmp_path / "t.png").mode == "RGBA"
    prep = get_preprocessing("fashion-mnist")
    for size in [(1, 1), (1, 500), (500, 1)]:
        assert prep(Image.new("RGBA", size, (0, 0, 0, 0))).shape == (3, 32, 32)


def test_wide_grey_is_scaled_not_clipped(tmp_path):
    g16 = Image.new("I;16", (8, 8), 32768)
    g16.save(tmp_path / "g16.png")
    assert load_image(tmp_path / "g16.png").getextrema() == (128, 128)  # clipping would give 255
    Image.new("F", (8, 8), 0.5).save(tmp_path / "float.tif")
    assert load_image(tmp_path / "float.tif").getextrema() == (127, 127)


def test_cmyk_animated_and_exif_rotated_images(tmp_path):
    picture("CMYK").save(tmp_path / "cmyk.jpg")
    assert load_image(tmp_path / "cmyk.jpg").mode == "RGB"
    (tmp_path / "anim.gif").write_bytes(animated_gif([(250, 0, 0), (0, 0, 250), (0, 250, 0)]))
    first = load_image(tmp_path / "anim.gif").convert("RGB").getpixel((5, 5))
    assert first[0] > 200 and first[2] < 50  # the first frame, not the last
    (tmp_path / "rot.jpg").write_bytes(rotated_jpeg())
    assert load_image(tmp_path / "rot.jpg").size == (20, 40)


def test_damaged_exif_leaves_a_good_picture_readable(tmp_path):
    data = bytearray(rotated_jpeg())
    start = data.find(b"Exif\0\0")
    data[start + 10:start + 30] = b"\xff" * 20  # the EXIF directory becomes nonsense
    (tmp_path / "exif.jpg").write_bytes(bytes(data))
    assert load_image(tmp_path / "exif.jpg").size[0] > 0


def test_wrong_extensions_and_non_ascii_names(tmp_path):
    folder = tmp_path / "фото 画像 é"
    folder.mkdir()
    (folder / "really_a_png.JPG").write_bytes(encoded("PNG"))
    (folder / "really_a_jpeg.png").write_bytes(encoded("JPEG"))
    (folder / "Ünïcode ✓.Jpeg").write_bytes(encoded("JPEG"))
    found = list(scan_images([folder]))
    assert len(found) == 3
    assert all(load_image(p).size == (24, 16) for p in found)


def test_a_very_large_legal_photo_loads(tmp_path):
    Image.new("L", (8000, 6000), 90).save(tmp_path / "big.jpg", quality=50)  # 48 megapixels
    assert load_image(tmp_path / "big.jpg").size == (8000, 6000)


# -- images: bad ones ----------------------------------------------------------------------------

@pytest.fixture()
def make_pipe() -> Iterator[Callable[[Path], Path]]:
    """``make_pipe(path)`` creates a named pipe. Code that blocks opening one would hang the test
    run forever: after 20 s its other end is opened (again and again), so the test fails instead."""
    done, stuck, threads = threading.Event(), [], []

    def rescue(path: Path) -> None:
        if done.wait(20):
            return
        stuck.append(path.name)
        while not done.wait(0.2):
            with suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    def make(path: Path) -> Path:
        os.mkfifo(path)
        threads.append(threading.Thread(target=rescue, args=(path,), daemon=True))
        threads[-1].start()
        return path

    yield make
    done.set()
    for thread in threads:
        thread.join()
    assert not stuck, f"blocked opening the named pipe(s) {stuck}"


def bad_files(folder: Path, make_pipe: Callable[[Path], Path]) -> dict[Path, str]:
    """Files a person might drop that cannot be classified, with a word their reason must hold."""
    folder.mkdir(parents=True, exist_ok=True)
    png, jpeg = encoded("PNG"), encoded("JPEG", picture(size=(200, 150)))
    cases = {
        "empty.png": (b"", "empty"),
        "notes.jpg": (b"shopping list: eggs, milk\n", "not an image"),
        "random.png": (bytes(range(256)) * 4, "not an image"),
        "half.jpg": (jpeg[: len(jpeg) // 2], "truncated"),
        "cut.png": (png[: len(png) - 30], "truncated"),
        "cut.gif": (encoded("GIF")[:60], ""),
        "cut.tif": (encoded("TIFF")[:200], ""),
        "bomb.png": (png_header_only(100_000, 100_000), "too large"),
        "huge.png": (png_header_only(12_000, 12_000), "too large"),
        "ghostscript.eps": (encoded("EPS"), "not an image"),
    }
    expected = {}
    for name, (data, word) in cases.items():
        (folder / name).write_bytes(data)
        expected[folder / name] = word
    (folder / "photo.jpg").mkdir()  # a folder named like an image is walked, not reported
    os.symlink(folder / "gone.png", folder / "dangling.png")
    expected[folder / "dangling.png"] = "broken link"
    os.symlink("self.png", folder / "self.png")
    expected[folder / "self.png"] = "loop"
    make_pipe(folder / "pipe.png")  # opening it would block
    expected[folder / "pipe.png"] = "not a regular file"
    return expected


def test_every_bad_file_gets_a_human_reason(tmp_path, make_pipe):
    for path, word in bad_files(tmp_path / "bad", make_pipe).items():
        with pytest.raises(ImageLoadError) as err:
            load_image(path)
        assert_human(str(err.value))
        assert word in str(err.value), (path.name, str(err.value))
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path / "bad" / "photo.jpg")
    with pytest.raises(ImageLoadError, match="file not found"):
        load_image(tmp_path / "nowhere.png")


def test_eps_is_never_handed_to_ghostscript(tmp_path, monkeypatch):
    from PIL import EpsImagePlugin

    ran = []  # PostScript is a program: Ghostscript would run whatever a dropped file holds
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *args, **kwargs: ran.append(args))
    (tmp_path / "x.eps").write_bytes(encoded("EPS"))
    with pytest.raises(ImageLoadError, match="not an image"):
        load_image(tmp_path / "x.eps")
    assert not ran and ".eps" not in IMAGE_EXTENSIONS


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP"])
def test_truncation_at_any_point_is_an_image_or_a_reason(tmp_path, fmt):
    data = encoded(fmt)
    for cut in sorted({1, 2, 8, 16, 33, len(data) // 4, len(data) // 2, len(data) - 2, len(data) - 1}):
        path = tmp_path / f"cut{cut}"
        path.write_bytes(data[:cut])
        try:
            assert load_image(path).mode in STANDARD_MODES
        except ImageLoadError as exc:
            assert_human(str(exc))


@pytest.fixture(scope="module")
def fuzz_file(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz") / "sample"


FUZZ_SEEDS = [encoded("PNG"), encoded("JPEG"), encoded("GIF"), encoded("TIFF"), encoded("TIFF", compression="tiff_lzw"),
              encoded("PNG", Image.new("I;16", (6, 4), 4000)), animated_gif([(9, 9, 9), (200, 9, 9)])]


@settings(max_examples=150, deadline=timedelta(seconds=5), database=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(FUZZ_SEEDS),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), max_size=8),
       keep=st.floats(0.02, 1.0))
def test_fuzzed_images_give_an_image_or_a_reason(fuzz_file, seed, flips, keep):
    data = bytearray(seed)
    for where, value in flips:
        data[int(where * len(data))] = value
    fuzz_file.write_bytes(bytes(data[: max(1, int(keep * len(data)))]))
    try:
        image = load_image(fuzz_file)
    except ImageLoadError as exc:
        assert_human(str(exc))
        return
    assert image.mode in STANDARD_MODES
    assert get_preprocessing("fashion-mnist")(image).shape == (3, 32, 32)


def test_unreadable_file_is_reported_simulated(tmp_path, monkeypatch):
    # Tests run as root, where chmod 000 changes nothing: the operating system's answer is simulated.
    (tmp_path / "locked.png").write_bytes(encoded("PNG"))

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Image, "open", denied)
    with pytest.raises(ImageLoadError, match="^permission denied$"):
        load_image(tmp_path / "locked.png")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root reads files whatever their permissions; the simulated tests cover this")
def test_unreadable_file_and_folder_are_reported_for_real(tmp_path):
    locked, closed = tmp_path / "locked.png", tmp_path / "closed"
    locked.write_bytes(encoded("PNG"))
    closed.mkdir()
    locked.chmod(0)
    closed.chmod(0)
    try:
        with pytest.raises(ImageLoadError, match="permission denied"):
            load_image(locked)
        assert list(scan_images([tmp_path])) == [closed, locked]
        with pytest.raises(ImageLoadError, match=r"folder cannot be read \(permission denied\)"):
            load_image(closed)
    finally:
        locked.chmod(0o644)
        closed.chmod(0o755)


# -- folder scans --------------------------------------------------------------------------------

def test_scan_skips_junk_follows_links_once_and_reports_the_broken(tmp_path):
    root = tmp_path / "drop"
    (root / "sub" / "photo.jpg").mkdir(parents=True)
    (root / ".git").mkdir()
    for name in ["a.png", "B.JPG", "sub/c.jpeg", "sub/photo.jpg/inner.png", ".git/hidden.png"]:
        (root / name).write_bytes(encoded("PNG"))
    for junk in ["._a.png", ".DS_Store", "Thumbs.db", "desktop.ini", "notes.txt"]:
        (root / junk).write_bytes(b"\0\1junk")
    os.symlink(root, root / "sub" / "loop")  # a folder link back to the top
    os.symlink("..", root / "sub" / "up")
    os.symlink("gone.png", root / "dangling.png")
    os.symlink("self.png", root / "self.png")
    found = [p.relative_to(root).as_posix() for p in scan_images([root, root / "sub"])]
    assert found == ["B.JPG", "a.png", "dangling.png", "self.png", "sub/c.jpeg", "sub/photo.jpg/inner.png"]
    assert list(scan_images([root / "._a.png", root / "Thumbs.db"])) == []


def test_scan_of_a_very_deep_tree_does_not_overflow(tmp_path):
    deep = tmp_path
    for _ in range(1100):  # deeper than Python's recursion limit
        deep = deep / "d"
        os.mkdir(deep)
    (deep / "x.png").write_bytes(b"x")
    try:
        assert [p.name for p in scan_images([tmp_path])] == ["x.png"]
    finally:  # removed here, bottom up: pytest's own clean-up (shutil.rmtree) recurses and would fail
        (deep / "x.png").unlink()
        while deep != tmp_path:
            deep.rmdir()
            deep = deep.parent


def test_unreadable_folder_is_reported_not_skipped_simulated(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    (tmp_path / "ok.png").write_bytes(encoded("PNG"))
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == locked:
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    found = list(scan_images([tmp_path]))
    assert found == [locked, tmp_path / "ok.png"]
    with pytest.raises(ImageLoadError, match=r"folder cannot be read \(permission denied\)"):
        load_image(locked)


# -- checkpoints and args.txt --------------------------------------------------------------------

class _Payload:
    """Unpickling this calls ``func(*args)``: a checkpoint that would run code."""

    def __init__(self, func, *args):
        self.func, self.args = func, args

    def __reduce__(self):
        return self.func, self.args


def _payloads(marker: Path) -> dict[str, _Payload]:
    return {"open": _Payload(open, str(marker), "w"),
            "system": _Payload(os.system, f"touch '{marker}'"),
            "exec": _Payload(exec, f"open({str(marker)!r}, 'w')")}


@pytest.mark.parametrize("how", ["torch.save", "pickle-0", "pickle-2", "pickle-5"])
@pytest.mark.parametrize("payload", ["open", "system", "exec"])
def test_a_checkpoint_that_would_run_code_is_refused(tmp_path, capsys, how, payload):
    marker = tmp_path / "MARKER"
    evil = tmp_path / "evil.pth.tar"
    obj = {"state_dict": {"w": _payloads(marker)[payload]}}
    if how == "torch.save":
        torch.save(obj, evil)
    else:
        evil.write_bytes(pickle.dumps(obj, protocol=int(how[-1])))
    with pytest.raises(CheckpointError) as err:
        load_model(evil, device="cpu")
    assert "\n" not in str(err.value)
    if how == "torch.save":
        assert "refused" in str(err.value)
    (tmp_path / "x.png").write_bytes(encoded("PNG"))
    assert main(["classify", "--weights", str(evil), str(tmp_path / "x.png")]) == 2
    err_text = capsys.readouterr().err
    assert err_text.count("\n") == 1 and "Traceback" not in err_text
    assert not marker.exists()


@pytest.mark.parametrize("payload", ["open", "system", "exec"])
def test_the_payloads_do_run_code_when_unpickled_naively(tmp_path, payload):
    # The control for the test above: without weights_only, each of them would have run.
    marker = tmp_path / "MARKER"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)  # the file the 'open' payload leaves open
        pickle.loads(pickle.dumps(_payloads(marker)[payload]))
    assert marker.exists()


def test_a_truncated_or_corrupted_checkpoint_is_one_clear_error(tiny_weights, tmp_path, make_pipe):
    data = tiny_weights.read_bytes()
    cuts = [0, 1, 10, 100, 1000, len(data) // 3, len(data) // 2, len(data) - 100, len(data) - 1]
    damaged = {f"cut{n}.pt": data[:n] for n in cuts}
    damaged.update({"random.pt": bytes(range(256)) * 8, "text.pt": b"hello", "zip.pt": b"PK\x03\x04" + b"\0" * 100,
                    "header_smashed.pt": b"\0" * 200 + data[200:], "tail_smashed.pt": data[:-200] + b"\0" * 200})
    for name, blob in damaged.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(CheckpointError) as err:
            load_model(tmp_path / name, device="cpu")
        assert name in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_model(make_pipe(tmp_path / "pipe.pt"), device="cpu")
    with pytest.raises(CheckpointError, match="not a regular file"):
        load_model(tiny_weights, config=make_pipe(tmp_path / "args.txt"), device="cpu")


def _weights_with(tiny_weights: Path, path: Path, change) -> Path:
    obj = torch.load(tiny_weights, weights_only=True)
    change(obj)
    torch.save(obj, path)
    return path


@pytest.mark.parametrize("change,words", [
    (lambda o: o["meta"].update(config="x"), "bad configuration"),
    (lambda o: o["meta"]["config"].update(nBlocks="two"), "whole number"),
    (lambda o: o["meta"]["config"].update(grFactor=[0, 0, 0]), "positive"),
    (lambda o: o["meta"]["config"].update(nChannels=10**9), "implausibly large"),
    (lambda o: o.pop("meta"), "metadata"),
    (lambda o: o["meta"].update(preprocessing=["x"]), "preprocessing"),
    (lambda o: o["meta"].update(categories=["one"]), "category names"),
    (lambda o: o["meta"].update(input_size="big"), "input size"),
    (lambda o: o["meta"].update(budgets=[{"label": "50%", "thresholds": [0.5]}]), "thresholds"),
    (lambda o: o.update(version=99), "newer release"),
    (lambda o: o.update(state_dict=[1, 2]), "no state_dict"),
    (lambda o: next(iter(o["state_dict"].values())).fill_(float("nan")), "NaN"),
])
def test_a_damaged_weights_file_is_one_clear_error(tiny_weights, tmp_path, change, words):
    path = _weights_with(tiny_weights, tmp_path / "w.pt", change)
    with pytest.raises(CheckpointError, match=words) as err:
        load_model(path, device="cpu")
    assert "\n" not in str(err.value)


def test_a_config_that_does_not_fit_is_refused_before_memory_is_allocated(tiny_weights, tmp_path, monkeypatch):
    import ranet.checkpoints

    def meta_only(cfg: RANetConfig, **kwargs) -> RANet:
        # Were it built for real first, a hostile config could take all memory (sizes kept small
        # here so that a regression fails this assertion instead of exhausting the machine).
        assert torch.get_default_device().type == "meta", "a RANet was built for real before the fit check"
        return RANet(cfg, **kwargs)

    monkeypatch.setattr(ranet.checkpoints, "RANet", meta_only)
    path = _weights_with(tiny_weights, tmp_path / "w.pt",
                         lambda o: o["meta"]["config"].update(nChannels=64, growthRate=64))
    with pytest.raises(CheckpointError, match="does not fit"):
        load_model(path, device="cpu")


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    torch.save(torchvision_like_state_dict(), tmp_path / "resnet.pth")
    with pytest.raises(CheckpointError, match="does not fit its configuration"):
        load_model(tmp_path / "resnet.pth", config=dict(TINY_CONFIG), device="cpu")
    other = RANet(RANetConfig.from_dict({**TINY_CONFIG, "nChannels": 8}))
    ckpt = save_authors_checkpoint(tmp_path / "run" / "save_models" / "model_best.pth.tar", other)
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_model(ckpt, config=dict(TINY_CONFIG), device="cpu")


def torchvision_like_state_dict() -> dict[str, torch.Tensor]:
    return {"conv1.weight": torch.zeros(8, 3, 7, 7), "bn1.weight": torch.ones(8), "fc.weight": torch.zeros(10, 8)}


ARGS_TXT = ("Namespace(data='cifar10', nBlocks=2, block_step=2, nChannels=4, growthRate=4, grFactor=[4, 2, 1], "
            "bnFactor=[4, 2, 1], scale_list=[1, 2, 3], compress_factor=0.25, step=1, stepmode='even', reduction=0.5)")


def hostile_args_txt(marker: Path) -> dict[str, str | bytes]:
    run = f"__import__('os').system('touch {marker}')"
    return {
        "binary": bytes(range(256)),
        "empty": "",
        "code": run,
        "code as a value": ARGS_TXT.replace("data='cifar10'", f"data={run}"),
        "code as a key": f"Namespace(**{run})",
        "wrong type": ARGS_TXT.replace("nBlocks=2", "nBlocks='2x'"),
        "dash list": ARGS_TXT.replace("grFactor=[4, 2, 1]", "grFactor='4-x-1'"),
        "infinite": ARGS_TXT.replace("grFactor=[4, 2, 1]", "grFactor=[1e999, 2, 1]"),
        "nesting": "Namespace(a=" + "[" * 150 + "]" * 150 + ")",
        "parser bomb": "-" * 200_000 + "1",
        "huge numbers": ARGS_TXT.replace("nBlocks=2", "nBlocks=" + "9" * 4000),
        "giant model": ARGS_TXT.replace("nBlocks=2", "nBlocks=1000"),
        "too long": "Namespace(" + "a=1, " * 300_000 + ")",
    }


def test_a_hostile_args_txt_never_runs_and_is_one_clear_error(tmp_path, capsys):
    marker = tmp_path / "MARKER"
    model = RANet(RANetConfig.from_dict(TINY_CONFIG))
    ckpt = save_authors_checkpoint(tmp_path / "run" / "save_models" / "model_best.pth.tar", model)
    (tmp_path / "x.png").write_bytes(encoded("PNG"))
    for name, text in hostile_args_txt(marker).items():
        args = ckpt.parent / "args.txt"
        args.write_bytes(text if isinstance(text, bytes) else text.encode())
        with pytest.raises(CheckpointError) as err:
            load_model(ckpt, device="cpu")
        assert "\n" not in str(err.value), name
        assert main(["classify", "--weights", str(ckpt), str(tmp_path / "x.png")]) == 2, name
        assert main(["flops", "--config", str(args)]) == 2, name
        out = capsys.readouterr()
        assert out.err.count("\n") == 2 and "Traceback" not in out.err, (name, out.err)
    assert not marker.exists()


@pytest.mark.parametrize("text", ["Namespace(" + "a=" * 50 + ")", "Namespace(x=1)(2)", "Namespace(data=b'\\xff')"])
def test_parse_args_text_only_raises_config_error(text):
    with pytest.raises(ConfigError):
        parse_args_text(text)


# -- the command line ----------------------------------------------------------------------------

def good_files(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    pal = picture("P")
    pal.info["transparency"] = 3
    samples = {
        "plain.png": encoded("PNG"), "UPPER.JPG": encoded("JPEG"), "png_named.jpg": encoded("PNG"),
        "jpeg_named.png": encoded("JPEG"), "cmyk.jpg": encoded("JPEG", picture("CMYK")),
        "grey16.png": encoded("PNG", Image.new("I;16", (9, 9), 30000)), "bilevel.bmp": encoded("BMP", picture("1")),
        "palette.png": encoded("PNG", pal), "alpha.webp": encoded("WEBP", picture("RGBA")),
        "anim.gif": animated_gif([(1, 2, 3), (200, 100, 50)]), "rotated.jpeg": rotated_jpeg(),
        "icon.ico": encoded("ICO"), "old.tga": encoded("TGA"), "net.ppm": encoded("PPM"),
        "lzw.TIFF": encoded("TIFF", compression="tiff_lzw"), "photo.jpg/inside.png": encoded("PNG"),
        "ünï cødé ✓.png": encoded("PNG"),
    }
    for name, data in samples.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return sorted(folder / name for name in samples)


def _tree(folder: Path) -> list[tuple[str, int, int]]:
    """Every entry under ``folder`` (links not followed) with size and modification time."""
    rows = []
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            info = os.lstat(os.path.join(dirpath, name))
            rows.append((os.path.join(dirpath, name), info.st_size, info.st_mtime_ns))
    return sorted(rows)


def _json_rows(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_cli_classifies_every_good_file_and_reports_every_bad_one(tiny_weights, tmp_path, capsys, make_pipe):
    drop = tmp_path / "drop"
    good = good_files(drop / "good")
    bad = bad_files(drop / "bad", make_pipe)
    for junk in ["._plain.png", ".DS_Store", "Thumbs.db"]:
        (drop / "good" / junk).write_bytes(b"\0junk")
    os.symlink(drop, drop / "good" / "loop")
    missing = tmp_path / "missing.png"
    before = _tree(drop)
    code = main(["classify", "--weights", str(tiny_weights), "--json", "--batch-size", "4", str(drop), str(missing)])
    out = capsys.readouterr()
    assert "Traceback" not in out.err and out.err == ""
    rows = _json_rows(out.out)
    by_path = {row["path"]: row for row in rows}
    assert len(by_path) == len(rows), "a file was reported twice (a loop was followed?)"
    assert sorted(p for p, r in by_path.items() if r["ok"]) == sorted(map(str, good))
    failed = {p: r["error"] for p, r in by_path.items() if not r["ok"]}
    bad = {p: word for p, word in bad.items() if p.suffix in IMAGE_EXTENSIONS}  # a scan skips ghostscript.eps
    assert set(failed) == set(map(str, bad)) | {str(missing)}
    for path, word in bad.items():
        assert word in failed[str(path)]
        assert_human(failed[str(path)])
    assert failed[str(missing)] == "file not found"
    assert code == 1
    assert _tree(drop) == before, "the CLI wrote into the image folders"


def test_cli_exit_codes(tiny_weights, tmp_path, capsys):
    good = good_files(tmp_path / "good")
    assert main(["classify", "--weights", str(tiny_weights), str(tmp_path / "good")]) == 0
    text = capsys.readouterr().out
    assert text.count("\n") == len(good) and "ERROR" not in text
    assert main(["classify", "--weights", str(tiny_weights), "--batch-size", "0", str(tmp_path)]) == 2
    with pytest.raises(SystemExit) as exit_:
        main(["classify", "--weights", str(tiny_weights)])  # no paths: argparse's usage error
    assert exit_.value.code == 2
    assert "Traceback" not in capsys.readouterr().err


def test_cli_prints_names_that_are_not_valid_text(tiny_weights, tmp_path, capsys):
    name = os.fsdecode(b"caf\xe9 \xff.png")  # Latin-1 bytes in a name, as old archives leave them
    try:
        (tmp_path / name).write_bytes(encoded("PNG"))
    except (OSError, UnicodeEncodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (tmp_path / "broken.png").write_bytes(b"junk")
    assert main(["classify", "--weights", str(tiny_weights), str(tmp_path)]) == 1
    out = capsys.readouterr()
    assert "caf" in out.out and "broken.png: ERROR" in out.out and "Traceback" not in out.err
    assert main(["classify", "--weights", str(tiny_weights), "--json", str(tmp_path)]) == 1
    assert any(row["ok"] and "caf" in row["path"] for row in _json_rows(capsys.readouterr().out))

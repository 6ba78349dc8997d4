"""load_model: the project's weights, the authors' checkpoints and run folders, clear errors."""

from __future__ import annotations

import shutil

import pytest
import torch

from testsupport import DATA, TINY_CONFIG
from ranet import CheckpointError, RANet, RANetConfig, load_model, save_authors_checkpoint
from ranet.checkpoints import find_args_txt


def _same_weights(a: RANet, b: RANet) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k].float(), sb[k].float()) for k in sa)


def test_weights_file_carries_meta_and_transform(tiny_weights):
    model = load_model(tiny_weights, device="cpu")
    assert not model.training
    assert model.meta.categories[0] == "T-shirt/top"
    assert model.meta.exit_flops[-1] > model.meta.exit_flops[0]
    from PIL import Image
    x = model.transform(Image.new("RGB", (300, 200), "white"))
    assert x.shape == (3, 32, 32)


@pytest.fixture()
def authors_run(tmp_path):
    """An authors'-style run folder: args.txt beside save_models/model_best.pth.tar."""
    torch.manual_seed(3)
    model = RANet(RANetConfig.from_dict(TINY_CONFIG)).eval()
    ckpt = save_authors_checkpoint(tmp_path / "run" / "save_models" / "model_best.pth.tar", model, epoch=7)
    shutil.move(ckpt.parent / "args.txt", tmp_path / "run" / "args.txt")
    return model, tmp_path / "run"


def test_authors_checkpoint_with_args_one_folder_up(authors_run):
    original, run = authors_run
    raw = torch.load(run / "save_models" / "model_best.pth.tar", weights_only=True)
    assert all(k.startswith("module.") for k in raw["state_dict"])
    loaded = load_model(run / "save_models" / "model_best.pth.tar", device="cpu")
    assert _same_weights(original, loaded)
    assert loaded.meta.categories[:2] == ("airplane", "automobile")
    assert loaded.meta.preprocessing == "cifar10"


def test_authors_run_folder(authors_run):
    original, run = authors_run
    assert _same_weights(original, load_model(run, device="cpu"))


def test_bare_state_dict_needs_a_config(tmp_path):
    model = RANet(RANetConfig.from_dict(TINY_CONFIG))
    torch.save(model.state_dict(), tmp_path / "bare.pt")
    with pytest.raises(CheckpointError, match="args.txt"):
        load_model(tmp_path / "bare.pt", device="cpu")
    loaded = load_model(tmp_path / "bare.pt", config=RANetConfig.from_dict(TINY_CONFIG), device="cpu")
    assert _same_weights(model, loaded)


def test_mismatching_config_names_keys_and_shapes(authors_run, tmp_path):
    _, run = authors_run
    other = tmp_path / "other_args.txt"
    other.write_text("Namespace(data='cifar10', nBlocks=2, block_step=2, nChannels=8, growthRate=4, "
                     "grFactor=[4, 2, 1], bnFactor=[4, 2, 1], scale_list=[1, 2, 3], step=1, stepmode='even')")
    with pytest.raises(CheckpointError, match=r"does not fit its configuration: shape mismatch.*scale_flows") as err:
        load_model(run / "save_models" / "model_best.pth.tar", config=other, device="cpu")
    assert "\n" not in str(err.value)


def test_code_in_a_checkpoint_is_never_run(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    torch.save({"state_dict": {"x": Payload()}}, tmp_path / "evil.pth.tar")
    with pytest.raises(CheckpointError, match="refused"):
        load_model(tmp_path / "evil.pth.tar", device="cpu")
    assert not marker.exists()


def test_args_txt_search(tmp_path):
    (tmp_path / "a" / "b" / "c").mkdir(parents=True)
    (tmp_path / "a" / "args.txt").write_text("x")
    assert find_args_txt(tmp_path / "a" / "b" / "c" / "m.pth.tar") == tmp_path / "a" / "args.txt"
    assert find_args_txt(tmp_path / "a" / "b" / "c" / "d" / "m.pth.tar") is None


def test_reference_fixture_loads_unchanged_with_strict_keys():
    model = load_model(DATA / "tiny_imagenet_fixture.pth.tar", device="cpu")
    assert model.meta.preprocessing == "imagenet" and len(model.meta.categories) == 1000
    assert model.meta.categories[0] == "tench"


def test_device_auto_is_cpu_here_and_bad_device_is_refused(tiny_weights):
    from ranet import resolve_device

    expected = "cuda" if torch.cuda.is_available() else ("mps" if torch.backends.mps.is_available() else "cpu")
    assert resolve_device("auto").type == expected
    with pytest.raises(ValueError):
        resolve_device("tpu")

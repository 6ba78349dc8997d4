"""The model matches the authors' checkpoint layout and numerics."""

from __future__ import annotations

import pytest
import torch

from testsupport import DATA, REFERENCE_CONFIGS
from ranet import RANet, RANetConfig, load_model, parse_args_txt
from ranet.config import PRESETS


@pytest.mark.parametrize("name", list(REFERENCE_CONFIGS))
def test_state_dict_layout_matches_reference_keys(name):
    cfg = RANetConfig.from_dict(REFERENCE_CONFIGS[name])
    with torch.device("meta"):
        model = RANet(cfg)
    expected = []
    for line in (DATA / "keys" / f"{name}.keys.txt").read_text().splitlines():
        key, shape = line.split("\t")
        expected.append((key, tuple(int(v) for v in shape.strip("()").split(",") if v.strip())))
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == expected


def test_presets_are_the_papers_configurations():
    for name, cfg in PRESETS.items():
        assert RANetConfig.from_dict(REFERENCE_CONFIGS[name]) == cfg, name
    assert set(PRESETS) == {n for n in REFERENCE_CONFIGS if not n.startswith("tiny")}


@pytest.mark.parametrize("fixture", ["tiny_cifar_fixture", "tiny_imagenet_fixture"])
def test_fixture_logits_match(fixture):
    model = load_model(DATA / f"{fixture}.pth.tar", device="cpu")
    expected = torch.load(DATA / f"{fixture}.expected.pt", weights_only=True)
    with torch.no_grad():
        logits = model(expected["input"])
    assert len(logits) == len(expected["logits"]) == model.num_exits
    for mine, ref in zip(logits, expected["logits"]):
        # 1e-5, plus float32 rounding relative to the exit's logit scale: the ImageNet fixture's
        # deepest exits reach |logit| ~ 550, where one float32 ulp is already 3e-5.
        assert (mine - ref).abs().max() <= 1e-5 + 1e-6 * ref.abs().max()


def test_forward_returns_every_exit_in_order():
    cfg = RANetConfig(nChannels=4, growthRate=4, step=1)
    model = RANet(cfg).eval()
    out = model(torch.randn(2, 3, 32, 32))
    assert len(out) == cfg.num_exits == 6
    assert all(o.shape == (2, 10) for o in out)


def test_args_txt_is_parsed_without_eval(tmp_path):
    marker = tmp_path / "ran"
    bad = tmp_path / "args.txt"
    bad.write_text(f"Namespace(data=__import__('os').system('touch {marker}'), grFactor=[4, 2, 1], "
                   "scale_list=[1, 2, 3], nChannels=16, growthRate=6)")
    with pytest.raises(ValueError):
        parse_args_txt(bad)
    assert not marker.exists()


def test_args_txt_of_the_fixture():
    cfg = parse_args_txt(DATA / "tiny_cifar_fixture.args.txt")
    assert cfg == RANetConfig.from_dict(REFERENCE_CONFIGS["tiny_cifar_fixture"])
    assert cfg.num_classes == 10 and cfg.num_exits == 6


def test_runners_merge_split_and_survive_a_failed_step(tiny_weights):
    from ranet.model import ExitRunner, fold_batchnorm

    model = fold_batchnorm(load_model(tiny_weights, device="cpu"))
    torch.manual_seed(0)
    x = torch.randn(6, 3, 32, 32)
    with torch.no_grad():
        whole = list(ExitRunner(model, x))
        first, second = ExitRunner(model, x[:2]), ExitRunner(model, x[2:])
        first.step(), second.step()
        merged = ExitRunner.merge([first, second])
        later = [merged.step() for _ in range(model.num_exits - 1)]
        for a, b in zip(whole[1:], later):
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)

        runner = ExitRunner(model, x)
        runner.step()
        part = runner.subset(torch.tensor([4, 1]))
        assert part.batch_size == 2 and runner.batch_size == 6
        torch.testing.assert_close(part.step(), whole[1][[4, 1]], rtol=1e-5, atol=1e-5)
        with pytest.raises(ValueError):
            ExitRunner.merge([runner, part])  # waiting at different exits

        broken = model.classifier[1].linear
        model.classifier[1].linear = None  # the step fails half-way
        with pytest.raises(TypeError):
            runner.step()
        model.classifier[1].linear = broken
        assert runner.next_exit == 1  # left as it was: the step can be retried
        torch.testing.assert_close(runner.step(), whole[1], rtol=1e-5, atol=1e-5)

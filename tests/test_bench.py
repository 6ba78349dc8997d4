"""``ranet bench`` runs end to end on a tiny case; the figures themselves are reported, not tested."""

from __future__ import annotations

import json
import platform
import resource
import sys

import pytest
import torch

from ranet.allocator import tune_allocator
from ranet.commands.bench import _exit_macs, _macs, choose_threshold
from ranet.checkpoints import load_model
from ranet.commands.cli import main
from ranet.datasets import DATASETS, load_dataset, train_val_split
from ranet.flops import exit_flops

DEFAULT_FASHION_MNIST_ROOT = DATASETS["fashion-mnist"].default_root
from ranet.metrics import ExitOutputs, predict_exits
from ranet.model import fold_batchnorm

needs_fashion_mnist = pytest.mark.skipif(not DEFAULT_FASHION_MNIST_ROOT.is_dir(),
                                         reason=f"Fashion-MNIST not found at {DEFAULT_FASHION_MNIST_ROOT}")


@needs_fashion_mnist
def test_bench_json_on_a_tiny_case(tiny_weights, capsys):
    code = main(["bench", "--weights", str(tiny_weights), "--device", "cpu", "--images", "20",
                 "--folder-images", "30", "--batch-size", "8", "--warmup", "1", "--repeats", "1", "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for key in ("flops_speedup", "wall_speedup", "folder_images_per_s", "rethreshold_ms", "full_flops",
                "mean_dynamic_flops"):
        assert report[key] > 0, key
    assert report["batch_size"] == 1 and report["device"] == "cpu" and report["images"] == 20
    assert report["folder_images"] == 30
    kinds = [c["case"] for c in report["cases"]]
    assert kinds.count("speedup") == 2 and kinds.count("exit_latency") == 6
    assert "folder" in kinds and "rethreshold" in kinds
    speed = [c for c in report["cases"] if c["case"] == "speedup"]
    assert [c["batch_size"] for c in speed] == [1, 8]
    for case in speed:
        assert case["full_ms_per_image"] > 0 and case["dynamic_ms_per_image"] > 0
        assert abs(sum(case["exit_share"]) - 1) < 1e-9
    assert report["matmul_peak_gflops"] > 0 and report["allocator"] == tune_allocator()
    for case in speed:
        assert case["peak_gflops"] > 0 and len(case["peak_gflops_repeats"]) == 1
        assert case["dynamic_gflops"] == pytest.approx(2 * case["mean_dynamic_macs"] * case["dynamic_images_per_s"] / 1e9)
        assert case["full_gflops"] == pytest.approx(2 * case["full_macs"] * case["full_images_per_s"] / 1e9)
        assert 0 < case["mean_dynamic_macs"] <= case["full_macs"] < case["full_flops"]
        assert case["dynamic_peak_share"] == pytest.approx(case["dynamic_gflops"] / case["peak_gflops"])
        assert case["full_peak_share"] == pytest.approx(case["full_gflops"] / case["peak_gflops"])
        assert set(case["baselines"]) == {"resnet18", "mobilenet_v3_small"}
        resnet = case["baselines"]["resnet18"]
        assert resnet["macs"] == 37_016_576 and case["baselines"]["mobilenet_v3_small"]["macs"] < 3_000_000
        assert resnet["early_exit_speedup"] == pytest.approx(resnet["ms_per_image"] / case["dynamic_ms_per_image"])
    assert "timing only" in report["baselines_note"]
    assert report["large_batch_vs_resnet18"] == speed[-1]["baselines"]["resnet18"]["early_exit_speedup"]
    # In lanes as the CLI runs a folder: the large batch only, early exit and the static networks alike.
    assert speed[0]["in_lanes"] is None
    lanes = speed[-1]["in_lanes"]
    if torch.get_num_threads() >= 2:
        assert lanes["lanes"] == report["large_batch_lanes"] == 2
        assert lanes["peak_share"] == report["large_batch_lanes_dynamic_peak_share"] > 0
        assert set(lanes["baselines"]) == {"resnet18", "mobilenet_v3_small"}
        resnet = lanes["baselines"]["resnet18"]
        assert resnet["early_exit_speedup"] == pytest.approx(resnet["ms_per_image"] / lanes["dynamic_ms_per_image"])
    else:
        assert lanes is None and report["large_batch_lanes"] == 1
    folder = next(c for c in report["cases"] if c["case"] == "folder")
    assert folder["classified"] == 30 and folder["failed"] == 0 and folder["seconds"] > 0
    assert all(c["ms"] > 0 for c in report["cases"] if c["case"] == "exit_latency")


@needs_fashion_mnist
def test_bench_threshold_is_calibrated_on_the_validation_images_not_the_timed_ones(tiny_weights, capsys):
    model = fold_batchnorm(load_model(tiny_weights))
    _, val = train_val_split(load_dataset("fashion-mnist", None, "train"), seed=int(model.meta.recipe.get("seed", 0)))
    expected = choose_threshold(predict_exits(model, val, model.transform, 500), val.labels)
    assert main(["bench", "--weights", str(tiny_weights), "--device", "cpu", "--images", "10", "--folder-images", "0",
                 "--batch-size", "4", "--warmup", "0", "--repeats", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["threshold"] == (None if expected == float("inf") else expected)
    assert "validation" in report["policy"]


@needs_fashion_mnist
def test_bench_table(tiny_weights, capsys):
    code = main(["bench", "--weights", str(tiny_weights), "--device", "cpu", "--images", "10",
                 "--folder-images", "0", "--batch-size", "4", "--warmup", "0", "--repeats", "1", "--threshold", "0.5"])
    assert code == 0
    out = capsys.readouterr().out
    assert "wall x" in out and "re-threshold" in out and "folder:" not in out


@needs_fashion_mnist
def test_bench_without_torchvision_skips_the_static_networks_and_says_why(tiny_weights, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torchvision.models", None)  # import fails as where it is not installed
    assert main(["bench", "--weights", str(tiny_weights), "--device", "cpu", "--images", "4", "--folder-images", "0",
                 "--batch-size", "2", "--warmup", "0", "--repeats", "1", "--threshold", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "skipped: torchvision cannot be imported" in out and "resnet18 " not in out and "RANet early exit" in out


def test_the_allocator_keeps_activations_in_the_heap():
    applied = tune_allocator()
    if platform.libc_ver()[0] != "glibc":
        assert applied == {}
    else:
        assert applied == {"MALLOC_MMAP_MAX_": 0, "MALLOC_TRIM_THRESHOLD_": 2**31 - 1}
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        for _ in range(20):  # 64 MiB each: mapped and faulted in afresh every time without the settings
            torch.empty(16 << 20).fill_(1)
        assert resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before < 16384 * 5
    assert tune_allocator() == applied


@pytest.mark.parametrize("option", [["--images", "0"], ["--repeats", "0"], ["--folder-images", "-1"],
                                    ["--threshold", "1.5"], ["--device", "no-such-device"]])
def test_bench_rejects_bad_options(tiny_weights, capsys, option):
    assert main(["bench", "--weights", str(tiny_weights), *option]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ranet bench: error:") and len(err.strip().splitlines()) == 1


def test_choose_threshold_is_the_smallest_that_matches_the_last_exit():
    # Exit 1 is right only when confident (>= 0.6); exit 2 is always right.
    confidence = torch.tensor([[0.9, 0.9], [0.7, 0.9], [0.5, 0.9], [0.3, 0.9]])
    prediction = torch.tensor([[1, 1], [1, 1], [0, 1], [0, 1]])
    labels = torch.ones(4, dtype=torch.long)
    assert choose_threshold(ExitOutputs(confidence, prediction), labels) == pytest.approx(0.501)
    # Nothing but the last exit matches: no early exit at all.
    wrong_first = ExitOutputs(torch.full((4, 2), 1.0), torch.tensor([[0, 1]] * 4))
    assert choose_threshold(wrong_first, labels) == float("inf")


def test_ranet_and_the_static_networks_are_counted_by_one_rule():
    # The hardware share counts convolutions and linear layers only, for every network; the
    # authors' FLOPs (ReLUs, pooling, biases too) are a little higher.
    model = load_model()
    x = torch.zeros(1, 3, 32, 32)
    per_exit = _exit_macs(model, x)
    assert per_exit == sorted(per_exit) and len(per_exit) == model.num_exits
    everything = _macs(_LastExit(model), x)  # the plain forward pass, every exit at once
    assert per_exit[-1] == everything
    for macs, flops in zip(per_exit, exit_flops(model.config)):
        assert 0.99 * flops < macs < flops


class _LastExit(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(x)[-1]

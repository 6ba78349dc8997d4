"""``ranet evaluate``: anytime table, budgeted-batch curve, sweep, plot and model card."""

from __future__ import annotations

import json
import shutil

import pytest

from ranet import default_weights_path, load_model
from ranet.commands.cli import main
from ranet.datasets import DATASETS

DEFAULT_FASHION_MNIST_ROOT = DATASETS["fashion-mnist"].default_root

needs_fmnist = pytest.mark.skipif(not (DEFAULT_FASHION_MNIST_ROOT / "t10k-labels-idx1-ubyte.gz").exists(),
                                  reason="Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)")


@needs_fmnist
def test_evaluate_json_plot_and_card(tiny_weights, tmp_path, capsys):
    weights = tmp_path / "model.pt"
    shutil.copy(tiny_weights, weights)
    plot = tmp_path / "curve.png"
    assert main(["evaluate", "--weights", str(weights), "--limit", "300", "--json", "--plot", str(plot),
                 "--write-card", str(weights.with_name("evaluated.pt"))]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [e["exit"] for e in report["exits"]] == [1, 2, 3, 4, 5, 6]
    assert report["full_flops"] == report["exits"][-1]["flops"]
    assert len(report["dynamic"]) == 39
    assert all(0 <= p["accuracy"] <= 100 and p["mean_flops"] <= report["full_flops"] for p in report["dynamic"])
    last = report["exits"][-1]["accuracy"]
    assert all(p["vs_final"] == pytest.approx(p["accuracy"] - last, abs=0.02) and p["vs_final_ci95"] >= 0
               for p in report["dynamic"])
    assert plot.stat().st_size > 5000
    meta = load_model(weights.with_name("evaluated.pt"), device="cpu").meta
    assert list(meta.exit_accuracy) == [e["accuracy"] for e in report["exits"]]
    assert set(meta.thresholds) == {"25%", "40%", "60%"}
    assert {pt["calibration"] for pt in report["budgets"].values()} <= {"geometric", "single"}
    single = report["target"]["sweep_matching_point"]
    if single is not None:  # the cheapest threshold of the sweep within 0.1 point of the final exit
        assert single["accuracy"] >= last - 0.1
        assert all(p["mean_flops"] >= single["mean_flops"] for p in report["threshold_sweep"]
                   if p["accuracy"] >= last - 0.1)
    classes = report["per_class"]
    assert sum(row["images"] for row in classes) == 300 and {row["name"] for row in classes} <= set(meta.categories)
    for label, point in report["budgets"].items():  # the classes add up to the whole
        assert sum(row["budgets"][label]["mean_flops"] * row["images"] for row in classes) / 300 == pytest.approx(
            point["mean_flops"], abs=0.5)
        assert sum(row["budgets"][label]["accuracy"] * row["images"] for row in classes) / 300 == pytest.approx(
            point["accuracy"], abs=0.02)
    card = (tmp_path / "MODEL_CARD.md").read_text()
    assert "Per exit" in card and meta.categories[0] in card and "paired 95 %" in card and "## Per class" in card


def test_paired_difference_against_the_final_exit():
    import torch

    from ranet.metrics import paired_difference

    final = torch.tensor([True] * 90 + [False] * 10)
    same = final.clone()
    assert paired_difference(same, final) == (0.0, 0.0)  # identical decisions: no uncertainty at all
    one_lost = final.clone()
    one_lost[0] = False  # one image of 100 lost, none gained
    diff, half = paired_difference(one_lost, final)
    assert diff == pytest.approx(-1.0)
    # d is -1 once, 0 otherwise: sample variance (0.99² + 99 · 0.01²) / 99 = 0.01, so the half-width
    # is 1.96 · 0.1 / sqrt(100) = 1.96 points
    assert half == pytest.approx(1.96)
    swapped = final.clone()
    swapped[0], swapped[95] = False, True  # one lost, one gained: same accuracy, but not the same images
    diff, half = paired_difference(swapped, final)
    assert diff == 0.0 and half > 0


@needs_fmnist
def test_write_card_never_replaces_the_evaluated_weights_without_overwrite(tiny_weights, tmp_path, capsys):
    weights = tmp_path / "model.pt"
    shutil.copy(tiny_weights, weights)
    before = weights.read_bytes()
    assert main(["evaluate", "--weights", str(weights), "--limit", "100", "--write-card", str(weights)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--overwrite" in err and len(err.splitlines()) == 1
    assert weights.read_bytes() == before and not (tmp_path / "MODEL_CARD.md").exists()
    assert main(["evaluate", "--weights", str(weights), "--limit", "100", "--write-card", str(weights),
                 "--overwrite"]) == 0
    assert load_model(weights, device="cpu").meta.evaluation.test_images == 100
    embedded = default_weights_path()
    assert main(["evaluate", "--weights", str(weights), "--limit", "100", "--write-card", str(embedded)]) == 2
    assert "embedded model" in capsys.readouterr().err

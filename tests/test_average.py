"""``ranet average``: weight averaging of two runs, its refusals and its lineage in the model card."""

from __future__ import annotations

import pytest
import torch

from testsupport import SAMPLES, write_tiny_args_txt
from ranet import load_model
from ranet.commands.cli import main


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """A parent run and a warm-started child (same seed), as the embedded model and its fine-tunes are."""
    root = tmp_path_factory.mktemp("runs")
    common = ["train", "--data", "folder", "--data-root", str(SAMPLES),
              "--config", str(write_tiny_args_txt(root / "args.txt")),
              "--batch-size", "16", "--epochs", "1", "--seed", "4"]
    assert main([*common, "--out", str(root / "a")]) == 0
    assert main([*common, "--out", str(root / "b"), "--init", str(root / "a" / "model.pt"), "--lr", "0.2"]) == 0
    return root, root / "a" / "model.pt", root / "b" / "model.pt"


def test_average_interpolates_every_weight_and_statistic_and_records_both_parents(two_runs, capsys):
    root, a, b = two_runs
    out = root / "avg.pt"
    assert main(["average", str(a), str(b), "--mix", "0.25", "--out", str(out)]) == 0
    wa, wb, avg = (load_model(p, device="cpu").state_dict() for p in (a, b, out))
    floats = [k for k in avg if avg[k].is_floating_point()]
    assert any("running_var" in k for k in floats)
    assert any(not torch.equal(wa[k], wb[k]) for k in floats)
    for k in floats:  # the file stores fp16, so compare at that precision
        torch.testing.assert_close(avg[k], (0.75 * wa[k] + 0.25 * wb[k]).half().float(), rtol=2e-3, atol=1e-4)
    recipe = load_model(out, device="cpu").meta.recipe
    assert recipe["average"]["mix"] == 0.25 and recipe["seed"] == 4
    assert [p["weights"] for p in recipe["average"]["parents"]] == ["model.pt", "model.pt"]
    assert recipe["total_epochs"] == 2  # the longer line: the child's 1 epoch on top of its parent's 1
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(out), "--data", "folder", "--data-root", str(SAMPLES),
                 "--write-card", str(out.with_name("evaluated.pt"))]) == 0
    card = (root / "MODEL_CARD.md").read_text()
    assert "Weight average" in card and "75% `model.pt`" in card and "25% `model.pt`" in card
    assert "Epochs: 1 and 2 in the parents' lines" in card and "seed 4" in card
    # The child's own parent is the first parent: named once, not listed twice.
    assert card.count(f"--out {root / 'a'}`") == 1 and "listed above" in card


@pytest.mark.parametrize("mix", ["0", "1", "1.5"])
def test_a_mix_outside_zero_to_one_is_refused_with_one_line(two_runs, capsys, mix):
    root, a, b = two_runs
    out = root / f"mix{mix}.pt"
    assert main(["average", str(a), str(b), "--mix", mix, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--mix" in err and len(err.splitlines()) == 1 and not out.exists()


def test_runs_with_another_seed_are_refused_since_their_validation_splits_differ(two_runs, capsys):
    root, a, _ = two_runs
    assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(root / "args.txt"),
                 "--batch-size", "16", "--epochs", "1", "--seed", "5", "--out", str(root / "c")]) == 0
    capsys.readouterr()
    out = root / "mixed_seeds.pt"
    assert main(["average", str(a), str(root / "c" / "model.pt"), "--mix", "0.5", "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "seed" in err and len(err.splitlines()) == 1 and not out.exists()


def test_a_run_warm_started_from_an_average_shows_the_average_and_its_parents_in_its_lineage(two_runs, capsys):
    root, a, b = two_runs
    avg = root / "avg_for_init.pt"
    assert main(["average", str(a), str(b), "--mix", "0.5", "--out", str(avg)]) == 0
    out = root / "after_avg"
    assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(root / "args.txt"),
                 "--batch-size", "16", "--epochs", "1", "--seed", "4", "--out", str(out), "--init", str(avg)]) == 0
    assert load_model(out / "model.pt", device="cpu").meta.recipe["total_epochs"] == 3
    assert main(["evaluate", "--weights", str(out / "model.pt"), "--data", "folder", "--data-root", str(SAMPLES),
                 "--write-card", str((out / "model.pt").with_name("evaluated.pt"))]) == 0
    card = (out / "MODEL_CARD.md").read_text()
    assert "`avg_for_init.pt`" in card and "a weight average, 50% and 50% of the two runs below it" in card
    assert "  - 50% `model.pt`" in card and card.count(f"--out {root / 'a'}`") == 1

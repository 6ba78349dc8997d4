"""Training: a few steps on the bundled samples as a folder data set; resume; torchrun + gloo."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import pytest
import torch

from testsupport import SAMPLES, write_tiny_args_txt
from ranet import RANet, load_model
from ranet.commands.cli import main
from ranet.commands.train import exits_loss


def test_train_writes_log_checkpoint_and_weights_and_resumes(tmp_path, capsys):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    out = tmp_path / "run"
    argv = ["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--seed", "3"]
    assert main(argv) == 0
    assert "epoch 1/1" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 1 and float(rows[0]["loss"]) > 0
    model = load_model(out / "model.pt", device="cpu")
    assert list(model.meta.categories) == sorted(p.name for p in SAMPLES.iterdir())
    assert model.meta.recipe["epochs"] == 1 and model.meta.recipe["seed"] == 3
    # A second call with more epochs resumes from the checkpoint instead of starting over.
    assert main(argv[:-4] + ["--epochs", "2", "--seed", "3"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in csv.DictReader(open(out / "log.csv"))] == ["1", "2"]


def test_training_is_deterministic_for_a_seed(tmp_path):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    weights = []
    for run in ("a", "b"):
        assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg),
                     "--out", str(tmp_path / run), "--epochs", "1", "--batch-size", "16", "--seed", "5"]) == 0
        weights.append(torch.load(tmp_path / run / "model.pt", weights_only=True)["state_dict"])
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_torchrun_two_cpu_processes_with_gloo(tmp_path):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
         "-m", "ranet", "train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg),
         "--out", str(tmp_path / "ddp"), "--epochs", "1", "--batch-size", "16", "--device", "cpu"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.count("epoch 1/1") == 1  # only rank 0 reports
    assert load_model(tmp_path / "ddp" / "model.pt", device="cpu").meta.recipe["processes"] == 2


def test_warm_start_begins_from_the_given_weights_and_records_the_lineage(tmp_path, capsys):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    common = ["--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--batch-size", "16"]
    assert main(["train", *common, "--out", str(tmp_path / "a"), "--epochs", "1", "--seed", "2"]) == 0
    parent = tmp_path / "a" / "model.pt"
    # lr 0 leaves the parameters where the warm start put them (batch-norm statistics still move).
    assert main(["train", *common, "--out", str(tmp_path / "b"), "--epochs", "2", "--seed", "2", "--lr", "0",
                 "--init", str(parent)]) == 0
    before, after = load_model(parent, device="cpu"), load_model(tmp_path / "b" / "model.pt", device="cpu")
    assert all(torch.equal(p, q) for p, q in zip(before.parameters(), after.parameters()))
    recipe = after.meta.recipe
    assert recipe["total_epochs"] == 3 and recipe["init"]["weights"] == "model.pt"
    assert recipe["init"]["recipe"]["epochs"] == 1 and len(recipe["init"]["sha256"]) == 64
    capsys.readouterr()
    assert main(["evaluate", "--weights", str(tmp_path / "b" / "model.pt"), "--data", "folder",
                 "--data-root", str(SAMPLES), "--write-card", str((tmp_path / "b" / "model.pt").with_name("evaluated.pt"))]) == 0
    card = (tmp_path / "b" / "MODEL_CARD.md").read_text()
    assert "## Lineage" in card and "3 epochs in total" in card and "--epochs 1" in card


def test_warm_start_refuses_another_seed_which_would_train_on_the_validation_split(tmp_path, capsys):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    common = ["--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--batch-size", "16"]
    assert main(["train", *common, "--out", str(tmp_path / "a"), "--epochs", "1", "--seed", "2"]) == 0
    capsys.readouterr()
    assert main(["train", *common, "--out", str(tmp_path / "b"), "--epochs", "1", "--seed", "3",
                 "--init", str(tmp_path / "a" / "model.pt")]) == 2
    err = capsys.readouterr().err.strip()
    assert "--seed 2" in err and len(err.splitlines()) == 1 and not (tmp_path / "b" / "model.pt").exists()


def test_cuda_graph_is_refused_off_cuda_with_one_line(tmp_path, capsys):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg),
                 "--out", str(tmp_path / "a"), "--epochs", "1", "--device", "cpu", "--cuda-graph"]) == 2
    err = capsys.readouterr().err.strip()
    assert "--cuda-graph" in err and len(err.splitlines()) == 1 and not (tmp_path / "a" / "model.pt").exists()


@pytest.mark.parametrize("option", [["--distill", "1.5"], ["--distill", "-0.1"], ["--distill-temperature", "0"],
                                    ["--heads-only"]])  # --heads-only without --init
def test_bad_training_options_are_refused_with_one_line_before_any_work(tmp_path, capsys, option):
    assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--out", str(tmp_path / "a"),
                 *option]) == 2
    err = capsys.readouterr().err.strip()
    assert option[0] in err and len(err.splitlines()) == 1 and not (tmp_path / "a").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a CUDA device")
def test_cuda_graph_training_takes_the_same_steps_as_eager(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)  # the capture turns it on
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    common = ["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--batch-size", "16",
              "--epochs", "1", "--max-steps", "3", "--lr", "0.01", "--amp", "off", "--device", "cuda"]
    assert main([*common, "--out", str(tmp_path / "eager")]) == 0
    assert main([*common, "--out", str(tmp_path / "graph"), "--cuda-graph"]) == 0
    torch.manual_seed(0)  # the initialisation ``train`` starts from
    initial = torch.cat([p.flatten() for p in RANet(load_model(tmp_path / "eager" / "model.pt").config).parameters()])
    # Parameters only: the capture's warm-up passes also move BatchNorm's running statistics.
    eager, graph = (torch.cat([p.detach().flatten().cpu() for p in load_model(tmp_path / run / "model.pt").parameters()])
                    for run in ("eager", "graph"))
    eager_step, graph_step = eager - initial, graph - initial
    assert eager_step.norm() > 0
    # Stale or missing gradients would make the two paths' three steps differ by far more than rounding.
    assert (graph_step - eager_step).norm() < 0.02 * eager_step.norm()


def test_random_erasing_fills_one_rectangle_per_chosen_image_with_grey_noise():
    from ranet.datasets import augment

    batch = torch.full((64, 3, 32, 32), 7, dtype=torch.uint8)
    plain = augment(batch, torch.Generator().manual_seed(1), pad=0, flip=False)
    assert torch.equal(plain, batch)
    erased = augment(batch, torch.Generator().manual_seed(1), pad=0, flip=False, erase=1.0)
    assert torch.equal(erased, augment(batch, torch.Generator().manual_seed(1), pad=0, flip=False, erase=1.0))
    changed = erased != 7
    assert torch.equal(erased[:, 0], erased[:, 2])  # grayscale stays grayscale
    share = changed[:, 0].float().mean((1, 2))
    assert (share > 0).all() and (share <= 0.45).all()
    rows, cols = changed[:, 0].any(2), changed[:, 0].any(1)
    box = rows.sum(1) * cols.sum(1)  # the bounding box of the noise is the erased rectangle
    assert (changed[:, 0].sum((1, 2)) <= box).all() and (box.float() / 1024 <= 0.45).all()
    half = augment(batch, torch.Generator().manual_seed(1), pad=0, flip=False, erase=0.5)
    assert 10 < (half != 7).flatten(1).any(1).sum() < 54


def test_exits_loss_is_the_papers_sum_of_cross_entropies_without_distillation():
    torch.manual_seed(0)
    logits, y = [torch.randn(8, 5) for _ in range(3)], torch.randint(0, 5, (8,))
    expected = sum(torch.nn.functional.cross_entropy(z, y) for z in logits)
    assert torch.allclose(exits_loss(logits, y), expected)


def test_self_distillation_teaches_earlier_exits_from_the_last_one_only():
    torch.manual_seed(0)
    y = torch.randint(0, 5, (8,))
    last = torch.randn(8, 5, requires_grad=True)
    early = torch.randn(8, 5, requires_grad=True)
    ce = torch.nn.functional.cross_entropy
    # An earlier exit that already predicts what the teacher does pays only its share of cross-entropy.
    same = last.detach().clone()
    assert torch.allclose(exits_loss([same, last], y, distill=0.5), 0.5 * ce(same, y) + ce(last, y), atol=1e-6)
    # Otherwise the soft term adds to the loss, and its gradient reaches the student, never the teacher.
    loss = exits_loss([early, last], y, distill=1.0, temperature=2.0)
    assert loss > ce(last, y)
    loss.backward()
    assert early.grad.abs().sum() > 0
    last_only = last.detach().clone().requires_grad_(True)
    ce(last_only, y).backward()
    assert torch.allclose(last.grad, last_only.grad)


def test_distillation_is_recorded_in_the_recipe_and_the_model_card(tmp_path, capsys):
    out = tmp_path / "run"
    argv = ["train", "--data", "folder", "--data-root", str(SAMPLES),
            "--config", str(write_tiny_args_txt(tmp_path / "a.txt")),
            "--out", str(out), "--epochs", "1", "--batch-size", "16", "--distill", "0.5",
            "--distill-temperature", "3"]
    assert main(argv) == 0
    model = load_model(out / "model.pt", device="cpu")
    assert model.meta.recipe["distill"] == 0.5 and model.meta.recipe["distill_temperature"] == 3.0
    assert "--distill 0.5" in model.meta.recipe["command"]
    assert main(["evaluate", "--weights", str(out / "model.pt"), "--data", "folder", "--data-root", str(SAMPLES),
                 "--write-card", str((out / "model.pt").with_name("evaluated.pt"))]) == 0
    assert "Self-distillation" in (out / "MODEL_CARD.md").read_text()


def test_heads_only_trains_the_earlier_exits_and_leaves_the_rest_bit_for_bit(tmp_path, capsys):
    cfg = write_tiny_args_txt(tmp_path / "args.txt")
    common = ["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--epochs", "1",
              "--batch-size", "16", "--seed", "0"]
    assert main([*common, "--out", str(tmp_path / "parent")]) == 0
    parent = tmp_path / "parent" / "model.pt"
    assert main([*common, "--out", str(tmp_path / "heads"), "--init", str(parent), "--heads-only", "--lr", "0.05"]) == 0
    before = load_model(parent, device="cpu")
    after = load_model(tmp_path / "heads" / "model.pt", device="cpu")
    last_head = f"classifier.{after.num_exits - 1}."
    early_heads = tuple(f"classifier.{k}." for k in range(after.num_exits - 1))
    old, new = before.state_dict(), after.state_dict()
    frozen = [k for k in new if not k.startswith(early_heads)]
    assert any(k.startswith(last_head) for k in frozen) and any("running_mean" in k for k in frozen)
    assert all(torch.equal(old[k], new[k]) for k in frozen)
    assert any(not torch.equal(old[k], new[k]) for k in new if k.startswith(early_heads) and "weight" in k)
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        assert torch.equal(before(x)[-1], after(x)[-1])
    assert after.meta.recipe["heads_only"] is True
    assert main(["evaluate", "--weights", str(tmp_path / "heads" / "model.pt"), "--data", "folder",
                 "--data-root", str(SAMPLES), "--write-card", str((tmp_path / "heads" / "model.pt").with_name("evaluated.pt"))]) == 0
    assert "Heads only" in (tmp_path / "heads" / "MODEL_CARD.md").read_text()



def test_the_recorded_command_keeps_paths_as_typed(tmp_path, monkeypatch, capsys):
    """Relative paths stay relative in the weights' record: nothing of the machine it ran on ships."""
    monkeypatch.chdir(tmp_path)
    write_tiny_args_txt(tmp_path / "args.txt")
    assert main(["train", "--data", "folder", "--data-root", os.path.relpath(SAMPLES), "--config", "args.txt",
                 "--out", "runs/rel", "--epochs", "1", "--batch-size", "16"]) == 0
    command = load_model(tmp_path / "runs" / "rel" / "model.pt", device="cpu").meta.recipe["command"]
    assert "--config args.txt" in command and "--out runs/rel" in command and str(tmp_path) not in command

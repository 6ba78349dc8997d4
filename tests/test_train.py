"""Training: a few steps on the bundled samples as a folder data set; resume; torchrun + gloo."""

from __future__ import annotations

import csv
import os
import subprocess
import sys

import torch

from testsupport import SAMPLES, TINY_CONFIG
from ranet import load_model
from ranet.cli import main


def _args_txt(path):
    fields = ", ".join(f"{k}={v!r}" for k, v in TINY_CONFIG.items())
    path.write_text(f"Namespace({fields})")
    return path


def test_train_writes_log_checkpoint_and_weights_and_resumes(tmp_path, capsys):
    cfg = _args_txt(tmp_path / "args.txt")
    out = tmp_path / "run"
    argv = ["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg), "--out", str(out),
            "--epochs", "1", "--batch-size", "16", "--seed", "3"]
    assert main(argv) == 0
    assert "epoch 1/1" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "log.csv")))
    assert len(rows) == 1 and float(rows[0]["loss"]) > 0
    model = load_model(out / "model.pt", device="cpu")
    assert model.meta.categories == sorted(p.name for p in SAMPLES.iterdir())
    assert model.meta.recipe["epochs"] == 1 and model.meta.recipe["seed"] == 3
    # A second call with more epochs resumes from the checkpoint instead of starting over.
    assert main(argv[:-4] + ["--epochs", "2", "--seed", "3"]) == 0
    assert "resuming" in capsys.readouterr().out
    assert [r["epoch"] for r in csv.DictReader(open(out / "log.csv"))] == ["1", "2"]


def test_training_is_deterministic_for_a_seed(tmp_path):
    cfg = _args_txt(tmp_path / "args.txt")
    weights = []
    for run in ("a", "b"):
        assert main(["train", "--data", "folder", "--data-root", str(SAMPLES), "--config", str(cfg),
                     "--out", str(tmp_path / run), "--epochs", "1", "--batch-size", "16", "--seed", "5"]) == 0
        weights.append(torch.load(tmp_path / run / "model.pt", weights_only=True)["state_dict"])
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_torchrun_two_cpu_processes_with_gloo(tmp_path):
    cfg = _args_txt(tmp_path / "args.txt")
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

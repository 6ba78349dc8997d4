"""Evaluation: every exit's prediction on a data set, the anytime table, the budgeted-batch curve
and the single-threshold sweep the app's slider uses."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .data import ImageSet
from .model import RANet
from .policies import budgeted_thresholds, exits_for_thresholds
from .transforms import Preprocessing

__all__ = ["ExitOutputs", "predict_exits", "anytime_table", "budgeted_curve", "threshold_sweep"]

BUDGET_POINTS = [p / 20 for p in range(1, 40)]  # the paper's p = 1/20 ... 39/20


@dataclass
class ExitOutputs:
    """Per sample and exit: max-softmax confidence and predicted class, ``[N, K]`` each."""

    confidence: Tensor
    prediction: Tensor

    def correct(self, labels: Tensor) -> Tensor:
        return self.prediction == labels[:, None]


@torch.no_grad()
def predict_exits(model: RANet, data: ImageSet, prep: Preprocessing, batch_size: int = 500,
                  device: torch.device | str = "cpu") -> ExitOutputs:
    """Run every exit on every image (training tensors, prepared as in training)."""
    model.eval()
    conf, pred = [], []
    for start in range(0, len(data), batch_size):
        batch = prep.prepare_training_batch(data.images[start : start + batch_size])
        x = prep.normalize(batch.to(device))
        probs = torch.stack([logits.float().softmax(-1) for logits in model(x)], dim=1)  # [B, K, C]
        c, p = probs.max(-1)
        conf.append(c.cpu())
        pred.append(p.cpu())
    return ExitOutputs(torch.cat(conf), torch.cat(pred))


def anytime_table(outputs: ExitOutputs, labels: Tensor, flops: list[int]) -> list[dict]:
    acc = outputs.correct(labels).float().mean(0).mul(100)
    return [{"exit": k + 1, "accuracy": round(float(acc[k]), 2), "flops": flops[k]} for k in range(len(flops))]


def _operating_point(outputs: ExitOutputs, labels: Tensor, flops: list[int], thresholds: list[float]) -> dict:
    exits = exits_for_thresholds(outputs.confidence, thresholds)
    correct = outputs.correct(labels).gather(1, exits[:, None])[:, 0]
    cost = torch.tensor(flops, dtype=torch.float64)[exits]
    counts = torch.bincount(exits, minlength=len(flops))
    return {
        "accuracy": round(float(correct.float().mean()) * 100, 2),
        "mean_flops": round(float(cost.mean()), 1),
        "exit_share": [round(float(c) / len(exits), 4) for c in counts],
        "thresholds": [round(float(t), 6) for t in thresholds],
    }


def budgeted_curve(val: ExitOutputs, test: ExitOutputs, test_labels: Tensor, flops: list[int]) -> list[dict]:
    """The paper's budgeted batch classification: thresholds from ``val``, measured on ``test``."""
    points = []
    for p in BUDGET_POINTS:
        thresholds = budgeted_thresholds(val.confidence, p)
        points.append({"p": p, **_operating_point(test, test_labels, flops, thresholds)})
    return points


def threshold_sweep(outputs: ExitOutputs, labels: Tensor, flops: list[int], steps: int = 101) -> list[dict]:
    """One global confidence threshold for every exit, from 0 to 1 (what the app's slider does)."""
    k = len(flops)
    return [
        {"threshold": round(t, 4), **_operating_point(outputs, labels, flops, [t] * k)}
        for t in (i / (steps - 1) for i in range(steps))
    ]

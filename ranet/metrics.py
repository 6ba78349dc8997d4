"""Metrics of a RANet on a labelled data set: every exit's prediction, the anytime table, the
budgeted-batch curve, the single-threshold sweep the app's slider uses, calibrated budgets and
the per-class table. ``ranet evaluate`` and ``ranet bench`` report them."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from .datasets import ImageSet
from .model import RANet
from .policies import budgeted_thresholds, exits_for_thresholds, single_threshold_for_budget, thresholds_for_budget
from .transforms import Preprocessing

__all__ = ["ExitOutputs", "predict_exits", "anytime_table", "budgeted_curve", "threshold_sweep", "paired_difference",
           "calibrate_budget", "per_class", "operating_point", "dynamic_target", "BUDGET_FRACTIONS"]

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


def paired_difference(correct: Tensor, reference: Tensor) -> tuple[float, float]:
    """Accuracy of ``correct`` minus that of ``reference`` on the same images, in points, with the
    half-width of its 95 % interval (normal approximation of the paired per-image differences).
    Paired, because both decide the same images: most agree, so the interval is narrower than
    either accuracy's own."""
    d = correct.double() - reference.double()
    half = 1.96 * float(d.std()) / len(d) ** 0.5 if len(d) > 1 else float("nan")
    return float(d.mean()) * 100, half * 100


def _correct_at(outputs: ExitOutputs, labels: Tensor, thresholds: list[float]) -> tuple[Tensor, Tensor]:
    """Each sample's exit at ``thresholds`` and whether its answer there is right."""
    exits = exits_for_thresholds(outputs.confidence, thresholds)
    return exits, outputs.correct(labels).gather(1, exits[:, None])[:, 0]


def operating_point(outputs: ExitOutputs, labels: Tensor, flops: list[int], thresholds: list[float]) -> dict:
    exits, correct = _correct_at(outputs, labels, thresholds)
    every = outputs.correct(labels)
    cost = torch.tensor(flops, dtype=torch.float64)[exits]
    counts = torch.bincount(exits, minlength=len(flops))
    difference, half = paired_difference(correct, every[:, -1])
    return {
        "accuracy": round(float(correct.float().mean()) * 100, 2),
        "vs_final": round(difference, 2), "vs_final_ci95": round(half, 2),
        "mean_flops": round(float(cost.mean()), 1),
        "exit_share": [round(float(c) / len(exits), 4) for c in counts],
        "thresholds": [round(float(t), 6) for t in thresholds],
    }


def budgeted_curve(val: ExitOutputs, test: ExitOutputs, test_labels: Tensor, flops: list[int]) -> list[dict]:
    """The paper's budgeted batch classification: thresholds from ``val``, measured on ``test``."""
    points = []
    for p in BUDGET_POINTS:
        thresholds = budgeted_thresholds(val.confidence, p)
        points.append({"p": p, **operating_point(test, test_labels, flops, thresholds)})
    return points


def threshold_sweep(outputs: ExitOutputs, labels: Tensor, flops: list[int], steps: int = 101) -> list[dict]:
    """One global confidence threshold for every exit, from 0 to 1 (what the app's slider does)."""
    k = len(flops)
    return [
        {"threshold": round(t, 4), **operating_point(outputs, labels, flops, [t] * k)}
        for t in (i / (steps - 1) for i in range(steps))
    ]


def per_class(outputs: ExitOutputs, labels: Tensor, flops: list[int], budgets: dict[str, list[float]],
              names: list[str]) -> list[dict]:
    """For each class of the test images: its final exit's accuracy and, at each budget's
    thresholds, its accuracy and mean cost (RANet's story: some classes are settled cheaply)."""
    cost = torch.tensor(flops, dtype=torch.float64)
    final = outputs.correct(labels)[:, -1]
    at = {label: _correct_at(outputs, labels, t) for label, t in budgets.items()}
    rows = []
    for c, name in enumerate(names):
        mask = labels == c
        if not bool(mask.any()):
            continue
        rows.append({
            "class": c, "name": name, "images": int(mask.sum()),
            "final_accuracy": round(float(final[mask].double().mean()) * 100, 2),
            "budgets": {label: {"accuracy": round(float(right[mask].double().mean()) * 100, 2),
                                "mean_flops": round(float(cost[exits[mask]].mean()), 1)}
                        for label, (exits, right) in at.items()},
        })
    return rows


def calibrate_budget(val: ExitOutputs, val_labels: Tensor, flops: list[int], mean_flops: float) -> tuple[list[float], str]:
    """Thresholds for a FLOPs budget from the validation split, and which family they come from
    (a key of :data:`ranet.weights.CALIBRATIONS`): the paper's geometric exit shares, or one threshold for every exit
    (the app's slider) where that scores higher on the validation images. Ties keep the paper's."""
    geometric = thresholds_for_budget(val.confidence, flops, mean_flops)
    single = single_threshold_for_budget(val.confidence, flops, mean_flops)
    right = [int(_correct_at(val, val_labels, t)[1].sum()) for t in (geometric, single)]
    return (single, "single") if right[1] > right[0] else (geometric, "geometric")


BUDGET_FRACTIONS = (0.25, 0.4, 0.6)  # calibrated thresholds shipped for these shares of full FLOPs


def dynamic_target(anytime: list[dict], curve: list[dict], sweep: list[dict], full_flops: int) -> dict:
    """The cheapest point within 0.1 point of the final exit, on the budgeted-batch curve and on the
    single-threshold sweep."""
    final = anytime[-1]["accuracy"]

    def cheapest(points: list[dict]) -> dict | None:
        ok = [pt for pt in points if pt["accuracy"] >= final - 0.1]
        return min(ok, key=lambda pt: pt["mean_flops"]) if ok else None

    best, single = cheapest(curve), cheapest(sweep)
    return {"final_accuracy": final, "matching_point": best,
            "flops_share": round(best["mean_flops"] / full_flops, 4) if best else None,
            "sweep_matching_point": single,
            "sweep_flops_share": round(single["mean_flops"] / full_flops, 4) if single else None}

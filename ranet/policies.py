"""Exit policies: which exit a sample leaves at, given its per-exit confidences.

The exit rule lives here once (:func:`leaves`): a sample leaves at an exit when its max softmax
is at least that exit's threshold; the last exit takes the rest. The early-exit engine (on
tensors, one exit at a time), the evaluation and the benchmark (tensors, every exit at once) and
the app's session (numpy: its GUI thread runs no torch) all decide through it.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import Tensor

__all__ = ["leaves", "per_exit_thresholds", "exits_for_thresholds", "budgeted_thresholds", "thresholds_for_budget",
           "single_threshold_for_budget"]


def per_exit_thresholds(thresholds: float | Sequence[float], k: int) -> list[float]:
    """One threshold for every exit, or one per exit (checked to be ``k`` of them), as K floats."""
    if isinstance(thresholds, (int, float)):
        return [float(thresholds)] * k
    values = [float(t) for t in thresholds]
    if len(values) != k:
        raise ValueError(f"expected {k} thresholds, got {len(values)}")
    return values


def leaves(confidence: Tensor | np.ndarray, threshold: float, last: bool) -> Tensor | np.ndarray:
    """The exit rule, for one exit: which samples leave there. ``confidence`` holds their max
    softmax at that exit (any shape); the threshold is compared in ``confidence``'s precision, so
    a NaN threshold or confidence never passes and ``-inf`` always does. The last exit takes every
    sample that reaches it."""
    if isinstance(confidence, np.ndarray):
        return np.ones(confidence.shape, dtype=bool) if last else confidence >= confidence.dtype.type(threshold)
    if last:
        return torch.ones(confidence.shape, dtype=torch.bool, device=confidence.device)
    return confidence >= torch.tensor(threshold, dtype=confidence.dtype, device=confidence.device)


def exits_for_thresholds(confidence: Tensor | np.ndarray, thresholds: Sequence[float] | Tensor) -> Tensor | np.ndarray:
    """0-based exit of each sample under :func:`leaves`: the first exit it passes. ``confidence``
    is ``[N, K]`` (a tensor, or a numpy array for a numpy answer); ``thresholds`` has at least K
    entries."""
    k = confidence.shape[1]
    columns = [leaves(confidence[:, e], float(thresholds[e]), e == k - 1) for e in range(k)]
    if isinstance(confidence, np.ndarray):
        return np.stack(columns, axis=1).argmax(1)
    return torch.stack(columns, dim=1).to(torch.uint8).argmax(1)


def budgeted_thresholds(val_confidence: Tensor, p: float) -> list[float]:
    """The paper's procedure: the share leaving at exit k is proportional to ``p**k``; walking the
    exits in order, ``T_k`` is the confidence that lets exactly that share of the remaining
    validation samples leave. The last exit takes everything (its threshold is -inf)."""
    n, k = val_confidence.shape
    probs = torch.tensor([p ** (i + 1) for i in range(k)], dtype=torch.float64)
    probs /= probs.sum()
    remaining = torch.ones(n, dtype=torch.bool)
    thresholds = []
    for i in range(k - 1):
        want = int(round(float(probs[i]) * n))
        conf = val_confidence[remaining, i]
        if want <= 0 or conf.numel() == 0:
            thresholds.append(float("inf"))
            continue
        want = min(want, conf.numel())
        t = float(conf.sort(descending=True).values[want - 1])
        thresholds.append(t)
        remaining &= ~(val_confidence[:, i] >= t)
    thresholds.append(float("-inf"))
    return thresholds


def thresholds_for_budget(val_confidence: Tensor, flops: Sequence[int], mean_flops: float,
                          steps: int = 400) -> list[float]:
    """Budgeted-batch thresholds whose expected FLOPs on the validation split are the largest not
    above ``mean_flops`` (p searched on a fine grid over the paper's range)."""
    cost = torch.tensor(list(flops), dtype=torch.float64)
    best: tuple[float, list[float]] | None = None
    for i in range(1, steps + 1):
        p = 2.0 * i / (steps + 1)
        t = budgeted_thresholds(val_confidence, p)
        spent = float(cost[exits_for_thresholds(val_confidence, t)].mean())
        if spent <= mean_flops and (best is None or spent > best[0]):
            best = (spent, t)
    if best is None:  # the budget is below the first exit: everybody leaves there
        return [float("-inf")] * len(flops)
    return best[1]


def single_threshold_for_budget(val_confidence: Tensor, flops: Sequence[int], mean_flops: float) -> list[float]:
    """One threshold for every exit but the last (what the app's slider sets): the largest whose
    expected FLOPs on the validation split are not above ``mean_flops``. Raising a threshold only
    moves samples to later exits, so the cost is monotone in it and a bisection over the
    validation confidences finds it."""
    k = val_confidence.shape[1]
    cost = torch.tensor(list(flops), dtype=torch.float64)
    candidates = torch.unique(val_confidence[:, :-1]).tolist() + [float("inf")]

    def thresholds(t: float) -> list[float]:
        return [t] * (k - 1) + [float("-inf")]

    def spent(t: float) -> float:
        return float(cost[exits_for_thresholds(val_confidence, thresholds(t))].mean())

    if spent(candidates[0]) > mean_flops:  # the budget is below the first exit: everybody leaves there
        return [float("-inf")] * k
    lo, hi = 0, len(candidates) - 1  # invariant: candidates[lo] fits the budget
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if spent(candidates[mid]) <= mean_flops:
            lo = mid
        else:
            hi = mid - 1
    return thresholds(candidates[lo])

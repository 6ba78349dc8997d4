"""The early-exit engine: true early exit over a batch, samples leaving as soon as confident.

This is what the CLI and the app classify with: the path an image took and its exit are the
ones really computed, never a full forward pass followed by a lookup.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch
from PIL import Image
from torch import Tensor, nn

from .flops import ExitInfo, exit_infos
from .model import ExitRunner, RANet, fold_batchnorm
from .policies import leaves, per_exit_thresholds

__all__ = ["ExitResult", "EarlyExitEngine"]


@dataclass
class ExitResult:
    """One image's classification. Lists with one entry per exit computed (``exit`` of them)."""

    class_index: int
    label: str
    confidence: float
    exit: int  # 1-based
    flops: int  # cumulative multiply-accumulates up to the exit taken
    resolution_path: list[str]  # entry resolution of every scale flow that ran, coarse to fine
    exit_confidences: list[float]
    exit_predictions: list[int]
    exit_top5: list[list[tuple[int, float]]]
    ms: float = 0.0  # measured wall time per image in its batch
    complete: bool = field(default=False)  # True when every exit was computed

    def to_json(self) -> dict:
        return {
            "label": self.label, "class_index": self.class_index, "confidence": round(self.confidence, 6),
            "exit": self.exit, "flops": self.flops, "resolution_path": self.resolution_path,
            "exit_confidences": [round(c, 6) for c in self.exit_confidences],
            "exit_predictions": list(self.exit_predictions), "ms": round(self.ms, 3),
        }


class EarlyExitEngine:
    """Classify with per-exit thresholds (one global threshold, or the budgeted-batch ones).

    ``thresholds``: a float for every exit, or one per exit; the last exit always takes what
    reaches it. ``on_notice`` receives one-line notices (e.g. falling back after out-of-memory).
    The engine classifies with a copy of ``model`` whose BatchNorms are folded into their
    convolutions (:func:`~ranet.model.fold_batchnorm`); pass a folded model to share it instead.
    """

    def __init__(self, model: RANet, thresholds: float | Sequence[float] = 0.9,
                 on_notice: Callable[[str], None] | None = None) -> None:
        meta = model.meta
        # Counted on the network itself while it has its BatchNorms (fast; a folded one is counted
        # on the meta device, where torch first imports its compiler).
        unfolded = model if any(isinstance(m, nn.BatchNorm2d) for m in model.modules()) else None
        self.exits: list[ExitInfo] = exit_infos(model.config, meta.input_size if meta else None, model=unfolded)
        self.model = fold_batchnorm(model)
        self.categories: list[str] = list(meta.categories) if meta else [str(i) for i in range(model.config.num_classes)]
        self.set_thresholds(thresholds)
        self.on_notice = on_notice or (lambda message: None)

    @property
    def device(self) -> torch.device:
        return next(self.model.parameters()).device

    def set_thresholds(self, thresholds: float | Sequence[float]) -> None:
        self.thresholds = per_exit_thresholds(thresholds, len(self.exits))

    def preprocess(self, images: Sequence[Image.Image]) -> Tensor:
        return torch.stack([self.model.transform(im) for im in images])

    def classify_images(self, images: Sequence[Image.Image], all_exits: bool = False) -> list[ExitResult]:
        return self.classify(self.preprocess(images), all_exits=all_exits)

    @torch.no_grad()
    def classify(self, x: Tensor, all_exits: bool = False) -> list[ExitResult]:
        """Early exit over the batch ``x`` (normalised ``[N,3,H,W]``). With ``all_exits`` every
        exit is computed (for caching) while the decision still follows the thresholds."""
        if len(x) == 0:
            return []
        try:
            return self._classify_on(x, self.device, all_exits)
        except torch.OutOfMemoryError:
            if self.device.type != "cpu" and len(x) > 1:
                torch.cuda.empty_cache() if self.device.type == "cuda" else None
                self.on_notice(f"out of GPU memory with a batch of {len(x)}: retrying in smaller batches")
                half = len(x) // 2
                return self.classify(x[:half], all_exits) + self.classify(x[half:], all_exits)
            if self.device.type != "cpu":
                self.on_notice("out of GPU memory for a single image: continuing on the CPU")
                self.model.to("cpu")
                return self._classify_on(x, torch.device("cpu"), all_exits)
            raise

    def _classify_on(self, x: Tensor, device: torch.device, all_exits: bool) -> list[ExitResult]:
        start = time.perf_counter()
        n, k = len(x), len(self.exits)
        runner = ExitRunner(self.model, x.to(device, non_blocking=True))
        # Per exit, one decision over the batch and one ``tolist``: at batch 1 the dozen small tensor
        # ops (and per-row indexing) of deciding row by row cost as much as a small exit's arithmetic.
        active = list(range(n))  # positions in the original batch of the samples still running
        confs: list[list[float]] = [[] for _ in range(n)]
        preds: list[list[int]] = [[] for _ in range(n)]
        top5s: list[list[list[tuple[int, float]]]] = [[] for _ in range(n)]
        decided = [-1] * n
        for e in range(k):
            probs = runner.step().float().softmax(-1).cpu()
            top_p, top_i = probs.topk(min(5, probs.shape[1]), dim=1)
            last = e == k - 1
            passed = leaves(top_p[:, 0], self.thresholds[e], last).tolist()
            stay = []  # rows of the current batch that go on to the next exit
            for row, (sample, p, i, ok) in enumerate(zip(active, top_p.tolist(), top_i.tolist(), passed)):
                confs[sample].append(p[0])
                preds[sample].append(i[0])
                top5s[sample].append(list(zip(i, p)))
                if decided[sample] < 0 and ok:
                    decided[sample] = e
                    if not all_exits:
                        continue
                stay.append(row)
            if not stay or last:
                break
            if len(stay) < len(active):
                runner.keep(torch.tensor(stay, dtype=torch.long, device=device))
                active = [active[row] for row in stay]
        ms = (time.perf_counter() - start) * 1000 / n
        results = []
        for i in range(n):
            e = decided[i]
            info = self.exits[e]
            results.append(ExitResult(
                class_index=preds[i][e], label=self.categories[preds[i][e]], confidence=confs[i][e],
                exit=e + 1, flops=info.flops, resolution_path=info.resolution_path,
                exit_confidences=confs[i], exit_predictions=preds[i], exit_top5=top5s[i],
                ms=ms, complete=len(confs[i]) == k,
            ))
        return results

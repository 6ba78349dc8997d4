"""The cache behind the threshold slider: what the engine computed for every image, per exit.

Each image keeps a row of ``K`` confidences (NaN for the exits the engine did not compute),
predictions and top-5 lists. Moving the threshold (one for every exit, or a calibrated budget's
threshold per exit) is one vectorised :func:`ranet.policies.exits_for_thresholds` over the
``[N, K]`` confidences. An image whose exit
at the new threshold lies beyond what was computed is *pending* until a worker computes its
remaining exits (:meth:`Session.fill`).

Arrays are numpy, decided by the same :func:`ranet.policies.exits_for_thresholds` as the engine
and the evaluation use: the GUI thread, which owns the session, runs no torch.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass
from typing import Literal, NamedTuple, Sequence

import numpy as np
from PIL import Image

from ranet import ExitInfo, ExitResult
from ranet.policies import exits_for_thresholds, per_exit_thresholds

from .row_filter import UNREADABLE, WRONG, RowFilter, confused_pair, predicted_class

__all__ = ["Outcome", "Record", "RowSummary", "RowDetail", "Stats", "ClassCounts", "Curves", "CurvePoint", "Session",
           "SortKey", "TOP_K"]

TOP_K = 5
SortKey = Literal["name", "prediction", "confidence", "exit", "resolution", "truth"]
# Trained networks put much of their confidence above 0.99: the curves sample that end finely.
CURVE_THRESHOLDS = np.unique(np.concatenate([np.linspace(0.0, 1.0, 51), 1.0 - np.geomspace(1e-4, 0.1, 25)]))


@dataclass
class Outcome:
    """One input as a classify worker reports it."""

    source: str | Image.Image  # a file path, or pixels pasted or dropped without a file
    name: str
    truth: int | None = None  # from a class-named parent folder
    error: str | None = None
    result: ExitResult | None = None


@dataclass
class Record:
    source: str | Image.Image
    name: str
    error: str | None = None

    @property
    def path(self) -> str | None:
        return self.source if isinstance(self.source, str) else None


class RowSummary(NamedTuple):
    """What a table row shows; ``exit`` is the exit taken, or the last computed while pending."""

    name: str
    error: str | None
    exit: int
    pending: bool
    class_index: int
    confidence: float
    truth: int | None


@dataclass(frozen=True)
class RowDetail:
    """Everything the detail panel shows about one image."""

    row: int
    name: str
    path: str | None
    error: str | None
    exit: int  # 0-based; the last computed one while pending
    pending: bool
    label: str
    confidence: float
    truth: str | None
    correct: bool | None
    exit_confidences: list[float]  # one per computed exit
    exit_labels: list[str]  # the class each computed exit would answer
    top5: list[tuple[str, float]]  # at ``exit``
    flops: int
    resolution_path: list[str]
    ms: float


@dataclass(frozen=True)
class Stats:
    """The operating point at the current threshold, over the images whose exit is known."""

    images: int
    errors: int
    pending: int
    decided: int
    labelled: int
    mean_flops: float
    full_flops: float
    accuracy: float | None  # %, over labelled decided images
    mean_exit: float  # 1-based
    ms: float  # measured per image when classified
    histogram: list[int]  # images per exit

    @property
    def savings(self) -> float:
        """FLOPs saved against running the full network, in %."""
        return 100.0 * (1.0 - self.mean_flops / self.full_flops) if self.decided else math.nan


class ClassCounts(NamedTuple):
    """Per predicted class (see :meth:`Session.class_counts`)."""

    exits: np.ndarray  # [classes, exits]: images that left at each exit
    labelled: np.ndarray  # [classes]: of those, images with a label
    right: np.ndarray  # [classes]: of those, images predicted right


@dataclass(frozen=True)
class Curves:
    """Threshold sweeps over the images with every exit computed (``images`` of them)."""

    thresholds: np.ndarray
    savings: np.ndarray  # %
    mflops: np.ndarray  # mean per image
    accuracy: np.ndarray | None  # %, None without labels
    exit_mflops: np.ndarray
    exit_accuracy: np.ndarray | None  # each exit on its own
    images: int


class CurvePoint(NamedTuple):
    """The curves' images at the thresholds in force: where the markers on the curves go."""

    savings: float  # %
    mflops: float  # mean per image
    accuracy: float | None  # %, None without labels
    images: int  # with every exit computed (the curves' images)
    readable: int  # of the session's readable images


class Session:
    """The results of one model: records plus per-exit arrays, re-decided at any thresholds."""

    def __init__(self, exits: Sequence[ExitInfo], categories: Sequence[str],
                 thresholds: float | Sequence[float] = 0.9) -> None:
        self.exits = list(exits)
        self.categories = list(categories)
        self.k = len(self.exits)
        self.flops = np.array([e.flops for e in self.exits], dtype=np.float64)
        self.records: list[Record] = []
        self._by_name: list[tuple[list, int]] = []  # (natural sort key, row), kept in order as rows arrive
        self._capacity = 0
        self._resize(256)
        self.set_thresholds(thresholds)  # no rows yet: this only checks and stores them
        # Running sums over CURVE_THRESHOLDS of the rows with every exit computed: a row is
        # complete once and for all, so the sweeps grow by the new rows only.
        self._sweep_flops = np.zeros(len(CURVE_THRESHOLDS))
        self._sweep_correct = np.zeros(len(CURVE_THRESHOLDS))
        self._exit_correct = np.zeros(self.k)
        self._swept_rows = 0
        self._swept_labelled = 0

    def __len__(self) -> int:
        return len(self.records)

    def _layout(self) -> dict[str, tuple[tuple[int, ...], type, object]]:
        """The per-row arrays: name → (row shape, dtype, fill before a row is stored)."""
        k = self.k
        return {
            "conf": ((k,), np.float32, np.nan), "pred": ((k,), np.int64, -1),
            "top_p": ((k, TOP_K), np.float32, 0.0), "top_i": ((k, TOP_K), np.int64, -1),
            "truth": ((), np.int64, -1), "ms": ((), np.float64, np.nan), "ok": ((), np.bool_, False),
            "shown": ((), np.int64, 0), "pending": ((), np.bool_, False),
            "swept": ((), np.bool_, False),  # already counted in the threshold sweeps
        }

    def _resize(self, capacity: int) -> None:
        n = len(self.records)
        for name, (shape, dtype, fill) in self._layout().items():
            array = np.full((capacity, *shape), fill, dtype=dtype)
            if self._capacity:
                array[:n] = getattr(self, name)[:n]
            setattr(self, name, array)
        self._capacity = capacity

    def subset(self, rows: Sequence[int]) -> Session:
        """A new session of these rows, in this order, at the same thresholds (removing images)."""
        rows = np.asarray(rows, dtype=np.int64)
        other = Session(self.exits, self.categories, self.thresholds.tolist())
        other._resize(max(len(rows), 256))
        for name in self._layout():
            getattr(other, name)[:len(rows)] = getattr(self, name)[rows]
        other.records = [self.records[r] for r in rows]
        other._by_name = sorted((_natural(record.name), row) for row, record in enumerate(other.records))
        other.swept[:] = False  # the sweeps' sums are counted again, for these rows only
        other._decide(0, len(rows))
        other._sweep(np.arange(len(rows)))
        return other

    # -- filling ---------------------------------------------------------------------------
    def add(self, outcomes: Sequence[Outcome]) -> range:
        """Append classified (or failed) inputs; returns their rows."""
        lo = len(self.records)
        hi = lo + len(outcomes)
        if hi > self._capacity:
            self._resize(max(hi, 2 * self._capacity))
        for row, o in enumerate(outcomes, lo):
            self.records.append(Record(o.source, o.name, o.error))
            bisect.insort(self._by_name, (_natural(o.name), row))
            self.truth[row] = -1 if o.truth is None else o.truth
            if o.result is not None and o.error is None:
                self._store(row, o.result)
                self.ms[row] = o.result.ms
                self.ok[row] = True
        self._decide(lo, hi)
        self._sweep(np.arange(lo, hi))
        return range(lo, hi)

    def fill(self, rows: Sequence[int], results: Sequence[ExitResult]) -> np.ndarray:
        """Store exits computed later for ``rows``; returns the rows whose display changed."""
        for row, result in zip(rows, results):
            self._store(row, result)
        self._sweep(np.asarray(rows, dtype=np.int64))
        return self.set_thresholds(self.thresholds)

    def fail(self, row: int, reason: str) -> None:
        """An image that could not be read again (e.g. deleted meanwhile)."""
        self.records[row].error = reason
        self.ok[row] = False
        self.pending[row] = False

    def _store(self, row: int, result: ExitResult) -> None:
        n = len(result.exit_confidences)
        self.conf[row, :n] = result.exit_confidences
        self.pred[row, :n] = result.exit_predictions
        for e, pairs in enumerate(result.exit_top5):
            self.top_i[row, e, :len(pairs)] = [c for c, _ in pairs]
            self.top_p[row, e, :len(pairs)] = [p for _, p in pairs]

    # -- deciding --------------------------------------------------------------------------
    def set_thresholds(self, thresholds: float | Sequence[float]) -> np.ndarray:
        """Re-decide every image at one threshold for every exit, or one per exit; returns the
        rows whose shown exit or pending state changed."""
        self.thresholds = np.array(per_exit_thresholds(thresholds, self.k))
        n = len(self.records)
        old_shown, old_pending = self.shown[:n].copy(), self.pending[:n].copy()
        self._decide(0, n)
        return np.flatnonzero((self.shown[:n] != old_shown) | (self.pending[:n] != old_pending))

    def _decide(self, lo: int, hi: int) -> None:
        conf = self.conf[lo:hi]
        taken = exits_for_thresholds(conf, self.thresholds)
        known = ~np.isnan(np.take_along_axis(conf, taken[:, None], axis=1)[:, 0])
        last = np.maximum((~np.isnan(conf)).sum(1) - 1, 0)
        self.shown[lo:hi] = np.where(known, taken, last)
        self.pending[lo:hi] = self.ok[lo:hi] & ~known

    def pending_rows(self) -> np.ndarray:
        return np.flatnonzero(self.pending[:len(self)])

    def incomplete_rows(self) -> np.ndarray:
        """Readable images with exits still to compute (the engine computes exits in order)."""
        n = len(self)
        return np.flatnonzero(self.ok[:n] & np.isnan(self.conf[:n, -1]))

    # -- reading ---------------------------------------------------------------------------
    def summary(self, row: int) -> RowSummary:
        e = int(self.shown[row])
        truth = int(self.truth[row])
        return RowSummary(self.records[row].name, self.records[row].error, e, bool(self.pending[row]),
                          int(self.pred[row, e]), float(self.conf[row, e]), truth if truth >= 0 else None)

    def _exit_answers(self, row: int) -> tuple[np.ndarray, list[str]]:
        """The confidence and the class of every exit computed for ``row`` (the engine computes
        exits in order, so they are the first ones)."""
        computed = int(np.count_nonzero(~np.isnan(self.conf[row])))
        return self.conf[row, :computed], [self.categories[int(c)] for c in self.pred[row, :computed]]

    def detail(self, row: int) -> RowDetail:
        s = self.summary(row)
        confidences, labels = self._exit_answers(row)
        top = [(self.categories[int(c)], float(p)) for c, p in zip(self.top_i[row, s.exit], self.top_p[row, s.exit])
               if c >= 0]
        ok = bool(self.ok[row])
        return RowDetail(
            row=row, name=s.name, path=self.records[row].path, error=s.error, exit=s.exit, pending=s.pending,
            label=self.categories[s.class_index] if ok else "", confidence=s.confidence if ok else math.nan,
            truth=self.categories[s.truth] if s.truth is not None else None,
            correct=(s.class_index == s.truth) if ok and s.truth is not None and not s.pending else None,
            exit_confidences=[float(c) for c in confidences], exit_labels=labels, top5=top,
            flops=self.exits[s.exit].flops, resolution_path=self.exits[s.exit].resolution_path,
            ms=float(self.ms[row]),
        )

    def stats(self) -> Stats:
        n = len(self)
        ok, pending, truth = self.ok[:n], self.pending[:n], self.truth[:n]
        decided = self._decided()
        taken = self.shown[:n][decided]
        predicted = self._predictions()
        labelled = decided & (truth >= 0)
        ms = self.ms[:n][ok]
        return Stats(
            images=n, errors=int((~ok).sum()), pending=int(pending.sum()), decided=int(decided.sum()),
            labelled=int(labelled.sum()),
            mean_flops=float(self.flops[taken].mean()) if len(taken) else math.nan,
            full_flops=float(self.flops[-1]),
            accuracy=float((predicted[labelled] == truth[labelled]).mean() * 100) if labelled.any() else None,
            mean_exit=float(taken.mean() + 1) if len(taken) else math.nan,
            ms=float(ms.mean()) if len(ms) else math.nan,
            histogram=np.bincount(taken, minlength=self.k).tolist(),
        )

    def _decided(self) -> np.ndarray:
        """Rows whose exit at the current thresholds is known: read, and not waiting for exits."""
        n = len(self)
        return self.ok[:n] & ~self.pending[:n]

    def _predictions(self) -> np.ndarray:
        """Each row's class at the exit it shows."""
        n = len(self)
        return np.take_along_axis(self.pred[:n], self.shown[:n, None], axis=1)[:, 0]

    def matching(self, show: RowFilter) -> np.ndarray:
        """Which rows ``show`` keeps, as a boolean mask: every row (None), the wrong answers
        (WRONG), the images that could not be read (UNREADABLE), the images predicted as one class
        (``predicted(c)``), those with one label and one prediction (``confused(t, p)``), or the
        images that left at exit ``show`` (0-based), at the current thresholds."""
        n = len(self)
        if show is None:
            return np.ones(n, dtype=np.bool_)
        if show == UNREADABLE:
            return ~self.ok[:n]
        decided = self._decided()
        if show == WRONG:
            truth = self.truth[:n]
            return decided & (truth >= 0) & (self._predictions() != truth)
        category = predicted_class(show)
        if category is not None:
            return decided & (self._predictions() == category)
        pair = confused_pair(show)
        if pair is not None:
            return decided & (self.truth[:n] == pair[0]) & (self._predictions() == pair[1])
        return decided & (self.shown[:n] == show)

    def confusion(self) -> np.ndarray:
        """``[C, C]`` counts of the decided labelled images: row = label, column = prediction."""
        n, c = len(self), len(self.categories)
        truth = self.truth[:n]
        keep = self._decided() & (truth >= 0)
        return np.bincount(truth[keep] * c + self._predictions()[keep], minlength=c * c).reshape(c, c)

    def class_counts(self) -> ClassCounts:
        """Per predicted class, over the decided images: how many left at each exit, how many have
        a label and how many of those are right."""
        n, c = len(self), len(self.categories)
        decided = self._decided()
        predicted, truth = self._predictions()[decided], self.truth[:n][decided]
        labelled = truth >= 0
        right = labelled & (predicted == truth)
        return ClassCounts(
            exits=np.bincount(predicted * self.k + self.shown[:n][decided], minlength=c * self.k).reshape(c, self.k),
            labelled=np.bincount(predicted[labelled], minlength=c), right=np.bincount(predicted[right], minlength=c))

    def sort_key(self, by: SortKey) -> np.ndarray:
        """One float per row to order the table by what it shows (``by``); NaN where the row shows
        nothing to compare (an unreadable image, no label). Names compare naturally, case-blind
        ("img2" before "img10"); classes by name."""
        n = len(self)
        if by == "name":
            key = np.empty(n)
            key[np.fromiter((row for _, row in self._by_name), np.int64, n)] = np.arange(n)
            return key
        if by == "truth":
            truth = self.truth[:n]
            return np.where(truth >= 0, self._class_rank()[truth], np.nan)
        shown = self.shown[:n]
        if by == "prediction":
            key = self._class_rank()[self._predictions()]
        elif by == "confidence":
            key = np.take_along_axis(self.conf[:n], shown[:, None], axis=1)[:, 0].astype(np.float64)
        elif by == "exit":
            key = shown + 0.5 * self.pending[:n]  # "≥k+1" right after the images that left at k
        elif by == "resolution":
            key = np.array([e.flow_resolutions[-1] for e in self.exits], dtype=np.float64)[shown]
        else:
            raise ValueError(f"cannot sort by {by!r}")
        return np.where(self.ok[:n], key, np.nan)

    def _class_rank(self) -> np.ndarray:
        """Each class's place in alphabetical order of the category names."""
        rank = np.empty(len(self.categories))
        rank[sorted(range(len(self.categories)), key=lambda c: self.categories[c].casefold())] = np.arange(len(rank))
        return rank

    def _sweep(self, rows: np.ndarray) -> None:
        """Add the rows among ``rows`` that just became complete to the threshold sweeps."""
        rows = rows[self.ok[rows] & ~np.isnan(self.conf[rows, -1]) & ~self.swept[rows]]
        if not len(rows):
            return
        self.swept[rows] = True
        conf, pred, truth = self.conf[rows], self.pred[rows], self.truth[rows]
        labelled = truth >= 0
        taken = np.stack([exits_for_thresholds(conf, np.full(self.k, t)) for t in CURVE_THRESHOLDS])  # [T, rows]
        self._sweep_flops += self.flops[taken].sum(1)
        hit = np.take_along_axis(pred, taken.T, axis=1).T == truth  # [thresholds, rows]
        self._sweep_correct += hit[:, labelled].sum(1)
        self._exit_correct += (pred[labelled] == truth[labelled, None]).sum(0)
        self._swept_rows += len(rows)
        self._swept_labelled += int(labelled.sum())

    def curve_point(self) -> CurvePoint | None:
        """The markers' place: the images the curves cover (every exit computed), decided at the
        thresholds in force; None before any image is complete. Until every exit is computed the
        decided images (:meth:`stats`) are another set: the easy images, which left early."""
        rows = np.flatnonzero(self.swept[:len(self)])
        if not len(rows):
            return None
        mflops = float(self.flops[self.shown[rows]].mean()) / 1e6
        labelled = rows[self.truth[rows] >= 0]
        right = self._predictions()[labelled] == self.truth[labelled]
        return CurvePoint(savings=100.0 * (1.0 - mflops * 1e6 / float(self.flops[-1])), mflops=mflops,
                          accuracy=float(right.mean() * 100) if len(labelled) else None,
                          images=len(rows), readable=int(self.ok[:len(self)].sum()))

    def curves(self) -> Curves:
        n, labelled = self._swept_rows, self._swept_labelled
        mflops = self._sweep_flops / max(n, 1) / 1e6
        full = float(self.flops[-1]) / 1e6
        return Curves(
            thresholds=CURVE_THRESHOLDS, savings=100.0 * (1.0 - mflops / full), mflops=mflops,
            accuracy=100.0 * self._sweep_correct / labelled if labelled else None,
            exit_mflops=self.flops / 1e6,
            exit_accuracy=100.0 * self._exit_correct / labelled if labelled else None, images=n,
        )

    def export_rows(self) -> list[dict]:
        """One plain dict per image, for CSV and JSON."""
        rows = []
        for i, record in enumerate(self.records):
            s = self.summary(i)
            row = {"path": record.path or record.name, "status": "ok", "label": None, "confidence": None,
                   "exit": None, "flops": None, "resolution_path": None, "truth": None, "correct": None,
                   "ms": None, "error": record.error}
            if s.truth is not None:
                row["truth"] = self.categories[s.truth]
            if record.error or not self.ok[i]:
                row["status"] = "error"
            elif s.pending:
                row["status"] = "pending"
            else:
                confidences, labels = self._exit_answers(i)
                row.update(label=self.categories[s.class_index], confidence=round(s.confidence, 6), exit=s.exit + 1,
                           flops=self.exits[s.exit].flops, resolution_path=self.exits[s.exit].resolution_path,
                           ms=round(float(self.ms[i]), 3),
                           # JSON only (CSV keeps one value per column): what every computed exit answered
                           exit_confidences=[round(float(c), 6) for c in confidences], exit_labels=labels)
                if s.truth is not None:
                    row["correct"] = s.class_index == s.truth
            rows.append(row)
        return rows


def _natural(name: str) -> list:
    """Sort key that compares runs of digits as numbers: "img2" < "img10"."""
    return [(0, int(part), "") if part.isdigit() else (1, 0, part) for part in re.split(r"(\d+)", name.casefold()) if part]

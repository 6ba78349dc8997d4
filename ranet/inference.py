"""The early-exit engine: true early exit over a batch, samples leaving as soon as confident.

This is what the CLI and the app classify with: the path an image took and its exit are the
ones really computed, never a full forward pass followed by a lookup.
"""

from __future__ import annotations

import queue
import threading
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Callable, Iterable, Iterator, Sequence, TypeVar

import torch
from PIL import Image
from torch import Tensor, nn

from .flops import ExitInfo, exit_infos
from .model import ExitRunner, RANet, fold_batchnorm
from .policies import leaves, per_exit_thresholds

__all__ = ["ExitResult", "EarlyExitEngine", "stream_lanes", "in_lanes"]

T = TypeVar("T")
R = TypeVar("R")


def stream_lanes() -> int:
    """Lanes for a long stream of batches (:meth:`EarlyExitEngine.stream`) on the CPU: two when
    torch has two threads or more, each then taking half of them."""
    return 2 if torch.get_num_threads() >= 2 else 1


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
    ms: float = 0.0  # wall time of the steps it took part in, each shared equally among their images
    complete: bool = field(default=False)  # True when every exit was computed

    def to_json(self) -> dict:
        return {
            "label": self.label, "class_index": self.class_index, "confidence": round(self.confidence, 6),
            "exit": self.exit, "flops": self.flops, "resolution_path": self.resolution_path,
            "exit_confidences": [round(c, 6) for c in self.exit_confidences],
            "exit_predictions": list(self.exit_predictions), "ms": round(self.ms, 3),
        }


@dataclass
class _Track:
    """What is known of one image so far: its outputs at the exits it has reached."""

    confs: list[float] = field(default_factory=list)
    preds: list[int] = field(default_factory=list)
    top5: list[list[tuple[int, float]]] = field(default_factory=list)
    decided: int = -1  # 0-based exit it leaves at, once known
    ms: float = 0.0


@dataclass
class _Group:
    """Images waiting together at the runner's next exit."""

    runner: ExitRunner
    samples: list[int]  # stream positions, one per row of the runner
    since: int  # input batch the oldest of them arrived with


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
        # Read for every batch: a layer's current weight is far cheaper to reach than a walk of
        # model.parameters(), and still follows model.to(), which may replace the parameters.
        self._first_conv = next(m for m in self.model.modules() if isinstance(m, nn.Conv2d))
        self.categories: list[str] = list(meta.categories) if meta else [str(i) for i in range(model.config.num_classes)]
        self.set_thresholds(thresholds)
        self.on_notice = on_notice or (lambda message: None)

    @property
    def device(self) -> torch.device:
        return self._first_conv.weight.device

    def set_thresholds(self, thresholds: float | Sequence[float]) -> None:
        self.thresholds = per_exit_thresholds(thresholds, len(self.exits))

    def preprocess(self, images: Sequence[Image.Image]) -> Tensor:
        return torch.stack([self.model.transform(im) for im in images])

    def classify_images(self, images: Sequence[Image.Image], all_exits: bool = False) -> list[ExitResult]:
        return self.classify(self.preprocess(images), all_exits=all_exits)

    def classify(self, x: Tensor, all_exits: bool = False) -> list[ExitResult]:
        """Early exit over the batch ``x`` (normalised ``[N,3,H,W]``), results in input order. With
        ``all_exits`` every exit is computed (for caching) while the decision still follows the
        thresholds."""
        return self.classify_batches([x], all_exits=all_exits)

    def classify_batches(self, batches: Sequence[Tensor], all_exits: bool = False) -> list[ExitResult]:
        """:meth:`stream` over ``batches``, every result in input order."""
        results: list[ExitResult | None] = [None] * sum(len(x) for x in batches)
        for position, result in self.stream(batches, all_exits=all_exits):
            results[position] = result
        return results  # type: ignore[return-value]

    def stream(self, batches: Iterable[Tensor], all_exits: bool = False, max_wait: int | None = None,
               lanes: int = 1) -> Iterator[tuple[int, ExitResult]]:
        """Early exit over a stream of batches: yields ``(position, result)`` as each image is
        decided, ``position`` counting images from the first batch on.

        Images that go on past an exit wait there until as many as the largest input batch are
        waiting (or the stream ends, or, with ``max_wait``, until that many further input batches
        have arrived): the later exits then run on full batches instead of on the few hard images
        of each input batch. Which images wait together changes no answer.

        With ``lanes`` > 1 on the CPU, that many streams run side by side in threads, each on its
        share of the intra-op threads, each taking the next input batch when it is ready for one
        (``batches`` is only ever advanced by one thread at a time). On few cores one stream
        leaves its threads waiting at every small operator; two lanes of one thread each classify
        1.1-1.2x more images per second on two cores (docs/benchmarks.md). A stream of fewer
        than two batches per lane runs as one lane, with every thread."""
        if lanes > 1 and self.device.type == "cpu":
            source = iter(batches)
            head = list(islice(source, 2 * lanes))
            if len(head) == 2 * lanes:
                yield from in_lanes(lambda taken: self._lane(taken, all_exits, max_wait),
                                    _with_starts(chain(head, source)), lanes)
                return
            batches = head
        yield from self._stream(batches, all_exits, max_wait)

    def _lane(self, taken: Iterator[tuple[int, Tensor]], all_exits: bool,
              max_wait: int | None) -> Iterator[tuple[int, ExitResult]]:
        """One lane's stream over the batches it takes (each with the stream position of its first
        image), its results at their positions in the whole stream."""
        local_starts: list[int] = []  # per batch taken: its first position in this lane ...
        starts: list[int] = []  # ... and in the whole stream

        def batches() -> Iterator[Tensor]:
            given = 0
            for start, x in taken:
                local_starts.append(given)
                starts.append(start)
                given += len(x)
                yield x

        for position, result in self._stream(batches(), all_exits, max_wait):
            k = bisect_right(local_starts, position) - 1
            yield starts[k] + position - local_starts[k], result

    @torch.no_grad()
    def _stream(self, batches: Iterable[Tensor], all_exits: bool,
                max_wait: int | None) -> Iterator[tuple[int, ExitResult]]:
        tracks: dict[int, _Track] = {}
        waiting: list[list[_Group]] = [[] for _ in self.exits]
        pool = 1
        arrived = 0
        batch_index = -1
        for batch_index, x in enumerate(batches):
            if len(x) == 0:
                continue
            pool = max(pool, len(x))
            samples = list(range(arrived, arrived + len(x)))
            arrived += len(x)
            tracks.update((s, _Track()) for s in samples)
            group = _Group(ExitRunner(self.model, x.to(self.device, non_blocking=True)), samples, batch_index)
            yield from self._advance(group, tracks, waiting, all_exits)
            yield from self._run_waiting(tracks, waiting, all_exits,
                                         lambda groups: (sum(len(g.samples) for g in groups) >= pool or
                                                         (max_wait is not None and batch_index - groups[0].since >= max_wait)))
        yield from self._run_waiting(tracks, waiting, all_exits, lambda groups: True)

    def _run_waiting(self, tracks: dict[int, _Track], waiting: list[list[_Group]], all_exits: bool,
                     ready: Callable[[list[_Group]], bool]) -> Iterator[tuple[int, ExitResult]]:
        for e in range(1, len(self.exits)):  # in exit order: running one exit feeds the next
            groups = waiting[e]
            if groups and ready(groups):
                waiting[e] = []
                merged = _Group(ExitRunner.merge([self._on_model_device(g.runner) for g in groups]),
                                [s for g in groups for s in g.samples], groups[0].since)
                yield from self._advance(merged, tracks, waiting, all_exits)

    def _advance(self, group: _Group, tracks: dict[int, _Track], waiting: list[list[_Group]],
                 all_exits: bool) -> Iterator[tuple[int, ExitResult]]:
        """Run ``group`` to its next exit: yield the images that leave there, queue the others."""
        start = time.perf_counter()
        e = group.runner.next_exit
        self._on_model_device(group.runner)
        try:
            logits = group.runner.step()
        except torch.OutOfMemoryError:
            if group.runner.device.type == "cpu":
                raise
            yield from self._after_out_of_memory(group, tracks, waiting, all_exits)
            return
        probs = logits.float().softmax(-1).cpu()
        top_p, top_i = (t.numpy() for t in probs.topk(min(5, probs.shape[1]), dim=1))
        last = e == len(self.exits) - 1
        passed = leaves(top_p[:, 0], self.thresholds[e], last).tolist()  # numpy: a few µs less per step than torch
        finished, stay = [], []
        for row, (sample, p, i, ok) in enumerate(zip(group.samples, top_p.tolist(), top_i.tolist(), passed)):
            track = tracks[sample]
            track.confs.append(p[0])
            track.preds.append(i[0])
            track.top5.append(list(zip(i, p)))
            if track.decided < 0 and ok:
                track.decided = e
            if last or (track.decided >= 0 and not all_exits):
                finished.append(sample)
            else:
                stay.append(row)
        staying = [group.samples[row] for row in stay]
        if staying:
            if len(staying) < len(group.samples):
                group.runner.keep(torch.tensor(stay, dtype=torch.long))
                group.samples = staying
            waiting[e + 1].append(group)
        # Each image is charged an equal share of every step it took part in.
        share = (time.perf_counter() - start) * 1000 / (len(finished) + len(staying))
        for sample in staying:
            tracks[sample].ms += share
        for sample in finished:
            track = tracks.pop(sample)
            track.ms += share
            yield sample, self._result(track)

    def _after_out_of_memory(self, group: _Group, tracks: dict[int, _Track], waiting: list[list[_Group]],
                             all_exits: bool) -> Iterator[tuple[int, ExitResult]]:
        device = group.runner.device
        n = len(group.samples)
        if device.type == "cuda":
            torch.cuda.empty_cache()
        if n > 1:
            self.on_notice(f"out of GPU memory with a batch of {n}: retrying in smaller batches")
            for part in (torch.arange(n // 2), torch.arange(n // 2, n)):
                rows = part.tolist()
                sub = _Group(group.runner.subset(part), [group.samples[r] for r in rows], group.since)
                yield from self._advance(sub, tracks, waiting, all_exits)
        else:
            self.on_notice("out of GPU memory for a single image: continuing on the CPU")
            self.model.to("cpu")
            group.runner.to("cpu")
            yield from self._advance(group, tracks, waiting, all_exits)

    def _on_model_device(self, runner: ExitRunner) -> ExitRunner:
        """``runner`` where the model is (images waiting on a GPU when it fell back to the CPU)."""
        return runner if runner.device == self.device else runner.to(self.device)

    def _result(self, track: _Track) -> ExitResult:
        e = track.decided
        info = self.exits[e]
        return ExitResult(
            class_index=track.preds[e], label=self.categories[track.preds[e]], confidence=track.confs[e],
            exit=e + 1, flops=info.flops, resolution_path=info.resolution_path,
            exit_confidences=track.confs, exit_predictions=track.preds, exit_top5=track.top5,
            ms=track.ms, complete=len(track.confs) == len(self.exits),
        )


def _with_starts(batches: Iterable[Tensor]) -> Iterator[tuple[int, Tensor]]:
    """Each batch with the stream position of its first image."""
    start = 0
    for x in batches:
        yield start, x
        start += len(x)


_LANE_DONE = object()


@dataclass
class _LaneFailure:
    exc: BaseException


def in_lanes(work: Callable[[Iterator[T]], Iterable[R]], source: Iterable[T], lanes: int) -> Iterator[R]:
    """Run ``work`` in ``lanes`` threads, each on its share of the calling thread's intra-op
    threads and each given an iterator that takes the next item of ``source`` (advanced by one
    thread at a time); yield what the lanes yield, as they yield it. An exception in a lane is
    raised here; closing this generator stops the lanes after the item each is on."""
    threads = max(1, torch.get_num_threads() // lanes)  # a new thread starts with the default
    source = iter(source)
    take_lock = threading.Lock()
    stop = threading.Event()
    out: queue.SimpleQueue = queue.SimpleQueue()

    def take() -> Iterator[T]:
        while not stop.is_set():
            with take_lock:
                item = next(source, _LANE_DONE)
            if item is _LANE_DONE:
                return
            yield item

    def lane() -> None:
        torch.set_num_threads(threads)  # this thread's intra-op threads only
        try:
            for value in work(take()):
                if stop.is_set():
                    break
                out.put(value)
        except BaseException as exc:  # handed to the consumer, raised there
            out.put(_LaneFailure(exc))
        finally:
            out.put(_LANE_DONE)

    workers = [threading.Thread(target=lane, name=f"ranet-lane-{i}", daemon=True) for i in range(lanes)]
    for worker in workers:
        worker.start()
    try:
        running = lanes
        while running:
            item = out.get()
            if item is _LANE_DONE:
                running -= 1
            elif isinstance(item, _LaneFailure):
                raise item.exc
            else:
                yield item
    finally:
        stop.set()
        for worker in workers:
            worker.join()

"""Background work: QRunnable workers reporting through signals, and the pool that runs them.

Shaped like superqt's and napari's workers: ``run()`` wraps ``work()`` in try/except, so a
failure is always reported (``errored``) and ``finished`` always comes; ``cancel()`` sets a flag
that ``work()`` checks between batches; the pool keeps every started worker referenced until it
finishes, and ``shutdown`` waits for them.

The torch side (:mod:`ranet`, :mod:`app.session`) is imported inside ``work()``, on the worker's
thread: importing torch takes seconds and the window must show first.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, NamedTuple, Sequence

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtGui import QImage

from ranet.errors import expected, one_line

if TYPE_CHECKING:
    import torch
    from PIL import Image

    from ranet import ExitInfo, ExitResult, RANet
    from ranet.transforms import Preprocessing

__all__ = [
    "WorkerSignals", "Worker", "WorkerPool", "Pixels", "LoadedModel", "Completion", "LoadModelWorker",
    "ClassifyWorker", "CompleteWorker", "ThumbnailWorker",
]

log = logging.getLogger(__name__)

# The CLI's large batch: at 64 a folder's first pass ran each operator four times as often, which on
# 2 shared cores cost more than the arithmetic (python -m app.folder_bench measures it).
BATCH_SIZE = 256
# An image that needs a later exit waits there for at most this many further batches, so that the
# later exits run on more than a batch's few hard images and still show within about a second.
MAX_WAIT_BATCHES = 4
# The first pass shows what was decided this often: a signal per image would flood the window.
REPORT_INTERVAL_S = 0.1


class WorkerSignals(QObject):
    """Signals live on a QObject of the GUI thread, so every slot runs there."""

    started = Signal()
    result = Signal(object)
    progress = Signal(int, int)  # done, total (total 0 while the total is not known yet)
    errored = Signal(str)
    notice = Signal(str)  # something the user should know that is not a failure
    finished = Signal()


class Worker(QRunnable):
    """Subclasses implement :meth:`work` and check :attr:`cancelled` between batches."""

    label = "Working"

    def __init__(self) -> None:
        super().__init__()
        self.signals = WorkerSignals()
        self._cancelled = False

    def cancel(self) -> None:
        self._cancelled = True

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def run(self) -> None:
        self.signals.started.emit()
        try:
            if not self._cancelled:
                self.work()
        except Exception as exc:  # reported, never raised into Qt's thread
            if expected(exc):
                log.warning("%s: %s", type(self).__name__, one_line(exc))
            else:
                log.exception("%s failed", type(self).__name__)
            self.signals.errored.emit(one_line(exc))
        finally:
            self.signals.finished.emit()

    def work(self) -> None:
        raise NotImplementedError


class WorkerPool(QObject):
    """A QThreadPool that keeps its workers referenced until they finish."""

    busyChanged = Signal(bool)

    def __init__(self, threads: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(threads)
        self._workers: list[Worker] = []

    @property
    def workers(self) -> list[Worker]:
        return list(self._workers)

    @property
    def busy(self) -> bool:
        return bool(self._workers)

    def start(self, worker: Worker, priority: int = 0) -> Worker:
        self._workers.append(worker)
        worker.signals.finished.connect(partial(self._discard, worker))
        self.pool.start(worker, priority)
        if len(self._workers) == 1:
            self.busyChanged.emit(True)
        return worker

    def _discard(self, worker: Worker) -> None:
        if worker in self._workers:
            self._workers.remove(worker)
            if not self._workers:
                self.busyChanged.emit(False)

    def cancel_all(self) -> None:
        for worker in self._workers:
            worker.cancel()

    def shutdown(self, timeout_ms: int = 5000) -> bool:
        """Cancel everything and wait; False if a worker is still running after the timeout."""
        self.cancel_all()
        return self.pool.waitForDone(timeout_ms)


class Pixels(NamedTuple):
    """An image without a file (pasted, or dropped from a browser)."""

    name: str
    image: Any  # QImage from the GUI; PIL.Image once a worker has converted it


@dataclass
class LoadedModel:
    model: "RANet"
    exits: list["ExitInfo"]
    device: str  # for the status bar
    source: str
    requested: str | None = None  # the file or run folder asked for; None: the embedded model


@dataclass
class Completion:
    """Exits computed later for some rows; ``failed`` rows could not be read again."""

    rows: list[int]
    results: list["ExitResult"]
    failed: list[tuple[int, str]] = field(default_factory=list)


def _open(source: str | Pixels) -> "Image.Image":
    from ranet import load_image

    if isinstance(source, Pixels):
        return _pil(source.image)
    return load_image(source)


def _pil(image: "QImage | Image.Image") -> "Image.Image":
    from PIL import Image

    if not isinstance(image, QImage):
        return image
    rgba = image.convertToFormat(QImage.Format.Format_RGBA8888)
    data = bytes(rgba.constBits())
    return Image.frombuffer("RGBA", (rgba.width(), rgba.height()), data, "raw", "RGBA", rgba.bytesPerLine(), 1).copy()


def _qimage(image: "Image.Image") -> QImage:
    rgba = image.convert("RGBA")
    data = rgba.tobytes()
    return QImage(data, rgba.width, rgba.height, 4 * rgba.width, QImage.Format.Format_RGBA8888).copy()


@dataclass
class _Inputs:
    """A chunk of sources read: the model inputs, and what became of each source (by index)."""

    tensor: "torch.Tensor | None"  # normalised, one row per entry of ``rows``
    rows: list[int]
    failures: list[tuple[int, str]]  # with the reason, a sentence
    pixels: dict[int, Pixels]  # pasted images, converted to PIL


def _read_inputs(sources: Sequence[str | Pixels], prep: "Preprocessing") -> _Inputs:
    """Files the way the commands read them (:func:`ranet.reading.read_batch`: grey PNG crops the
    short way), then pasted images; on a worker's thread."""
    import torch

    from ranet import ImageLoadError
    from ranet.reading import model_input, read_batch

    files = [i for i, source in enumerate(sources) if not isinstance(source, Pixels)]
    batch = read_batch([Path(sources[i]) for i in files], prep)
    read = _Inputs(None, [files[k] for k in batch.positions], [], {})
    unread = sorted(set(range(len(files))) - set(batch.positions))
    read.failures = [(files[k], reason) for k, (_, reason) in zip(unread, batch.failures)]
    parts = [batch.inputs] if batch.inputs is not None else []
    for i, source in enumerate(sources):
        if isinstance(source, Pixels):
            try:
                image = _open(source)
                parts.append(prep.normalize(model_input(image, prep).unsqueeze(0)))
            except ImageLoadError as exc:
                read.failures.append((i, str(exc)))
                continue
            read.rows.append(i)
            read.pixels[i] = Pixels(source.name, image)
    read.tensor = torch.cat(parts) if parts else None
    return read


class LoadModelWorker(Worker):
    """``ranet.load_model`` on the chosen device, then one warm-up pass (the first is slow)."""

    label = "Loading the model"

    def __init__(self, path: str | None, device: str = "auto") -> None:
        super().__init__()
        self.path, self.device = path, device

    def work(self) -> None:
        import torch

        import ranet
        from ranet.allocator import tune_allocator

        tune_allocator()  # before the first batch, as the CLI does: activations stay in the heap
        device = ranet.resolve_device(self.device)
        model = ranet.load_model(self.path, device=device)
        size = model.meta.input_size
        # Counted on the network with its BatchNorms, then folded once here, so that each
        # classification job's engine shares it instead of copying; then one warm-up pass.
        exits = ranet.exit_infos(model.config, size, model=model)
        model = ranet.fold_batchnorm(model)
        with torch.no_grad():
            model(torch.zeros(1, 3, size, size, device=device))
        self.signals.result.emit(LoadedModel(model, exits, ranet.device_label(device), model.meta.source, self.path))


class ClassifyWorker(Worker):
    """Scan folders, read images and classify them with true early exit, batch by batch.

    Emits ``result`` with a list of :class:`~app.session.Outcome` as images are decided (unreadable
    files included, with their reason): an image that needs a later exit comes up to
    ``MAX_WAIT_BATCHES`` batches after its own. The thresholds may change while it runs: each exit
    decides with those in force when it runs.
    """

    label = "Classifying"

    def __init__(self, model: "RANet", inputs: Sequence[str | Pixels], thresholds: float | Sequence[float],
                 batch_size: int = BATCH_SIZE) -> None:
        super().__init__()
        self.model, self.inputs, self.thresholds, self.batch_size = model, list(inputs), thresholds, batch_size

    def set_thresholds(self, thresholds: float | Sequence[float]) -> None:
        """One for every exit, or one per exit."""
        self.thresholds = thresholds

    def _expand(self) -> list[str | Pixels]:
        from ranet import scan_images

        items: list[str | Pixels] = []
        for source in self.inputs:
            if isinstance(source, Pixels):
                items.append(source)
                continue
            for path in scan_images([source]):
                items.append(str(path))
                if len(items) % 500 == 0:
                    if self.cancelled:
                        return items
                    self.signals.progress.emit(len(items), 0)
        return items

    def work(self) -> None:
        import threading

        import torch

        from ranet import EarlyExitEngine
        from ranet.datasets import match_category
        from ranet.inference import stream_lanes

        from .session import Outcome

        engine = EarlyExitEngine(self.model, on_notice=self.signals.notice.emit)
        prep = self.model.transform
        items = self._expand()
        total = len(items)
        self.signals.progress.emit(0, total)
        waiting: dict[int, Outcome] = {}  # by stream position: images the engine has not decided yet
        ready: list[Outcome] = []  # decided, not yet shown
        ready_lock = threading.Lock()  # files are read in the engine's lanes, results come in here
        reported = given = 0

        def decided(outcomes: list[Outcome]) -> None:
            with ready_lock:
                ready.extend(outcomes)

        def report() -> None:  # on this worker's thread only, as every signal of a worker
            nonlocal reported
            with ready_lock:
                shown = list(ready)
                ready.clear()
            if shown:
                reported += len(shown)
                self.signals.result.emit(shown)
                self.signals.progress.emit(reported, total)

        def new_outcome(source: str | Pixels) -> Outcome:
            if isinstance(source, Pixels):
                return Outcome(source, source.name)
            path = Path(source)
            return Outcome(source, path.name, truth=match_category(path.parent.name, engine.categories))

        def read(chunk: list[str | Pixels]) -> torch.Tensor | None:
            """The chunk's inputs; queues their outcomes by stream position."""
            nonlocal given
            inputs = _read_inputs(chunk, prep)
            failed = []
            for i, reason in inputs.failures:
                failed.append(new_outcome(chunk[i]))
                failed[-1].error = reason
            for i in inputs.rows:
                waiting[given] = new_outcome(inputs.pixels.get(i, chunk[i]))
                given += 1
            decided(failed)
            return inputs.tensor

        def batches() -> Iterator[torch.Tensor]:
            for start in range(0, total, self.batch_size):
                if self.cancelled:
                    return
                inputs = read(items[start:start + self.batch_size])
                engine.set_thresholds(self.thresholds)
                if inputs is not None:
                    yield inputs

        next_report = time.monotonic() + REPORT_INTERVAL_S  # a first step's results together
        for position, result in engine.stream(batches(), max_wait=MAX_WAIT_BATCHES, lanes=stream_lanes()):
            if self.cancelled:
                return
            outcome = waiting.pop(position)
            outcome.result = result
            decided([outcome])
            if time.monotonic() >= next_report:
                report()
                next_report = time.monotonic() + REPORT_INTERVAL_S
        report()


class CompleteWorker(Worker):
    """Compute every exit of images that left early (``classify(x, all_exits=True)``), so the
    slider and the curves can use exits the first pass did not need."""

    label = "Computing remaining exits"

    def __init__(self, model: "RANet", rows: Sequence[int], sources: Sequence[str | Pixels],
                 batch_size: int = BATCH_SIZE) -> None:
        super().__init__()
        self.model, self.rows, self.sources, self.batch_size = model, list(rows), list(sources), batch_size

    def work(self) -> None:
        from ranet import EarlyExitEngine

        engine = EarlyExitEngine(self.model, on_notice=self.signals.notice.emit)
        total = len(self.rows)
        for start in range(0, total, self.batch_size):
            if self.cancelled:
                return
            rows = self.rows[start:start + self.batch_size]
            inputs = _read_inputs(self.sources[start:start + self.batch_size], self.model.transform)
            done = Completion([rows[i] for i in inputs.rows], [], [(rows[i], reason) for i, reason in inputs.failures])
            if inputs.tensor is not None:
                done.results = engine.classify(inputs.tensor, all_exits=True)
            self.signals.result.emit(done)
            self.signals.progress.emit(min(start + self.batch_size, total), total)


class ThumbnailWorker(Worker):
    """Read images and scale them to ``size`` (longest side) as QImages: ``result`` carries a
    list of ``(key, QImage)``, a null QImage for an unreadable image."""

    label = "Thumbnails"

    def __init__(self, jobs: Sequence[tuple[int, str | Pixels]], size: int) -> None:
        super().__init__()
        self.jobs, self.size = list(jobs), size

    def work(self) -> None:
        from PIL import Image

        done: list[tuple[int, QImage]] = []
        for key, source in self.jobs:
            if self.cancelled:
                return
            try:
                image = _open(source).copy()
                image.thumbnail((self.size, self.size), Image.Resampling.LANCZOS)
                done.append((key, _qimage(image)))
            except Exception:  # shown as the row's error mark; the classify pass says why
                done.append((key, QImage()))
            if len(done) >= 8:
                self.signals.result.emit(done)
                done = []
        if done:
            self.signals.result.emit(done)

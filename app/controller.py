"""The app's document and its background work, without widgets.

Holds the model and the session, starts the workers (load, classify, complete, thumbnails)
and turns their reports into signals the widgets listen to. The self-test drives the same
object, so it exercises the same code as the window.
"""

from __future__ import annotations

import math
from functools import partial
from typing import TYPE_CHECKING, Sequence

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from .resources import samples_dir
from .results_model import ResultsModel
from .row_filter import RowFilter
from .thumbnails import ThumbnailCache
from .workers import (ClassifyWorker, CompleteWorker, Completion, LoadedModel, LoadModelWorker, Pixels, Worker,
                      WorkerPool)

if TYPE_CHECKING:
    from .session import Outcome, Session

__all__ = ["Controller"]

THUMBNAIL_SIZE = 64
PREVIEW_SIZE = 360
FOLLOW_UP_DELAY_MS = 60  # the slider settles this long before missing exits are queued
CURVES_DELAY_MS = 250  # curves are recomputed at most this often while results stream in
URGENT = 10  # pool priority of exits the slider needs now, ahead of the background fill


class Controller(QObject):
    modelLoading = Signal(str)
    modelChanged = Signal(object)  # LoadedModel
    modelFailed = Signal(str)
    progress = Signal(str, int, int)  # what, done, total (0 = not known yet)
    busyChanged = Signal(bool)
    rowsAdded = Signal()
    decisionsChanged = Signal()  # the threshold moved or exits arrived: stats and detail
    budgetChanged = Signal(object)  # the calibrated budget in force (its label), or None for the slider
    curvesChanged = Signal()  # the cache grew: threshold sweeps
    notice = Signal(str)  # e.g. the engine fell back to smaller batches after running out of GPU memory
    errored = Signal(str)
    filterChanged = Signal(object)  # the RowFilter the table applies
    selectionChanged = Signal(object)  # the selected session row, or None
    undoChanged = Signal(bool)  # whether cleared results can be brought back

    def __init__(self, threshold: float = 0.9, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.threshold = threshold  # the slider's: one for every exit
        self.budget: str | None = None  # when set, the loaded model's calibrated thresholds for it rule
        self.loaded: LoadedModel | None = None
        self.session: Session | None = None
        self.selected: int | None = None  # the session row of the selected image
        self._cleared: Session | None = None  # the results before the last clear, until anything else changes
        # Two torch jobs at most: exits the slider asks for need not wait for a long folder.
        self.compute = WorkerPool(2, self)
        self.io = WorkerPool(2, self)  # model loading and thumbnails
        self.thumbnails = ThumbnailCache(self.io, THUMBNAIL_SIZE, 4000, self)
        self.previews = ThumbnailCache(self.io, PREVIEW_SIZE, 24, self)
        self.results = ResultsModel(self.thumbnails, self)
        self.compute.busyChanged.connect(self.busyChanged)
        self._generation = 0  # bumped for a new session; late reports are dropped
        self._completing: set[int] = set()  # rows a completer is computing
        # Completers of the current row numbering: removing images renumbers the rows.
        self._completers: set[CompleteWorker] = set()
        self._follow_up = QTimer(self, singleShot=True, interval=FOLLOW_UP_DELAY_MS, timeout=self._complete_pending)
        self._curves_timer = QTimer(self, singleShot=True, interval=CURVES_DELAY_MS, timeout=self.curvesChanged.emit)
        # After a classification, compute the exits it skipped so the curves cover every
        # threshold; off leaves only the exits the slider asks for.
        self.fill_in_background = True

    # -- model -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.compute.busy

    def load_model(self, path: str | None = None, device: str = "auto") -> None:
        """Load in the background; the current model stays until the new one is ready."""
        worker = LoadModelWorker(path, device)
        worker.signals.result.connect(self._model_loaded)
        worker.signals.errored.connect(self.modelFailed)
        self.modelLoading.emit(path or "the embedded model")
        self.io.start(worker)

    def _model_loaded(self, loaded: LoadedModel) -> None:
        sources = [r.source for r in self.session.records] if self.session else []
        self.loaded = loaded
        if self.budget not in self.budgets():
            self.budget = None
            self.budgetChanged.emit(None)
        self.set_filter(None)
        self._reset()
        self.modelChanged.emit(loaded)
        if sources:
            self.classify(sources)

    # -- inputs ----------------------------------------------------------------------------
    def classify(self, inputs: Sequence[str | Pixels]) -> ClassifyWorker | None:
        """Files, folders (recursive) and pixels, classified in the background; None without a model."""
        if self.loaded is None or not inputs:
            return None
        worker = ClassifyWorker(self.loaded.model, inputs, self.thresholds)
        self._start(worker, self.add)
        return worker

    def load_samples(self) -> None:
        """The bundled Fashion-MNIST test images."""
        self.classify([str(samples_dir())])

    def clear(self) -> int:
        """Forget every result; :meth:`undo_clear` brings them back until anything else changes
        them. Returns how many were cleared."""
        if self.loaded is None or not self.session:
            return 0
        cleared = self.session
        self._reset()
        self._cleared = cleared
        self.undoChanged.emit(True)
        return len(cleared)

    def undo_clear(self) -> None:
        """The results as they were before :meth:`clear`; their missing exits are computed again."""
        if self._cleared is None:
            return
        self._cleared.set_thresholds(self.thresholds)
        self._show(self._cleared)
        self._queue_fill()

    def remove(self, rows: Sequence[int]) -> None:
        """Forget these images (session rows). A classification under way goes on, its images
        come after the others; exits being computed for the old rows are asked again for the kept."""
        if self.session is None or not len(rows):
            return
        keep = np.setdiff1d(np.arange(len(self.session)), np.asarray(rows, dtype=np.int64))
        for worker in self._completers:
            worker.cancel()
        self._completers.clear()
        self._completing.clear()
        self._show(self.session.subset(keep))
        self._complete_pending()
        self._queue_fill()

    def remove_selected(self) -> None:
        """Forget the selected image; the one below it in the table (else above) is selected."""
        row, model = self.selected, self.results
        if row is None:
            return
        at = model.view_row(row)
        neighbour = at + 1 if at + 1 < model.rowCount() else at - 1
        following = model.session_row(neighbour) if neighbour >= 0 else None
        self.remove([row])
        self.select(None if following is None else following - (following > row))  # rows after it moved up one

    def cancel(self) -> None:
        self.compute.cancel_all()

    def shutdown(self) -> None:
        self.thumbnails.clear()
        self.previews.clear()
        self.compute.shutdown()
        self.io.shutdown()

    def _reset(self) -> None:
        """A new, empty session for the loaded model; work for the old one is dropped."""
        from .session import Session  # imported by the loader's thread already: no wait here

        self.compute.cancel_all()
        self._generation += 1
        self._completing.clear()
        self._completers.clear()
        self._show(Session(self.loaded.exits, self.loaded.model.meta.categories, self.thresholds))

    def _show(self, session: Session) -> None:
        """Make ``session`` the current one (new, kept after a removal, or brought back)."""
        self._forget_cleared()
        self.session = session
        self.select(None)
        self.results.set_session(session)
        self.previews.clear(self.results.source_of)
        self.rowsAdded.emit()
        self.decisionsChanged.emit()
        self.curvesChanged.emit()

    def _forget_cleared(self) -> None:
        if self._cleared is not None:
            self._cleared = None
            self.undoChanged.emit(False)

    def _start(self, worker: Worker, on_result, priority: int = 0) -> None:
        generation = self._generation
        worker.signals.result.connect(lambda payload: generation == self._generation and on_result(payload))
        worker.signals.progress.connect(partial(self.progress.emit, worker.label))
        worker.signals.errored.connect(self.errored)
        worker.signals.notice.connect(self.notice)
        worker.signals.finished.connect(lambda: generation == self._generation and self._worker_finished(worker))
        self.compute.start(worker, priority)

    def add(self, outcomes: Sequence[Outcome]) -> None:
        """A classify worker's batch: the controller alone writes the session."""
        if not outcomes:
            return
        self._forget_cleared()
        self.session.add(outcomes)
        self.results.rows_added()
        self.rowsAdded.emit()
        self.decisionsChanged.emit()
        self._curves_soon()
        self._follow_up.start()

    def _on_completion(self, worker: CompleteWorker, done: Completion) -> None:
        if worker not in self._completers:
            return  # its rows were renumbered since: images were removed
        for row, reason in done.failed:
            self.session.fail(row, reason)
            self.results.row_changed(row)
        self._completing.difference_update(done.rows)
        self._completing.difference_update(row for row, _ in done.failed)
        self.results.rows_changed(self.session.fill(done.rows, done.results))
        self.decisionsChanged.emit()
        self._curves_soon()

    def _curves_soon(self) -> None:
        if not self._curves_timer.isActive():  # a throttle: streaming results keep them moving
            self._curves_timer.start()

    def _worker_finished(self, worker: Worker) -> None:
        if worker in self._completers:
            self._completers.discard(worker)
            self._completing.difference_update(worker.rows)  # cancelled rows can be asked again
        if not worker.cancelled:
            self._queue_fill(finished=worker)

    # -- what the table lists and shows ----------------------------------------------------
    @property
    def row_filter(self) -> RowFilter:
        return self.results.row_filter

    def set_filter(self, show: RowFilter) -> None:
        """Which images the table lists (see :mod:`app.row_filter`)."""
        if show != self.results.row_filter:
            self.results.set_filter(show)
            self.filterChanged.emit(show)

    def toggle_filter(self, show: RowFilter) -> None:
        """A chart click lists those images; a second click on the same one lists all again."""
        self.set_filter(None if self.row_filter == show else show)

    def select(self, row: int | None) -> None:
        """The image the detail panel shows (a session row), or none."""
        if row != self.selected:
            self.selected = row
            self.selectionChanged.emit(row)

    def demo_step(self) -> None:
        """The auto demo's step: the samples when there is nothing to show, else the next image in
        the table that left at another exit than the selected one (contrast tells the story: a
        trouser settled at 8×8, then a shirt that needed the finer flows), else simply the next."""
        model = self.results
        if model.images == 0:
            if self.loaded is not None and not self.busy:
                self.load_samples()
            return
        n = model.rowCount()
        if not n:
            return
        current = model.view_row(self.selected) if self.selected is not None else -1

        def exit_at(row: int) -> int:
            return int(self.session.shown[model.session_row(row)])

        following = [(current + step) % n for step in range(1, n + 1)]
        now = exit_at(current) if current >= 0 else None
        self.select(model.session_row(next((row for row in following if now is None or exit_at(row) != now),
                                           following[0])))

    def export_about(self) -> dict:
        """What decided the exported results: the model, the device, the threshold or the budget
        and the per-exit thresholds in force."""
        per_exit = [round(t, 6) if math.isfinite(t) else None for t in self.session.thresholds.tolist()]  # JSON: no inf
        return {"model": self.loaded.model.meta.name, "device": self.loaded.device,
                "threshold": self.threshold if self.budget is None else None, "budget": self.budget,
                "thresholds": per_exit}

    # -- threshold -------------------------------------------------------------------------
    def budgets(self) -> dict[str, list[float]]:
        """The loaded model's calibrated thresholds per FLOPs budget (label → T_1..T_K, checked when
        it loaded); none for a model without them, such as an authors' checkpoint."""
        if self.loaded is None:
            return {}
        return dict(self.loaded.model.meta.thresholds)

    @property
    def thresholds(self) -> float | list[float]:
        """What decides the exits now: the slider's threshold, or the budget's one per exit."""
        return self.budgets()[self.budget] if self.budget is not None else self.threshold

    def set_threshold(self, threshold: float) -> None:
        """The slider's threshold for every exit (leaving any budget); re-decides every image."""
        self.threshold = threshold
        if self.budget is not None:
            self.budget = None
            self.budgetChanged.emit(None)
        self._apply_thresholds()

    def set_budget(self, budget: str | None) -> None:
        """Decide with the loaded model's calibrated thresholds for ``budget`` (None: the slider's)."""
        if budget is not None and budget not in self.budgets():
            raise ValueError(f"the model has no thresholds for a budget of {budget}")
        if budget != self.budget:
            self.budget = budget
            self.budgetChanged.emit(budget)
            self._apply_thresholds()

    def _apply_thresholds(self) -> None:
        """Re-decide every cached image now; exits never computed are queued for a worker."""
        thresholds = self.thresholds
        for worker in self.compute.workers:
            if isinstance(worker, ClassifyWorker):
                worker.set_thresholds(thresholds)
        if self.session is None:
            return
        self.results.rows_changed(self.session.set_thresholds(thresholds))
        self.decisionsChanged.emit()
        if len(self.session.pending_rows()):
            self._follow_up.start()

    def _complete_pending(self) -> None:
        self._queue_completion(self.session.pending_rows() if self.session else [], URGENT)

    def _queue_fill(self, finished: Worker | None = None) -> None:
        """Once the images are in (no classification runs but ``finished``, which is ending),
        compute their remaining exits so the curves cover every threshold."""
        classifying = any(isinstance(w, ClassifyWorker) for w in self.compute.workers if w is not finished)
        if self.fill_in_background and self.session is not None and not classifying:
            self._queue_completion(self.session.incomplete_rows(), 0)

    def _queue_completion(self, rows: Sequence[int], priority: int) -> None:
        rows = [int(r) for r in rows if int(r) not in self._completing]
        if not rows or self.loaded is None:
            return
        self._completing.update(rows)
        worker = CompleteWorker(self.loaded.model, rows, [self.session.records[r].source for r in rows])
        self._completers.add(worker)
        self._start(worker, partial(self._on_completion, worker), priority)

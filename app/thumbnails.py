"""Lazy thumbnails: only rows that get painted ask for one; workers make them; an LRU keeps them."""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QImage

from .workers import Pixels, ThumbnailWorker, WorkerPool

__all__ = ["ThumbnailCache"]

JOBS_PER_WORKER = 32
MAX_WAITING = 512  # requests beyond this are for rows long scrolled past: the oldest are dropped


class ThumbnailCache(QObject):
    """``get(key)`` returns the QImage or None (and asks a worker for it); ``ready(key)`` follows.

    ``source_of(key)`` maps a key (a row) to its file path or :class:`Pixels`.
    """

    ready = Signal(int)

    def __init__(self, pool: WorkerPool, size: int, capacity: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool, self.size, self.capacity = pool, size, capacity
        self.source_of: Callable[[int], str | Pixels] | None = None
        self._images: OrderedDict[int, QImage] = OrderedDict()
        self._waiting: OrderedDict[int, None] = OrderedDict()
        self._worker: ThumbnailWorker | None = None
        self._generation = 0
        self._kick = QTimer(self, singleShot=True, interval=0, timeout=self._start)

    def get(self, key: int) -> QImage | None:
        image = self._images.get(key)
        if image is not None:
            self._images.move_to_end(key)
            return image
        if self.source_of is not None:
            self._waiting[key] = None
            self._waiting.move_to_end(key)
            while len(self._waiting) > MAX_WAITING:
                self._waiting.popitem(last=False)
            self._kick.start()
        return None

    def clear(self, source_of: Callable[[int], str | Pixels] | None = None) -> None:
        """Forget everything (the rows changed meaning); late results are ignored."""
        self._generation += 1
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None
        self._images.clear()
        self._waiting.clear()
        self.source_of = source_of

    def _start(self) -> None:
        if self._worker is not None or not self._waiting or self.source_of is None:
            return
        keys = list(self._waiting)[-JOBS_PER_WORKER:][::-1]  # newest first: what is on screen now
        for key in keys:
            del self._waiting[key]
        worker = ThumbnailWorker([(key, self.source_of(key)) for key in keys], self.size)
        generation = self._generation
        worker.signals.result.connect(lambda done: self._store(done, generation))
        worker.signals.finished.connect(lambda: self._finished(worker))
        self._worker = worker
        self.pool.start(worker)

    def _store(self, done: list[tuple[int, QImage]], generation: int) -> None:
        if generation != self._generation:
            return
        for key, image in done:
            self._images[key] = image
            self.ready.emit(key)
        while len(self._images) > self.capacity:
            self._images.popitem(last=False)

    def _finished(self, worker: ThumbnailWorker) -> None:
        if self._worker is worker:
            self._worker = None
            self._start()

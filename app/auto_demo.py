"""Booth mode: when nobody has touched the app for a while, step through the images."""

from __future__ import annotations

import time
from typing import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

__all__ = ["AutoDemo"]

INPUT_EVENTS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.KeyPress, QEvent.Type.Wheel,
                QEvent.Type.TouchBegin}


class AutoDemo(QObject):
    """Calls ``advance`` every ``step_s`` seconds once the app has been idle ``idle_s`` seconds."""

    def __init__(self, advance: Callable[[], None], idle_s: float = 20.0, step_s: float = 3.0,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.advance, self.idle_s = advance, idle_s
        self._last_input = time.monotonic()
        self._timer = QTimer(self, interval=int(step_s * 1000), timeout=self._tick)

    @property
    def enabled(self) -> bool:
        return self._timer.isActive()

    def set_enabled(self, on: bool) -> None:
        app = QApplication.instance()
        if on and not self._timer.isActive():
            app.installEventFilter(self)
            self._timer.start()
        elif not on and self._timer.isActive():
            app.removeEventFilter(self)
            self._timer.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in INPUT_EVENTS:
            self._last_input = time.monotonic()
        return False

    def _tick(self) -> None:
        if time.monotonic() - self._last_input >= self.idle_s:
            self.advance()

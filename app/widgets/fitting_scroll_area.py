"""A scroll area that lets its widget shrink to its minimum before it scrolls."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QFrame, QScrollArea, QWidget

__all__ = ["FittingScrollArea"]


class FittingScrollArea(QScrollArea):
    """Holds its widget at its own size, down to the widget's minimum height, and scrolls below
    that: a 1366x768 laptop or a 720p projector gets a scroll bar, not a window taller than the
    screen. (``widgetResizable`` would hold a widget with wrapped labels at its preferred height.)"""

    def __init__(self, widget: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setMinimumHeight(120)
        self.setWidget(widget)
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self._fit()  # its minimum changed (fonts, compact mode)
        return super().eventFilter(watched, event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        least = self.widget().minimumSizeHint()
        width, height = self.width(), self.height()
        if least.height() > height:
            width -= self.verticalScrollBar().sizeHint().width()
        self.widget().resize(max(width, least.width()), max(height, least.height()))

"""Figures beside the plots: a muted caption and a large value each, never cut off.

Stacked (caption above value) when the panel is tall enough for all of them, caption beside
value when it is not; the width is fixed from the widest texts expected, so that values
changing length while the slider moves never re-lay out the plots.
"""

from __future__ import annotations

from typing import Mapping

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QWidget

__all__ = ["Figures"]

CAPTION_ALIGN = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class Figures(QWidget):
    """``titles``: key → caption. ``values[key]`` and ``captions[key]`` are the labels;
    :meth:`set_widest` tells the longest texts they will hold."""

    def __init__(self, titles: Mapping[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.captions: dict[str, QLabel] = {}
        self.values: dict[str, QLabel] = {}
        for key, title in titles.items():
            caption = QLabel(title, self)
            caption.setProperty("role", "muted")
            value = QLabel("–", self)
            value.setObjectName(f"value_{key}")
            value.setProperty("role", "figure")  # its font comes from the theme's style sheet
            self.captions[key], self.values[key] = caption, value
            for label in (caption, value):
                label.installEventFilter(self)  # their fonts (the style sheet's) decide the size
        self._widest: dict[QLabel, str] = {label: label.text() for label in (*self.captions.values(), *self.values.values())}
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(12, 4, 4, 4)
        self._grid.setSpacing(2)
        self._grid.setHorizontalSpacing(14)
        self.stacked: bool | None = None  # None until first laid out
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self._arrange(True)

    def set_widest(self, texts: Mapping[str, str], captions: Mapping[str, str] | None = None) -> None:
        """The longest value (and caption) text each key will show: the width is made for them."""
        self._widest.update({self.values[key]: text for key, text in texts.items()})
        self._widest.update({self.captions[key]: text for key, text in (captions or {}).items()})
        self._fix_width()

    def _advance(self, labels) -> int:
        return max(label.fontMetrics().horizontalAdvance(self._widest[label]) for label in labels)

    def _line(self, label: QLabel) -> int:
        return label.fontMetrics().height()

    def height_for(self, stacked: bool) -> int:
        """The height the figures need, stacked or caption beside value."""
        margins = self._grid.contentsMargins()
        spacing = self._grid.verticalSpacing()
        pairs = list(zip(self.captions.values(), self.values.values()))
        if stacked:
            lines = sum(self._line(c) + self._line(v) for c, v in pairs) + spacing * (2 * len(pairs) - 1)
        else:
            lines = sum(max(self._line(c), self._line(v)) for c, v in pairs) + spacing * (len(pairs) - 1)
        return margins.top() + margins.bottom() + lines

    def width_for(self, stacked: bool) -> int:
        margins = self._grid.contentsMargins()
        captions, values = self._advance(self.captions.values()), self._advance(self.values.values())
        inner = max(captions, values) if stacked else captions + self._grid.horizontalSpacing() + values
        return margins.left() + margins.right() + inner + 2

    def minimumSizeHint(self) -> QSize:
        return QSize(self.width_for(False), self.height_for(False))

    def sizeHint(self) -> QSize:
        return QSize(self.width_for(True), self.height_for(True))

    def _arrange(self, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        for label in (*self.captions.values(), *self.values.values()):
            self._grid.removeWidget(label)
        for row in range(self._grid.rowCount()):
            self._grid.setRowStretch(row, 0)
        for i, key in enumerate(self.captions):
            if stacked:
                self._grid.addWidget(self.captions[key], 2 * i, 0, CAPTION_ALIGN)
                self._grid.addWidget(self.values[key], 2 * i + 1, 0, CAPTION_ALIGN)
            else:
                self._grid.addWidget(self.captions[key], i, 0, CAPTION_ALIGN)
                self._grid.addWidget(self.values[key], i, 1, CAPTION_ALIGN)
        self._grid.setRowStretch(2 * len(self.captions) if stacked else len(self.captions), 1)
        self._fix_width()

    def _fix_width(self) -> None:
        self.setFixedWidth(self.width_for(bool(self.stacked)))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._arrange(self.height() >= self.height_for(True))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:  # presentation mode
            self._fix_width()
            self._arrange(self.height() >= self.height_for(True))
            self.updateGeometry()
        return super().eventFilter(watched, event)

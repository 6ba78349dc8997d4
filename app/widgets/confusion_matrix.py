"""Confusion matrix: how the labelled images' classes were answered, at the exit each one took.

Rows are labels, columns predictions; a cell's shade is its share of the row (green on the
diagonal, red off it) and the last column each label's share answered right. It follows the
threshold and the budgets live: raising the threshold shows confusions such as shirt against
T-shirt clearing up as more images go on into the finer flows. Click a cell to list its images.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from .. import theme
from .chart_window import ChartWindow

__all__ = ["ConfusionMatrix", "MatrixView", "MAX_CLASSES"]

MAX_CLASSES = 20  # an ImageNet model has 1,000 classes: show those with the most labelled images


class MatrixView(QWidget):
    """The painted matrix. ``cellClicked`` carries (label, prediction) as class indices."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.counts = np.zeros((0, 0), dtype=np.int64)  # rows and columns: ``classes``
        self.classes = np.zeros(0, dtype=np.int64)
        self.names: list[str] = []
        self.highlight: tuple[int, int] | None = None

    def set_matrix(self, counts: np.ndarray, classes: np.ndarray, names: Sequence[str]) -> None:
        """``counts``: the rows and columns of ``classes``; ``names``: every class's name."""
        self.counts, self.classes, self.names = counts, classes, list(names)
        self.updateGeometry()
        self.update()

    def set_highlight(self, pair: tuple[int, int] | None) -> None:
        self.highlight = pair
        self.update()

    # -- geometry ----------------------------------------------------------------------------
    def _label_width(self) -> int:
        fm = self.fontMetrics()
        return max((fm.horizontalAdvance(self.names[c]) for c in self.classes), default=0) + 12

    def _cell(self) -> float:
        fm = self.fontMetrics()
        smallest = max(fm.height() + 8, fm.horizontalAdvance("000") + 10)
        n = max(len(self.classes), 1)
        room = min((self.width() - self._header() - self._right_width()) / n, (self.height() - self._header()) / n)
        return max(float(smallest), room)

    def _header(self) -> int:
        """Room left of the rows and above the columns: the class names and an axis title."""
        return self._label_width() + self.fontMetrics().height() + 4

    def _right_width(self) -> int:
        return self.fontMetrics().horizontalAdvance("right 100%") + 12

    def sizeHint(self) -> QSize:
        fm = self.fontMetrics()
        n = max(len(self.classes), 1)
        cell = max(fm.height() + 8, fm.horizontalAdvance("000") + 10) * 1.6
        return QSize(int(self._header() + n * cell + self._right_width()), int(self._header() + n * cell))

    def minimumSizeHint(self) -> QSize:
        return QSize(200, 160)

    def _index(self, category: int) -> int:
        """The row (and column) of a class that is shown."""
        return int(np.flatnonzero(self.classes == category)[0])

    def cell_rect(self, truth: int, prediction: int) -> QRectF | None:
        """Where the cell (label, prediction) is drawn; None when either class is not shown."""
        if truth not in self.classes or prediction not in self.classes:
            return None
        cell, start = self._cell(), self._header()
        i, j = self._index(truth), self._index(prediction)
        return QRectF(start + j * cell + 1, start + i * cell + 1, cell - 2, cell - 2)

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """(label, prediction) under ``pos``, as class indices."""
        cell, n = self._cell(), len(self.classes)
        col, row = int((pos.x() - self._header()) // cell), int((pos.y() - self._header()) // cell)
        if pos.x() < self._header() or pos.y() < self._header() or not (0 <= row < n and 0 <= col < n):
            return None
        return int(self.classes[row]), int(self.classes[col])

    # -- painting ----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        n, cell = len(self.classes), self._cell()
        left = top = self._header()
        label_w = self._label_width()
        rows = self.counts.sum(1)
        muted, text = QColor(theme.MUTED), QColor(theme.TEXT)
        p.setPen(muted)
        p.drawText(QRectF(left, 0, n * cell, fm.height()), Qt.AlignmentFlag.AlignCenter, "predicted at the exit taken")
        p.save()
        p.translate(0, top + n * cell / 2)
        p.rotate(-90)
        p.drawText(QRectF(-n * cell / 2, 0, n * cell, fm.height()), Qt.AlignmentFlag.AlignCenter, "label")
        p.restore()
        for i, c in enumerate(self.classes):
            name = self.names[c]
            p.setPen(text)
            p.drawText(QRectF(fm.height() + 4, top + i * cell, label_w - 8, cell),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, name)
            p.save()
            p.translate(left + i * cell, top - 4)
            p.rotate(-90)
            p.drawText(QRectF(0, 0, label_w - 8, cell), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, name)
            p.restore()
        for i in range(n):
            for j in range(n):
                count = int(self.counts[i, j])
                rect = QRectF(left + j * cell + 1, top + i * cell + 1, cell - 2, cell - 2)
                share = count / rows[i] if rows[i] else 0.0
                colour = QColor(theme.RAISED)
                if count:
                    colour = QColor(theme.GOOD if i == j else theme.BAD)
                    colour.setAlphaF(0.25 + 0.75 * share)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(colour)
                p.drawRoundedRect(rect, 3, 3)
                if count:
                    p.setPen(QColor(theme.BACKGROUND) if share > 0.55 else text)
                    p.drawText(rect, Qt.AlignmentFlag.AlignCenter, str(count))
            p.setPen(muted)
            right = f"{self.counts[i, i] / rows[i]:.0%}" if rows[i] else "–"
            p.drawText(QRectF(left + n * cell + 8, top + i * cell, self._right_width(), cell),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, right)
        if n:
            p.drawText(QRectF(left + n * cell + 8, top - fm.height() - 4, self._right_width(), fm.height()),
                       Qt.AlignmentFlag.AlignLeft, "right")
        outline = self.cell_rect(*self.highlight) if self.highlight is not None else None
        if outline is not None:
            p.setPen(QPen(QColor("#ffffff"), 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(outline, 3, 3)
        p.end()

    # -- mouse -------------------------------------------------------------------------------
    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.cell_at(event.position())
        tip = ""
        if hit is not None:
            i, j = self._index(hit[0]), self._index(hit[1])
            count, row = int(self.counts[i, j]), int(self.counts[i].sum())
            truth, prediction = self.names[hit[0]], self.names[hit[1]]
            share = f" ({count / row:.0%} of the {row} labelled {truth})" if row else ""
            tip = (f"Labelled {truth}, predicted {prediction}: {count} image{'s' if count != 1 else ''}{share}"
                   + ("; click to list them" if count else ""))
        self.setToolTip(tip)
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit is not None else Qt.CursorShape.ArrowCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.cell_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.cellClicked.emit(*hit)


class ConfusionMatrix(ChartWindow):
    """A non-modal window: ``set_model`` per model, ``set_counts`` whenever decisions change. A
    click on a cell emits ``cellClicked`` (label, prediction)."""

    cellClicked = Signal(int, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Confusion matrix", parent)
        self.title = QLabel(self)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.view = MatrixView(self)
        self.view.cellClicked.connect(self.cellClicked)
        self.chart_layout.addWidget(self.title)  # Save writes the title and the matrix
        self.chart_layout.addWidget(self.view, 1)
        self._categories: list[str] = []
        theme.follow_font(self, self._restyle)

    def _restyle(self) -> None:
        scale = theme.font_scale()
        self.resize(round(720 * scale), round(640 * scale))  # room for ten names written upwards

    def set_model(self, categories: Sequence[str]) -> None:
        self._categories = list(categories)
        c = len(self._categories)
        self.set_counts(np.zeros((c, c), dtype=np.int64), "")

    def set_counts(self, confusion: np.ndarray, operating_point: str) -> None:
        """``confusion[t, p]``: decided images labelled ``t`` and predicted as ``p``;
        ``operating_point`` says at what (e.g. "threshold 0.900")."""
        present = np.flatnonzero(confusion.sum(0) + confusion.sum(1))
        weight = confusion.sum(0)[present] + confusion.sum(1)[present]
        shown = np.sort(present[np.argsort(-weight, kind="stable")][:MAX_CLASSES])  # the model's class order
        self.view.set_matrix(confusion[np.ix_(shown, shown)], shown, self._categories)
        labelled = int(confusion.sum())
        right = int(np.trace(confusion))
        if not labelled:
            self.title.setText("Confusion matrix")
            self.note.setText("No labelled images yet. Labels come from folders named after a class, as the "
                              "Samples are: drop such a folder or press Samples.")
            return
        self.title.setText(f"<b>{right} of {labelled}</b> labelled images right ({right / labelled:.1%}) "
                           f"at {escape(operating_point)}")
        hidden = (f" Showing the {len(shown)} of {len(present)} classes with the most images; the others' counts "
                  "are left out.") if len(present) > len(shown) else ""
        self.note.setText("Rows: the label (the image's folder); columns: the answer at the exit it took. "
                          f"Hover a cell for its count; click it to list its images.{hidden}")

    def highlight_cell(self, pair: tuple[int, int] | None) -> None:
        """Outline the cell the table lists (None: none)."""
        self.view.set_highlight(pair)

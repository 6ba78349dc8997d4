"""Exits by class: for each predicted class, the share of its images that left at each exit.

RANet's story in one chart: some classes are settled by the cheap low-resolution flow, others go
on into the finer flows. One horizontal bar per class, one segment per exit in its scale flow's
colour, classes ordered by their mean cost (cheapest at the top); it follows the threshold live.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QWidget

from .. import theme
from .chart_window import ChartWindow

if TYPE_CHECKING:
    from ranet import ExitInfo

__all__ = ["ClassBreakdown", "MAX_CLASSES"]

MAX_CLASSES = 20  # an ImageNet model has 1,000 classes: show those with the most images
BAR_HEIGHT = 0.72


class ClassBreakdown(ChartWindow):
    """A non-modal window: ``set_model`` per model, ``set_counts`` whenever decisions change. A
    click on a class's bar emits ``classClicked`` with that class."""

    classClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Exits by class", parent)
        self.plot = pg.PlotWidget(self)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(False, False)
        self.plot.hideButtons()
        self.plot.invertY(True)  # the first class at the top
        self.plot.setMinimumSize(420, 260)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.plot.setCursor(Qt.CursorShape.PointingHandCursor)
        self.legend = QLabel(self)
        self.legend.setWordWrap(True)
        self.chart_layout.addWidget(self.plot, 1)  # Save writes the bars and their legend
        self.chart_layout.addWidget(self.legend)
        self._exits: list[ExitInfo] = []
        self._categories: list[str] = []
        self.bars: list[pg.BarGraphItem] = []  # one per exit
        self.classes = np.zeros(0, dtype=np.int64)  # the classes drawn, top to bottom
        self.row_labels: list[str] = []
        self._colours: list = []  # per exit
        self._highlight: int | None = None  # a class, the others dimmed
        self._counts = np.zeros((0, 0), dtype=np.int64)  # their rows of the counts
        self._labelled = self._right = np.zeros(0, dtype=np.int64)  # per class drawn
        theme.follow_font(self, self._restyle)

    def _restyle(self) -> None:
        theme.style_plot(self.plot.getPlotItem(), "Where each class's images left", "images (%)", "")
        self.plot.showGrid(x=False, y=False)  # grid lines would stripe the bars
        scale = theme.font_scale()
        self.resize(round(640 * scale), round(480 * scale))  # presentation fonts need the room

    def set_model(self, exits: Sequence[ExitInfo], categories: Sequence[str]) -> None:
        for bar in self.bars:
            self.plot.removeItem(bar)
        self._exits, self._categories = list(exits), list(categories)
        self.bars, self._colours = [], []
        for k, info in enumerate(self._exits):
            earlier_in_flow = sum(1 for e in self._exits[:k] if e.flow == info.flow)
            self._colours.append(theme.flow_color(info.flow).darker(100 + 30 * earlier_in_flow))  # each exit its shade
            bar = pg.BarGraphItem(x0=[], y=[], width=[], height=BAR_HEIGHT, pen=pg.mkPen(theme.PANEL, width=1))
            self.plot.addItem(bar)
            self.bars.append(bar)
        flows: dict[int, list[int]] = {}
        for k, info in enumerate(self._exits):
            flows.setdefault(info.flow, []).append(k + 1)
        self.legend.setText("   ".join(
            f"<span style='color:{theme.flow_color(flow).name()}'>■</span> "
            f"{self._exits[ks[0] - 1].flow_resolutions[-1]}×{self._exits[ks[0] - 1].flow_resolutions[-1]} flow: "
            f"exit{'s' if len(ks) > 1 else ''} {', '.join(map(str, ks))}" for flow, ks in flows.items()))
        self.set_counts(np.zeros((len(self._categories), len(self._exits)), dtype=np.int64))

    def set_counts(self, counts: np.ndarray, labelled: np.ndarray | None = None, right: np.ndarray | None = None) -> None:
        """``counts[c, k]``: images predicted as class ``c`` that left at exit ``k``; ``labelled[c]``
        and ``right[c]``: of those, how many have a label and how many are right (a bar's tooltip
        tells them)."""
        totals = counts.sum(1)
        present = np.flatnonzero(totals)
        shown = present[np.argsort(-totals[present], kind="stable")][:MAX_CLASSES]
        flops = np.array([e.flops for e in self._exits], dtype=np.float64) / 1e6
        mean_mflops = counts[shown] @ flops / totals[shown] if len(shown) else np.zeros(0)
        shown = shown[np.argsort(mean_mflops, kind="stable")]
        mean_mflops = np.sort(mean_mflops, kind="stable")
        self.classes, self._counts = shown, counts[shown]
        share = 100.0 * self._counts / np.maximum(self._counts.sum(1, keepdims=True), 1)
        left = np.cumsum(share, axis=1) - share
        rows = np.arange(len(shown))
        for k, bar in enumerate(self.bars):
            bar.setOpts(x0=left[:, k], y=rows, width=share[:, k], height=BAR_HEIGHT, brushes=self._brushes(k))
        self.row_labels = [f"{self._categories[c]}  {m:.1f} MFLOPs" for c, m in zip(shown, mean_mflops)]
        self._labelled = labelled[shown] if labelled is not None else np.zeros(len(shown), dtype=np.int64)
        self._right = right[shown] if right is not None else np.zeros(len(shown), dtype=np.int64)
        self.plot.getAxis("left").setTicks([list(enumerate(self.row_labels))])
        self.plot.setRange(xRange=(-0.5, 100.5), yRange=(-0.6, max(len(shown), 1) - 0.4), padding=0)
        if not len(present):
            self.note.setText("No decided images yet: drop images or press Samples.")
        else:
            hidden = f" ({len(shown)} of {len(present)} classes: those with the most images)" if len(present) > len(shown) else ""
            self.note.setText(f"By predicted class, cheapest on average first{hidden}. "
                              "Hover a bar for its counts; click it to list its images.")

    def highlight_class(self, category: int | None) -> None:
        """Dim every bar but ``category``'s (None: none dimmed), e.g. while the table lists it."""
        if category != self._highlight:
            self._highlight = category
            for k, bar in enumerate(self.bars):
                bar.setOpts(brushes=self._brushes(k))

    def _brushes(self, exit: int) -> list:
        brushes = []
        for c in self.classes:
            colour = pg.mkColor(self._colours[exit])
            if self._highlight is not None and c != self._highlight:
                colour.setAlpha(70)
            brushes.append(pg.mkBrush(colour))
        return brushes

    def _row_at(self, scene_pos) -> tuple[int, float] | None:
        """The row (top to bottom) under ``scene_pos`` and the x there, if on a bar's row."""
        box = self.plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos) or not len(self.classes):
            return None
        at = box.mapSceneToView(scene_pos)
        row = round(at.y())
        return (row, at.x()) if 0 <= row < len(self.classes) and abs(at.y() - row) <= BAR_HEIGHT / 2 else None

    def _clicked(self, event) -> None:
        hit = self._row_at(event.scenePos())
        if hit is not None:
            self.classClicked.emit(int(self.classes[hit[0]]))

    def _hovered(self, scene_pos) -> None:
        """The segment under the pointer tells its class, count, share and exit."""
        tip = ""
        hit = self._row_at(scene_pos)
        if hit is not None and 0 <= hit[1] <= 100:
            row, x = hit
            counts = self._counts[row]
            total = int(counts.sum())
            k = int(np.searchsorted(np.cumsum(100.0 * counts / total), x, side="right"))
            if k < len(counts):
                size = self._exits[k].flow_resolutions[-1]
                labelled = self._labelled[row]
                right = f"; {self._right[row]} of {labelled} labelled right" if labelled else ""
                tip = (f"{self._categories[self.classes[row]]}: {counts[k]} of {total} images "
                       f"({counts[k] / total:.0%}) left at exit {k + 1} ({size}×{size}){right}; click to list the class")
        self.plot.setToolTip(tip)

"""Live plots of the operating point: FLOPs savings against the threshold, exits taken, and
accuracy against mean MFLOPs (a budgeted-batch curve), with the numbers beside them."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QHBoxLayout, QWidget

from .. import theme
from .figures import Figures

if TYPE_CHECKING:
    from ranet import ExitInfo

    from ..session import CurvePoint, Curves, Stats

__all__ = ["PlotsPanel"]


BAR_WIDTH = 0.72
ACCURACY_COUNT_SAMPLE = "000000"  # the most labelled images the accuracy's caption is made wide for
HISTOGRAM_TIP = "Click a bar to list the images that left at that exit"


def _plot(parent: QWidget) -> pg.PlotWidget:
    widget = pg.PlotWidget(parent)
    widget.setMenuEnabled(False)
    widget.setMouseEnabled(False, False)
    widget.hideButtons()
    widget.disableAutoRange()  # ranges are set explicitly: auto-ranging per update redraws the axes
    widget.setMinimumSize(220, 140)
    return widget


class PlotsPanel(QWidget):
    """``set_model`` per model, ``set_curves`` when the cache grows, ``set_operating_point`` per
    slider move (cheap: a few ``setData`` calls). The markers on the curves stand for the curves'
    images; the figures beside them for every image whose exit is known. A click on a bar of the exit histogram emits
    ``exitClicked`` with that exit (0-based)."""

    exitClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.savings_plot, self.histogram_plot, self.accuracy_plot = _plot(self), _plot(self), _plot(self)
        point = dict(size=14, pen=pg.mkPen("#ffffff", width=2), brush=pg.mkBrush(theme.ACCENT))
        self.savings_curve = self.savings_plot.plot(pen=pg.mkPen(theme.ACCENT, width=2.5))
        self.savings_point = pg.ScatterPlotItem(**point)
        self.threshold_line = pg.InfiniteLine(angle=90, pen=pg.mkPen(theme.MUTED, width=1, style=Qt.PenStyle.DashLine))
        # While exits are missing the curves cover fewer images than the figures: say how many.
        self.coverage_note = pg.TextItem("", color=theme.MUTED, anchor=(1, 0))
        self.coverage_note.setPos(1, 100)
        for item in (self.threshold_line, self.savings_point, self.coverage_note):
            self.savings_plot.addItem(item)
        self.savings_plot.setRange(xRange=(0, 1), yRange=(0, 100), padding=0.02)

        self.histogram = pg.BarGraphItem(x=[], height=[], width=BAR_WIDTH, pen=pg.mkPen(None))
        self.histogram_plot.addItem(self.histogram)
        self.histogram_plot.setCursor(Qt.CursorShape.PointingHandCursor)
        self.histogram_plot.setToolTip(HISTOGRAM_TIP)
        self.histogram_plot.scene().sigMouseClicked.connect(self._histogram_clicked)
        self.histogram_plot.scene().sigMouseMoved.connect(self._histogram_hovered)
        self._highlight: int | None = None

        self.accuracy_curve = self.accuracy_plot.plot(pen=pg.mkPen(theme.ACCENT, width=2.5))
        self.exit_points = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None))
        self.full_point = pg.ScatterPlotItem(size=18, symbol="star", pen=pg.mkPen("#ffffff"), brush=pg.mkBrush("#ffd54f"))
        self.accuracy_point = pg.ScatterPlotItem(**point)
        self.accuracy_note = pg.TextItem("", color=theme.MUTED, anchor=(0.5, 0.5))
        for item in (self.exit_points, self.full_point, self.accuracy_point, self.accuracy_note):
            self.accuracy_plot.addItem(item)
        self.accuracy_plot.setRange(xRange=(0, 1), yRange=(0, 101), padding=0)

        self.figures = Figures({"mflops": "Mean MFLOPs / image", "savings": "Saved vs full network",
                                "accuracy": "Accuracy", "ms": "Measured time / image", "images": "Images"}, self)
        self.figures.set_widest({"savings": "100.0 %", "accuracy": "no labels", "ms": "000.00 ms", "images": "000000"},
                                {"accuracy": f"Accuracy · {ACCURACY_COUNT_SAMPLE} labelled"})
        self.values, self.captions = self.figures.values, self.figures.captions

        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.savings_plot, self.histogram_plot, self.accuracy_plot):
            layout.addWidget(widget, 1)
        layout.addWidget(self.figures)
        self._exits: list[ExitInfo] = []
        self._histogram_top = 0.0
        self._histogram: list[int] = []
        theme.follow_font(self, self._restyle)

    def _restyle(self) -> None:
        theme.style_plot(self.savings_plot.getPlotItem(), "FLOPs saved", "threshold", "saved (%)")
        theme.style_plot(self.histogram_plot.getPlotItem(), "Exits taken", "exit", "images")
        theme.style_plot(self.accuracy_plot.getPlotItem(), "Accuracy vs cost", "mean MFLOPs / image", "accuracy (%)")

    def set_model(self, exits: Sequence[ExitInfo]) -> None:
        self._exits = list(exits)
        ticks = [[(i + 1, str(i + 1)) for i in range(len(exits))]]
        self.histogram_plot.getAxis("bottom").setTicks(ticks)
        self.histogram_plot.setXRange(0.4, len(exits) + 0.6, padding=0)
        mflops = [e.flops / 1e6 for e in exits]
        full = f"{mflops[-1]:.2f}" if mflops else "0.00"
        self.figures.set_widest({"mflops": f"{full}  of {full}"})
        self.accuracy_plot.setXRange(0, mflops[-1] * 1.05 if mflops else 1, padding=0)
        self.set_curves(None)

    def set_curves(self, curves: Curves | None) -> None:
        """Threshold sweeps over the images with every exit computed."""
        if curves is None or curves.images == 0:
            self.savings_curve.setData([], [])
            self.accuracy_curve.setData([], [])
            self.exit_points.setData([], [])
            self.full_point.setData([], [])
            self._note("Accuracy needs labelled images\n(class-named folders), e.g. Samples" if curves is None
                       else "Computing every exit…")
            return
        self.savings_curve.setData(curves.thresholds, curves.savings)
        if curves.accuracy is None:
            self.accuracy_curve.setData([], [])
            self.exit_points.setData([], [])
            self.full_point.setData([], [])
            self._note("Accuracy needs labelled images\n(class-named folders), e.g. Samples")
            return
        self._note("")
        self.accuracy_curve.setData(curves.mflops, curves.accuracy)
        brushes = [pg.mkBrush(theme.flow_color(e.flow)) for e in self._exits]
        self.exit_points.setData(curves.exit_mflops, curves.exit_accuracy, brush=brushes)
        self.full_point.setData([curves.exit_mflops[-1]], [curves.exit_accuracy[-1]])
        low = float(np.nanmin(np.concatenate([curves.accuracy, curves.exit_accuracy])))
        self.accuracy_plot.setYRange(max(0.0, low - 5), 101, padding=0)

    def _note(self, text: str) -> None:
        self.accuracy_note.setText(text)
        view = self.accuracy_plot.getViewBox().viewRange()
        self.accuracy_note.setPos((view[0][0] + view[0][1]) / 2, (view[1][0] + view[1][1]) / 2)

    def set_operating_point(self, threshold: float | None, stats: Stats | None, point: CurvePoint | None) -> None:
        """``threshold``: the slider's, marked on the savings curve; None while a calibrated
        budget (a threshold per exit) decides, which has no place on that curve. ``point``: the
        curves' images at the thresholds in force (the markers); ``stats``: the figures."""
        self.threshold_line.setVisible(threshold is not None)
        if threshold is not None:
            self.threshold_line.setValue(threshold)
        self._mark(threshold, point)
        if stats is None or not stats.decided:
            self.histogram.setOpts(x=[], height=[])
            self._histogram = []
            for key in ("mflops", "savings", "accuracy", "ms"):
                self.values[key].setText("–")
            self.captions["accuracy"].setText("Accuracy")
            self._show_counts(stats)
            return
        if stats.histogram != self._histogram:
            self._histogram = stats.histogram
            self._draw_histogram()
        top = stats.decided * 1.05  # fixed while the slider moves: re-ranging redraws the axes
        if top != self._histogram_top:
            self._histogram_top = top
            self.histogram_plot.setYRange(0, top, padding=0)
        mflops = stats.mean_flops / 1e6
        self.values["mflops"].setText(f"{mflops:.2f}  of {stats.full_flops / 1e6:.2f}")
        self.values["savings"].setText(f"{stats.savings:.1f} %")
        self.values["accuracy"].setText(f"{stats.accuracy:.1f} %" if stats.accuracy is not None else "no labels")
        self.captions["accuracy"].setText(f"Accuracy · {stats.labelled} labelled" if stats.accuracy is not None else "Accuracy")
        self.values["ms"].setText(f"{stats.ms:.2f} ms" if not math.isnan(stats.ms) else "–")
        self._show_counts(stats)

    def _mark(self, threshold: float | None, point: CurvePoint | None) -> None:
        """The markers on the curves, and how many images those cover while exits are missing."""
        savings = point is not None and threshold is not None
        self.savings_point.setData([threshold] if savings else [], [point.savings] if savings else [])
        accuracy = point is not None and point.accuracy is not None
        self.accuracy_point.setData([point.mflops] if accuracy else [], [point.accuracy] if accuracy else [])
        partial = point is not None and point.images < point.readable
        self.coverage_note.setText(f"curves: {point.images} of {point.readable} images" if partial else "")

    def highlight_exit(self, exit: int | None) -> None:
        """Dim every bar but ``exit``'s (None: none dimmed), e.g. while the table lists that exit."""
        if exit != self._highlight:
            self._highlight = exit
            self._draw_histogram()

    def _draw_histogram(self) -> None:
        brushes = []
        for k, info in enumerate(self._exits[: len(self._histogram)]):
            colour = QColor(theme.flow_color(info.flow))
            if self._highlight is not None and k != self._highlight:
                colour.setAlpha(70)
            brushes.append(pg.mkBrush(colour))
        self.histogram.setOpts(x=np.arange(1, len(self._histogram) + 1), height=self._histogram, brushes=brushes)

    def _bar_at(self, scene_pos) -> int | None:
        """The exit (0-based) whose bar column is under ``scene_pos``, if any."""
        box = self.histogram_plot.getViewBox()
        if not box.sceneBoundingRect().contains(scene_pos):
            return None
        x = box.mapSceneToView(scene_pos).x()
        exit = round(x) - 1
        return exit if 0 <= exit < len(self._exits) and abs(x - (exit + 1)) <= BAR_WIDTH / 2 else None

    def _histogram_clicked(self, event) -> None:
        exit = self._bar_at(event.scenePos())
        if exit is not None:
            self.exitClicked.emit(exit)

    def _histogram_hovered(self, scene_pos) -> None:
        """The bar under the pointer tells its count and share in its tooltip."""
        exit = self._bar_at(scene_pos)
        if exit is None or exit >= len(self._histogram):
            self.histogram_plot.setToolTip(HISTOGRAM_TIP)
            return
        count, total = self._histogram[exit], sum(self._histogram)
        size = self._exits[exit].flow_resolutions[-1]
        self.histogram_plot.setToolTip(f"Exit {exit + 1} ({size}×{size}): {count} of {total} images "
                                       f"({count / total:.1%}); click to list them")

    def _show_counts(self, stats: Stats | None) -> None:
        self.values["images"].setText(str(stats.images) if stats else "0")

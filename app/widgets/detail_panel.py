"""The selected image: large, with its top-5 at the exit taken, the network path it ran and its
confidence and answer at every computed exit against the threshold."""

from __future__ import annotations

import math
from html import escape
from typing import TYPE_CHECKING, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QImage, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from .. import theme
from .network_diagram import NetworkDiagram
from .path_label import PathLabel

if TYPE_CHECKING:
    from ranet import ExitInfo, RANetConfig

    from ..session import RowDetail

__all__ = ["DetailPanel", "TopBars"]

PREVIEW_PX = 210
COMPACT_PREVIEW_PX = 150  # short screens (see DetailPanel.set_compact)
# At normal font size, above the answers' line: room for the 0, 0.5 and 1 ticks (in compact mode, 0.5's).
PLOT_MIN_PX, COMPACT_PLOT_MIN_PX = 120, 104
DIAGRAM_MIN_PX, COMPACT_DIAGRAM_MIN_PX = 150, 104
SPACING_PX, COMPACT_SPACING_PX = 6, 2  # between the header, the diagram and the plot
# The threshold line's name sits past the last exit, where it never covers a point.
MARKER_ROOM_PX = 13  # the taken exit's ring around a point at 0 or 1
THRESHOLD_LABEL_ROOM = 1.2  # in exits


class _Plot(pg.PlotWidget):
    """A plot that prefers a fifth more than its minimum height and takes the panel's width (a
    graphics view's own size hint is its last size: the window's share of height would depend on
    its history)."""

    def sizeHint(self) -> QSize:
        return QSize(0, round(1.2 * self.minimumHeight()))


class TopBars(QWidget):
    """Horizontal probability bars, one per class, the first one highlighted."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.items: list[tuple[str, float]] = []
        self.rows = 5
        self.colour = QColor(theme.ACCENT)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_items(self, items: Sequence[tuple[str, float]], colour: QColor) -> None:
        self.items, self.colour = list(items), colour
        self.updateGeometry()
        self.update()

    def set_rows(self, rows: int) -> None:
        """Show the ``rows`` likeliest classes."""
        self.rows = rows
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(260, self.rows * (self.fontMetrics().height() + 4))

    def minimumSizeHint(self) -> QSize:
        return QSize(160, self.rows * (self.fontMetrics().height() + 4))

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        fm = p.fontMetrics()
        row_h = fm.height() + 4
        name_w = min(self.width() * 0.45, max((fm.horizontalAdvance(n) for n, _ in self.items), default=0) + 10)
        pct_w = fm.horizontalAdvance("100.0%") + 8
        bar_w = max(10.0, self.width() - name_w - pct_w)
        for i, (name, prob) in enumerate(self.items[: self.rows]):
            y = i * row_h
            p.setPen(QColor(theme.TEXT if i == 0 else theme.MUTED))
            p.drawText(QRectF(0, y, name_w - 8, row_h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                       fm.elidedText(name, Qt.TextElideMode.ElideRight, int(name_w - 8)))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor(theme.RAISED))
            p.drawRoundedRect(QRectF(name_w, y + 4, bar_w, row_h - 8), 3, 3)
            p.setBrush(self.colour if i == 0 else QColor(theme.MUTED).darker(130))
            p.drawRoundedRect(QRectF(name_w, y + 4, max(2.0, bar_w * prob), row_h - 8), 3, 3)
            p.setPen(QColor(theme.TEXT if i == 0 else theme.MUTED))
            p.drawText(QRectF(name_w + bar_w, y, pct_w, row_h), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                       f"{prob:.1%}")
        p.end()


class DetailPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.preview = QLabel(self)
        self.preview.setFixedSize(PREVIEW_PX, PREVIEW_PX)
        self._image: QImage | None = None  # the preview's source, kept to redraw it at another size
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setStyleSheet(f"background: {theme.BACKGROUND}; border: 1px solid {theme.GRID}; border-radius: 4px;")
        self.name = PathLabel(self)
        self.name.setProperty("role", "muted")
        self.prediction = QLabel("Drop images or folders here, or press Samples", self)
        self.prediction.setWordWrap(True)
        self.prediction.setProperty("role", "headline")  # its font comes from the theme's style sheet
        self.prediction.setTextFormat(Qt.TextFormat.PlainText)
        self.facts = QLabel(self)
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.TextFormat.RichText)
        self.top = TopBars(self)
        self.diagram = NetworkDiagram(self)
        self.confidence_plot = _Plot(self)
        self.confidence_plot.setMenuEnabled(False)
        self.confidence_plot.setMouseEnabled(False, False)
        self.confidence_plot.hideButtons()
        self.confidence_plot.disableAutoRange()
        self.confidence_line = self.confidence_plot.plot(pen=pg.mkPen(theme.MUTED, width=2))
        self.confidence_points = pg.ScatterPlotItem(size=12, pen=pg.mkPen(None), hoverable=True,
                                                    tip=lambda x, y, data: data)
        self.taken_point = pg.ScatterPlotItem(size=22, pen=pg.mkPen("#ffffff", width=2.5), brush=pg.mkBrush(None))
        self.threshold_line = pg.PlotDataItem(pen=pg.mkPen(theme.BAD, width=2, style=Qt.PenStyle.DashLine))
        self.threshold_label = pg.TextItem("threshold", color=theme.BAD, anchor=(0, 0.5))
        # A calibrated budget's thresholds, one short dash per exit, in place of the line.
        self.exit_thresholds = pg.PlotDataItem(pen=pg.mkPen(theme.BAD, width=3), connect="pairs")
        for item in (self.confidence_points, self.taken_point, self.threshold_line, self.threshold_label,
                     self.exit_thresholds):
            self.confidence_plot.addItem(item)
        self.confidence_plot.getAxis("left").setTicks([[(v, f"{v:g}") for v in (0, 0.5, 1)]])
        self.confidence_plot.getViewBox().sigResized.connect(self._fit_view)

        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self.name)
        text.addWidget(self.prediction)
        text.addWidget(self.facts)
        text.addSpacing(6)
        text.addWidget(self.top)
        text.addStretch(1)
        head = QGridLayout()
        head.addWidget(self.preview, 0, 0, Qt.AlignmentFlag.AlignTop)
        head.addLayout(text, 0, 1)
        head.setColumnStretch(1, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(SPACING_PX)
        layout.addLayout(head)
        layout.addWidget(self.diagram, 1)
        layout.addWidget(self.confidence_plot, 1)
        self._exits: list[ExitInfo] = []
        self._thresholds: float | Sequence[float] = 0.9
        self._answers: list[str] = []
        self.detail: RowDetail | None = None
        theme.follow_font(self, self._restyle)
        self.show_detail(None, 0.9)

    def _restyle(self) -> None:
        theme.style_plot(self.confidence_plot.getPlotItem(), "Confidence and answer at each exit", "exit", "confidence")
        axis = self.confidence_plot.getAxis("bottom")
        axis.showLabel(False)  # the title names the exits; the answers take its line
        # Two lines of ticks (number, answer): pyqtgraph would reserve 0.8 of their height and clip the answers.
        axis.setHeight(2 * QFontMetrics(axis.style["tickFont"]).lineSpacing() + axis.style["tickTextOffset"][1]
                       + max(0, axis.style["tickLength"]) + 2)
        self._size_plot()
        self.threshold_label.setFont(self.confidence_plot.getAxis("left").style["tickFont"])

    def set_model(self, config: RANetConfig | None, exits: Sequence[ExitInfo]) -> None:
        self._exits = list(exits)
        self.detail = None
        self.diagram.set_model(config, exits)
        self._show_answers([])
        self.confidence_plot.setXRange(0.6, len(exits) + 0.4 + THRESHOLD_LABEL_ROOM, padding=0)
        self._show_thresholds(self._thresholds)  # the line's length follows the number of exits

    def _fit_view(self) -> None:
        """Room above 1 and below 0 for the taken exit's ring and for the 0 and 1 tick labels (a
        label that would cross the plot's edge is not drawn), whatever the plot's height; the
        answers elided to the room between exits."""
        label = QFontMetrics(self.confidence_plot.getAxis("left").style["tickFont"] or self.font()).height()
        edge = max(label / 2 + 3, MARKER_ROOM_PX)  # pixels
        height = self.confidence_plot.getViewBox().height()
        margin = edge / (height - 2 * edge) if height > 4 * edge else 0.5  # in confidence
        self.confidence_plot.setYRange(-margin, 1 + margin, padding=0)
        self._show_answers(self._answers)

    def _show_answers(self, labels: Sequence[str]) -> None:
        """Under each exit's number, the class it answers where that answer changes: "Shirt" at
        exit 1 and "T-shirt/top" at exit 3 tells that the finer flows changed the network's mind."""
        self._answers = list(labels)
        axis = self.confidence_plot.getAxis("bottom")
        box = self.confidence_plot.getViewBox()
        (left, right), _ = box.viewRange()
        unit = box.width() / max(right - left, 1e-9)  # pixels from one exit to the next
        room = int(unit) - 6
        first = int(2 * (1 - left) * unit) - 2  # exit 1's answer, centred on it, must not pass the axis' start
        metrics = QFontMetrics(axis.style["tickFont"] or self.font())
        ticks = []
        for k in range(len(self._exits)):
            answer = labels[k] if k < len(labels) and (k == 0 or labels[k] != labels[k - 1]) else ""
            # Two lines always, so that the axis keeps its height from one image to the next.
            answer = metrics.elidedText(answer, Qt.TextElideMode.ElideRight, max(min(room, first) if k == 0 else room, 0))
            answer = answer or "\u00a0"
            ticks.append((k + 1, f"{k + 1}\n{answer}"))
        axis.setTicks([ticks])

    def _show_thresholds(self, thresholds: float | Sequence[float]) -> None:
        self._thresholds = thresholds
        single = isinstance(thresholds, (int, float))
        self.threshold_line.setVisible(single)
        self.threshold_label.setVisible(single)
        if single:
            end = len(self._exits) + 0.4
            self.threshold_line.setData([0.6, end], [thresholds, thresholds])
            self.threshold_label.setPos(end + 0.05, thresholds)
            self.exit_thresholds.setData([], [])
            return
        marks = [(k + 1, t) for k, t in enumerate(thresholds) if math.isfinite(t)]  # the last exit takes all
        self.exit_thresholds.setData([x + d for x, _ in marks for d in (-0.3, 0.3)], [t for _, t in marks for _ in (0, 1)])

    def _exit_tip(self, detail: RowDetail, k: int) -> str:
        info = self._exits[k]
        taken = " (the exit taken)" if k == detail.exit and not detail.pending else ""
        return (f"exit {k + 1}{taken}: {detail.exit_labels[k]}, {detail.exit_confidences[k]:.1%} confident\n"
                f"{theme.flow_path(info.flow_resolutions)} · {info.flops / 1e6:.2f} MFLOPs")

    def set_compact(self, on: bool) -> None:
        """Short screens: a smaller preview, the two likeliest classes instead of five, a lower
        diagram and confidence plot and less space between them, so that the whole panel stays
        in view down to a 1280×720 window."""
        side = COMPACT_PREVIEW_PX if on else PREVIEW_PX
        if side == self.preview.width():
            return
        self.preview.setFixedSize(side, side)
        self.top.set_rows(2 if on else 5)
        self.layout().setSpacing(COMPACT_SPACING_PX if on else SPACING_PX)
        self._size_plot()
        self.set_preview(self._image)

    def _size_plot(self) -> None:
        compact = self.preview.width() == COMPACT_PREVIEW_PX
        answers = QFontMetrics(self.confidence_plot.getAxis("bottom").style["tickFont"]).lineSpacing()
        self.confidence_plot.setMinimumHeight(round((COMPACT_PLOT_MIN_PX if compact else PLOT_MIN_PX) * theme.font_scale())
                                              + answers)
        self.diagram.setMinimumHeight(COMPACT_DIAGRAM_MIN_PX if compact else DIAGRAM_MIN_PX)

    def set_preview(self, image: QImage | None) -> None:
        self._image = image
        if image is None or image.isNull():
            self.preview.setPixmap(QPixmap())
            return
        side = self.preview.width() - 4
        # Small images (28×28 garments) are enlarged without blur, photos smoothly.
        mode = (Qt.TransformationMode.FastTransformation if max(image.width(), image.height()) < side // 3
                else Qt.TransformationMode.SmoothTransformation)
        self.preview.setPixmap(QPixmap.fromImage(image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio, mode)))

    def show_detail(self, detail: RowDetail | None, thresholds: float | Sequence[float]) -> None:
        """``thresholds``: the slider's one for every exit, or a budget's one per exit."""
        self._show_thresholds(thresholds)
        if detail is not None and detail == self.detail:
            return  # the slider moved without changing this image's exit: only the line moves
        self.detail = detail
        if detail is None or detail.error:
            self.diagram.set_state(None)
            self.top.set_items([], QColor(theme.ACCENT))
            self.confidence_line.setData([], [])
            self.confidence_points.setData([], [])
            self.taken_point.setData([], [])
            self._show_answers([])
            if detail is None:
                self.set_preview(None)
                self.name.show_path(None, "")
                self.prediction.setText("Drop images or folders here, or press Samples")
                self.facts.setText("")
            else:
                self.name.show_path(detail.path, detail.name)
                self.prediction.setText("Cannot classify")
                self.facts.setText(f"<span style='color:{theme.BAD}'>{escape(detail.error)}</span>")
            return
        info = self._exits[detail.exit]
        colour = theme.flow_color(info.flow)
        self.name.show_path(detail.path, detail.name)
        self.prediction.setText(detail.label if not detail.pending else f"{detail.label} …")
        verdict = ""
        if detail.truth is not None:
            mark, tone = ("✓", theme.GOOD) if detail.correct else (("✗", theme.BAD) if detail.correct is False else ("", theme.MUTED))
            verdict = f"<br>label <b>{escape(detail.truth)}</b> <span style='color:{tone}'>{mark}</span>"
        where = ("computing its next exits…" if detail.pending else
                 f"left at <b style='color:{colour.name()}'>exit {detail.exit + 1}</b> of {len(self._exits)} "
                 f"({info.flow_resolutions[-1]}×{info.flow_resolutions[-1]} flow)")
        ms = f" · {detail.ms:.2f} ms" if not math.isnan(detail.ms) else ""
        self.facts.setText(f"{detail.confidence:.1%} confident, {where}<br>"
                           f"path {theme.flow_path(info.flow_resolutions)} · {detail.flops / 1e6:.2f} MFLOPs{ms}{verdict}")
        self.top.set_items(detail.top5, colour)
        self.diagram.set_state(detail.exit, detail.pending)
        xs = list(range(1, len(detail.exit_confidences) + 1))
        self.confidence_line.setData(xs, detail.exit_confidences)
        self.confidence_points.setData(xs, detail.exit_confidences,
                                       brush=[pg.mkBrush(theme.flow_color(self._exits[i].flow)) for i in range(len(xs))],
                                       data=[self._exit_tip(detail, k) for k in range(len(xs))])
        self._show_answers(detail.exit_labels)
        self.taken_point.setData([] if detail.pending else [detail.exit + 1],
                                 [] if detail.pending else [detail.exit_confidences[detail.exit]])

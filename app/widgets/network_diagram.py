"""The loaded network drawn from its configuration: scale flows as rows (coarse at the top),
blocks as columns, exits as taps; the part an image ran is lit and its exit marked.

Nothing is hard-coded: the rows, columns, fusion links and exits come from
``RANetConfig.block_plan()``, so 3 or 4 scales and any checkpoint draw correctly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from .. import theme

if TYPE_CHECKING:
    from ranet import ExitInfo, RANetConfig

__all__ = ["NetworkDiagram", "BlockBox"]


@dataclass(frozen=True)
class BlockBox:
    flow: int
    block: int  # 1-based
    fusion: bool
    resolution: int  # output height
    exit_index: int | None


def block_boxes(config: RANetConfig, exits: Sequence[ExitInfo]) -> list[list[BlockBox]]:
    """Per flow, its blocks with their output resolution, from the plan and the exits' facts."""
    entry = exits[-1].flow_resolutions
    flows = []
    for f, plan in enumerate(config.block_plan()):
        size, boxes = entry[f], []
        for p in plan:
            size = size // 2 if p.down else size
            boxes.append(BlockBox(f, p.block, p.fusion, size, p.exit_index))
        flows.append(boxes)
    return flows


class NetworkDiagram(QWidget):
    """``set_model`` once per model; ``set_state`` per image (cheap: it only repaints)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._flows: list[list[BlockBox]] = []
        self._exits: list[ExitInfo] = []
        self._exit: int | None = None
        self._pending = False

    def sizeHint(self) -> QSize:
        return QSize(520, 230)

    def set_model(self, config: RANetConfig | None, exits: Sequence[ExitInfo]) -> None:
        self._flows = block_boxes(config, exits) if config is not None else []
        self._exits = list(exits)
        self.set_state(None)

    def set_state(self, exit_index: int | None, pending: bool = False) -> None:
        """``exit_index``: 0-based exit taken (the last computed while ``pending``); None = no image."""
        self._exit, self._pending = exit_index, pending
        self.update()

    def state(self) -> tuple[int | None, bool]:
        return self._exit, self._pending

    def _ran(self, box: BlockBox) -> bool:
        """Blocks run up to the exit: every coarser flow whole, then this flow up to the block."""
        if self._exit is None:
            return False
        last = self._exits[self._exit]
        return box.flow < last.flow or (box.flow == last.flow and box.block <= last.block)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self._flows:
            p.setPen(QColor(theme.MUTED))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No model loaded")
            return
        font = QFont(self.font())
        metrics_h = p.fontMetrics().height()
        label_w = p.fontMetrics().horizontalAdvance("000×000") + 16
        caption_h = metrics_h + 6
        columns = max(len(f) for f in self._flows)
        rows = len(self._flows)
        right_pad = p.fontMetrics().horizontalAdvance("exit 00") + 28  # the last exit's label
        area = QRectF(label_w, caption_h, self.width() - label_w - right_pad, self.height() - caption_h - 4)
        col_w, row_h = area.width() / columns, area.height() / rows
        box_w, box_h = col_w * 0.62, min(row_h * 0.42, 46.0)
        tap_r = max(5.0, min(row_h * 0.12, 11.0))

        def rect_of(box: BlockBox) -> QRectF:
            x = area.left() + (box.block - 0.5) * col_w - box_w / 2
            y = area.top() + (box.flow + 1) * row_h - box_h - row_h * 0.12
            return QRectF(x, y, box_w, box_h)

        dim = QColor(theme.GRID)
        small = QFont(font)
        small.setPointSizeF(font.pointSizeF() * 0.82)
        bold = QFont(font)
        bold.setBold(True)

        # Caption: what the picture shows.
        p.setPen(QColor(theme.MUTED))
        if self._exit is None:
            caption = "Network: scale flows coarse → fine, blocks left → right, ● exits"
        else:
            info = self._exits[self._exit]
            caption = (f"Computing the exits after exit {self._exit + 1}…" if self._pending else
                       f"Ran {theme.flow_path(info.flow_resolutions)}, left at exit {self._exit + 1} "
                       f"in the {info.flow_resolutions[-1]}×{info.flow_resolutions[-1]} flow")
        p.drawText(QRectF(6, 0, self.width() - 12, caption_h), Qt.AlignmentFlag.AlignVCenter, caption)

        for flow in self._flows:
            colour = theme.flow_color(flow[0].flow)
            # Row label: the flow's entry resolution.
            p.setFont(bold)
            p.setPen(colour)
            first = rect_of(flow[0])
            entry = self._exits[-1].flow_resolutions[flow[0].flow]
            p.drawText(QRectF(4, first.top(), label_w - 8, first.height()),
                       Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"{entry}×{entry}")
            for i, box in enumerate(flow):
                r = rect_of(box)
                ran = self._ran(box)
                # Link from the previous block of the flow, and from the coarser flow (fusion).
                p.setPen(QPen(colour if ran else dim, 2.0))
                if i:
                    p.drawLine(QPointF(rect_of(flow[i - 1]).right(), r.center().y()), QPointF(r.left(), r.center().y()))
                if box.fusion:
                    upper = rect_of(self._flows[box.flow - 1][box.block - 1])
                    p.setPen(QPen(colour if ran else dim, 1.5, Qt.PenStyle.DashLine))
                    p.drawLine(QPointF(upper.center().x(), upper.bottom()), QPointF(r.center().x(), r.top()))
                fill = QColor(colour)
                fill.setAlpha(210 if ran else 28)
                p.setBrush(fill)
                p.setPen(QPen(colour if ran else dim, 1.5))
                p.drawRoundedRect(r, 4, 4)
                p.setFont(small)
                p.setPen(QColor("#101114") if ran else QColor(theme.MUTED))
                p.drawText(r, Qt.AlignmentFlag.AlignCenter, str(box.resolution))
                if box.exit_index is not None:
                    self._draw_tap(p, box, r, tap_r, colour, small)
        p.end()

    def _draw_tap(self, p: QPainter, box: BlockBox, r: QRectF, radius: float, colour: QColor, font: QFont) -> None:
        e = box.exit_index
        centre = QPointF(r.right() + radius * 0.6, r.top() - radius * 1.3)
        computed = self._exit is not None and e <= self._exit
        taken = e == self._exit and not self._pending
        p.setPen(QPen(colour if computed else QColor(theme.GRID), 1.5))
        p.drawLine(QPointF(r.right() - 4, r.top() + 2), centre)
        if taken:
            p.setBrush(colour)
            p.setPen(QPen(QColor("#ffffff"), 2.5))
            p.drawEllipse(centre, radius * 1.35, radius * 1.35)
        else:
            p.setBrush(QColor(theme.RAISED) if not computed else QColor(colour).darker(170))
            p.setPen(QPen(colour if computed else QColor(theme.GRID), 1.5))
            p.drawEllipse(centre, radius, radius)
        p.setFont(font)
        p.setPen(QColor(theme.TEXT) if taken else QColor(theme.MUTED))
        label = f"exit {e + 1}" if taken else f"E{e + 1}"
        p.drawText(QPointF(centre.x() + radius * 1.6, centre.y() + p.fontMetrics().ascent() / 2.5), label)

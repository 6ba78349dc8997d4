"""The results table: one row per image, thumbnails and flow colours painted by a delegate.

Rows have a fixed height and columns fixed widths, so ten thousand rows cost only the visible
ones; a thumbnail is asked for when its row is first painted.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QTableView

from .. import theme
from ..results_model import Column, State

__all__ = ["ResultsView", "ResultDelegate"]


class ResultDelegate(QStyledItemDelegate):
    """Paints from :meth:`ResultsModel.cell`: ten thousand rows scroll and re-threshold smoothly."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> None:
        widget = option.widget
        if widget is not None:  # selection and alternating background
            widget.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, widget)
        model = index.model()
        column = Column(index.column())
        cell = model.cell(index.row(), column)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        rect = option.rect.adjusted(6, 3, -6, -3)
        text, colour = cell.text, QColor(theme.TEXT)
        if column == Column.IMAGE:
            rect = self._thumbnail(painter, rect, model.thumbnails.get(index.row()), cell.state)
        elif cell.state == State.ERROR:
            colour = QColor(theme.BAD) if column == Column.PREDICTION else QColor(theme.MUTED)
        elif column == Column.EXIT:
            self._chip(painter, rect, text, theme.flow_color(cell.flow), cell.state == State.PENDING)
            painter.restore()
            return
        elif cell.state == State.PENDING:
            colour = QColor(theme.MUTED)
        elif column == Column.RESOLUTION:
            colour = theme.flow_color(cell.flow)
        elif cell.correct is False and column in (Column.PREDICTION, Column.TRUTH):
            colour = QColor(theme.BAD)
            text = f"✗ {text}" if column == Column.TRUTH else text
        elif cell.correct and column == Column.TRUTH:
            colour, text = QColor(theme.GOOD), f"✓ {text}"
        painter.setPen(colour)
        align = Qt.AlignmentFlag.AlignVCenter | (Qt.AlignmentFlag.AlignRight if column == Column.CONFIDENCE
                                                 else Qt.AlignmentFlag.AlignLeft)
        painter.drawText(rect, align, option.fontMetrics.elidedText(text, Qt.TextElideMode.ElideMiddle, rect.width()))
        painter.restore()

    @staticmethod
    def _thumbnail(painter: QPainter, rect: QRect, image: QImage | None, state: State) -> QRect:
        side = rect.height()
        box = QRect(rect.left(), rect.top(), side, side)
        painter.fillRect(box, QColor(theme.BACKGROUND))
        if state == State.ERROR:
            painter.save()
            painter.setPen(QColor(theme.BAD))
            font = painter.font()
            font.setPointSizeF(font.pointSizeF() * 1.6)
            painter.setFont(font)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, "⚠")
            painter.restore()
        elif image is not None and not image.isNull():
            scaled = image.size().scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, scaled.width(), scaled.height())
            target.moveCenter(box.center())
            painter.drawImage(target, image)
        return rect.adjusted(side + 10, 0, 0, 0)

    @staticmethod
    def _chip(painter: QPainter, rect: QRect, text: str, colour: QColor, pending: bool) -> None:
        fm = painter.fontMetrics()
        w = max(rect.height() * 0.9, fm.horizontalAdvance(text) + 16)
        h = fm.height() + 6
        chip = QRectF(rect.left(), rect.center().y() - h / 2, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.RAISED) if pending else colour)
        painter.drawRoundedRect(chip, h / 2, h / 2)
        painter.setPen(QColor(theme.MUTED) if pending else QColor("#101114"))
        font = painter.font()
        font.setBold(True)
        painter.setFont(font)
        painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, text)


class ResultsView(QTableView):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setItemDelegate(ResultDelegate(self))
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.horizontalHeader().setHighlightSections(False)
        self.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._resize_columns()

    def setModel(self, model) -> None:
        super().setModel(model)
        self._resize_columns()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self._resize_columns()
        super().changeEvent(event)

    def _resize_columns(self) -> None:
        """From the font, never from the rows: measuring 10,000 rows would stall the GUI."""
        fm = self.fontMetrics()
        self.verticalHeader().setDefaultSectionSize(max(52, int(fm.height() * 2.6)))
        header = self.horizontalHeader()
        if self.model() is None:
            return
        widths = {Column.PREDICTION: "Ankle boot ·", Column.CONFIDENCE: "Confidence", Column.EXIT: " Exit ≥0 ",
                  Column.RESOLUTION: "Left at 00", Column.TRUTH: "✗ T-shirt/top"}
        for column, sample in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            header.resizeSection(column, fm.horizontalAdvance(sample) + 24)
        header.setSectionResizeMode(Column.IMAGE, QHeaderView.ResizeMode.Stretch)

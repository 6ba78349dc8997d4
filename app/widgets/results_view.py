"""The results table: one row per image, thumbnails and flow colours painted by a delegate.

Rows have a fixed height and columns fixed widths, so ten thousand rows cost only the visible
ones; a thumbnail is asked for when its row is first painted.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QColor, QDesktopServices, QGuiApplication, QImage, QPainter
from PySide6.QtWidgets import (QAbstractItemView, QHeaderView, QMenu, QStyle, QStyledItemDelegate, QStyleOptionViewItem,
                               QTableView)

from .. import theme
from ..results_model import Column, State

__all__ = ["ResultsView", "ResultDelegate"]

# Per decision column: the text its comfortable width is measured on, and the least it may show.
COLUMN_SAMPLES = {Column.PREDICTION: ("Ankle boot ·", "Ankle boot"), Column.CONFIDENCE: ("Confidence", "100.0%"),
                  Column.EXIT: (" Exit ≥0 ", "Exit"), Column.RESOLUTION: ("Left at 00", "32×32"),
                  Column.TRUTH: ("✗ T-shirt/top", "✓ Ankle boot")}


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
            rect = self._thumbnail(painter, rect, model.thumbnail(index.row()), cell.state)
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
    """The table. Columns get their widths from the font; when the view is too narrow for all of
    them, the decision columns give up their spare room (down to their content) before the file
    names (measured as they arrive) are squeezed, until the user sizes a column by hand. A header
    click sorts by that column (ascending, descending, then arrival order again)."""

    notice = Signal(str)  # a one-line message for the status bar

    #: the file-name room the Image column keeps before other columns shrink
    NAME_SAMPLE = "test_00000.png"
    EMPTY_TEXT = "Drop images or folders here\nor press Samples (Ctrl+D)"
    NONE_SHOWN_TEXT = "No image matches 'Show' at this threshold"
    NO_LABELS_TEXT = "Wrong answers need labels: images in class-named folders, e.g. Samples"

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
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        header.sectionResized.connect(self._section_resized)
        header.setSortIndicatorClearable(True)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # arrival order until a click
        self.setSortingEnabled(True)
        header.sortIndicatorChanged.connect(self._sorted_by_user)
        self._fitting = False
        self.user_sized_columns = False
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)
        self._selected_image: int | None = None  # session row, kept across a model reset
        self._follow_selection = False
        self._none_shown = self.NONE_SHOWN_TEXT
        self.row_actions: list[QAction] = []  # the window's actions on the selected row, under the menu's own
        self._names_measured: tuple[object, int] = (None, 0)  # the session whose names were measured, how many
        self._name_width = 0  # pixels of the widest file name in the list
        self._resize_columns()

    def setModel(self, model) -> None:
        super().setModel(model)
        # A reset (a new filter, or new rows in a sorted table) keeps the selected image selected.
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.modelReset.connect(self._restore_selection)
        model.rowsInserted.connect(self._restore_selection)
        # A re-sort (the threshold moved) keeps the selected image in sight if it was.
        model.layoutAboutToBeChanged.connect(self._note_selection_in_view)
        model.layoutChanged.connect(self._keep_selection_in_view)
        for change in (model.modelReset, model.rowsInserted):
            change.connect(self._measure_names)
        self._resize_columns()

    def _note_selection_in_view(self) -> None:
        # Follow the image only if the user was looking at it, not while they scroll elsewhere.
        current = self.currentIndex()
        self._follow_selection = current.isValid() and self.viewport().rect().intersects(self.visualRect(current))

    def _keep_selection_in_view(self) -> None:
        if self._follow_selection and self.currentIndex().isValid():
            self.scrollTo(self.currentIndex())

    def _remember_selection(self) -> None:
        current = self.currentIndex()
        self._selected_image = self.model().session_row(current.row()) if current.isValid() else None
        self._note_selection_in_view()

    def _restore_selection(self) -> None:
        """Select the remembered image if it is shown, else the first row; none in an empty table."""
        image, self._selected_image = self._selected_image, None  # remembered for this reset only
        if self.currentIndex().isValid():
            return
        row = self.model().view_row(image) if image is not None else -1
        if row < 0 and self.model().rowCount():
            row = 0
        if row >= 0:
            self.setAutoScroll(self._follow_selection or image is None)  # selecting scrolls to the row
            self.selectRow(row)
            self.setAutoScroll(True)

    def _sorted_by_user(self) -> None:
        if self.currentIndex().isValid():
            self.scrollTo(self.currentIndex())  # the selected image stays in sight

    def row_menu(self, row: int) -> QMenu:
        """What a right click on ``row`` offers: open the image, show its folder, copy its path
        (the system's viewer and file manager do the reading; pasted pixels have no file), then
        ``row_actions`` (a right click selects the row first)."""
        path = self.model().path_of(row)
        menu = QMenu(self)
        for text, act in (("Open image", lambda: self._open(path)),
                          ("Show in folder", lambda: self._open(str(Path(path).parent))),
                          ("Copy path", lambda: QGuiApplication.clipboard().setText(path))):
            menu.addAction(text, act).setEnabled(path is not None)
        if self.row_actions:
            menu.addSeparator()
            menu.addActions(self.row_actions)
        return menu

    def _open(self, path: str) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            self.notice.emit(f"No application to open {path} with")

    def _context_menu(self, at: QPoint) -> None:
        index = self.indexAt(at)
        if index.isValid():
            self.selectRow(index.row())
            self.row_menu(index.row()).exec(self.viewport().mapToGlobal(at))

    def set_none_shown(self, text: str) -> None:
        """What the view says when the filter hides every image."""
        self._none_shown = text
        self.viewport().update()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.FontChange:
            self.user_sized_columns = False  # widths chosen for the old font no longer fit
            self._names_measured = (None, 0)
            self._measure_names()
            self._resize_columns()
        super().changeEvent(event)

    def placeholder(self) -> str:
        """What the empty viewport says: how to add images, or that the filter hides them all."""
        model = self.model()
        if model is None or model.images == 0:
            return self.EMPTY_TEXT
        return self._none_shown if model.rowCount() == 0 else ""

    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        text = self.placeholder()
        if text:
            painter = QPainter(self.viewport())
            painter.setPen(QColor(theme.MUTED))
            painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, text)
            painter.end()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit_columns()

    def _section_resized(self, column: int, _old: int, _new: int) -> None:
        if not self._fitting and column != Column.IMAGE:
            self.user_sized_columns = True

    def _measure_names(self) -> None:
        """The widest file name of the images in the list, measured once per image as they come."""
        session = self.model().session if self.model() is not None else None
        records = session.records if session is not None else []
        (measured, count), widest = self._names_measured, self._name_width
        if measured is not session or count > len(records):
            count, widest = 0, 0
        fm = self.fontMetrics()
        widest = max([widest, *(fm.horizontalAdvance(record.name) for record in records[count:])])
        self._names_measured = (session, len(records))
        if widest != self._name_width:
            self._name_width = widest
            self._fit_columns()

    def _resize_columns(self) -> None:
        """From the font and the names, never from the rows' delegates: 10,000 rows would stall the GUI."""
        fm = self.fontMetrics()
        self.verticalHeader().setDefaultSectionSize(max(52, int(fm.height() * 2.6)))
        header = self.horizontalHeader()
        if self.model() is None:
            return
        for column in COLUMN_SAMPLES:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Column.IMAGE, QHeaderView.ResizeMode.Stretch)
        self._fit_columns()

    def _fit_columns(self) -> None:
        if self.model() is None or self.user_sized_columns:
            return
        fm = self.fontMetrics()
        wanted = {c: fm.horizontalAdvance(comfortable) + 24 for c, (comfortable, _) in COLUMN_SAMPLES.items()}
        least = {c: fm.horizontalAdvance(minimum) + 16 for c, (_, minimum) in COLUMN_SAMPLES.items()}
        name = max(fm.horizontalAdvance(self.NAME_SAMPLE), self._name_width)
        image = self.verticalHeader().defaultSectionSize() + name + 22
        shortfall = image + sum(wanted.values()) - self.viewport().width()
        slack = sum(wanted[c] - least[c] for c in COLUMN_SAMPLES)
        share = min(1.0, max(0.0, shortfall) / slack) if slack else 0.0
        self._fitting = True
        try:
            for column in COLUMN_SAMPLES:
                self.horizontalHeader().resizeSection(column, round(wanted[column] - share * (wanted[column] - least[column])))
        finally:
            self._fitting = False

"""A table model over the session's records: rows are appended, the threshold changes roles.

No copies: ``data`` reads the session's arrays. A threshold change emits ``dataChanged`` over
the rows that changed, for the decision columns only.

Filtering and sorting happen here, in numpy (a proxy model would call Python for every row
and every comparison): the model's rows are the images the table shows, top to bottom, and
:meth:`ResultsModel.session_row` / :meth:`ResultsModel.view_row` translate to and from the
session's rows, which stay in arrival order. A table filtered or sorted by what the threshold
decides is re-arranged when it moves.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QImage

from . import theme
from .row_filter import RowFilter
from .thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from .session import RowSummary, Session, SortKey

__all__ = ["Cell", "Column", "ResultsModel", "FLOW_ROLE", "STATE_ROLE", "CORRECT_ROLE", "State"]

FLOW_ROLE = Qt.ItemDataRole.UserRole + 1  # scale flow of the exit shown
STATE_ROLE = Qt.ItemDataRole.UserRole + 2  # State
CORRECT_ROLE = Qt.ItemDataRole.UserRole + 3  # True / False / None (no label, or not decided)


class Column(IntEnum):
    IMAGE = 0
    PREDICTION = 1
    CONFIDENCE = 2
    EXIT = 3
    RESOLUTION = 4
    TRUTH = 5


class State(IntEnum):
    DONE = 0
    PENDING = 1  # its exit at this threshold is being computed
    ERROR = 2


class Cell(NamedTuple):
    text: str
    state: State
    flow: int  # scale flow of the exit shown
    correct: bool | None  # None: no label, or not decided yet


COLUMNS = len(Column)  # Qt asks for the column count thousands of times; an Enum's len is slow

HEADERS = {Column.IMAGE: "Image", Column.PREDICTION: "Prediction", Column.CONFIDENCE: "Confidence",
           Column.EXIT: "Exit", Column.RESOLUTION: "Left at", Column.TRUTH: "Label"}
HEADER_TIPS = {
    Column.IMAGE: "The image and its file name",
    Column.PREDICTION: "The class predicted by the exit where the image stopped",
    Column.CONFIDENCE: "The predicted class's softmax probability at that exit; "
                       "the image stops at the first exit where it reaches the threshold",
    Column.EXIT: "The exit (classifier) where the image stopped, counted from the cheapest",
    Column.RESOLUTION: "The finest input resolution the network used for this image",
    Column.TRUTH: "The true class, from the image's folder name (✓ right, ✗ wrong); empty when unknown",
}

SORT_KEYS: dict[Column, SortKey] = {Column.IMAGE: "name", Column.PREDICTION: "prediction",
                                    Column.CONFIDENCE: "confidence", Column.EXIT: "exit",
                                    Column.RESOLUTION: "resolution", Column.TRUTH: "truth"}
DECIDED_COLUMNS = {Column.PREDICTION, Column.CONFIDENCE, Column.EXIT, Column.RESOLUTION}  # follow the threshold

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractTableModel):
    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.thumbnails = thumbnails
        thumbnails.ready.connect(self._thumbnail_ready)
        self._memo: tuple[int, RowSummary] | None = None  # Qt asks for every role of a row in turn
        self._order = np.zeros(0, dtype=np.int64)  # table row -> session row
        self._position = np.zeros(0, dtype=np.int64)  # session row -> table row, -1: not shown
        self.sorted_by: tuple[Column, Qt.SortOrder] | None = None  # None: arrival order
        self.row_filter: RowFilter = None

    def set_session(self, session: Session | None) -> None:
        """Show ``session`` (empty for a new model, or the images kept after a removal)."""
        self.beginResetModel()
        self.session = session
        self._memo = None
        self._order = self._position = np.zeros(0, dtype=np.int64)
        if session is not None:
            self._set_order(self._arranged())
        self.thumbnails.clear(self.source_of if session is not None else None)
        self.endResetModel()

    def source_of(self, row: int):
        """The image of session row ``row`` (thumbnails and previews are kept by session row)."""
        return self.session.records[row].source

    @property
    def images(self) -> int:
        """Every image of the session, shown or not."""
        return 0 if self.session is None else len(self.session)

    def session_row(self, row: int) -> int:
        """The session row shown in table row ``row``."""
        return int(self._order[row])

    def view_row(self, row: int) -> int:
        """The table row that shows session row ``row``; -1 when the filter hides it."""
        return int(self._position[row]) if 0 <= row < len(self._position) else -1

    def path_of(self, row: int) -> str | None:
        """The file shown in table row ``row``; None for pasted pixels."""
        return self.session.records[self.session_row(row)].path

    def thumbnail(self, row: int) -> QImage | None:
        return self.thumbnails.get(self.session_row(row))

    def rows_added(self) -> None:
        """The session grew (the controller added rows): list the new ones the filter keeps."""
        self._arrange()

    def rows_changed(self, rows: np.ndarray) -> None:
        """The decisions of session rows ``rows`` changed: re-filter and re-sort when the table
        depends on them, and repaint their decision columns."""
        self._memo = None
        if not len(rows):
            return
        if self.row_filter is not None or (self.sorted_by is not None and self.sorted_by[0] in DECIDED_COLUMNS):
            self._arrange()
        at = self._position[rows]
        at = at[at >= 0]
        if len(at):
            self.dataChanged.emit(self.index(int(at.min()), Column.PREDICTION), self.index(int(at.max()), Column.TRUTH))

    def row_changed(self, row: int) -> None:
        """Session row ``row`` changed altogether (it could not be read after all)."""
        self._memo = None
        self._arrange()
        at = self.view_row(row)
        if at >= 0:
            self.dataChanged.emit(self.index(at, 0), self.index(at, COLUMNS - 1))

    def _thumbnail_ready(self, row: int) -> None:
        at = self.view_row(row)
        if at >= 0:
            index = self.index(at, Column.IMAGE)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # -- which images, in what order -------------------------------------------------------
    def set_filter(self, row_filter: RowFilter) -> None:
        """Show every image (None), the wrong answers, one exit's images, one class's or one
        confusion-matrix cell's (see :mod:`app.row_filter`). New rows and new decisions re-arrange
        the table themselves."""
        if row_filter != self.row_filter:
            self.row_filter = row_filter
            self._arrange()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's entry (a header click): by ``column``, or in arrival order when it is -1. Ties
        keep arrival order; rows with nothing to compare (unreadable, no label) go last."""
        self.sorted_by = (Column(column), order) if 0 <= column < COLUMNS else None
        self._arrange()

    def _arranged(self) -> np.ndarray:
        """The session rows the table shows, top to bottom."""
        session = self.session
        rows = np.flatnonzero(session.matching(self.row_filter))
        if self.sorted_by is not None:
            column, direction = self.sorted_by
            key = session.sort_key(SORT_KEYS[column])[rows]
            if direction == Qt.SortOrder.DescendingOrder:
                key = -key  # NaN stays NaN: still last
            rows = rows[np.argsort(key, kind="stable")]
        return rows

    def _arrange(self) -> None:
        """Tell the view as little as it needs: new rows at the end are inserted, a new order of
        the same rows moves them (the selection follows its image), anything else resets."""
        if self.session is None:
            return
        old, new = self._order, self._arranged()
        if np.array_equal(old, new):
            if len(self._position) != len(self.session):
                self._set_order(new)  # new images, none of them shown
            return
        self._memo = None
        if len(new) > len(old) and np.array_equal(new[: len(old)], old):
            self.beginInsertRows(QModelIndex(), len(old), len(new) - 1)
            self._set_order(new)
            self.endInsertRows()
        elif len(new) == len(old) and np.array_equal(np.sort(new), np.sort(old)):
            self.layoutAboutToBeChanged.emit()
            persistent = self.persistentIndexList()  # the selection
            images = [int(old[index.row()]) for index in persistent]
            self._set_order(new)
            self.changePersistentIndexList(persistent, [self.index(self.view_row(image), index.column())
                                                        for image, index in zip(images, persistent)])
            self.layoutChanged.emit()
        else:
            self.beginResetModel()
            self._set_order(new)
            self.endResetModel()

    def _set_order(self, order: np.ndarray) -> None:
        self._order = order
        self._position = np.full(len(self.session), -1, dtype=np.int64)
        self._position[order] = np.arange(len(order))

    # -- Qt interface ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[Column(section)]
        return None

    def _summary(self, row: int) -> RowSummary:
        if self._memo is None or self._memo[0] != row:
            self._memo = (row, self.session.summary(self.session_row(row)))
        return self._memo[1]

    def cell(self, row: int, column: int) -> Cell:
        """What table row ``row`` shows in ``column``; the delegate reads this directly (no
        QVariant round trips)."""
        s = self._summary(row)
        session = self.session
        state = State.ERROR if s.error else (State.PENDING if s.pending else State.DONE)
        correct = (s.class_index == s.truth) if s.truth is not None and state == State.DONE else None
        flow = session.exits[s.exit].flow
        if column == Column.IMAGE:
            text = s.name
        elif column == Column.TRUTH:
            text = session.categories[s.truth] if s.truth is not None else ""
        elif state == State.ERROR:
            text = "unreadable" if column == Column.PREDICTION else ""
        elif column == Column.PREDICTION:
            text = session.categories[s.class_index]
        elif column == Column.CONFIDENCE:
            text = f"{s.confidence:.1%}"
        elif column == Column.EXIT:
            text = f"≥{s.exit + 2}" if state == State.PENDING else str(s.exit + 1)
        else:
            size = session.exits[s.exit].flow_resolutions[-1]
            text = f"{size}×{size}"
        return Cell(text, state, flow, correct)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or self.session is None:
            return None
        row, column = index.row(), index.column()
        if role == Qt.ItemDataRole.DecorationRole:
            return self.thumbnail(row) if column == Column.IMAGE else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        part = {Qt.ItemDataRole.DisplayRole: 0, STATE_ROLE: 1, FLOW_ROLE: 2, CORRECT_ROLE: 3}.get(role)
        return None if part is None else self.cell(row, column)[part]

    def _tooltip(self, row: int, column: int) -> str:
        s = self._summary(row)
        record = self.session.records[self.session_row(row)]
        where = record.path or record.name
        if s.error:
            return f"{where}\nCannot classify: {s.error}"
        if column == Column.RESOLUTION:
            return "Scale flows that ran: " + theme.flow_path(self.session.exits[s.exit].flow_resolutions)
        return where

"""A table model over the session's records: rows are appended, the threshold changes roles.

No copies: ``rowCount`` is the session's length and ``data`` reads its arrays. A threshold
change emits ``dataChanged`` over the rows that changed, for the decision columns only.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any, NamedTuple, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from . import theme
from .thumbnails import ThumbnailCache

if TYPE_CHECKING:
    from .session import Outcome, RowSummary, Session

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

Index = QModelIndex | QPersistentModelIndex


class ResultsModel(QAbstractTableModel):
    def __init__(self, thumbnails: ThumbnailCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: Session | None = None
        self.thumbnails = thumbnails
        thumbnails.ready.connect(self._thumbnail_ready)
        self._memo: tuple[int, RowSummary] | None = None  # Qt asks for every role of a row in turn

    def set_session(self, session: Session | None) -> None:
        self.beginResetModel()
        self.session = session
        self._memo = None
        self.thumbnails.clear(self.source_of if session is not None else None)
        self.endResetModel()

    def source_of(self, row: int):
        return self.session.records[row].source

    def append(self, outcomes: Sequence[Outcome]) -> None:
        if not outcomes or self.session is None:
            return
        n = len(self.session)
        self.beginInsertRows(QModelIndex(), n, n + len(outcomes) - 1)
        self.session.add(outcomes)
        self.endInsertRows()

    def rows_changed(self, rows: np.ndarray) -> None:
        """The decisions of ``rows`` changed: repaint their decision columns."""
        self._memo = None
        if len(rows):
            self.dataChanged.emit(self.index(int(rows.min()), Column.PREDICTION),
                                  self.index(int(rows.max()), Column.TRUTH))

    def row_changed(self, row: int) -> None:
        self._memo = None
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))

    def _thumbnail_ready(self, row: int) -> None:
        if self.session is not None and row < len(self.session):
            index = self.index(row, Column.IMAGE)
            self.dataChanged.emit(index, index, [Qt.ItemDataRole.DecorationRole])

    # -- Qt interface ----------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() or self.session is None else len(self.session)

    def columnCount(self, parent: Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(Column)

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
            self._memo = (row, self.session.summary(row))
        return self._memo[1]

    def cell(self, row: int, column: int) -> Cell:
        """What a cell shows; the delegate reads this directly (no QVariant round trips)."""
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
            return self.thumbnails.get(row) if column == Column.IMAGE else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(row, column)
        part = {Qt.ItemDataRole.DisplayRole: 0, STATE_ROLE: 1, FLOW_ROLE: 2, CORRECT_ROLE: 3}.get(role)
        return None if part is None else self.cell(row, column)[part]

    def _tooltip(self, row: int, column: int) -> str:
        s = self._summary(row)
        record = self.session.records[row]
        where = record.path or record.name
        if s.error:
            return f"{where}\nCannot classify: {s.error}"
        if column == Column.RESOLUTION:
            return "Scale flows that ran: " + theme.flow_path(self.session.exits[s.exit].flow_resolutions)
        return where

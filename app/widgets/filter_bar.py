"""Which images the table shows: all, the wrong answers, or those that left at one exit.

The histogram of exits taken sets it too (click a bar), so "which images went deep?" is one click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ..row_filter import WRONG, RowFilter

if TYPE_CHECKING:
    from ranet import ExitInfo

__all__ = ["FilterBar"]


class FilterBar(QWidget):
    filterChanged = Signal(object)  # a RowFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = QComboBox(self)
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.choice.setToolTip("Show every image, only the wrong answers (images in class-named folders), or only "
                               "the images that left at one exit; clicking a bar of 'Exits taken' does the same")
        self.count = QLabel(self)
        self.count.setProperty("role", "muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(QLabel("Show", self))
        layout.addWidget(self.choice)
        layout.addStretch(1)
        layout.addWidget(self.count)
        self.set_exits([])
        self.choice.activated.connect(lambda index: self.filterChanged.emit(self.choice.itemData(index)))

    @property
    def current(self) -> RowFilter:
        return self.choice.currentData()

    def set_exits(self, exits: Sequence[ExitInfo]) -> None:
        """The loaded model's exits; the choice goes back to every image."""
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItem("All images", None)
        self.choice.addItem("Wrong answers", WRONG)
        for k, info in enumerate(exits):
            size = info.flow_resolutions[-1]
            self.choice.addItem(f"Left at exit {k + 1} ({size}×{size})", k)
        self.choice.blockSignals(False)

    def choose(self, show: RowFilter) -> None:
        """Select ``show`` and announce it (as if the user picked it)."""
        index = self.choice.findData(show) if show is not None else 0
        self.choice.setCurrentIndex(max(index, 0))
        self.filterChanged.emit(self.current)

    def choose_next(self) -> None:
        """The next choice in the list, after the last the first (all images)."""
        self.choose(self.choice.itemData((self.choice.currentIndex() + 1) % self.choice.count()))

    def set_counts(self, shown: int, total: int) -> None:
        self.count.setText(f"{shown} of {total} shown" if self.current is not None else "")

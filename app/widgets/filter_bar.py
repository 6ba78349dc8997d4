"""Which images the table shows: all, the wrong answers, the unreadable ones, those that left at
one exit, those predicted as one class, or those with one label and one prediction.

The histogram of exits taken, the exits-by-class chart and the confusion matrix set it too (click
a bar or a cell), so "which images went deep?" is one click.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from ..row_filter import UNREADABLE, WRONG, RowFilter, confused_pair, predicted, predicted_class

if TYPE_CHECKING:
    from ranet import ExitInfo

__all__ = ["FilterBar", "MAX_LISTED_CLASSES"]

MAX_LISTED_CLASSES = 20  # more (ImageNet's 1,000) would bury the list: a chart click adds its class


class FilterBar(QWidget):
    """Shows the filter in force (:meth:`show_filter`) and announces the user's choice
    (``filterChanged``); the filter itself is the controller's."""

    filterChanged = Signal(object)  # a RowFilter

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.choice = QComboBox(self)
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.choice.setToolTip("Show every image, only the wrong answers (images in class-named folders), only "
                               "the images that could not be read, only the images that left at one exit, or only those predicted as one class; clicking a "
                               "bar of 'Exits taken' or of 'Exits by class', or a cell of the confusion matrix, does "
                               "the same")
        self.count = QLabel(self)
        self.count.setProperty("role", "muted")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(QLabel("Show", self))
        layout.addWidget(self.choice)
        layout.addStretch(1)
        layout.addWidget(self.count)
        self._categories: list[str] = []
        self.set_model([], [])
        self.choice.activated.connect(lambda index: self.filterChanged.emit(self.choice.itemData(index)))

    @property
    def current(self) -> RowFilter:
        return self.choice.currentData()

    def set_model(self, exits: Sequence[ExitInfo], categories: Sequence[str]) -> None:
        """The loaded model's exits and classes; the choice goes back to every image."""
        self._categories = list(categories)
        self.choice.blockSignals(True)
        self.choice.clear()
        self.choice.addItem("All images", None)
        self.choice.addItem("Wrong answers", WRONG)
        self.choice.addItem("Unreadable", UNREADABLE)
        for k, info in enumerate(exits):
            size = info.flow_resolutions[-1]
            self.choice.addItem(f"Left at exit {k + 1} ({size}×{size})", k)
        if len(categories) <= MAX_LISTED_CLASSES:
            for c in range(len(categories)):
                self._add_class(c)
        self.choice.blockSignals(False)

    def _add_class(self, category: int) -> int:
        self.choice.addItem(f"Predicted {self._categories[category]}", predicted(category))
        return self.choice.count() - 1

    def _add_pair(self, show: str, truth: int, prediction: int) -> int:
        """List one confusion-matrix cell, in place of the one listed before (a booth's worth of
        clicks would otherwise bury the list)."""
        for index in reversed(range(self.choice.count())):
            if confused_pair(self.choice.itemData(index)) is not None:
                self.choice.removeItem(index)
        self.choice.addItem(f"Labelled {self._categories[truth]}, predicted {self._categories[prediction]}", show)
        return self.choice.count() - 1

    def choose(self, show: RowFilter) -> None:
        """Select ``show`` and announce it (as if the user picked it)."""
        self.filterChanged.emit(self.show_filter(show))

    def show_filter(self, show: RowFilter) -> RowFilter:
        """Select ``show`` in the list (adding a class or a matrix cell not listed) without
        announcing it; returns what is selected (every image for a filter it cannot show)."""
        index = self.choice.findData(show) if show is not None else 0
        category, pair = predicted_class(show), confused_pair(show)
        known = range(len(self._categories))
        if index < 0 and category in known:
            index = self._add_class(category)  # a class not listed, clicked in the chart
        elif index < 0 and pair is not None and pair[0] in known and pair[1] in known:
            index = self._add_pair(show, *pair)  # a cell of the confusion matrix
        self.choice.setCurrentIndex(max(index, 0))
        return self.current

    def choose_next(self) -> None:
        """The next choice in the list, after the last the first (all images)."""
        self.choose(self.choice.itemData((self.choice.currentIndex() + 1) % self.choice.count()))

    def set_counts(self, shown: int, total: int) -> None:
        self.count.setText(f"{shown} of {total} shown" if self.current is not None else "")

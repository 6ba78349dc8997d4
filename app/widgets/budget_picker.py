"""Choose what decides the exits: the slider's one threshold, or a FLOPs budget whose per-exit
thresholds the weights carry (the paper's budgeted batch, calibrated on held-out images)."""

from __future__ import annotations

from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

__all__ = ["BudgetPicker"]

ONE_THRESHOLD = "One threshold (slider)"
NO_BUDGETS_TIP = "This model carries no calibrated budgets; the slider's threshold applies to every exit"
BUDGETS_TIP = ("The paper's budgeted batch: a threshold per exit, calibrated on held-out images so that the mean "
               "cost is this share of the full network's FLOPs (stored in the weights; see the model card)")


class BudgetPicker(QComboBox):
    budgetChosen = Signal(object)  # a budget label from the weights, or None for the slider

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.set_budgets([])
        self.activated.connect(lambda index: self.budgetChosen.emit(self.itemData(index)))

    def set_budgets(self, labels: Sequence[str]) -> None:
        """The budgets of the loaded model (e.g. ``"40%"``); the slider's entry comes first."""
        self.blockSignals(True)
        self.clear()
        self.addItem(ONE_THRESHOLD, None)
        for label in labels:
            self.addItem(f"Budget: {label} of the FLOPs", label)
        self.blockSignals(False)
        self.setEnabled(bool(labels))
        self.setToolTip(BUDGETS_TIP if labels else NO_BUDGETS_TIP)

    def show_budget(self, label: str | None) -> None:
        """Select ``label`` (None: the slider's entry) without announcing it."""
        index = self.findData(label) if label is not None else 0
        self.blockSignals(True)
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

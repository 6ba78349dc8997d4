"""The frame the chart windows share: the chart itself (what *Save as PNG…* writes), a note under
it and Save / Close buttons. Non-modal, so the chart follows the threshold beside the main window."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

__all__ = ["ChartWindow"]


class ChartWindow(QDialog):
    """Subclasses put their chart's widgets into ``chart_layout``; ``saveRequested`` asks the main
    window to save ``chart`` (it owns the file dialog and the last folder)."""

    saveRequested = Signal()

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.chart = QWidget(self)
        self.chart_layout = QVBoxLayout(self.chart)
        self.chart_layout.setContentsMargins(8, 8, 8, 8)
        self.note = QLabel(self)
        self.note.setProperty("role", "muted")
        self.note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close, self)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText("Save as PNG…")
        self.save_button.clicked.connect(self.saveRequested)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.chart, 1)
        layout.addWidget(self.note)
        layout.addWidget(buttons)

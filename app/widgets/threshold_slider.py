"""The confidence threshold, 0 to 1 in steps of 0.001 (arrow keys 0.001, Page keys 0.01)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QWidget

from .. import theme

__all__ = ["ThresholdSlider"]

STEPS = 1000


class ThresholdSlider(QWidget):
    valueChanged = Signal(float)

    def __init__(self, value: float = 0.9, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal, self)
        self.slider.setRange(0, STEPS)
        self.slider.setSingleStep(1)
        self.slider.setPageStep(10)
        self.slider.setToolTip("An image leaves at the first exit whose confidence reaches the threshold "
                               "(keys: + / − by 0.01, arrows by 0.001)")
        self.title = QLabel("Threshold", self)
        self.number = QLabel(self)
        self.number.setObjectName("threshold_value")
        self.number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        for label in (self.title, self.number):
            label.setProperty("role", "figure")  # large and bold, from the theme's style sheet
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.number)
        self.slider.valueChanged.connect(self._moved)
        self.set_in_force(True)
        theme.follow_font(self, self._restyle)
        self.setValue(value)
        self._show(self.value())

    def _restyle(self) -> None:
        self.number.setMinimumWidth(QFontMetrics(theme.figure_font(self.font())).horizontalAdvance("0.0000"))

    def set_in_force(self, in_force: bool) -> None:
        """Dimmed while a calibrated budget decides the exits; moving the slider brings it back."""
        fill = theme.ACCENT if in_force else theme.GRID
        self.slider.setStyleSheet(f"""
            QSlider::groove:horizontal {{ height: 8px; background: {theme.GRID}; border-radius: 4px; }}
            QSlider::sub-page:horizontal {{ background: {fill}; border-radius: 4px; }}
            QSlider::handle:horizontal {{ background: {'#ffffff' if in_force else theme.MUTED}; width: 22px;
                                          margin: -8px 0; border-radius: 11px; }}
        """)
        for label in (self.title, self.number):
            label.setStyleSheet("" if in_force else f"color: {theme.MUTED};")

    def value(self) -> float:
        return self.slider.value() / STEPS

    def setValue(self, value: float) -> None:
        self.slider.setValue(round(min(1.0, max(0.0, value)) * STEPS))

    def step(self, delta: float) -> None:
        self.setValue(self.value() + delta)

    def _moved(self, position: int) -> None:
        self._show(position / STEPS)
        self.valueChanged.emit(position / STEPS)

    def _show(self, value: float) -> None:
        self.number.setText(f"{value:.3f}")

"""While files are dragged over the window: the part of it where they will land, highlighted."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QWidget

from .. import theme

__all__ = ["DropHint"]


class DropHint(QLabel):
    """A translucent frame with a line of text laid over the widget a drop will go to."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        tint = QColor(theme.ACCENT)
        self.setStyleSheet(f"QLabel {{ background: rgba({tint.red()}, {tint.green()}, {tint.blue()}, 48); "
                           f"border: 3px dashed {theme.ACCENT}; border-radius: 8px; font-weight: bold; }}")
        self.hide()

    def show_over(self, target: QWidget, text: str) -> None:
        """Cover ``target`` (a widget inside this one's parent) and say what the drop will do."""
        self.setText(text)
        self.setGeometry(QRect(target.mapTo(self.parentWidget(), QPoint(0, 0)), target.size()))
        self.raise_()
        self.show()

"""The selected image's path as the detail panel heads it: relative to the folder it came in
with, elided in the middle to the width there is, the full path in the tooltip."""

from __future__ import annotations

import os
from typing import Iterable

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

__all__ = ["PathLabel", "shown_path"]


def shown_path(path: str, folders: Iterable[str]) -> str:
    """``path`` relative to the deepest of ``folders`` that holds it; its file name when none does
    (a file dropped or opened on its own)."""
    path = os.path.abspath(path)
    holders = [os.path.abspath(f) for f in folders]
    holders = [f for f in holders if os.path.commonpath([f, path]) == f and f != path]
    return os.path.relpath(path, max(holders, key=len)) if holders else os.path.basename(path)


class PathLabel(QLabel):
    """One line that never widens its panel: a long path is elided in the middle, so that its
    start (the folder) and its end (the file name) stay."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.folders: set[str] = set()  # the folders classified: paths are shown relative to them
        self.shown = ""  # the text before eliding

    def add_folders(self, inputs: Iterable[str]) -> None:
        """Of files and folders given to classify, the folders."""
        self.folders.update(os.path.abspath(p) for p in inputs if os.path.isdir(p))

    def show_path(self, path: str | None, name: str) -> None:
        """A file's path, relative to its folder; pixels without a file show ``name``."""
        self.shown = shown_path(path, self.folders) if path else name
        self.setToolTip(path or "")
        self._elide()

    def minimumSizeHint(self) -> QSize:
        return QSize(0, super().minimumSizeHint().height())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        self.setText(self.fontMetrics().elidedText(self.shown, Qt.TextElideMode.ElideMiddle, self.width()))

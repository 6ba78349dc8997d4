"""Model › Recent models: the model files and run folders loaded before, newest first."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QMenu, QWidget

__all__ = ["RecentModelsMenu"]


class RecentModelsMenu(QMenu):
    """``chosen`` carries the path picked; ``cleared`` asks to forget them all."""

    chosen = Signal(str)
    cleared = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("&Recent models", parent)
        self.setToolTipsVisible(True)
        self.set_paths([])

    def set_paths(self, paths: Sequence[str]) -> None:
        self.clear()
        for number, path in enumerate(paths, 1):
            action = self.addAction(f"&{number}  {_short(path)}")
            action.setToolTip(path)
            action.triggered.connect(lambda _=False, chosen=path: self.chosen.emit(chosen))
        if paths:
            self.addSeparator()
            self.addAction("Clear the list").triggered.connect(self.cleared)
        self.setEnabled(bool(paths))


def _short(path: str) -> str:
    """The file and the two folders above it (authors' checkpoints are all model_best.pth.tar)."""
    parts = Path(path).parts
    return str(Path(path)) if len(parts) <= 4 else "…/" + "/".join(parts[-3:])

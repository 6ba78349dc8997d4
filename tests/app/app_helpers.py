"""Helpers for the app's tests: real drop events, waiting for workers, sample folders.

(A plain module, not a package: a ``tests/app`` package would shadow the ``app`` package.)
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
WAIT_MS = 60_000


def drop(window, paths) -> QDropEvent:
    """Deliver a real QDropEvent with file URLs to the window's handler."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    return event


def wait_rows(qtbot, window, n: int) -> None:
    qtbot.waitUntil(lambda: window.controller.results.images >= n, timeout=WAIT_MS)


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)


def classify_samples(qtbot, window) -> None:
    """Classify the 60 bundled samples and wait until every exit they need is computed."""
    window.load_samples()
    wait_rows(qtbot, window, 60)
    wait_idle(qtbot, window)


def classify_pasted_pixels(qtbot, window) -> None:
    """Classify one black 28×28 image that has no file (as a paste would give) and wait for it."""
    from PySide6.QtGui import QImage

    from app.workers import Pixels

    image = QImage(28, 28, QImage.Format.Format_Grayscale8)
    image.fill(0)
    window.classify([Pixels("pasted image 1", image)])
    wait_rows(qtbot, window, 1)
    wait_idle(qtbot, window)


def copy_samples(target: Path, per_class: int = 2) -> list[Path]:
    """A few samples in class-named folders (so labels are known), nested one level deeper."""
    copied = []
    for folder in sorted(SAMPLES.iterdir()):
        for image in sorted(folder.glob("*.png"))[:per_class]:
            dest = target / "nested" / folder.name / image.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(image, dest)
            copied.append(dest)
    return copied


def copied_folder(root: Path, category: str, count: int) -> Path:
    """``root/many/<category>/`` with ``count`` copies of one sample: a large folder, cheaply (links
    to one file would be listed once)."""
    folder = root / "many" / category
    folder.mkdir(parents=True)
    sample = next((SAMPLES / category).glob("*.png"))
    for i in range(count):
        shutil.copyfile(sample, folder / f"{i:05d}.png")
    return folder

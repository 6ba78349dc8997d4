"""Fixtures for the app: isolated settings, a window with the tiny model, drop helpers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from app.settings import SETTINGS_ENV

SAMPLES = Path(__file__).resolve().parents[2] / "assets" / "samples"
WAIT_MS = 60_000


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path, monkeypatch) -> Path:
    folder = tmp_path / "settings"
    monkeypatch.setenv(SETTINGS_ENV, str(folder))
    return folder


@pytest.fixture
def window(qtbot, tiny_weights):
    """The main window with the tiny model loaded; samples not yet classified."""
    from app import theme
    from app.main_window import MainWindow

    theme.apply(QApplication.instance())
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.start(str(tiny_weights))
    qtbot.waitUntil(lambda: w.controller.loaded is not None, timeout=WAIT_MS)
    yield w
    w.controller.shutdown()


def drop(window, paths) -> QDropEvent:
    """Deliver a real QDropEvent with file URLs to the window's handler."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    return event


def wait_rows(qtbot, window, n: int) -> None:
    qtbot.waitUntil(lambda: window.controller.results.rowCount() >= n, timeout=WAIT_MS)


def wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: not window.controller.busy, timeout=WAIT_MS)


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

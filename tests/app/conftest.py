"""Fixtures for the app: isolated settings and a window with the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from app.settings import SETTINGS_ENV
from app_helpers import WAIT_MS


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

"""Booth features: the auto demo and the error hook that replaces tracebacks with a message."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QMessageBox

from app.main import install_excepthook

from app_helpers import wait_idle, wait_rows


def test_auto_demo_loads_samples_then_steps_through_them(qtbot, window):
    window.advance_demo()  # nothing yet: it starts with the samples
    wait_rows(qtbot, window, 60)
    wait_idle(qtbot, window)
    first = window.results.currentIndex().row()
    window.advance_demo()
    assert window.results.currentIndex().row() == first + 1
    window.actions.auto_demo.trigger()
    assert window.auto_demo.enabled
    window.actions.auto_demo.trigger()
    assert not window.auto_demo.enabled


def test_uncaught_exception_becomes_a_message(qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text, *a, **k: shown.append(text))
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    install_excepthook(None)
    try:
        raise RuntimeError("boom in a slot")
    except RuntimeError:
        sys.excepthook(*sys.exc_info())
    assert len(shown) == 1 and "boom in a slot" in shown[0] and "Traceback" not in shown[0]

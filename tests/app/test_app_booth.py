"""Booth features: the auto demo and the error hook that replaces tracebacks with a message."""

from __future__ import annotations

import sys

import numpy as np
from PySide6.QtWidgets import QMessageBox

from app.main import install_excepthook

from app_helpers import wait_idle, wait_rows


def test_auto_demo_loads_samples_then_steps_through_them(qtbot, window):
    window.controller.demo_step()  # nothing yet: it starts with the samples
    wait_rows(qtbot, window, 60)
    wait_idle(qtbot, window)
    session, model = window.controller.session, window.controller.results
    window.slider.setValue(float(np.median(session.conf[:60, 0])) + 1e-4)  # half leave at the first exit
    wait_idle(qtbot, window)
    rows, exits = [], []
    for _ in range(8):
        window.controller.demo_step()
        rows.append(window.results.currentIndex().row())
        exits.append(int(session.shown[model.session_row(rows[-1])]))
    assert all(a != b for a, b in zip(exits, exits[1:]))  # early and late in turn
    assert all(b > a for a, b in zip(rows[::2], rows[2::2]))  # each kind in table order
    window.slider.setValue(0.0)  # one exit for all: simply the next image
    wait_idle(qtbot, window)
    first = window.results.currentIndex().row()
    window.controller.demo_step()
    assert window.results.currentIndex().row() == (first + 1) % model.rowCount()
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


def test_library_warnings_are_logged_not_printed(tmp_path, monkeypatch, capsys):
    """torch's warnings (a pickle protocol's, on a refused checkpoint) and ranet's go to the log
    file; stderr keeps the app's own messages and errors."""
    import logging
    import warnings

    from app import main

    log_file = tmp_path / "ranet-demo.log"
    monkeypatch.setattr(main, "_log_file", lambda: log_file)
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])  # restored after the test
    monkeypatch.setattr(root, "level", root.level)
    try:
        main._setup_logging()
        warnings.warn_explicit("an old pickle protocol", UserWarning, "torch/serialization.py", 1)
        logging.getLogger("ranet.checkpoints").warning("bad.pt: torch warned")
        logging.getLogger("app.workers").warning("the app's own")
    finally:
        logging.captureWarnings(False)
        for handler in root.handlers:
            handler.close()
    err = capsys.readouterr().err
    assert "pickle" not in err and "torch warned" not in err and "the app's own" in err
    logged = log_file.read_text()
    assert "an old pickle protocol" in logged and "torch warned" in logged

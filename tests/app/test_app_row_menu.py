"""A right click on a row: open the image, show its folder, copy its path."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QDesktopServices, QGuiApplication

from app_helpers import classify_pasted_pixels, classify_samples


def test_the_row_menu_opens_shows_and_copies_the_file(qtbot, window, monkeypatch):
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url.toLocalFile()) or True))
    classify_samples(qtbot, window)
    model = window.controller.results
    path = model.path_of(3)
    assert path == window.controller.session.records[model.session_row(3)].path and Path(path).is_file()
    actions = {a.text(): a for a in window.results.row_menu(3).actions()}
    assert list(actions) == ["Open image", "Show in folder", "Copy path", "", "&Remove image from the list"]
    actions["Open image"].trigger()
    actions["Show in folder"].trigger()
    actions["Copy path"].trigger()
    assert opened == [path, str(Path(path).parent)]
    assert QGuiApplication.clipboard().text() == path


def test_pasted_pixels_have_no_file_to_open(qtbot, window):
    classify_pasted_pixels(qtbot, window)
    actions = window.results.row_menu(0).actions()
    assert not any(a.isEnabled() for a in actions if a.text() in ("Open image", "Show in folder", "Copy path"))
    assert window.actions.remove_image in actions and window.actions.remove_image.isEnabled()  # it can go, though


def test_no_viewer_says_so_in_the_status_bar(qtbot, window, monkeypatch):
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))  # nothing installed to open it
    classify_samples(qtbot, window)
    path = window.controller.results.path_of(0)
    next(a for a in window.results.row_menu(0).actions() if a.text() == "Open image").trigger()
    assert window.statusBar().currentMessage() == f"No application to open {path} with"

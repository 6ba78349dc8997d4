"""Help › About: the paper to cite, every shortcut read from the actions, the versions."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication

from app.widgets.about import BIBTEX, AboutDialog, about_html


def test_about_lists_every_shortcut_and_copies_the_citation(qtbot, window):
    html = about_html(window.actions)
    with_keys = [a for a in window.actions if a.shortcuts()]
    assert len(with_keys) >= 15
    for action in with_keys:  # a new shortcut shows up here without anyone editing the page
        assert action.text().replace("&", "").rstrip("…") in html
    assert "Confusion matrix" in html and "arXiv:2003.07326" in html and "torch " in html
    dialog = AboutDialog(window.actions, window)
    qtbot.addWidget(dialog)
    QGuiApplication.clipboard().clear()
    dialog.copy_button.click()
    assert QGuiApplication.clipboard().text() == BIBTEX
    assert BIBTEX.startswith("@inproceedings{") and BIBTEX.count("{") == BIBTEX.count("}")
    help_menu = next(m for m in window.menuBar().actions() if m.text() == "&Help").menu()
    assert window.actions.about in help_menu.actions()

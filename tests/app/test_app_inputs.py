"""Drops, folders, the clipboard, unreadable files and Cancel."""

from __future__ import annotations


import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QColor, QDragEnterEvent, QImage
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.results_model import STATE_ROLE, Column, State

from app_helpers import SAMPLES, copied_folder, copy_samples, drop, wait_idle, wait_rows


def test_drop_files_marks_unreadable_ones(qtbot, window, tmp_path):
    images = sorted((SAMPLES / "Sneaker").glob("*.png"))[:3]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png at all")
    event = drop(window, [*images, broken])
    assert event.isAccepted()
    wait_rows(qtbot, window, 4)
    model = window.controller.results
    states = [model.index(r, 0).data(STATE_ROLE) for r in range(4)]
    assert states.count(State.ERROR) == 1
    bad = states.index(State.ERROR)
    tooltip = model.index(bad, Column.PREDICTION).data(Qt.ItemDataRole.ToolTipRole)
    assert "broken.png" in tooltip and "not an image" in tooltip
    assert "1 unreadable" in window.count_label.text()
    good = next(r for r, s in enumerate(states) if s != State.ERROR)
    assert model.index(good, Column.TRUTH).data() == "Sneaker"  # label from the class-named folder
    assert model.index(good, Column.PREDICTION).data() in window.controller.loaded.model.meta.categories


def test_drop_folder_is_recursive(qtbot, window, tmp_path):
    copied = copy_samples(tmp_path / "drop", per_class=2)
    (tmp_path / "drop" / "notes.txt").write_text("skipped: not an image extension")
    drop(window, [tmp_path / "drop"])
    wait_rows(qtbot, window, len(copied))
    wait_idle(qtbot, window)
    assert window.controller.results.rowCount() == len(copied) == 20
    stats = window.controller.session.stats()
    assert stats.errors == 0 and stats.labelled == 20


def test_drop_folder_stays_inside_it_and_lists_each_file_once(qtbot, window, tmp_path):
    from testsupport import linked_tree

    folder, expected = linked_tree(tmp_path)
    drop(window, [folder])
    wait_rows(qtbot, window, len(expected))
    wait_idle(qtbot, window)
    assert [record.source for record in window.controller.session.records] == [str(p) for p in expected]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PySide marks the only constructor deprecated
def test_drag_enter_accepts_files_and_images_only(window, tmp_path):
    mime = QMimeData()
    mime.setText("plain text only")
    event = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    event.setAccepted(False)
    window.dragEnterEvent(event)
    assert not event.isAccepted()
    mime.setUrls([QUrl.fromLocalFile(str(tmp_path))])
    event = QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    event.setAccepted(False)
    window.dragEnterEvent(event)
    assert event.isAccepted()


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # PySide marks the only constructor deprecated
def test_dragging_over_the_window_highlights_where_the_drop_lands(window, tmp_path, tiny_weights):
    from PySide6.QtCore import QRect
    from PySide6.QtGui import QDragLeaveEvent

    def enter(path) -> None:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        window.dragEnterEvent(QDragEnterEvent(QPoint(5, 5), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                                              Qt.KeyboardModifier.NoModifier))

    hint = window.drop_hint
    assert not hint.isVisible()
    enter(tmp_path)  # images: the table
    assert hint.isVisible() and hint.text() == "Drop to classify"
    assert hint.geometry() == QRect(window.results.mapTo(window, QPoint(0, 0)), window.results.size())
    window.dragLeaveEvent(QDragLeaveEvent())
    assert not hint.isVisible()
    enter(tiny_weights)  # a model: the whole window
    assert hint.isVisible() and hint.text() == "Drop to load tiny.pt"
    drop(window, [])
    assert not hint.isVisible()


def test_clearing_every_result_can_be_undone(qtbot, window):
    from app_helpers import classify_samples

    classify_samples(qtbot, window)
    window.slider.setValue(0.5)
    before = window.controller.session.export_rows()
    assert not window.actions.undo_clear.isEnabled()
    window.actions.clear.trigger()
    assert window.controller.results.images == 0 and "Ctrl+Z" in window.statusBar().currentMessage()
    assert window.actions.undo_clear.isEnabled()
    edit = next(m for m in window.menuBar().actions() if m.text() == "&Edit").menu()
    assert window.actions.undo_clear in edit.actions()
    QTest.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert window.controller.session.export_rows() == before and window.controller.results.rowCount() == 60
    assert not window.actions.undo_clear.isEnabled()
    window.actions.clear.trigger()
    classify_samples(qtbot, window)  # new results: the cleared ones are gone for good
    assert not window.actions.undo_clear.isEnabled()


def test_paste_image_from_clipboard(qtbot, window):
    image = QImage(64, 64, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    QApplication.clipboard().setImage(image)
    window.paste()
    wait_rows(qtbot, window, 1)
    model = window.controller.results
    assert model.index(0, Column.IMAGE).data() == "pasted image 1"
    assert model.index(0, 0).data(STATE_ROLE) != State.ERROR


def test_cancel_stops_a_large_folder(qtbot, window, tmp_path):
    copied_folder(tmp_path, "Bag", 1500)
    window.controller.fill_in_background = False
    drop(window, [tmp_path / "many"])
    qtbot.waitUntil(lambda: window.progress.isVisible(), timeout=10_000)
    wait_rows(qtbot, window, 1)
    window.actions.cancel.trigger()
    wait_idle(qtbot, window)
    rows = window.controller.results.rowCount()
    assert 0 < rows < 1500
    assert not window.progress.isVisible() and not window.actions.cancel.isEnabled()

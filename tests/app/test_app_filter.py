"""The table's filter: all images, the wrong answers, or one exit's images, chosen in the filter bar
or by clicking a bar of the exit histogram, and kept up to date as the threshold moves."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest

from app_helpers import SAMPLES, classify_samples, wait_idle, wait_rows


def _classified(qtbot, window) -> None:
    classify_samples(qtbot, window)


def _shown_rows(window) -> set[int]:
    """The session rows of the images the table lists."""
    model = window.controller.results
    return {model.session_row(r) for r in range(model.rowCount())}


def _rows_at(window, exit: int) -> set[int]:
    s = window.controller.session
    return {r for r in range(len(s)) if not s.summary(r).pending and not s.summary(r).error and s.summary(r).exit == exit}


def _click_bar(qtbot, window, exit: int) -> None:
    """A real mouse click on the middle of the bar of ``exit`` (0-based) in 'Exits taken'."""
    plot = window.plots.histogram_plot
    box = plot.getViewBox()
    top = box.viewRange()[1][1]
    scene = box.mapViewToScene(QPointF(exit + 1, top * 0.02))  # the foot of the bar: every bar has one
    at = plot.mapFromScene(scene)
    QTest.mouseClick(plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(at.x(), at.y()))
    qtbot.wait(20)


def test_clicking_a_histogram_bar_lists_that_exits_images(qtbot, window):
    _classified(qtbot, window)
    window.slider.setValue(0.5)
    for exit in (0, len(window.controller.session.exits) - 1):
        _click_bar(qtbot, window, exit)
        assert window.filter_bar.current == exit
        assert _shown_rows(window) == _rows_at(window, exit)
        assert window.filter_bar.count.text() == f"{len(_rows_at(window, exit))} of 60 shown"
        assert window.plots.histogram.opts["brushes"][exit].color().alpha() == 255
    _click_bar(qtbot, window, len(window.controller.session.exits) - 1)  # the same bar again: all images
    assert window.filter_bar.current is None and _shown_rows(window) == set(range(60))
    assert all(b.color().alpha() == 255 for b in window.plots.histogram.opts["brushes"])


def test_wrong_answers_filter(qtbot, window):
    from app.row_filter import WRONG

    _classified(qtbot, window)
    window.filter_bar.choose(WRONG)
    s = window.controller.session
    wrong = {r for r in range(len(s)) if s.detail(r).correct is False}
    assert _shown_rows(window) == wrong
    if wrong:
        assert window.selected_row() in wrong  # the selection moved to a shown row
    else:
        assert not window.results.currentIndex().isValid()


def test_the_filter_follows_the_threshold(qtbot, window):
    _classified(qtbot, window)
    session = window.controller.session
    window.slider.setValue(1.0)  # nobody leaves early
    window.filter_bar.choose(0)
    assert _shown_rows(window) == set()
    middle = float(np.median(session.conf[:60, 0]))
    window.slider.setValue(middle + 0.0005)  # about half leave at the first exit
    shown = _shown_rows(window)
    assert shown == _rows_at(window, 0) and 0 < len(shown) < 60
    assert window.selected_row() in shown
    window.slider.setValue(0.0)
    assert _shown_rows(window) == set(range(60))


def test_a_new_model_shows_every_image_again(qtbot, window, tiny_weights):
    _classified(qtbot, window)
    window.filter_bar.choose(0)
    window.controller.load_model(str(tiny_weights))
    qtbot.waitUntil(lambda: window.filter_bar.current is None, timeout=60_000)
    classify_samples(qtbot, window)
    assert _shown_rows(window) == set(range(window.controller.results.images))


def test_the_empty_table_says_why(qtbot, window):
    view = window.results
    assert "Drop images" in view.placeholder()  # nothing loaded yet
    _classified(qtbot, window)
    assert view.placeholder() == ""
    window.slider.setValue(1.0)
    window.filter_bar.choose(0)  # nobody leaves at the first exit at threshold 1
    assert view.placeholder() == view.NONE_SHOWN_TEXT
    window.filter_bar.choose(None)
    assert view.placeholder() == ""


def test_the_f_key_steps_through_the_filters(qtbot, window):
    from app.row_filter import UNREADABLE, WRONG, predicted

    _classified(qtbot, window)
    k, classes = len(window.controller.session.exits), len(window.controller.session.categories)
    seen = []
    for _ in range(k + classes + 3):
        QTest.keyClick(window, Qt.Key.Key_F)
        seen.append(window.controller.row_filter)
    assert seen == [WRONG, UNREADABLE, *range(k), *map(predicted, range(classes)), None]
    assert _shown_rows(window) == set(range(60))


def test_wrong_answers_without_labels_say_what_they_need(qtbot, window, tmp_path):
    import shutil

    from app.row_filter import WRONG
    from app_helpers import SAMPLES, drop

    photo = tmp_path / "photo.png"  # its folder is not a class name: no label
    shutil.copy(next((SAMPLES / "Bag").glob("*.png")), photo)
    drop(window, [photo])
    wait_rows(qtbot, window, 1)
    wait_idle(qtbot, window)
    window.filter_bar.choose(WRONG)
    assert window.results.placeholder() == window.results.NO_LABELS_TEXT


def test_a_bar_tells_its_count_when_hovered(qtbot, window):
    _classified(qtbot, window)
    window.slider.setValue(0.0)  # everybody leaves at the first exit
    plot = window.plots.histogram_plot
    box = plot.getViewBox()

    def hover(x: float) -> str:
        at = plot.mapFromScene(box.mapViewToScene(QPointF(x, box.viewRange()[1][1] * 0.02)))
        QTest.mouseMove(plot.viewport(), QPoint(at.x(), at.y()))
        qtbot.wait(20)
        return plot.toolTip()

    assert hover(1).startswith("Exit 1 (") and "60 of 60 images (100.0%)" in hover(1)
    assert hover(1.5).startswith("Click a bar")  # between two bars


def test_images_that_arrive_hidden_by_the_filter_follow_the_threshold(qtbot, window, tmp_path):
    from app_helpers import copy_samples, drop

    _classified(qtbot, window)
    window.slider.setValue(1.0)  # nobody leaves at the first exit
    window.filter_bar.choose(0)
    drop(window, copy_samples(tmp_path, per_class=1))
    wait_rows(qtbot, window, 70)
    wait_idle(qtbot, window)
    assert _shown_rows(window) == set()
    session = window.controller.session
    before = session.stats().histogram
    window.slider.setValue(float(session.conf[:70, 0].max()) + 1e-4)  # some leave earlier, still none at exit 1
    wait_idle(qtbot, window)
    assert session.stats().histogram != before and _shown_rows(window) == set()
    window.slider.setValue(0.0)  # now everybody does, the late arrivals too
    wait_idle(qtbot, window)
    assert _shown_rows(window) == set(range(70))


def test_unreadable_images_are_one_click_away(qtbot, window, tmp_path):
    """*Show: Unreadable* lists them, and so does a click on the status bar's "N unreadable"."""
    from app.row_filter import UNREADABLE

    for name in ("broken.png", "empty.jpg"):
        (tmp_path / name).write_bytes(b"not an image" if name == "broken.png" else b"")
    window.classify([str(tmp_path / "broken.png"), str(tmp_path / "empty.jpg"), str(SAMPLES / "Bag")])
    wait_rows(qtbot, window, 8)
    wait_idle(qtbot, window)
    session = window.controller.session
    unreadable = {r for r in range(len(session)) if session.records[r].error}
    assert len(unreadable) == 2
    bar = window.filter_bar
    bar.choice.activated.emit(bar.choice.findText("Unreadable"))  # the user picks it in the list
    assert window.controller.row_filter == UNREADABLE and _shown_rows(window) == unreadable
    bar.choose(None)
    label = window.count_label
    assert "2 unreadable" in label.text()
    end = label.contentsRect().left() + label.fontMetrics().horizontalAdvance(f"{len(session)} images, 2 unreadable")
    QTest.mouseClick(label, Qt.MouseButton.LeftButton, pos=QPoint(end - 10, label.height() // 2))
    assert window.controller.row_filter == UNREADABLE and _shown_rows(window) == unreadable
    assert bar.current == UNREADABLE and bar.count.text() == f"2 of {len(session)} shown"

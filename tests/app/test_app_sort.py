"""Sorting the table by a header click: the order follows the threshold, the selection and the
filter follow their images, and rows that arrive later take their places."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.results_model import Column
from app_helpers import classify_samples, copy_samples, drop, wait_idle, wait_rows


def _classified(qtbot, window) -> None:
    classify_samples(qtbot, window)


def _click_header(qtbot, window, column: Column) -> None:
    header = window.results.horizontalHeader()
    x = header.sectionViewportPosition(column) + header.sectionSize(column) // 2
    QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                     QPoint(x, header.height() // 2))
    qtbot.wait(20)


def _in_table_order(window, by: str) -> np.ndarray:
    """The session's sort key of every table row, top to bottom."""
    model = window.controller.results
    return window.controller.session.sort_key(by)[[model.session_row(r) for r in range(model.rowCount())]]


def _thresholds(window) -> list[float]:
    """Thresholds that split the images between exits (the tiny test model is never sure)."""
    first = window.controller.session.conf[:60, 0]
    return [float(np.quantile(first, q)) + 1e-4 for q in (0.3, 0.7, 0.5)]


def _is_sorted(keys: np.ndarray, descending: bool = False) -> bool:
    known = keys[~np.isnan(keys)]
    steps = np.diff(known)
    return bool((steps <= 0).all() if descending else (steps >= 0).all()) and not np.isnan(keys[: len(known)]).any()


def test_header_clicks_sort_ascending_descending_then_arrival_order(qtbot, window):
    _classified(qtbot, window)
    window.slider.setValue(0.5)
    model = window.controller.results
    _click_header(qtbot, window, Column.CONFIDENCE)
    assert _is_sorted(_in_table_order(window, "confidence"))
    texts = [model.cell(r, Column.CONFIDENCE).text for r in range(60)]
    assert float(texts[0].rstrip("%")) <= float(texts[-1].rstrip("%"))  # what is painted follows
    _click_header(qtbot, window, Column.CONFIDENCE)
    assert _is_sorted(_in_table_order(window, "confidence"), descending=True)
    _click_header(qtbot, window, Column.CONFIDENCE)  # third click: back to the order they came in
    assert [model.session_row(r) for r in range(60)] == list(range(60))
    _click_header(qtbot, window, Column.IMAGE)
    names = [model.cell(r, Column.IMAGE).text for r in range(60)]
    assert names != [window.controller.session.records[r].name for r in range(60)]
    assert _is_sorted(_in_table_order(window, "name"))


def test_the_order_follows_the_threshold_and_the_selection_its_image(qtbot, window):
    _classified(qtbot, window)
    window.slider.setValue(0.0)
    _click_header(qtbot, window, Column.EXIT)
    window.results.selectRow(59)
    chosen = window.selected_row()
    name = window.controller.session.records[chosen].name
    for t in _thresholds(window):
        window.slider.setValue(t)
        wait_idle(qtbot, window)
        exits = _in_table_order(window, "exit")
        assert len(set(exits)) > 1 and _is_sorted(exits)
        assert window.selected_row() == chosen
        assert window.detail.name.text().endswith(name)


def test_a_sorted_table_lists_the_filtered_images_in_order(qtbot, window):
    from app.row_filter import WRONG

    _classified(qtbot, window)
    model, session = window.controller.results, window.controller.session
    _click_header(qtbot, window, Column.CONFIDENCE)
    window.filter_bar.choose(0)
    for t in _thresholds(window):
        window.slider.setValue(t)
        wait_idle(qtbot, window)
        keep = session.matching(0)
        assert 0 < keep.sum() < 60 and _is_sorted(_in_table_order(window, "confidence"))
        assert sorted(model.session_row(r) for r in range(model.rowCount())) == list(np.flatnonzero(keep))
        assert window.selected_row() in np.flatnonzero(keep)
    _click_header(qtbot, window, Column.CONFIDENCE)  # re-sorted while filtered
    assert _is_sorted(_in_table_order(window, "confidence"), descending=True)
    window.filter_bar.choose(WRONG)
    wrong = list(np.flatnonzero(session.matching(WRONG)))
    assert sorted(model.session_row(r) for r in range(model.rowCount())) == wrong


def test_images_that_arrive_later_take_their_places(qtbot, window, tmp_path):
    _classified(qtbot, window)
    _click_header(qtbot, window, Column.IMAGE)
    _click_header(qtbot, window, Column.IMAGE)  # descending names
    window.results.selectRow(0)
    chosen = window.selected_row()
    bar = window.results.verticalScrollBar()
    bar.setValue(bar.maximum())  # the user looks elsewhere: new rows must not pull the view back
    drop(window, copy_samples(tmp_path, per_class=1))
    wait_rows(qtbot, window, 70)
    wait_idle(qtbot, window)
    assert _is_sorted(_in_table_order(window, "name"), descending=True)
    assert window.selected_row() == chosen and bar.value() > 0
    model = window.controller.results
    for r in (0, 35, 69):  # each row paints and explains its own image
        record = window.controller.session.records[model.session_row(r)]
        assert model.cell(r, Column.IMAGE).text == record.name
        assert model.data(model.index(r, Column.IMAGE), Qt.ItemDataRole.ToolTipRole) == record.path


def test_a_re_sort_keeps_the_selected_image_in_view(qtbot, window):
    """Sorted by exit, the selected image moves as the threshold does: the table scrolls after it
    when it was in view, and not when the user had scrolled elsewhere."""
    _classified(qtbot, window)
    window.resize(1400, 720)
    qtbot.wait(50)
    view, model = window.results, window.controller.results
    window.slider.setValue(0.0)
    _click_header(qtbot, window, Column.EXIT)
    unsure = int(np.argmin(window.controller.session.conf[:60, 0]))  # the first to leave exit 1 as the threshold rises
    view.selectRow(model.view_row(unsure))

    def in_view() -> bool:
        return view.viewport().rect().intersects(view.visualRect(view.currentIndex()))

    rows = [view.currentIndex().row()]
    for t in sorted(_thresholds(window)):
        window.slider.setValue(t)
        wait_idle(qtbot, window)
        rows.append(view.currentIndex().row())
        assert window.selected_row() == unsure and in_view()
    assert max(abs(b - a) for a, b in zip(rows, rows[1:])) > 10  # it moved by more than a screenful
    view.scrollTo(model.index(0 if rows[-1] > 30 else 59, 0))  # the user looks elsewhere
    assert not in_view()
    scrolled = view.verticalScrollBar().value()
    window.slider.setValue(0.0)
    wait_idle(qtbot, window)
    assert view.verticalScrollBar().value() == scrolled

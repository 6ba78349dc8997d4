"""Nothing cut off at common screen sizes, in a window and in presentation mode: the figures beside
the plots, the file names, the plots' ticks and the answers under the exits; leaving presentation
mode puts the divider back."""

from __future__ import annotations

import os
import shutil

import pytest
from PySide6.QtCore import QPoint, QRect
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QWidget

from app.results_model import Column
from app_helpers import SAMPLES, classify_samples, drop, wait_idle, wait_rows

SIZES = [(1280, 720, False), (1366, 768, False), (1440, 900, False), (1560, 960, False),
         (1920, 1080, True), (1560, 960, True)]  # width, height, presentation mode (fonts of a 1080-line screen)


def _settled(qtbot, window, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.size().toTuple() == (width, height), timeout=5000)
    qtbot.wait(100)


def _present(window, monkeypatch, width: int, height: int) -> None:
    """Presentation mode with the fonts of a 1080-line screen, in a window of this size (the
    offscreen platform's screen is smaller than the window: full screen is what it is told)."""
    monkeypatch.setattr(window.screen(), "geometry", lambda: QRect(0, 0, 1920, 1080))
    monkeypatch.setattr(window, "showFullScreen", lambda: window.resize(width, height))
    window.actions.presentation.trigger()


def _inside(widget: QWidget, top: QWidget) -> bool:
    """Whether ``widget`` lies within each of its ancestors up to ``top``."""
    while widget is not top:
        parent = widget.parentWidget()
        if not parent.rect().contains(widget.geometry()):
            return False
        widget = parent
    return True


def _name_room(view) -> int:
    """The pixels the Image column's painter leaves for the file name (see ResultDelegate)."""
    return view.columnWidth(Column.IMAGE) - view.verticalHeader().defaultSectionSize() - 16


def _drawn_ticks(plot, axis: str) -> list[str]:
    """The tick labels pyqtgraph draws on ``axis`` (it drops those that would cross the axis' ends)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        return [text for _, _, text in plot.getAxis(axis).generateDrawSpecs(painter)[2]]
    finally:
        painter.end()


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}{'-presentation' if p else ''}" for w, h, p in SIZES])
def sized(request, qtbot, window, monkeypatch):
    width, height, presentation = request.param
    classify_samples(qtbot, window)
    window.results.selectRow(59)  # a label under exit 1 that is as long as any
    if presentation:
        _present(window, monkeypatch, width, height)
    _settled(qtbot, window, width, height)
    yield window
    if presentation:
        window.actions.presentation.trigger()


def test_every_figure_shows_its_caption_and_value_whole(sized):
    plots = sized.plots
    for label in (*plots.captions.values(), *plots.values.values()):
        assert label.isVisible()
        assert label.width() >= label.fontMetrics().horizontalAdvance(label.text()), label.text()
        assert label.height() >= label.fontMetrics().height(), label.text()
        assert _inside(label, sized), label.text()


def test_the_plots_keep_their_ticks(sized):
    plots = sized.plots
    for plot in (plots.savings_plot, plots.histogram_plot, plots.accuracy_plot):
        assert _inside(plot, sized)
        for axis in ("left", "bottom"):
            assert len(_drawn_ticks(plot, axis)) >= 2, (plot, axis)


def test_the_confidence_plot_keeps_its_ticks_and_answers(sized):
    detail = sized.detail
    plot = detail.confidence_plot
    assert _inside(plot, detail)
    assert _drawn_ticks(plot, "left") == ["0", "0.5", "1"]
    exits = len(sized.controller.session.exits)
    bottom = _drawn_ticks(plot, "bottom")
    assert [text.split("\n")[0] for text in bottom] == [str(k + 1) for k in range(exits)]
    first = bottom[0].split("\n")[1]
    assert first.strip() and detail.detail.exit_labels[0].startswith(first.rstrip("…"))


def test_the_confidence_plot_needs_no_scrolling(sized):
    """The detail panel fits its scroll area's visible part down to the confidence plot's answers."""
    detail = sized.detail
    viewport = detail.parentWidget()
    plot = detail.confidence_plot
    shown = QRect(plot.mapTo(viewport, QPoint(0, 0)), plot.size())
    assert viewport.rect().contains(shown), (shown, viewport.rect())


def test_the_detail_header_is_not_cut(sized):
    detail = sized.detail
    name = detail.name
    assert _inside(name, detail) and detail.width() <= detail.parentWidget().width()
    assert name.width() >= name.fontMetrics().horizontalAdvance(name.text())
    path = sized.controller.session.records[sized.selected_row()].path
    assert name.text() == os.path.relpath(path, SAMPLES) and name.toolTip() == path  # whole, relative to the samples


def test_the_file_names_fit(sized):
    view = sized.results
    names = [record.name for record in sized.controller.session.records]
    assert _name_room(view) >= max(view.fontMetrics().horizontalAdvance(name) for name in names)


@pytest.mark.parametrize("dragged", [False, True])
def test_leaving_presentation_mode_restores_the_divider(qtbot, window, monkeypatch, dragged):
    classify_samples(qtbot, window)
    window.results.selectRow(0)
    _settled(qtbot, window, 1560, 960)
    if dragged:
        total = sum(window.panes.sizes())
        window.panes.setSizes([total - 400, 400])
        window.panes.splitterMoved.emit(total - 400, 1)  # what a drag of the handle reports
    before = window.panes.sizes()
    _present(window, monkeypatch, 1920, 1080)
    _settled(qtbot, window, 1920, 1080)
    assert window.panes.sizes() != before
    window.actions.presentation.trigger()
    _settled(qtbot, window, 1560, 960)
    assert window.panes.sizes() == before




def test_long_file_names_get_the_width_before_other_columns(qtbot, window, tmp_path):
    """Names longer than the table's sample ("t10k_00074 (copy).png") shrink the other columns to
    their content first; a name elided after all keeps its start and end."""
    sample = next((SAMPLES / "Coat").glob("*.png"))
    names = ["t10k_00074.png", "t10k_00074 (copy).png", "t10k_00075 (copy).png"]
    for name in names:
        shutil.copyfile(sample, tmp_path / name)
    drop(window, [tmp_path])
    wait_rows(qtbot, window, 3)
    wait_idle(qtbot, window)
    view = window.results
    _settled(qtbot, window, 1366, 768)
    assert _name_room(view) >= max(view.fontMetrics().horizontalAdvance(n) for n in names)
    _settled(qtbot, window, 1280, 720)
    widest = max(view.fontMetrics().horizontalAdvance(n) for n in names)
    if _name_room(view) < widest:  # then every other column is down to its content
        assert view.columnWidth(Column.CONFIDENCE) <= view.fontMetrics().horizontalAdvance("100.0%") + 16

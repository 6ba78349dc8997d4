"""The window on small screens: it fits a 720p projector or a 1366x768 laptop, the selected
image's path through the network stays in view, and presentation fonts follow the screen."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtWidgets import QApplication

from app_helpers import classify_samples


def _settled(qtbot, window, width: int, height: int) -> None:
    window.resize(width, height)
    qtbot.waitUntil(lambda: window.height() == height and sum(window.panes.sizes()) > 0.5 * height, timeout=5000)
    qtbot.wait(50)


def _bottom_in_view(widget, area) -> bool:
    """Whether ``widget``'s bottom edge shows in the scroll area (not scrolled past its foot)."""
    return widget.mapTo(area.viewport(), QPoint(0, widget.height())).y() <= area.viewport().height()


def test_presentation_scale_follows_the_screen_height():
    from app.theme import presentation_scale

    assert presentation_scale(1080) == pytest.approx(1.45)
    assert presentation_scale(2160) == pytest.approx(1.45)
    assert presentation_scale(900) == pytest.approx(1.45 * 900 / 1080)
    assert presentation_scale(720) == 1.0  # a 720p projector: normal fonts, the window still fits
    assert presentation_scale(None) == pytest.approx(1.45)


def test_presentation_mode_fonts_follow_the_screen(qtbot, window, monkeypatch):
    before = window.font().pointSizeF()
    real = window.screen()
    for screen_height, scale in ((1080, 1.45), (720, 1.0)):
        monkeypatch.setattr(real, "geometry", lambda h=screen_height: QRect(0, 0, 1920, h))
        window.actions.presentation.trigger()
        assert window.font().pointSizeF() == pytest.approx(before * scale)
        window.actions.presentation.trigger()
        assert window.font().pointSizeF() == pytest.approx(before)


def test_window_fits_a_720p_screen(window):
    hint = window.minimumSizeHint()
    assert hint.width() <= 1280 and hint.height() <= 680


@pytest.mark.parametrize("height", [680, 728])
def test_a_short_window_keeps_the_network_path_in_view(qtbot, window, height):
    from app.widgets.detail_panel import COMPACT_PREVIEW_PX

    classify_samples(qtbot, window)
    window.results.selectRow(0)
    _settled(qtbot, window, 1280, height)
    area = window.detail.parentWidget().parentWidget()
    assert window.detail.preview.width() == COMPACT_PREVIEW_PX
    assert window.detail.top.rows == 2
    assert _bottom_in_view(window.detail.diagram, area)
    # Never squeezed below what its parts need: what does not fit scrolls.
    assert window.detail.height() >= window.detail.minimumSizeHint().height()
    assert window.plots.height() >= window.plots.minimumSizeHint().height()


@pytest.mark.parametrize("width, height", [(1366, 768), (1440, 900)])
def test_a_laptop_screen_shows_the_whole_detail_panel(qtbot, window, width, height):
    """The diagram and the confidence plot with the answers under its exits, without scrolling."""
    classify_samples(qtbot, window)
    window.results.selectRow(0)
    _settled(qtbot, window, width, height)
    area = window.detail.parentWidget().parentWidget()
    assert _bottom_in_view(window.detail.confidence_plot, area)
    assert window.detail.height() <= area.viewport().height()


def test_a_tall_window_shows_everything_at_full_size(qtbot, window):
    from app.widgets.detail_panel import PREVIEW_PX

    _settled(qtbot, window, 1560, 1100)
    area = window.detail.parentWidget().parentWidget()
    assert window.detail.preview.width() == PREVIEW_PX
    assert window.detail.top.rows == 5
    assert _bottom_in_view(window.detail.confidence_plot, area)
    assert window.plots.height() == 260  # the plots' full share at normal font size


def test_the_divider_stays_where_the_user_put_it(qtbot, window):
    _settled(qtbot, window, 1560, 1000)
    total = sum(window.panes.sizes())
    window.panes.setSizes([total - 400, 400])
    window.panes.splitterMoved.emit(total - 400, 1)  # what a drag of the handle reports
    _settled(qtbot, window, 1560, 1020)
    assert window.plots.height() >= 395  # not pulled back to the default share


def test_figures_beside_the_plots_keep_their_large_font(window):
    value = window.plots.values["mflops"]
    assert value.font().bold()
    assert value.font().pointSizeF() == pytest.approx(1.5 * QApplication.instance().font().pointSizeF())


def test_large_labels_follow_presentation_mode(qtbot, window, monkeypatch):
    """F11 in a running window: the threshold, the figures and the predicted class grow with it."""
    monkeypatch.setattr(window.screen(), "geometry", lambda: QRect(0, 0, 1920, 1080))
    window.actions.presentation.trigger()
    text = QApplication.instance().font().pointSizeF()
    for label, scale in ((window.slider.title, 1.5), (window.slider.number, 1.5), (window.plots.values["ms"], 1.5),
                         (window.detail.prediction, 1.9)):
        assert label.font().bold()
        assert label.font().pointSizeF() == pytest.approx(scale * text, abs=0.01)  # the style sheet: 2 decimals
    window.actions.presentation.trigger()


def _name_room(view) -> int:
    """The pixels the Image column's painter leaves for the file name: 6 px margins, a square
    thumbnail as tall as the row less 6 px, 10 px gap."""
    from app.results_model import Column

    return view.columnWidth(Column.IMAGE) - view.verticalHeader().defaultSectionSize() - 16


def test_a_narrow_table_keeps_the_file_names_readable(qtbot, window):
    from app.results_model import Column

    view = window.results
    _settled(qtbot, window, 1280, 720)
    assert view.viewport().width() < 700  # narrow enough that the comfortable widths do not all fit
    assert _name_room(view) >= view.fontMetrics().horizontalAdvance("test_05967.png")
    assert view.columnWidth(Column.PREDICTION) >= view.fontMetrics().horizontalAdvance("Ankle boot")
    # A header squeezed to "Confid…" still says what its column means.
    tip = view.model().headerData(Column.CONFIDENCE, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert "threshold" in tip
    _settled(qtbot, window, 1900, 1000)
    assert view.columnWidth(Column.CONFIDENCE) >= view.fontMetrics().horizontalAdvance("Confidence") + 24


def test_a_column_the_user_sized_stays_so(qtbot, window):
    from app.results_model import Column

    view = window.results
    _settled(qtbot, window, 1560, 1000)
    view.horizontalHeader().resizeSection(Column.TRUTH, 300)  # what dragging a header edge does
    _settled(qtbot, window, 1280, 720)
    assert view.columnWidth(Column.TRUTH) == 300


def test_confidence_plot_stays_readable_on_a_presentation_screen(qtbot, window, monkeypatch):
    """At 1.45x fonts the plot keeps room for its 0, 0.5 and 1 ticks, and the threshold's name sits
    past the last exit instead of on the points."""
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QFontMetrics

    classify_samples(qtbot, window)
    window.results.selectRow(59)
    monkeypatch.setattr(window.screen(), "geometry", lambda: QRect(0, 0, 1920, 1080))
    window.actions.presentation.trigger()
    _settled(qtbot, window, 1920, 1080)
    plot = window.detail.confidence_plot
    box = plot.getViewBox()
    unit = box.mapViewToScene(QPointF(1, 0)).y() - box.mapViewToScene(QPointF(1, 1)).y()
    assert unit >= 3 * QFontMetrics(plot.getAxis("left").style["tickFont"]).height()
    label = window.detail.threshold_label
    assert label.isVisible() and label.pos().x() > len(window.controller.session.exits)
    assert label.pos().y() == pytest.approx(window.slider.value())
    window.actions.presentation.trigger()

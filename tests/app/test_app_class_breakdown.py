"""Exits by class: one bar per predicted class, split by the exit its images took, cheapest class
first, following the threshold."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app.widgets.class_breakdown import MAX_CLASSES
from app_helpers import classify_samples, wait_idle


def _move_to(chart, x: float, row: int) -> QPointF:
    """Where the chart shows (x %, row); the pointer moved there with a real event."""
    box = chart.plot.getViewBox()
    at = QPointF(chart.plot.mapFromScene(box.mapViewToScene(QPointF(x, row))))
    viewport = chart.plot.viewport()
    # A real move event through Qt (QTest.mouseMove does not reach a dialog's view offscreen).
    QApplication.sendEvent(viewport, QMouseEvent(QEvent.Type.MouseMove, at, viewport.mapToGlobal(at), Qt.MouseButton.NoButton,
                                                 Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier))
    return at


def _drawn(window) -> tuple[list[int], np.ndarray]:
    """The classes drawn, top to bottom, and each exit's segment widths (%) per row."""
    chart = window.class_breakdown
    widths = np.stack([np.asarray(bar.opts["width"], dtype=float) for bar in chart.bars], axis=1)
    return list(chart.classes), widths


def test_the_c_key_opens_it_and_it_follows_the_threshold(qtbot, window):
    classify_samples(qtbot, window)
    session = window.controller.session
    QTest.keyClick(window, Qt.Key.Key_C)
    assert window.class_breakdown.isVisible()
    for t, exit in ((0.0, 0), (1.0, session.k - 1), (float(np.median(session.conf[:60, 0])) + 1e-4, None)):
        window.slider.setValue(t)
        wait_idle(qtbot, window)
        counts = session.class_counts().exits
        classes, widths = _drawn(window)
        assert sorted(classes) == list(np.flatnonzero(counts.sum(1)))
        for row, c in enumerate(classes):
            np.testing.assert_allclose(widths[row], 100 * counts[c] / counts[c].sum())
        if exit is not None:  # everybody left at the first exit, then everybody ran the whole network
            assert (widths[:, exit] == 100).all()



def test_classes_are_ordered_by_their_mean_cost(qtbot, window):
    chart = window.class_breakdown
    exits = window.controller.loaded.exits
    k = len(exits)
    chart.set_model(exits, ["shirt", "trouser", "bag", "none"])
    counts = np.zeros((4, k), dtype=np.int64)
    counts[0, k - 1] = 3  # shirts all ran the whole network
    counts[1, 0] = 5  # trousers all left at the first exit
    counts[2, [0, k - 1]] = [1, 1]  # bags half and half
    chart.set_counts(counts)
    classes, widths = _drawn(window)
    assert classes == [1, 2, 0]  # trouser, bag, shirt; the class with no image is left out
    np.testing.assert_allclose(widths[1, [0, k - 1]], [50, 50])
    assert chart.row_labels[0] == f"trouser  {exits[0].flops / 1e6:.1f} MFLOPs"
    chart.highlight_class(2)  # the table lists the bags: the other rows dim
    alphas = [brush.color().alpha() for brush in chart.bars[0].opts["brushes"]]
    assert alphas == [70, 255, 70]


def test_hovering_a_segment_tells_its_count(qtbot, window):
    classify_samples(qtbot, window)
    window.slider.setValue(0.0)  # every image leaves at the first exit
    window.show_class_breakdown()
    chart = window.class_breakdown
    qtbot.waitExposed(chart)
    qtbot.wait(50)  # laid out: the view's mapping is final
    _move_to(chart, 50, 0)  # the top bar's middle
    counts = window.controller.session.class_counts().exits[chart.classes[0]]
    name = window.controller.session.categories[chart.classes[0]]
    size = window.controller.session.exits[0].flow_resolutions[-1]
    _, labelled, right = window.controller.session.class_counts()
    c = chart.classes[0]
    assert chart.plot.toolTip() == (f"{name}: {counts[0]} of {counts[0]} images (100%) left at exit 1 ({size}×{size}); "
                                    f"{right[c]} of {labelled[c]} labelled right; click to list the class")


def test_many_classes_show_those_with_the_most_images(qtbot, window):
    chart = window.class_breakdown
    exits = window.controller.loaded.exits
    chart.set_model(exits, [f"class {i}" for i in range(30)])
    counts = np.zeros((30, len(exits)), dtype=np.int64)
    counts[:, 0] = np.arange(1, 31)  # class i has i + 1 images
    chart.set_counts(counts)
    assert sorted(chart.classes) == list(range(30 - MAX_CLASSES, 30))
    assert f"{MAX_CLASSES} of 30 classes" in chart.note.text()


def test_clicking_a_class_lists_its_images(qtbot, window):
    from app.row_filter import predicted

    classify_samples(qtbot, window)
    window.show_class_breakdown()
    chart = window.class_breakdown
    qtbot.waitExposed(chart)
    qtbot.wait(50)
    top = int(chart.classes[0])
    at = _move_to(chart, 50, 0)
    QTest.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at.toPoint())
    qtbot.wait(20)
    assert window.filter_bar.current == predicted(top)
    model, session = window.controller.results, window.controller.session
    listed = {model.session_row(r) for r in range(model.rowCount())}
    assert listed == {r for r in range(60) if session.summary(r).class_index == top and not session.summary(r).pending}
    assert window.filter_bar.choice.currentText() == f"Predicted {session.categories[top]}"
    QTest.mouseClick(chart.plot.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at.toPoint())
    qtbot.wait(20)
    assert window.filter_bar.current is None and model.rowCount() == 60


def test_a_class_not_listed_is_added_when_chosen(qtbot, window):
    from app.row_filter import predicted
    from app.widgets.filter_bar import MAX_LISTED_CLASSES

    bar = window.filter_bar
    bar.set_model(window.controller.loaded.exits, [f"class {i}" for i in range(MAX_LISTED_CLASSES + 5)])
    assert bar.choice.findData(predicted(0)) < 0  # too many classes to list
    bar.choose(predicted(7))
    assert bar.current == predicted(7) and bar.choice.currentText() == "Predicted class 7"


def test_its_save_button_writes_the_chart_as_png(qtbot, window, tmp_path, monkeypatch):
    from PySide6.QtGui import QImage

    classify_samples(qtbot, window)
    window.show_class_breakdown()
    target = tmp_path / "out" / "chart.png"
    target.parent.mkdir()
    monkeypatch.setattr(window, "_save_path", lambda *_: str(target))  # the file dialog's answer
    QTest.mouseClick(window.class_breakdown.save_button, Qt.MouseButton.LeftButton)
    image = QImage(str(target))
    assert not image.isNull() and image.size() == window.class_breakdown.chart.size()
    assert [p.name for p in target.parent.iterdir()] == ["chart.png"]  # written atomically: no temporary file left

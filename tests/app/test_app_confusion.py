"""The confusion matrix: labels against answers at the exit taken, following the threshold; a click
on a cell lists its images."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from ranet import ExitResult, RANetConfig, exit_infos

from app.row_filter import confused, confused_pair
from app.session import Outcome, Session
from app.widgets.confusion_matrix import MAX_CLASSES
from app_helpers import classify_samples, wait_idle


def _result(conf: list[float], pred: list[int]) -> ExitResult:
    return ExitResult(pred[-1], "", conf[-1], len(conf), 0, [], conf, pred, [[(p, c)] for p, c in zip(pred, conf)],
                      complete=False)


def test_session_counts_decided_labelled_images_at_the_exit_taken():
    k = len(exit_infos(RANetConfig(), 32))
    session = Session(exit_infos(RANetConfig(), 32), [f"c{i}" for i in range(4)], thresholds=0.9)
    session.add([
        Outcome("/a/c1/x.png", "x.png", truth=1, result=_result([0.95], [1])),  # right at exit 1
        Outcome("/a/c2/y.png", "y.png", truth=2, result=_result([0.6] + [0.99] * (k - 1), [3] + [2] * (k - 1))),
        Outcome("/a/z.png", "z.png", result=_result([0.99], [0])),  # no label: not counted
        Outcome("/a/c0/w.png", "w.png", truth=0, error="not an image"),
        Outcome("/a/c3/v.png", "v.png", truth=3, result=_result([0.5], [3])),  # pending at 0.9
    ])
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[1, 1] = expected[2, 2] = 1  # y.png left at exit 2, where it is right
    np.testing.assert_array_equal(session.confusion(), expected)
    session.set_thresholds(0.0)  # everybody leaves at exit 1: y.png is answered c3 there, v.png decided
    expected[2, 2], expected[2, 3], expected[3, 3] = 0, 1, 1
    np.testing.assert_array_equal(session.confusion(), expected)
    assert list(np.flatnonzero(session.matching(confused(2, 3)))) == [1]
    assert confused_pair(confused(12, 3)) == (12, 3) and confused_pair("predicted:3") is None


def _cell_centre(view, truth: int, prediction: int) -> QPoint:
    return view.cell_rect(truth, prediction).center().toPoint()


def test_the_m_key_opens_it_and_a_cell_click_lists_its_images(qtbot, window):
    classify_samples(qtbot, window)
    session = window.controller.session
    QTest.keyClick(window, Qt.Key.Key_M)
    matrix = window.confusion
    assert matrix.isVisible()
    qtbot.waitExposed(matrix)
    for t in (0.0, 1.0):  # it follows the threshold
        window.slider.setValue(t)
        wait_idle(qtbot, window)
        full = session.confusion()
        np.testing.assert_array_equal(matrix.view.counts, full[np.ix_(matrix.view.classes, matrix.view.classes)])
        assert matrix.view.counts.sum() == full.sum() == 60
        assert f"<b>{np.trace(full)} of 60</b> labelled images right" in matrix.title.text()
    # The test model is untrained: click its fullest cell, whichever it is.
    truth, prediction = np.unravel_index(int(np.argmax(session.confusion())), session.confusion().shape)
    names = window.controller.loaded.model.meta.categories
    at = QPointF(_cell_centre(matrix.view, truth, prediction))
    QApplication.sendEvent(matrix.view, QMouseEvent(QEvent.Type.MouseMove, at, matrix.view.mapToGlobal(at),
                                                    Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                                    Qt.KeyboardModifier.NoModifier))
    count = int(session.confusion()[truth, prediction])
    assert matrix.view.toolTip().startswith(f"Labelled {names[truth]}, predicted {names[prediction]}: {count} image")
    QTest.mouseClick(matrix.view, Qt.MouseButton.LeftButton, pos=_cell_centre(matrix.view, truth, prediction))
    assert window.filter_bar.current == confused(truth, prediction)
    assert window.filter_bar.choice.currentText() == f"Labelled {names[truth]}, predicted {names[prediction]}"
    shown = window.controller.results.rowCount()
    assert shown == int(session.matching(confused(truth, prediction)).sum()) == int(session.confusion()[truth, prediction]) > 0
    assert matrix.view.highlight == (truth, prediction)
    QTest.mouseClick(matrix.view, Qt.MouseButton.LeftButton, pos=_cell_centre(matrix.view, truth, prediction))
    assert window.filter_bar.current is None and matrix.view.highlight is None  # a second click: all again


def test_the_filter_list_keeps_one_cell_at_a_time(qtbot, window):
    bar = window.filter_bar
    before = bar.choice.count()
    bar.choose(confused(1, 2))
    bar.choose(confused(3, 4))
    assert bar.choice.count() == before + 1 and bar.current == confused(3, 4)
    bar.choose(confused(1, 99))  # not a class of this model: back to every image
    assert bar.current is None


def test_many_classes_show_those_with_the_most_images_and_no_labels_say_so(qtbot, window):
    matrix = window.confusion
    categories = [f"class {i}" for i in range(30)]
    matrix.set_model(categories)
    assert "No labelled images" in matrix.note.text()
    counts = np.zeros((30, 30), dtype=np.int64)
    counts[np.arange(30), np.arange(30)] = np.arange(1, 31)  # class i has i + 1 images
    counts[0, 29] = 50  # class 0 is often taken for class 29
    matrix.set_counts(counts, "threshold 0.500")
    shown = list(matrix.view.classes)
    assert len(shown) == MAX_CLASSES and shown == sorted(shown)
    assert 0 in shown and 29 in shown and 1 not in shown
    assert f"{MAX_CLASSES} of 30 classes" in matrix.note.text()

"""The threshold: re-deciding from the cache, computing missing exits, plots, keys, speed."""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from app_helpers import SAMPLES, classify_samples, wait_idle, wait_rows


def _exits(window) -> list[int]:
    s = window.controller.session
    return [s.summary(r).exit for r in range(len(s))]


def test_slider_changes_exits_and_plots(qtbot, window):
    window.slider.setValue(0.0)
    window.load_samples()
    wait_rows(qtbot, window, 60)
    wait_idle(qtbot, window)  # the background fill computes every exit
    session = window.controller.session
    assert len(session.incomplete_rows()) == 0
    assert set(_exits(window)) == {0}  # threshold 0: everybody leaves at the first exit
    heights_before = list(window.plots.histogram.opts["height"])
    savings_before = window.plots.savings_point.getData()[1][0]
    detail_before = window.detail.diagram.state()

    # A threshold between the first exit's confidences: some leave, some go on.
    middle = float(np.median(session.conf[:60, 0]))
    window.slider.setValue(middle + 0.0005)
    exits = _exits(window)
    assert 0 in exits and max(exits) > 0
    assert list(window.plots.histogram.opts["height"]) != heights_before
    assert window.plots.savings_point.getData()[1][0] < savings_before
    window.slider.setValue(1.0)
    assert window.detail.diagram.state() != detail_before or detail_before[0] == len(session.exits) - 1
    qtbot.waitUntil(lambda: window.plots.savings_curve.getData()[0] is not None, timeout=5000)
    assert len(window.plots.savings_curve.getData()[0]) > 50  # the sweep over thresholds
    assert window.plots.accuracy_point.getData()[0].size == 1  # samples carry labels


def test_missing_exits_are_computed_when_the_slider_needs_them(qtbot, window):
    window.controller.fill_in_background = False
    window.slider.setValue(0.0)
    classify_samples(qtbot, window)
    session = window.controller.session
    assert len(session.incomplete_rows()) == 60  # true early exit: only exit 1 was run
    window.slider.setValue(1.0)
    assert len(session.pending_rows()) > 0  # shown as "computing" at once, without blocking
    qtbot.waitUntil(lambda: len(session.pending_rows()) == 0, timeout=60_000)
    assert set(_exits(window)) == {session.k - 1}


def test_plus_minus_keys_move_the_threshold(qtbot, window):
    window.slider.setValue(0.5)
    window.results.setFocus()
    QTest.keyClick(window.results, Qt.Key.Key_Plus)
    assert abs(window.slider.value() - 0.51) < 1e-9
    QTest.keyClick(window.results, Qt.Key.Key_Minus)
    QTest.keyClick(window.results, Qt.Key.Key_Minus)
    assert abs(window.slider.value() - 0.49) < 1e-9


def test_ten_thousand_rows_follow_the_slider(qtbot, window):
    """≥ 30 slider updates per second with 10,000 cached images, painting included."""
    from ranet import ExitResult

    from app.session import Outcome

    session = window.controller.session
    k = session.k
    rng = np.random.default_rng(0)
    sample = str(next((SAMPLES / "Bag").glob("*.png")))
    outcomes = []
    for i in range(10_000):
        conf = np.sort(rng.random(k)).tolist()
        pred = rng.integers(0, 10, k).tolist()
        outcomes.append(Outcome(sample, f"{i}.png", truth=i % 10, result=ExitResult(
            pred[-1], "", conf[-1], k, 0, [], conf, pred, [[(p, c)] for p, c in zip(pred, conf)], 1.0, True)))
    for start in range(0, 10_000, 1000):
        window.controller.add(outcomes[start:start + 1000])
    window.results.selectRow(3)
    qtbot.wait(50)

    # CPU time of this (the GUI) thread: what the app costs, whatever else the machine runs.
    times, walls = [], []
    for value in np.linspace(0.2, 0.9, 60):
        t, wall = time.thread_time(), time.perf_counter()
        window.slider.setValue(float(value))
        QApplication.processEvents()  # everything the event loop does after a move, painting included
        times.append(time.thread_time() - t)
        walls.append(time.perf_counter() - wall)
    rate = 1 / float(np.median(times))
    print(f"slider: {rate:.0f} updates/s of GUI-thread time ({1 / float(np.median(walls)):.0f}/s wall) "
          f"with {len(session)} images")
    assert rate >= 30, f"{rate:.0f} updates/s"

    t = time.thread_time()
    for value in np.linspace(0.1, 0.9, 200):
        session.set_thresholds(float(value))
    assert (time.thread_time() - t) / 200 < 0.005

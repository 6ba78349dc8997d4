"""The markers on the curves stand for the curves' images, also while exits are still missing."""

from __future__ import annotations

import numpy as np
import pytest

from ranet import ExitResult

from app.session import Outcome


def _outcome(i: int, conf: list[float], truth: int) -> Outcome:
    pred = [truth if c > 0.9 else (truth + 1) % 10 for c in conf]  # confident answers are right
    result = ExitResult(pred[-1], "", conf[-1], len(conf), 0, [], conf, pred, [[(p, c)] for p, c in zip(pred, conf)],
                        ms=1.0, complete=False)
    return Outcome(f"/c{truth}/{i}.png", f"{i}.png", truth=truth, result=result)


def _interpolated(item, threshold: float, thresholds: np.ndarray) -> float:
    return float(np.interp(threshold, thresholds, item.getData()[1]))


def test_markers_lie_on_the_curves_while_exits_are_missing(window):
    """What a cancelled folder leaves while its remaining exits are computed: the easy images left
    at exit 1 (their exit is known, the later ones not computed), the hard ones went to the end."""
    controller, plots = window.controller, window.plots
    controller.fill_in_background = False  # the remaining exits "still being computed"
    k = controller.session.k
    hard = [_outcome(i, [0.3] * (k - 1) + [0.5], i % 10) for i in range(20)]
    easy = [_outcome(i, [0.99], i % 10) for i in range(20, 60)]
    window.slider.setValue(0.86)
    controller.add(hard + easy)
    controller.curvesChanged.emit()
    thresholds = controller.session.curves().thresholds

    saved = plots.savings_point.getData()[1][0]
    assert saved == pytest.approx(_interpolated(plots.savings_curve, 0.86, thresholds), abs=1e-6)
    assert plots.accuracy_point.getData()[1][0] == pytest.approx(
        _interpolated(plots.accuracy_curve, 0.86, thresholds), abs=1e-6)
    assert plots.accuracy_point.getData()[0][0] == pytest.approx(
        float(np.interp(0.86, thresholds, plots.accuracy_curve.getData()[0])), abs=1e-6)
    assert plots.coverage_note.toPlainText() == "curves: 20 of 60 images"
    assert plots.values["savings"].text() != f"{saved:.1f} %"  # the figures: every decided image

    # The easy images' remaining exits arrive (as a completer's report would bring them): one set again.
    controller.session.fill(range(20, 60), [_outcome(i, [0.99] * k, i % 10).result for i in range(20, 60)])
    controller.curvesChanged.emit()
    assert plots.coverage_note.toPlainText() == ""
    assert plots.values["savings"].text() == f"{plots.savings_point.getData()[1][0]:.1f} %"

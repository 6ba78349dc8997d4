"""Calibrated budgets: the weights' per-exit thresholds decide the exits until the slider moves."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from app_helpers import classify_samples, wait_idle, wait_rows
from ranet import load_model
from ranet.weights import Budget, save_weights

NEVER = 1.1  # above any confidence: nobody leaves at that exit


@pytest.fixture
def budget_weights(tiny_weights, tmp_path):
    """The tiny model with two budgets: everyone at exit 1, and nobody at exit 1. The thresholds
    of the second are filled in by the test once it knows the confidences."""
    def write(second: list[float]):
        model = load_model(str(tiny_weights))
        k = len(model.meta.exit_flops)
        budgets = (Budget("25%", (0.0, *[NEVER] * (k - 2), float("-inf"))), Budget("60%", tuple(second)))
        return save_weights(tmp_path / "budgets.pt", replace(model.meta, budgets=budgets), model.state_dict(), half=False)
    return write


def _exits(window) -> list[int]:
    s = window.controller.session
    return [s.summary(r).exit for r in range(len(s))]


def _load(qtbot, window, path) -> None:
    previous = window.controller.loaded
    window.controller.load_model(str(path), "cpu")
    qtbot.waitUntil(lambda: window.controller.loaded is not previous, timeout=60_000)


def test_budget_thresholds_decide_until_the_slider_moves(qtbot, window, budget_weights, tmp_path):
    k = len(window.controller.loaded.exits)
    _load(qtbot, window, budget_weights([NEVER] * (k - 1) + [float("-inf")]))
    picker = window.budget_picker
    assert picker.isEnabled() and [picker.itemData(i) for i in range(picker.count())] == [None, "25%", "60%"]

    # Chosen before the images come: the classifying worker itself uses the budget.
    window.slider.setValue(0.99)  # the tiny model is never this confident: the slider would send all to the end
    window.controller.fill_in_background = False
    picker.activated.emit(1)
    assert window.controller.budget == "25%"
    classify_samples(qtbot, window)
    session = window.controller.session
    assert set(_exits(window)) == {0} and len(session.incomplete_rows()) == 60  # only exit 1 ran
    assert session.stats().mean_flops == session.exits[0].flops
    assert not window.plots.threshold_line.isVisible() and len(window.plots.savings_point.getData()[0]) == 0
    window.results.selectRow(0)
    assert len(window.detail.exit_thresholds.getData()[0]) == 2 * (k - 1)  # a dash per exit but the last

    # The second budget, with a real split at exit 2; the exits it needs are computed on demand.
    window.controller.fill_in_background = True
    picker.activated.emit(0)  # back to the slider (0.99): every image runs to the last exit
    assert window.controller.budget is None
    qtbot.waitUntil(lambda: len(window.controller.session.incomplete_rows()) == 0, timeout=60_000)
    conf2 = sorted(window.controller.session.conf[:60, 1].tolist())
    middle = (conf2[29] + conf2[30]) / 2
    _load(qtbot, window, budget_weights([NEVER, middle] + [NEVER] * (k - 3) + [float("-inf")]))
    wait_rows(qtbot, window, 60)
    wait_idle(qtbot, window)
    picker.activated.emit(2)
    qtbot.waitUntil(lambda: len(window.controller.session.pending_rows()) == 0, timeout=60_000)
    exits = _exits(window)
    assert exits.count(1) == 30 and exits.count(k - 1) == 30
    window.export_json(str(tmp_path / "r.json"))
    about = json.loads((tmp_path / "r.json").read_text())
    assert about["budget"] == "60%" and about["threshold"] is None
    assert about["thresholds"][1] == pytest.approx(middle, abs=1e-6) and about["thresholds"][-1] is None

    # The B key steps through the budgets, then back to the slider.
    window.results.setFocus()
    QTest.keyClick(window.results, Qt.Key.Key_B)
    assert window.controller.budget is None and picker.currentIndex() == 0
    QTest.keyClick(window.results, Qt.Key.Key_B)
    assert window.controller.budget == "25%" and picker.currentData() == "25%"

    # Moving the slider leaves the budget: one threshold for every exit again.
    window.slider.setValue(0.0)
    assert window.controller.budget is None and picker.currentIndex() == 0
    assert set(_exits(window)) == {0} and window.plots.threshold_line.isVisible()
    assert len(window.detail.exit_thresholds.getData()[0] or []) == 0


def test_a_model_without_budgets_disables_the_picker(qtbot, window, budget_weights, tiny_weights):
    k = len(window.controller.loaded.exits)
    _load(qtbot, window, budget_weights([NEVER] * (k - 1) + [float("-inf")]))
    window.budget_picker.activated.emit(1)
    assert not window.slider.title.styleSheet() == ""  # dimmed while the budget rules
    _load(qtbot, window, tiny_weights)
    assert window.controller.budget is None and not window.budget_picker.isEnabled()
    assert window.budget_picker.count() == 1 and window.slider.title.styleSheet() == ""
    assert not window.actions.next_budget.isEnabled()
    with pytest.raises(ValueError, match="no thresholds"):
        window.controller.set_budget("25%")


def test_start_with_a_budget(qtbot, window, budget_weights, tiny_weights):
    """``ranet-demo --budget 25``: applied once the model is in; a budget it lacks says so."""
    k = len(window.controller.loaded.exits)
    path = budget_weights([NEVER] * (k - 1) + [float("-inf")])
    previous = window.controller.loaded
    window.start(str(path), budget="25")
    qtbot.waitUntil(lambda: window.controller.loaded is not previous, timeout=60_000)
    assert window.controller.budget == "25%" and window.budget_picker.currentData() == "25%"
    previous = window.controller.loaded
    window.start(str(tiny_weights), budget="40%")
    qtbot.waitUntil(lambda: window.controller.loaded is not previous, timeout=60_000)
    assert window.controller.budget is None
    assert "no calibrated thresholds for a budget of '40%'" in window.statusBar().currentMessage()

"""The GUI thread runs no torch: workers load, classify and complete; the window decides, sorts,
filters and plots on numpy. Checked with a torch function mode, which sees every torch call made
on the thread that entered it (modes are per thread, so the workers' calls are not counted)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from torch.overrides import TorchFunctionMode

from app.results_model import Column
from app.row_filter import WRONG, confused, predicted
from app_helpers import classify_samples, wait_idle


class TorchCalls(TorchFunctionMode):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls.append(getattr(func, "__name__", repr(func)))
        return func(*args, **(kwargs or {}))


def test_the_gui_thread_runs_no_torch(qtbot, window):
    with TorchCalls() as seen:
        classify_samples(qtbot, window)
        for t in (0.0, 0.999, 0.5):
            window.slider.setValue(t)
            wait_idle(qtbot, window)
        budgets = list(window.controller.budgets())
        if budgets:
            window.controller.set_budget(budgets[0])
            wait_idle(qtbot, window)
        window.results.sortByColumn(Column.CONFIDENCE, Qt.SortOrder.AscendingOrder)
        window.filter_bar.choose(WRONG)
        window.filter_bar.choose(predicted(0))
        window.show_class_breakdown()
        window.show_confusion()
        window.filter_bar.choose(confused(0, 1))
        window.results.selectRow(0)
        window.controller.remove_selected()
        qtbot.wait(50)
    assert seen.calls == []


def test_the_check_sees_torch_on_this_thread():
    import torch

    with TorchCalls() as seen:
        torch.zeros(3).sum()
    assert "sum" in seen.calls

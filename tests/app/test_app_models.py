"""Switching models by drop and menu, errors in a dialog, the model card."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

from app_helpers import classify_samples, drop, wait_idle, wait_rows
from ranet import load_model, save_authors_checkpoint
from ranet.weights import Budget, OperatingPoint


@pytest.fixture
def warnings(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    return shown


def test_dropping_weights_switches_model_and_reclassifies(qtbot, window, tiny_weights, tmp_path):
    classify_samples(qtbot, window)
    first = window.controller.loaded
    other = tmp_path / "other.pt"
    shutil.copy(tiny_weights, other)
    drop(window, [other])
    qtbot.waitUntil(lambda: window.controller.loaded is not first, timeout=60_000)
    assert window.controller.loaded.source == str(other)
    wait_rows(qtbot, window, 60)  # the same images, classified again by the new model
    wait_idle(qtbot, window)
    assert window.controller.results.rowCount() == 60
    assert window.model_label.text() == "tiny test RANet"


def test_bad_model_keeps_the_previous_one(qtbot, window, tmp_path, warnings):
    first = window.controller.loaded
    bad = tmp_path / "garbage.pt"
    bad.write_bytes(b"\x00" * 100)
    window.load_model(str(bad))
    qtbot.waitUntil(lambda: bool(warnings), timeout=60_000)
    assert "garbage.pt" in warnings[0] and warnings[0].endswith("corrupt. The previous model is kept.")
    assert window.statusBar().currentMessage() == "Cannot load the model."  # the dialog has the whole text
    assert window.controller.loaded is first


def test_authors_run_folder_loads(qtbot, window, tiny_weights, tmp_path):
    model = load_model(tiny_weights, device="cpu")
    save_authors_checkpoint(tmp_path / "run" / "save_models" / "model_best.pth.tar", model)
    first = window.controller.loaded
    drop(window, [tmp_path / "run" / "save_models"])  # a folder with args.txt: a model, not images
    qtbot.waitUntil(lambda: window.controller.loaded is not first, timeout=60_000)
    assert window.controller.loaded.model.config == model.config
    assert window.controller.results.rowCount() == 0


def test_missing_default_weights_still_opens(qtbot, monkeypatch):
    from app.main_window import MainWindow

    monkeypatch.setattr("ranet.checkpoints.default_weights_path", lambda: Path("/nonexistent/w.pt"))
    w = MainWindow(device="cpu")
    qtbot.addWidget(w)
    w.show()
    w.start(None)
    qtbot.waitUntil(w.banner.isVisible, timeout=60_000)
    assert "missing" in w.banner.text() and "Load model" in w.banner.text()
    assert not w.actions.samples.isEnabled() and w.actions.load_model.isEnabled()
    w.controller.shutdown()


def test_model_card_renders_meta(window):
    from app.widgets import ModelCardDialog

    dialog = ModelCardDialog(window.controller.loaded, window)
    text = dialog.browser.toPlainText()
    assert "tiny test RANet" in text and "Ankle boot" in text and "random weights for tests" in text
    assert "MFLOPs" in text and "scale flow" in text and "running on cpu" in text.lower()
    rows = [line for line in text.splitlines() if line.strip().startswith(tuple("123456"))]
    assert len(rows) >= window.controller.loaded.model.num_exits


def test_model_card_dialog_shows_the_same_card_as_model_card_md(window):
    from app.widgets.model_card import model_card_markdown
    from ranet.card import model_card

    loaded = window.controller.loaded
    assert model_card_markdown(loaded).endswith(model_card(loaded.model.meta))


def _card_of(window, **changes) -> str:
    from ranet.card import model_card

    return model_card(replace(window.controller.loaded.model.meta, **changes))


def test_model_card_lists_the_lineage_of_warm_starts_and_averages_once_each(window):
    def run(name: str, digest: str, **recipe) -> dict:
        return {"weights": name, "sha256": digest * 64, "recipe": {"command": f"python -m ranet train --out {name}",
                                                                     **recipe}}

    first = run("first.pt", "a", epochs=6, lr=0.1)
    fine = run("fine.pt", "b", epochs=18, lr=0.02, init=first)
    recipe = {**window.controller.loaded.model.meta.recipe, "average": {"mix": 0.25, "parents": [first, fine]}}
    training, lineage = _card_of(window, recipe=recipe).split("## Training")[1].split("## Lineage")
    assert "{" not in training and "75% of `first.pt` and 25% of `fine.pt`" in training
    assert "75% `first.pt`" in lineage and "25% `fine.pt`" in lineage
    assert "6 epochs, lr 0.1" in lineage and "18 epochs, lr 0.02" in lineage
    assert lineage.count("--out first.pt") == 1 and "listed above" in lineage  # fine.pt's own parent


@pytest.mark.parametrize("recipe", [{"init": 5}, {"init": {"recipe": "x"}}, {"average": {"mix": "x"}},
                                    {"average": {"mix": 0.5, "parents": [1, None]}}, {"average": {"mix": 0.5}},
                                    {"evaluation": 3}])
def test_model_card_survives_a_malformed_lineage_in_a_crafted_file(window, recipe):
    k = window.controller.loaded.model.num_exits
    card = _card_of(window, recipe=recipe, budgets=(Budget("40%", (0.9,) * k),))
    assert "## Training" in card and "| 40% | – | – | – |" in card


def test_model_card_shows_what_each_budget_scored(window):
    k = window.controller.loaded.model.num_exits
    full = window.controller.loaded.exits[-1].flops
    thresholds = (0.99,) * (k - 1) + (float("-inf"),)
    scored = OperatingPoint(94.92, -0.12, 0.18, 0.4 * full, (1.0,) + (0.0,) * (k - 1), thresholds)
    card = _card_of(window, budgets=(Budget("40%", thresholds, "geometric", scored),))
    budgets = card.split("## Calibrated budgets")[1].split("## Training")[0]
    assert "| 40% | 94.92 | -0.12 ± 0.18 | " in budgets and "the paper's p^k shares" in budgets
    assert "0.9900" in budgets and ", -" in budgets  # the last exit takes every image left


def test_recent_models_reload_and_the_embedded_model_comes_back(qtbot, window, tiny_weights, tmp_path, warnings):
    other = tmp_path / "other.pt"
    shutil.copy(tiny_weights, other)
    window.load_model(str(other))
    qtbot.waitUntil(lambda: window.controller.loaded.source == str(other), timeout=60_000)
    assert window.settings.recent_models == [str(other), os.path.abspath(tiny_weights)]  # newest first
    entries = [a for a in window.recent_menu.actions() if not a.isSeparator()]
    assert [a.toolTip() for a in entries[:2]] == window.settings.recent_models
    assert entries[-1].text() == "Clear the list"
    first = window.controller.loaded
    entries[1].trigger()  # the first model again, from the menu
    qtbot.waitUntil(lambda: window.controller.loaded is not first, timeout=60_000)
    assert window.settings.recent_models == [os.path.abspath(tiny_weights), str(other)]
    other.unlink()
    window.open_recent(str(other))
    assert "is no longer there" in warnings[-1] and window.settings.recent_models == [os.path.abspath(tiny_weights)]
    window.actions.embedded_model.trigger()
    qtbot.waitUntil(lambda: window.controller.loaded.requested is None, timeout=60_000)
    assert window.controller.loaded.model.meta.name == load_model(None, device="cpu").meta.name
    assert window.settings.recent_models == [os.path.abspath(tiny_weights)]  # the embedded model is not listed
    [a for a in window.recent_menu.actions() if a.text() == "Clear the list"][0].trigger()
    assert window.settings.recent_models == [] and not window.recent_menu.isEnabled()

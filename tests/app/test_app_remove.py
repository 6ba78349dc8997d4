"""Removing an image: the rest keep their results, the counts and curves follow, the next image is
selected, and a classification under way goes on."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from ranet import ExitResult, RANetConfig, exit_infos

from app.row_filter import WRONG
from app.session import Outcome, Session
from app_helpers import classify_pasted_pixels, classify_samples, copied_folder, drop, wait_idle, wait_rows


def _outcomes(n: int, k: int) -> list[Outcome]:
    rng = np.random.default_rng(0)
    outcomes = []
    for i in range(n):
        computed = k if i % 3 else 1 + i % k  # some rows complete, some not
        conf = rng.uniform(0.2, 1.0, computed).tolist()
        pred = rng.integers(0, 4, computed).tolist()
        result = ExitResult(pred[-1], "", conf[-1], computed, 0, [], conf, pred,
                            [[(p, c)] for p, c in zip(pred, conf)], ms=1.0 + i)
        outcomes.append(Outcome(f"/d/c{i % 4}/img{i}.png", f"img{i}.png", truth=i % 4 if i % 5 else None,
                                error="broken" if i == 7 else None, result=None if i == 7 else result))
    return outcomes


def test_a_subset_is_the_session_of_those_images_alone():
    exits = exit_infos(RANetConfig(), 32)
    outcomes = _outcomes(40, len(exits))
    full = Session(exits, [f"c{i}" for i in range(4)], thresholds=0.7)
    full.add(outcomes)
    keep = [i for i in range(40) if i % 4 != 1]
    subset = full.subset(keep)
    alone = Session(exits, [f"c{i}" for i in range(4)], thresholds=0.7)
    alone.add([outcomes[i] for i in keep])
    assert subset.stats() == alone.stats()
    a, b = subset.curves(), alone.curves()
    assert a.images == b.images > 0
    for name in ("savings", "mflops", "accuracy", "exit_accuracy"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name))
    np.testing.assert_array_equal(subset.confusion(), alone.confusion())
    np.testing.assert_array_equal(subset.sort_key("name"), alone.sort_key("name"))
    np.testing.assert_array_equal(subset.matching(WRONG), alone.matching(WRONG))
    assert subset.export_rows() == alone.export_rows()
    subset.set_thresholds(0.95)
    alone.set_thresholds(0.95)
    np.testing.assert_array_equal(subset.pending_rows(), alone.pending_rows())


def test_delete_removes_the_selected_image_and_selects_the_next(qtbot, window):
    classify_samples(qtbot, window)
    model, session = window.controller.results, window.controller.session
    window.results.selectRow(5)
    gone, following = model.path_of(5), model.path_of(6)
    menu = window.results.row_menu(5)
    assert window.actions.remove_image in menu.actions()
    QTest.keyClick(window.results, Qt.Key.Key_Delete)
    assert model.images == model.rowCount() == 59
    assert gone not in [r.source for r in window.controller.session.records]
    assert window.controller.session is not session
    assert model.path_of(window.results.currentIndex().row()) == following
    assert window.detail.name.toolTip() == following
    wait_idle(qtbot, window)
    assert window.controller.session.curves().images == 59  # the curves follow
    assert window.filter_bar.count.text() == "" and window.controller.session.stats().images == 59


def test_removing_during_a_classification_keeps_the_rest_coming(qtbot, window, tmp_path):
    folder = copied_folder(tmp_path, "Coat", 1500)
    drop(window, [folder])
    wait_rows(qtbot, window, 20)
    assert window.controller.busy
    window.results.selectRow(0)
    window.controller.remove_selected()
    wait_idle(qtbot, window)
    assert window.controller.results.images == 1499
    assert len({r.source for r in window.controller.session.records}) == 1499
    assert len(window.controller.session.incomplete_rows()) == 0  # every exit computed, for the new rows


def test_removing_while_exits_are_completed_keeps_each_image_its_own_results(qtbot, window, tmp_path):
    """Completions in flight were for the old row numbers: stored in the renumbered rows they
    would give images another image's exits."""
    import os
    import shutil

    from app.workers import ClassifyWorker
    from app_helpers import SAMPLES

    samples = sorted(SAMPLES.glob("*/*.png"))
    for copy in range(6):  # the 60 samples six times over; neighbouring rows are different images
        for image in samples:
            target = tmp_path / "set" / str(copy) / image.parent.name / image.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(image, target)
    controller = window.controller
    window.slider.setValue(0.0)  # every image leaves at the first exit: the others are computed afterwards
    drop(window, [tmp_path / "set"])
    qtbot.waitUntil(lambda: controller.results.images == 360 and bool(controller._completers)
                    and not any(isinstance(w, ClassifyWorker) for w in controller.compute.workers), timeout=60_000)
    window.results.selectRow(0)
    window.controller.remove_selected()  # while the remaining exits are being computed
    wait_idle(qtbot, window)
    session = controller.session
    assert len(session) == 359 and len(session.incomplete_rows()) == 0
    by_image: dict[str, np.ndarray] = {}
    for row, record in enumerate(session.records):
        name = os.path.join(os.path.basename(os.path.dirname(record.source)), record.name)
        if name in by_image:
            np.testing.assert_array_equal(session.conf[row], by_image[name])
        by_image[name] = session.conf[row]


def test_removing_the_last_image_leaves_an_empty_list(qtbot, window):
    classify_pasted_pixels(qtbot, window)
    window.results.selectRow(0)
    window.actions.remove_image.trigger()
    assert window.controller.results.images == 0 and not window.actions.remove_image.isEnabled()
    assert window.detail.prediction.text() == "Drop images or folders here, or press Samples"
    assert window.results.placeholder() == window.results.EMPTY_TEXT

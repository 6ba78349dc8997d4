"""The cache: NaN for exits not computed, pending rows, fill, stats, re-deciding and sort keys."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ranet import ExitResult, RANetConfig, exit_infos

from app.row_filter import predicted
from app.session import Outcome, Session


def _result(conf: list[float], pred: list[int]) -> ExitResult:
    return ExitResult(pred[-1], "", conf[-1], len(conf), 0, [], conf, pred, [[(p, c)] for p, c in zip(pred, conf)],
                      ms=2.0, complete=False)


@pytest.fixture
def session() -> Session:
    return Session(exit_infos(RANetConfig(), 32), [f"c{i}" for i in range(10)], thresholds=0.5)


def test_pending_until_filled(session):
    k = session.k
    session.add([
        Outcome("/a/c1/x.png", "x.png", truth=1, result=_result([0.9], [1])),  # left at exit 1
        Outcome("/a/c2/y.png", "y.png", truth=2, result=_result([0.1, 0.6], [3, 2])),  # left at exit 2
        Outcome("/a/z.png", "z.png", error="not an image"),
    ])
    assert [session.summary(i).exit for i in range(2)] == [0, 1]
    assert len(session.pending_rows()) == 0
    changed = session.set_thresholds(0.95)  # both need exits never computed
    assert list(changed) == [0, 1] and list(session.pending_rows()) == [0, 1]
    stats = session.stats()
    assert stats.pending == 2 and stats.errors == 1 and stats.decided == 0
    session.fill([0, 1], [_result([0.9] + [0.99] * (k - 1), [1] * k), _result([0.1, 0.6] + [0.2] * (k - 2), [3, 2] + [2] * (k - 2))])
    assert len(session.pending_rows()) == 0
    assert session.summary(0).exit == 1 and session.summary(1).exit == k - 1
    stats = session.stats()
    assert stats.accuracy == 100.0 and stats.labelled == 2
    assert math.isclose(stats.mean_flops, (session.exits[1].flops + session.exits[-1].flops) / 2)
    assert len(session.incomplete_rows()) == 0
    curves = session.curves()
    assert curves.images == 2 and curves.accuracy is not None and curves.savings[0] > curves.savings[-1]
    rows = session.export_rows()
    assert rows[0]["correct"] is True and rows[2]["status"] == "error"


def test_ten_thousand_rows_rethreshold_row_by_row_right(session):
    """The vectorised re-decision agrees with the rule applied to each row by hand. (Its speed is
    measured by `ranet bench`, target under 5 ms for 10,000 rows.)"""
    rng = np.random.default_rng(0)
    k = session.k
    outcomes, confidences = [], []
    for i in range(10_000):
        n = int(rng.integers(1, k + 1))
        conf = rng.random(n).tolist()
        confidences.append(conf)
        outcomes.append(Outcome(f"/{i}.png", f"{i}.png", result=_result(conf, rng.integers(0, 10, n).tolist())))
    for start in range(0, 10_000, 64):
        session.add(outcomes[start:start + 64])
    for t in (0.0, 0.3, 0.77, 1.0):
        session.set_thresholds(t)
        for row in rng.choice(10_000, 300, replace=False):
            conf = np.asarray(confidences[row], dtype=np.float32)
            confident = [e for e, c in enumerate(conf) if c >= np.float32(t)]
            exit = confident[0] if confident else (k - 1 if len(conf) == k else None)
            s = session.summary(int(row))
            assert s.pending == (exit is None), (row, t)
            assert s.exit == (len(conf) - 1 if exit is None else exit), (row, t)


def test_sort_keys_follow_what_the_table_shows(session):
    session.categories = ["zebra", "Ant", "bee"] + session.categories[3:]
    session.add([
        Outcome("/a/img10.png", "img10.png", truth=0, result=_result([0.9], [0])),  # exit 1, zebra, right
        Outcome("/a/Img2.png", "Img2.png", truth=1, result=_result([0.2, 0.7], [2, 1])),  # exit 2, Ant
        Outcome("/a/bad.png", "bad.png", error="not an image"),
        Outcome("/a/img1.png", "img1.png", result=_result([0.3, 0.55], [1, 2])),  # exit 2, bee, no label
    ])
    nan = np.nan
    np.testing.assert_array_equal(session.sort_key("name"), [3, 2, 0, 1])  # natural and case-blind
    np.testing.assert_array_equal(session.sort_key("confidence"), np.float32([0.9, 0.7, nan, 0.55]))
    np.testing.assert_array_equal(session.sort_key("exit"), [0, 1, nan, 1])
    np.testing.assert_array_equal(session.sort_key("prediction"), [9, 0, nan, 1])  # Ant < bee < c3 … < zebra
    np.testing.assert_array_equal(session.sort_key("truth"), [9, 0, nan, nan])
    resolution = session.sort_key("resolution")
    assert resolution[0] == session.exits[0].flow_resolutions[-1] and np.isnan(resolution[2])
    session.set_thresholds(0.95)  # rows 0, 1 and 3 now wait for exits never computed
    np.testing.assert_array_equal(session.sort_key("exit"), [0.5, 1.5, nan, 1.5])  # "≥2" after the 1s
    with pytest.raises(ValueError, match="cannot sort"):
        session.sort_key("colour")


def test_one_threshold_per_exit(session):
    """A calibrated budget's thresholds: each exit compares its confidence with its own T_k."""
    k = session.k
    rising = [0.6, 0.7, 0.8, 0.85, 0.9, 0.95][:k]
    session.add([Outcome(f"/{i}.png", f"{i}.png", result=_result(rising, list(range(k)))) for i in range(2)])
    assert session.summary(0).exit == 0  # 0.6 ≥ the single threshold 0.5
    per_exit = [0.99, 0.99, 0.75, 0.5, 0.5, float("-inf")][:k]  # exits 1 and 2 refuse, exit 3 takes 0.8
    assert list(session.set_thresholds(per_exit)) == [0, 1]
    assert session.summary(1).exit == 2 and session.stats().mean_flops == session.exits[2].flops
    with pytest.raises(ValueError, match=f"expected {k} thresholds"):
        session.set_thresholds([0.5, 0.5])


def test_class_counts_count_decided_images_by_predicted_class_and_exit(session):
    k = session.k
    session.add([
        Outcome("/a.png", "a.png", result=_result([0.9], [3])),  # class 3 at exit 1
        Outcome("/b.png", "b.png", result=_result([0.9], [3])),
        Outcome("/c.png", "c.png", result=_result([0.1, 0.8], [3, 7])),  # class 7 at exit 2
        Outcome("/d.png", "d.png", error="not an image"),
        Outcome("/e.png", "e.png", result=_result([0.2], [1])),  # waits for exit 2: not decided
    ])
    counts = session.class_counts().exits
    assert counts.shape == (10, k) and counts.sum() == 3
    assert counts[3, 0] == 2 and counts[7, 1] == 1
    assert list(session.matching(predicted(3))) == [True, True, False, False, False]
    session.truth[:3] = [3, 5, 7]  # a and c right, b wrong
    _, labelled, right = session.class_counts()
    assert (labelled[3], right[3], labelled[7], right[7], labelled.sum()) == (2, 1, 1, 1, 3)
    assert list(session.matching(predicted(1))) == [False] * 5  # row 4 is still pending

"""The detail panel's confidence plot names each exit's answer where it changes."""

from __future__ import annotations

from PySide6.QtGui import QFontMetrics

from ranet import ExitResult, RANetConfig, exit_infos

from app.session import Outcome, Session
from app.widgets.detail_panel import DetailPanel


def _panel_showing(qtbot, preds: list[int], confs: list[float], categories: list[str], width: int = 900):
    config = RANetConfig()
    exits = exit_infos(config, 32)
    session = Session(exits, categories, thresholds=0.9)
    result = ExitResult(preds[-1], "", confs[-1], len(confs), 0, [], confs, preds,
                        [[(p, c)] for p, c in zip(preds, confs)], complete=False)
    session.add([Outcome("/x/a.png", "a.png", result=result)])
    panel = DetailPanel()
    qtbot.addWidget(panel)
    panel.resize(width, 700)
    panel.show()
    panel.set_model(config, exits)
    detail = session.detail(0)
    panel.show_detail(detail, 0.9)
    qtbot.wait(50)  # the plot's view box settles its size
    ticks = panel.confidence_plot.getAxis("bottom")._tickLevels[0]
    return panel, detail, [text.split("\n") for _, text in ticks]


def test_answers_are_named_under_the_exits_where_they_change(qtbot):
    categories = [f"class{i}" for i in range(10)]
    panel, detail, lines = _panel_showing(qtbot, [3, 2, 2, 5, 5], [0.5, 0.6, 0.7, 0.95, 0.99], categories)
    assert detail.exit_labels == ["class3", "class2", "class2", "class5", "class5"]
    assert detail.exit == 3  # 0.95 ≥ 0.9 at the fourth exit
    assert [number for number, _ in lines] == ["1", "2", "3", "4", "5", "6"]
    assert [answer.strip("\u00a0") for _, answer in lines] == ["class3", "class2", "", "class5", "", ""]
    tips = [spot.data() for spot in panel.confidence_points.points()]
    assert tips[1].startswith("exit 2: class2, 60.0% confident")
    assert "(the exit taken)" in tips[3] and sum("taken" in t for t in tips) == 1


def test_long_answers_are_shortened_to_their_room(qtbot):
    categories = ["a rather long category name that cannot fit"] + [f"c{i}" for i in range(9)]
    panel, _, lines = _panel_showing(qtbot, [0, 1], [0.2, 0.3], categories, width=420)
    metrics = QFontMetrics(panel.confidence_plot.getAxis("bottom").style["tickFont"])
    box = panel.confidence_plot.getViewBox()
    (left, right), _ = box.viewRange()
    room = box.width() / (right - left)
    first = lines[0][1]
    assert first.endswith("…") and metrics.horizontalAdvance(first) < room
    assert lines[1][1] == "c0"

"""CSV, JSON and PNG exports: complete, atomic, only where the user chose."""

from __future__ import annotations

import csv
import json

from app_helpers import SAMPLES, drop, wait_idle, wait_rows


def test_export_csv_json_and_plots(qtbot, window, tmp_path):
    images = sorted((SAMPLES / "Coat").glob("*.png"))[:4]
    broken = tmp_path / "in" / "broken.jpg"
    broken.parent.mkdir()
    broken.write_bytes(b"\xff\xd8 truncated")
    drop(window, [*images, broken])
    wait_rows(qtbot, window, 5)
    wait_idle(qtbot, window)
    out = tmp_path / "out"
    out.mkdir()
    window.export_csv(str(out / "r.csv"))
    window.export_json(str(out / "r.json"))
    window.save_plots(str(out / "plots.png"))
    assert sorted(p.name for p in out.iterdir()) == ["plots.png", "r.csv", "r.json"]  # no temporary files left
    assert sorted(p.name for p in broken.parent.iterdir()) == ["broken.jpg"]  # nothing written beside the images

    rows = list(csv.DictReader((out / "r.csv").open()))
    assert len(rows) == 5
    good = [r for r in rows if r["status"] == "ok"]
    assert len(good) == 4 and all(r["truth"] == "Coat" and r["correct"] in ("True", "False") for r in good)
    assert all(r["exit"] and r["flops"] and "x" in r["resolution_path"] for r in good)
    bad = [r for r in rows if r["status"] == "error"]
    assert bad[0]["path"] == str(broken) and bad[0]["error"]

    data = json.loads((out / "r.json").read_text())
    assert data["model"] == "tiny test RANet" and len(data["results"]) == 5
    first = next(r for r in data["results"] if r["status"] == "ok")
    assert isinstance(first["resolution_path"], list) and isinstance(first["exit"], int)
    assert len(first["exit_labels"]) == len(first["exit_confidences"]) >= first["exit"]
    assert first["exit_labels"][first["exit"] - 1] == first["label"]
    assert first["exit_confidences"][first["exit"] - 1] == first["confidence"]
    assert "exit_labels" not in rows[0]  # the CSV keeps its columns
    assert (out / "plots.png").stat().st_size > 1000


def test_export_error_is_a_message_not_a_traceback(qtbot, window, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append(text))
    window.load_samples()
    wait_rows(qtbot, window, 1)
    window.export_csv(str(tmp_path / "no" / "such" / "folder" / "r.csv"))
    assert shown and "r.csv" in shown[0]

"""``main --selftest``: one JSON line, exit code 0 only when everything worked."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from app.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_selftest_classifies_the_samples(tiny_weights, capsys, qapp):
    code = main(["--selftest", "--weights", str(tiny_weights), "--device", "cpu", "--threshold", "0.5"])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0 and report["ok"] is True
    assert report["images"] == 60 and report["errors"] == 0
    assert report["version"] == metadata.version("ranet-demo")
    for key in ("device", "model", "accuracy", "mean_exit", "mean_mflops"):
        assert key in report
    assert 1 <= report["mean_exit"] <= 6


def test_selftest_reports_a_missing_model(tmp_path, capsys, qapp):
    code = main(["--selftest", "--weights", str(tmp_path / "missing.pt")])
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code != 0 and report["ok"] is False and "missing.pt" in report["error"]


def test_window_modules_do_not_import_torch():
    """The window shows before torch is imported: the model loader pays for it."""
    code = "import sys, app.main, app.main_window; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False", out.stderr

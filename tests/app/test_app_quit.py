"""Quitting the real app while a folder is being classified: the process ends with code 0, no
traceback, and the settings saved on the way out."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.settings import SETTINGS_ENV
from app_helpers import copied_folder

ROOT = Path(__file__).resolve().parents[2]
# main.py with a timer that drops the folder once the model is loaded and presses Ctrl+Q (the Quit
# action) as soon as the first results are in, with the classification still running.
DRIVER = """
import sys
from PySide6.QtCore import QTimer
from app.main import main
from app.main_window import MainWindow

started = MainWindow.start

def start(window, *args, **kwargs):
    started(window, *args, **kwargs)
    def poll():
        controller = window.controller
        if controller.loaded is not None and controller.session is not None and not controller.busy:
            window.classify([sys.argv[1]])
        elif controller.session is not None and len(controller.session) and controller.busy:
            timer.stop()
            print("quitting", flush=True)
            window.actions.quit.trigger()
    timer = QTimer(window, interval=20, timeout=poll)
    timer.start()

MainWindow.start = start
sys.exit(main(["--weights", sys.argv[2], "--threshold", "0.42"]))
"""


def test_quit_while_classifying_exits_cleanly(tmp_path, tiny_weights, isolated_settings):
    copied_folder(tmp_path, "Coat", 1500)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8",
           SETTINGS_ENV: str(isolated_settings), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", DRIVER, str(tmp_path / "many"), str(tiny_weights)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "quitting", done.stderr[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr[-3000:]
    assert "threshold=0.42" in (isolated_settings / "ranet-demo.ini").read_text()

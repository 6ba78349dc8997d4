"""End to end through a real X server: the app in a window, a folder dropped on it from another
process (XDND), the threshold moved with the keyboard, the results exported through the file
dialog, the window closed as a window manager would close it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.main_window import MODEL_LOADED
from app.settings import DEFAULT_THRESHOLD
from app_helpers import SAMPLES
from x11_helpers import MISSING, close_window, find_window, xdotool, xvfb

pytestmark = pytest.mark.skipif(bool(MISSING), reason=f"needs {', '.join(MISSING)} (apt-get install xvfb xdotool)")

ROOT = Path(__file__).resolve().parents[2]
TITLE = "RANet: resolution"
KEY_PRESSES = 3  # "=" raises the threshold by 0.01


def _environment(tmp_path: Path, display: str) -> dict[str, str]:
    """A fresh HOME and nothing of this session's settings."""
    home, runtime = tmp_path / "home", tmp_path / "runtime"
    home.mkdir()
    runtime.mkdir(mode=0o700)
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "DISPLAY": display,
            "LANG": "C.UTF-8", "QT_QPA_PLATFORM": "xcb", "XDG_RUNTIME_DIR": str(runtime)}


class _Lines:
    """A process's stream, read as it comes; ``wait`` for a line containing some text."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        self._grew = threading.Condition()
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            with self._grew:
                self.lines.append(line)
                self._grew.notify_all()

    def wait(self, text: str, timeout: float) -> None:
        with self._grew:
            assert self._grew.wait_for(lambda: any(text in line for line in self.lines), timeout), "".join(self.lines)


def _drag(display: str, start: tuple[int, int], end: tuple[int, int], steps: int = 10) -> None:
    """Press in ``start``, move in ``steps`` to ``end`` and release there, as a hand would."""
    xdotool(display, "mousemove", "--sync", *map(str, start))
    xdotool(display, "mousedown", "1")
    time.sleep(0.3)  # the source starts its drag
    for i in range(1, steps + 1):
        xdotool(display, "mousemove", *(str(round(a + (b - a) * i / steps)) for a, b in zip(start, end)))
        time.sleep(0.05)
    time.sleep(0.3)
    xdotool(display, "mouseup", "1")


def _geometry(display: str, window: int) -> dict[str, int]:
    shell = xdotool(display, "getwindowgeometry", "--shell", str(window))
    return {key: int(value) for key, value in (line.split("=") for line in shell.splitlines())}


def _focus(display: str, window: int) -> None:
    """Keyboard focus to ``window``; Qt makes it the active window (shortcuts work) a moment later."""
    xdotool(display, "windowfocus", "--sync", str(window))
    time.sleep(0.3)


def _export(display: str, app: int, path: Path) -> dict:
    """Export › JSON through the app's own file dialog, typing ``path`` into it (the shortcut
    does nothing until the first results are in)."""
    for attempt in range(20):
        _focus(display, app)
        xdotool(display, "key", "--clearmodifiers", "ctrl+shift+e")
        try:
            dialog = find_window(display, "Export results", 1.5)
            break
        except TimeoutError:
            assert attempt < 19, "no export dialog"
    _focus(display, dialog)
    xdotool(display, "key", "ctrl+a")
    xdotool(display, "type", "--delay", "2", str(path))
    xdotool(display, "key", "Return")
    deadline = time.monotonic() + 10
    # Until the dialog is gone too: while it closes, X gives the keyboard focus to nobody.
    while (not path.is_file() or xdotool(display, "search", "--onlyvisible", "--name", "Export results")) \
            and time.monotonic() < deadline:
        time.sleep(0.1)
    return json.loads(path.read_text())


def _all_in(display: str, app: int, folder: Path, images: int, timeout: float) -> dict:
    """Export until every image has its exit at the threshold in force."""
    deadline = time.monotonic() + timeout
    while True:
        exported = _export(display, app, folder / f"results-{len(list(folder.iterdir()))}.json")
        rows = exported["results"]
        if len(rows) == images and all(row["status"] == "ok" for row in rows):
            return exported
        assert time.monotonic() < deadline, f"{len(rows)} of {images} images after {timeout} s"
        time.sleep(1)


def _decided_right(row: dict, threshold: float) -> bool:
    """The exit taken is the first whose confidence reaches the threshold, else the last computed."""
    confidences = row["exit_confidences"]
    taken = row["exit"] - 1
    return all(c < threshold for c in confidences[:taken]) and (confidences[taken] >= threshold or taken == len(confidences) - 1)


def test_drop_threshold_export_and_close(tmp_path):
    folder = tmp_path / "dropped"
    shutil.copytree(SAMPLES, folder)
    images = sum(1 for p in folder.rglob("*.png"))
    exports = tmp_path / "exports"
    exports.mkdir()
    with xvfb() as display:
        env = _environment(tmp_path, display)
        app = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        source, err = None, _Lines(app.stderr)
        try:
            window = find_window(display, TITLE, 30)
            err.wait(MODEL_LOADED, 30)  # a folder dropped before would be refused
            frame = _geometry(display, window)
            source = subprocess.Popen([sys.executable, str(Path(__file__).with_name("xdnd_source.py")), str(folder),
                                       str(frame["X"] + 40), str(frame["Y"] + 40)],
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            assert source.stdout.readline().strip() == "ready"
            find_window(display, "xdnd source", 10)
            target = (frame["X"] + frame["WIDTH"] // 3, frame["Y"] + frame["HEIGHT"] // 2)
            _drag(display, (frame["X"] + 120, frame["Y"] + 80), target)
            assert source.stdout.readline().strip() == "dropped CopyAction"

            before = _all_in(display, window, exports, images, 30)
            assert before["threshold"] == pytest.approx(DEFAULT_THRESHOLD)
            _focus(display, window)
            for _ in range(KEY_PRESSES):
                xdotool(display, "key", "equal")
            after = _all_in(display, window, exports, images, 20)
            threshold = after["threshold"]
            assert threshold == pytest.approx(DEFAULT_THRESHOLD + KEY_PRESSES * 0.01)
            assert {Path(row["path"]).parent.name for row in after["results"]} == {p.name for p in folder.iterdir()}
            assert all(_decided_right(row, threshold) for row in after["results"])
            assert all(row["correct"] == (row["label"] == row["truth"]) for row in after["results"])

            close_window(display, window)
            app.wait(15)
        finally:
            for process in (source, app):
                if process is not None and process.poll() is None:
                    process.kill()
                    process.wait()
    time.sleep(0.1)  # the reader takes the last lines
    stderr = "".join(err.lines)
    assert app.returncode == 0, stderr[-3000:]
    assert "Traceback" not in stderr, stderr[-3000:]

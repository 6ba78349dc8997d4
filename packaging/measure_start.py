"""Time a built app's start on an X display: until its window is mapped, and until the model is loaded.

    Xvfb :57 -screen 0 1920x1080x24 -nolisten tcp &
    DISPLAY=:57 python packaging/measure_start.py dist/RANetDemo [other/RANetDemo ...] --rounds 3

Each round starts every given build once, in turn (interleaved, so a busy machine slows all of
them alike), with a clean environment (``HOME`` a fresh folder, ``PATH=/usr/bin:/bin``) and the
bundle's own weights file passed as ``--weights``. The window counts as up when ``xdotool`` finds it
visible. The model counts as loaded when the app records it among its recent models: it does so
in the same slot that fills the status bar (``MainWindow._model_changed``), and ``RANET_DEMO_SETTINGS``
points that record at an ini file here. Prints each start and the median per build.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _window_visible(pid: int) -> bool:
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--pid", str(pid)], capture_output=True, text=True)
    return found.returncode == 0 and bool(found.stdout.strip())


def _cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) the process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_once(app: Path, timeout: float) -> tuple[float, float, float]:
    """Seconds from launch until the window is visible and until the model is loaded, and the CPU
    seconds the app had used by then (on a machine shared with other work, the wall times grow
    with the load; the CPU time much less)."""
    exe = app / "RANetDemo"
    weights = app / "_internal" / "weights" / "ranet_fashion_mnist.pt"
    with tempfile.TemporaryDirectory() as scratch:
        home, settings = Path(scratch) / "home", Path(scratch) / "settings"
        home.mkdir()
        ini = settings / "ranet-demo.ini"
        env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "DISPLAY": os.environ["DISPLAY"], "LANG": "C.UTF-8",
               "RANET_DEMO_SETTINGS": str(settings)}
        if "XAUTHORITY" in os.environ:
            env["XAUTHORITY"] = os.environ["XAUTHORITY"]
        start = time.perf_counter()
        log = open(Path(scratch) / "stderr.txt", "w+")
        proc = subprocess.Popen([str(exe), "--weights", str(weights)], env=env, cwd=scratch,
                                stdout=subprocess.DEVNULL, stderr=log)
        window = loaded = None
        try:
            while window is None or loaded is None:
                now = time.perf_counter() - start
                if now > timeout or proc.poll() is not None:
                    log.seek(0)
                    raise SystemExit(f"{app}: no window or no model after {now:.1f} s (exit {proc.poll()})\n"
                                     + log.read()[-2000:])
                if window is None and _window_visible(proc.pid):
                    window = time.perf_counter() - start
                if loaded is None and ini.is_file() and "recent_models" in ini.read_text(errors="replace"):
                    loaded = time.perf_counter() - start
                    cpu = _cpu_seconds(proc.pid)
                time.sleep(0.01)
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            log.close()
    return window, loaded, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("apps", nargs="+", type=Path, help="built app folders (dist/RANetDemo)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args(argv)
    if "DISPLAY" not in os.environ:
        raise SystemExit("measure_start: no DISPLAY; start Xvfb and set it")
    results: dict[Path, list[tuple[float, float, float]]] = {app: [] for app in args.apps}
    for round_ in range(1, args.rounds + 1):
        for app in args.apps:
            window, loaded, cpu = start_once(app, args.timeout)
            results[app].append((window, loaded, cpu))
            print(f"round {round_} {app}: window {window:.2f} s, model loaded {loaded:.2f} s "
                  f"(app CPU time by then {cpu:.2f} s)", flush=True)
    for app, times in results.items():
        print(f"{app}: median of {len(times)}: window {statistics.median(t[0] for t in times):.2f} s, "
              f"model loaded {statistics.median(t[1] for t in times):.2f} s, "
              f"both {statistics.median(max(t[:2]) for t in times):.2f} s, "
              f"CPU time {statistics.median(t[2] for t in times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Cold-start benchmark: ``python -m app.startup_bench [--packaged dist/RANetDemo] [--runs 5]``.

Each run is a fresh process with a fresh ``HOME`` (no settings, no log, no recent models); the
kinds of run take turns, so that a machine busy with other work slows all of them alike. Measured:

- ``load_model``: ``ranet.load_model()`` of the embedded model, timed inside a process that has
  already imported torch (target 0.5 s);
- ``app``: ``main.py`` from launch until it logs that the model is loaded, at the moment the
  status bar says so (target 4 s);
- ``packaged``: the same for the PyInstaller build (target 4 s).

The app runs on Qt's offscreen platform unless ``--platform xcb`` (then it needs ``DISPLAY``).
Prints every run, the medians and the load average before and after.
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
from typing import Callable

from .main_window import MODEL_LOADED

__all__ = ["main"]

ROOT = Path(__file__).resolve().parents[1]
LOAD_MODEL = ("import time, torch, ranet; start = time.perf_counter(); ranet.load_model(); "
              "print(time.perf_counter() - start)")


def _environment(home: str, platform: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("RANET_", "XDG_"))}
    return {**env, "HOME": home, "QT_QPA_PLATFORM": platform}


def time_load_model(home: str, platform: str) -> float:
    done = subprocess.run([sys.executable, "-c", LOAD_MODEL], cwd=ROOT, env=_environment(home, platform),
                          capture_output=True, text=True, check=True, timeout=300)
    return float(done.stdout.split()[-1])


def time_until_loaded(command: list[str], home: str, platform: str, timeout: float = 300.0) -> float:
    """Seconds from launching ``command`` until it logs that the model is loaded; then ends it."""
    start = time.perf_counter()
    app = subprocess.Popen(command, cwd=ROOT, env=_environment(home, platform), stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True)
    try:
        for line in app.stderr:
            if MODEL_LOADED in line:
                return time.perf_counter() - start
            if time.perf_counter() - start > timeout:
                break
        raise RuntimeError(f"{command[0]}: no '{MODEL_LOADED}' (exit {app.poll()})")
    finally:
        app.terminate()
        app.wait(30)


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.startup_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--packaged", type=Path, metavar="DIR", help="a PyInstaller build folder (dist/RANetDemo)")
    parser.add_argument("--platform", default="offscreen", help="Qt platform for the app (offscreen, xcb)")
    args = parser.parse_args(argv)
    kinds: dict[str, Callable[[str], float]] = {
        "load_model": lambda home: time_load_model(home, args.platform),
        "app": lambda home: time_until_loaded([sys.executable, str(ROOT / "main.py")], home, args.platform),
    }
    if args.packaged:
        exe = args.packaged.resolve() / "RANetDemo"
        kinds["packaged"] = lambda home: time_until_loaded([str(exe)], home, args.platform)
    print(f"load average before: {_load()}", flush=True)
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    for run in range(1, args.runs + 1):
        for kind, measure in kinds.items():
            with tempfile.TemporaryDirectory() as home:
                times[kind].append(measure(home))
            print(f"run {run} {kind}: {times[kind][-1]:.2f} s", flush=True)
    print(f"load average after: {_load()}")
    for kind, seconds in times.items():
        print(f"{kind}: median {statistics.median(seconds):.2f} s of {len(seconds)} "
              f"({', '.join(f'{s:.2f}' for s in seconds)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

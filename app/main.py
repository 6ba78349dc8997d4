"""``ranet-demo`` / ``python main.py``: the window, ``--selftest`` and ``--screenshot``.

The self-test is headless: it loads the model and classifies the bundled samples through the
same controller and workers as the window, then prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Callable, NoReturn, Sequence

from PySide6.QtCore import QEventLoop, QSettings, QStandardPaths
from PySide6.QtWidgets import QApplication, QMessageBox

from ranet.threads import limit_openmp_spinning

from .resources import app_version, samples_dir
from .settings import APPLICATION, DEFAULT_THRESHOLD, ORGANIZATION, Settings

__all__ = ["main"]

log = logging.getLogger("app")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ranet-demo", description="RANet early-exit demo: drop images, move the threshold")
    p.add_argument("--weights", metavar="PATH",
                   help="weights file, authors' checkpoint (.pth.tar) or run folder (default: the embedded model)")
    p.add_argument("--device", help="auto, cpu, cuda, cuda:1 or mps (default: the last one used, else auto)")
    p.add_argument("--threshold", type=float,
                   help=f"confidence threshold, 0 to 1 (default: the last one used; {DEFAULT_THRESHOLD} for --selftest)")
    p.add_argument("--budget", metavar="SHARE",
                   help="decide with the model's calibrated thresholds for this FLOPs budget, e.g. 40%% "
                        "(the weights' budgets: see the model card); moving the slider leaves it")
    p.add_argument("--presentation", action="store_true", help="start full screen with larger fonts")
    p.add_argument("--selftest", action="store_true",
                   help="headless: classify the bundled samples, print one JSON line, exit 0 when all is well")
    p.add_argument("--screenshot", metavar="PNG",
                   help="render the window with the samples classified into PNG, then quit")
    p.add_argument("--timeout", type=float, default=300.0, help=argparse.SUPPRESS)
    return p


def _application(headless: bool) -> QApplication:
    app = QApplication.instance()
    if app is None:
        if headless:
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QApplication(sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    return app


def _log_file() -> Path | None:
    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    if not folder:
        return None
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return Path(folder) / "ranet-demo.log"


def _for_the_terminal(record: logging.LogRecord) -> bool:
    """The app's own messages and every error; libraries' warnings (Python ``warnings`` included:
    torch's about pickle protocols) go to the log file only."""
    return record.name.split(".")[0] == log.name or record.levelno >= logging.ERROR


def _setup_logging() -> Path | None:
    """Log to the app's log file, and to stderr what :func:`_for_the_terminal` lets through."""
    handlers: list[logging.Handler] = []
    if sys.stderr:
        handlers.append(logging.StreamHandler(sys.stderr))
        handlers[0].addFilter(_for_the_terminal)
    path = _log_file()
    if path is not None:
        try:
            handlers.append(logging.FileHandler(path, encoding="utf-8"))
        except OSError:
            path = None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s",
                        handlers=handlers, force=True)
    logging.captureWarnings(True)
    return path


def _warn_about_known_bad_qt() -> None:
    """PySide6 6.12.0 loses references to None and True on Python < 3.12 (every signal emit,
    every QModelIndex.data() that returns nothing): the interpreter aborts after a while."""
    import PySide6

    if PySide6.__version__ == "6.12.0" and sys.version_info < (3, 12):
        log.warning("PySide6 6.12.0 on Python %d.%d has a reference-count bug that aborts long sessions; "
                    "install PySide6-Essentials 6.11.3 (or use Python 3.12+)", *sys.version_info[:2])


def install_excepthook(log_path: Path | None, interactive: bool = True) -> None:
    """An exception escaping a slot is logged and shown as one message, never as a traceback.
    Headless runs only log: a modal box would wait for nobody."""
    showing = False

    def hook(exc_type, exc, tb) -> None:
        nonlocal showing
        if issubclass(exc_type, KeyboardInterrupt):
            QApplication.quit()
            return
        log.error("unexpected error\n%s", "".join(traceback.format_exception(exc_type, exc, tb)))
        if not interactive or showing or QApplication.instance() is None:
            return
        showing = True
        where = f"\n\nDetails are in {log_path}." if log_path else ""
        try:
            QMessageBox.critical(QApplication.activeWindow(), "Unexpected error",
                                 f"Something went wrong: {exc_type.__name__}: {exc}{where}\n\nThe app keeps running.")
        finally:
            showing = False

    sys.excepthook = hook


def _wait_until(done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        QApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.005)
    return True


def selftest(args: argparse.Namespace) -> int:
    """Load, classify the samples with the window's workers, print one JSON line."""
    from .controller import Controller

    start = time.perf_counter()
    report: dict = {"ok": False, "version": app_version()}
    _application(headless=True)
    _setup_logging()
    # Not the remembered threshold: a self-test should give the same answer on every machine.
    controller = Controller(args.threshold if args.threshold is not None else DEFAULT_THRESHOLD)
    failures: list[str] = []
    controller.modelFailed.connect(failures.append)
    controller.errored.connect(failures.append)
    try:
        controller.load_model(args.weights, args.device or "auto")
        if not _wait_until(lambda: controller.loaded is not None or failures, args.timeout):
            failures.append("timed out loading the model")
        if controller.loaded is not None:
            worker = controller.classify([str(samples_dir())])
            finished: list[bool] = []
            worker.signals.finished.connect(lambda: finished.append(True))
            if not _wait_until(lambda: bool(finished), args.timeout):
                failures.append("timed out classifying the samples")
            stats = controller.session.stats()
            report.update(
                device=controller.loaded.device, model=controller.loaded.model.meta.name, images=stats.images,
                errors=stats.errors, threshold=controller.threshold,
                accuracy=round(stats.accuracy, 2) if stats.accuracy is not None else None,
                mean_exit=round(stats.mean_exit, 3), mean_mflops=round(stats.mean_flops / 1e6, 3),
                full_mflops=round(stats.full_flops / 1e6, 3), savings=round(stats.savings, 2),
                ms_per_image=round(stats.ms, 3),
            )
            if not stats.images:
                failures.append(f"no images found in {samples_dir()}")
            elif stats.errors:
                failures.append(f"{stats.errors} sample images could not be classified")
    except Exception as exc:  # the one line must come out whatever happened
        failures.append(f"{type(exc).__name__}: {exc}")
    finally:
        controller.shutdown()
    report["ok"] = not failures
    if failures:
        report["error"] = "; ".join(dict.fromkeys(failures))
    report["seconds"] = round(time.perf_counter() - start, 2)
    print(json.dumps(report), flush=True)
    return 0 if report["ok"] else (2 if controller.loaded is None else 1)


def screenshot(window, path: str, timeout_s: float) -> int:
    """Samples in, every exit computed, an image that went deep into the network selected (its
    whole path lit; one whose answer changed on the way first), window saved as PNG."""
    controller = window.controller
    if not _wait_until(lambda: controller.loaded is not None or window.banner.isVisible(), timeout_s):
        return 2
    window.load_samples()
    _wait_until(lambda: controller.session is not None and len(controller.session) > 0, timeout_s)
    _wait_until(lambda: not controller.busy, timeout_s)
    session = controller.session
    deep = [r for r in range(len(session)) if not session.summary(r).error and session.summary(r).exit >= session.k // 2]

    def story(row: int) -> tuple[bool, int]:
        detail = session.detail(row)
        return len(set(detail.exit_labels[:detail.exit + 1])) > 1, detail.exit

    window.results.selectRow(controller.results.view_row(max(deep, key=story)) if deep else 0)
    _wait_until(lambda: False, 0.5)  # thumbnails and the preview arrive
    ok = window.grab().save(path)
    print(path if ok else f"cannot write {path}", file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    limit_openmp_spinning()  # before the workers import torch
    args = _parser().parse_args(argv)
    if args.threshold is not None and not 0.0 <= args.threshold <= 1.0:
        print("ranet-demo: --threshold must be between 0 and 1", file=sys.stderr)
        return 2
    if args.selftest:
        return selftest(args)
    app = _application(headless=bool(args.screenshot))
    install_excepthook(_setup_logging(), interactive=not args.screenshot)
    _warn_about_known_bad_qt()
    from . import theme
    from .main_window import MainWindow

    theme.apply(app)
    scratch = tempfile.TemporaryDirectory() if args.screenshot else None  # a rendering changes no settings
    settings = Settings(QSettings(os.path.join(scratch.name, "settings.ini"), QSettings.Format.IniFormat)
                        if scratch else None)
    if args.threshold is not None:
        settings.threshold = args.threshold
    window = MainWindow(settings, device=args.device)
    if args.screenshot:
        window.resize(1560, 980)  # the documentation's size, whatever the (virtual) screen
    if args.presentation:
        window.actions.presentation.setChecked(True)
        window.set_presentation(True)  # fonts for this window's screen, then full screen
    else:
        window.show()
    window.start(args.weights, budget=args.budget)
    if args.screenshot:
        code = screenshot(window, args.screenshot, args.timeout)
        window.close()
        return code
    code = app.exec()
    if window.isVisible():  # the loop ended otherwise than by closing the window (Ctrl+C)
        window.close()
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """End the process at once. Closing the window saved the settings and stopped the workers, and
    the logs are flushed here: what remains is the interpreter's teardown, which frees every module
    (torch, sympy, Qt) and every cached row one by one, most of the time a quit took."""
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()
    os._exit(code)

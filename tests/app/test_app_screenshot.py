"""The whole window rendered with the samples: not blank, and the parts are drawn."""

from __future__ import annotations

from PySide6.QtGui import QImage

from app_helpers import classify_samples


def _distinct_colours(image: QImage, step: int = 7) -> int:
    return len({image.pixel(x, y) for x in range(0, image.width(), step) for y in range(0, image.height(), step)})


def test_window_screenshot_is_not_blank(qtbot, window, tmp_path):
    classify_samples(qtbot, window)
    window.results.selectRow(5)
    qtbot.waitUntil(lambda: window.detail.preview.pixmap() is not None and not window.detail.preview.pixmap().isNull(),
                    timeout=20_000)
    path = tmp_path / "window.png"
    assert window.grab().save(str(path))
    image = QImage(str(path))
    assert image.width() >= 1000 and image.height() >= 700
    assert _distinct_colours(image) > 200
    diagram = window.detail.diagram.grab().toImage()
    assert _distinct_colours(diagram, 3) > 20
    assert window.detail.diagram.state()[0] is not None


def test_screenshot_option_renders_the_window(tiny_weights, tmp_path, monkeypatch, qapp):
    """``--screenshot`` (how docs/screenshot.png is made) writes a PNG and remembers nothing."""
    import sys

    from app import main as app_main
    from app.settings import Settings

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    monkeypatch.setattr(app_main, "_log_file", lambda: tmp_path / "log.txt")
    out = tmp_path / "shot.png"
    code = app_main.main(["--screenshot", str(out), "--weights", str(tiny_weights), "--device", "cpu",
                          "--threshold", "0.3"])
    assert code == 0
    image = QImage(str(out))
    assert image.width() >= 1000 and _distinct_colours(image) > 200
    assert abs(Settings().threshold - 0.9) < 1e-9  # the user's settings are untouched

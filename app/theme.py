"""Dark theme, readable from a few metres, and the presentation mode's larger fonts.

One colour per scale flow (coarse to fine) is shared by the table, the diagram and the plots.
"""

from __future__ import annotations

from typing import Callable, Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication, QGraphicsItem, QWidget

__all__ = ["flow_color", "flow_path", "apply", "figure_font", "follow_font", "font_scale", "presentation_scale", "style_plot", "BACKGROUND", "PANEL", "TEXT", "MUTED", "GOOD", "BAD",
           "ACCENT", "GRID"]

BACKGROUND = "#15171b"
PANEL = "#1d2026"
RAISED = "#262a31"
TEXT = "#eceef1"
MUTED = "#9aa1ab"
GRID = "#3a3f48"
ACCENT = "#4fc3f7"
GOOD = "#66bb6a"
BAD = "#ff5c5c"
FLOW_COLORS = ["#4fc3f7", "#9ccc65", "#ffb74d", "#f06292", "#ba68c8", "#4db6ac"]  # coarse → fine

BASE_POINT_SIZE = 11
PRESENTATION_SCALE = 1.45  # on a screen 1080 pixels high, the common booth monitor
PRESENTATION_REFERENCE_HEIGHT = 1080


def flow_color(flow: int) -> QColor:
    return QColor(FLOW_COLORS[flow % len(FLOW_COLORS)])


def flow_path(flow_resolutions: Sequence[int]) -> str:
    """The scale flows an image ran through, as the window shows them: "8×8 → 16×16"."""
    return " → ".join(f"{r}×{r}" for r in flow_resolutions)


def font_scale(app: QApplication | None = None) -> float:
    """The current font size relative to the normal one (presentation mode is larger)."""
    app = app or QApplication.instance()
    return app.font().pointSizeF() / BASE_POINT_SIZE if app else 1.0


def presentation_scale(screen_height: int | None = None) -> float:
    """Presentation mode's font scale for a screen this many pixels high: 1.45 at 1080 or more,
    in proportion below that (1.21 at 900), and never smaller than the normal fonts (a 720p
    projector gets them), so that the whole window still fits on the screen."""
    if not screen_height:
        return PRESENTATION_SCALE
    return max(1.0, min(PRESENTATION_SCALE, PRESENTATION_SCALE * screen_height / PRESENTATION_REFERENCE_HEIGHT))


def apply(app: QApplication, presentation: bool = False, screen_height: int | None = None) -> None:
    """Install the palette, the fonts and the pyqtgraph defaults (call before building plots);
    ``screen_height`` sizes presentation mode's fonts (see :func:`presentation_scale`)."""
    app.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND, QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: PANEL, QPalette.ColorRole.AlternateBase: RAISED,
        QPalette.ColorRole.ToolTipBase: RAISED, QPalette.ColorRole.ToolTipText: TEXT,
        QPalette.ColorRole.Text: TEXT, QPalette.ColorRole.Button: RAISED, QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.BrightText: BAD, QPalette.ColorRole.Highlight: "#2f6f8f",
        QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.Link: ACCENT,
        QPalette.ColorRole.PlaceholderText: MUTED, QPalette.ColorRole.Mid: GRID, QPalette.ColorRole.Dark: "#0f1013",
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#5d636d"))
    app.setPalette(palette)
    font = QFont(app.font())
    font.setPointSizeF(BASE_POINT_SIZE * (presentation_scale(screen_height) if presentation else 1.0))
    app.setFont(font)
    figure = figure_font(font)
    app.setStyleSheet(f"""
        QToolBar {{ background: {PANEL}; border: none; border-bottom: 1px solid {GRID}; spacing: 4px; padding: 3px; }}
        QToolButton {{ padding: 4px 8px; border-radius: 4px; }}
        QToolButton:hover {{ background: {RAISED}; }}
        QToolButton:checked {{ background: #2f6f8f; }}
        QStatusBar {{ background: {PANEL}; border-top: 1px solid {GRID}; }}
        QStatusBar QLabel {{ padding: 0 8px; }}
        QHeaderView::section {{ background: {RAISED}; color: {MUTED}; border: none; padding: 4px 6px; }}
        QTableView {{ gridline-color: {GRID}; border: none; }}
        QSplitter::handle {{ background: {GRID}; }}
        QProgressBar {{ border: 1px solid {GRID}; border-radius: 3px; text-align: center; background: {BACKGROUND}; }}
        QProgressBar::chunk {{ background: {ACCENT}; }}
        QFrame#card {{ background: {PANEL}; border-radius: 6px; }}
        QLabel[role="muted"] {{ color: {MUTED}; }}
        /* Large labels by role: a widget's own setFont does not survive the app's font change (F11). */
        QLabel[role="figure"] {{ font-size: {figure.pointSizeF():.2f}pt; font-weight: bold; }}
        QLabel[role="headline"] {{ font-size: {font.pointSizeF() * 1.9:.2f}pt; font-weight: bold; }}
        QLabel[role="banner"] {{ background: #4a3b12; color: #ffe8a3; padding: 8px; border-radius: 4px; }}
    """)
    pg.setConfigOptions(antialias=True, background=PANEL, foreground=TEXT)


class _FontWatcher(QObject):
    def __init__(self, widget: QWidget, restyle: Callable[[], None]) -> None:
        super().__init__(widget)
        self._restyle = restyle
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FontChange:
            self._restyle()
        return False


def follow_font(widget: QWidget, restyle: Callable[[], None]) -> None:
    """Call ``restyle`` now and whenever ``widget``'s font changes (presentation mode): what a
    widget sizes or draws from its font (plots, fixed widths) must be redone then."""
    _FontWatcher(widget, restyle)
    restyle()


def figure_font(font: QFont) -> QFont:
    """The large bold font of labels with ``role="figure"`` (the threshold, the figures beside the
    plots), from the text font ``font``."""
    figure = QFont(font)
    figure.setPointSizeF(figure.pointSizeF() * 1.5)
    figure.setBold(True)
    return figure


def style_plot(plot: pg.PlotItem, title: str, x_label: str, y_label: str) -> None:
    """Axes and title in the app's font, scaled for presentation mode."""
    scale = font_scale()
    tick = QFont(QApplication.instance().font())
    tick.setPointSizeF(9.5 * scale)
    size = f"{10.5 * scale:.1f}pt"
    plot.setTitle(title, color=TEXT, size=f"{11.5 * scale:.1f}pt")
    for name, text in (("bottom", x_label), ("left", y_label)):
        axis = plot.getAxis(name)
        axis.setTickFont(tick)
        axis.setTextPen(pg.mkPen(MUTED))
        axis.setPen(pg.mkPen(GRID))
        axis.setLabel(text, color=MUTED, **{"font-size": size})
        # Axes redraw only when their range changes, not every time a point on the plot moves.
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    plot.showGrid(x=True, y=True, alpha=0.15)

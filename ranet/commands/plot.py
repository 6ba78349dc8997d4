"""The accuracy-against-cost figure of ``ranet evaluate --plot``, drawn with pyqtgraph offscreen."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a figure for a file: no window, also without a display

import pyqtgraph as pg  # noqa: E402
import pyqtgraph.exporters  # noqa: E402

__all__ = ["plot_accuracy_vs_flops"]


def plot_accuracy_vs_flops(report: dict, path: Path) -> None:
    """Accuracy against MFLOPs with pyqtgraph, rendered offscreen."""
    pg.mkQApp()
    pg.setConfigOptions(background="w", foreground="k", antialias=True)
    plot = pg.PlotWidget(title=f"{report['model']}: accuracy against cost")
    plot.resize(900, 600)
    plot.addLegend(offset=(-10, -10))
    plot.setLabel("bottom", "mean MFLOPs per image")
    plot.setLabel("left", "top-1 accuracy (%)")
    plot.showGrid(x=True, y=True, alpha=0.3)
    exits = report["exits"]
    plot.plot([e["flops"] / 1e6 for e in exits], [e["accuracy"] for e in exits], pen=pg.mkPen("#888", width=2),
              symbol="s", symbolBrush="#888", name="anytime (each exit)")
    dyn = sorted(report["dynamic"], key=lambda pt: pt["mean_flops"])
    plot.plot([p["mean_flops"] / 1e6 for p in dyn], [p["accuracy"] for p in dyn], pen=pg.mkPen("#d62728", width=2),
              symbol="o", symbolSize=5, symbolBrush="#d62728", name="budgeted batch (dynamic)")
    sweep = sorted(report["threshold_sweep"], key=lambda pt: pt["mean_flops"])
    plot.plot([p["mean_flops"] / 1e6 for p in sweep], [p["accuracy"] for p in sweep],
              pen=pg.mkPen("#1f77b4", width=2, style=pg.QtCore.Qt.PenStyle.DashLine), name="one global threshold")
    # Laid out only once shown (offscreen): otherwise the axis labels overlap the tick numbers.
    plot.show()
    pg.QtWidgets.QApplication.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    pyqtgraph.exporters.ImageExporter(plot.plotItem).export(str(path))

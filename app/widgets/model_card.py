"""The model card: ``model.meta`` rendered as a page (categories, per-exit cost and accuracy,
thresholds, recipe), the same facts the CLI prints."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from .. import theme

if TYPE_CHECKING:
    from ranet.weights import ModelMeta

    from ..workers import LoadedModel

__all__ = ["model_card_html", "ModelCardDialog"]


def _value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    if isinstance(v, (list, tuple)):
        return ", ".join(_value(x) for x in v)
    if isinstance(v, dict):  # e.g. the evaluation
        return _table(v)
    return escape(str(v))


def _table(d: dict) -> str:
    return "<table>" + "".join(f"<tr><td>{escape(str(k))}</td><td>{_value(v)}</td></tr>" for k, v in d.items()) + "</table>"


def _lineage_html(recipe: dict) -> str:
    """The runs the model descends from, newest first, an average's parents indented below it."""
    from ranet.weights import lineage, run_summary  # here: the window must show before torch is imported

    items = []
    for a in lineage(recipe):
        share = "" if a.share is None else f"{a.share:.0%} "
        what = ("listed above" if a.repeated else
                f"{escape(run_summary(a.recipe))}<br><code>{escape(a.recipe.get('command', '?'))}</code>")
        items.append(f"<p style='margin-left:{18 * a.depth}px'><b>{share}{escape(a.weights)}</b> "
                     f"<span style='color:{theme.MUTED}'>sha256 {a.sha256[:16]}…</span><br>{what}</p>")
    return "<h3>Lineage</h3>" + "".join(items) if items else ""


def _numbers(d: Any, *keys: str) -> list[float] | None:
    """``d[key]`` for each key when ``d`` is a dict and they are all numbers (files can be crafted)."""
    if not isinstance(d, dict) or not all(isinstance(d.get(k), (int, float)) for k in keys):
        return None
    return [float(d[k]) for k in keys]


def _budgets_html(meta: ModelMeta, full_flops: int) -> str:
    """Per calibrated budget: its thresholds and, when the weights record their evaluation, what
    it scored on the test set (accuracy, difference to the final exit, mean cost)."""
    if not meta.thresholds:
        return "<p>none stored</p>"
    evaluation = meta.recipe.get("evaluation") if isinstance(meta.recipe, dict) else None
    points = evaluation.get("budget_points") if isinstance(evaluation, dict) else None
    points = points if isinstance(points, dict) else {}
    rows = []
    for label, thresholds in meta.thresholds.items():
        pt = points.get(label)
        shown = ", ".join("–" if abs(t) == float("inf") else f"{t:.4f}" for t in thresholds)
        accuracy = _numbers(pt, "accuracy")
        vs_final = _numbers(pt, "vs_final", "vs_final_ci95")
        cost = _numbers(pt, "mean_flops")
        accuracy = f"{accuracy[0]:.2f} %" if accuracy else "–"
        vs_final = f"{vs_final[0]:+.2f} ± {vs_final[1]:.2f}" if vs_final else "–"
        cost = f"{cost[0] / 1e6:.2f} ({cost[0] / full_flops:.1%})" if cost else "–"
        rows.append(f"<tr><td>{escape(str(label))}</td><td align=right>{accuracy}</td><td align=right>{vs_final}</td>"
                    f"<td align=right>{cost}</td><td>{shown}</td></tr>")
    return ("<table><tr><th>budget</th><th>test top-1</th><th>vs final exit</th><th>mean MFLOPs</th>"
            f"<th>thresholds T_1..T_K</th></tr>{''.join(rows)}</table>"
            f"<p style='color:{theme.MUTED}'>Thresholds per share of the full network's FLOPs, calibrated on held-out "
            "images: the paper's geometric exit shares, or one threshold for every exit where that scored higher there "
            "(– : the last exit takes every image left); 'vs final exit' is the accuracy difference in points "
            "with its paired 95 % interval. Choose a budget in the list beside the slider (or press B).</p>")


def model_card_html(loaded: LoadedModel) -> str:
    meta, config, exits = loaded.model.meta, loaded.model.config, loaded.exits
    rows = []
    for e in exits:
        accuracy = (f"{meta.exit_accuracy[e.index]:.2f} %" if meta.exit_accuracy and e.index < len(meta.exit_accuracy)
                    else "–")
        colour, size = theme.flow_color(e.flow).name(), e.flow_resolutions[-1]
        rows.append(
            f"<tr><td>{e.index + 1}</td><td><span style='color:{colour}'>■</span> {size}×{size}</td>"
            f"<td>{e.resolution}×{e.resolution}</td><td align=right>{e.flops / 1e6:.2f}</td>"
            f"<td align=right>{e.params / 1e6:.3f}</td><td align=right>{accuracy}</td></tr>")
    own = {k: v for k, v in meta.recipe.items() if k not in ("init", "average")}  # those go under Lineage
    try:
        preprocessing = escape(meta.transform.description)
    except ValueError:
        preprocessing = escape(meta.preprocessing)
    return f"""
    <style>
      body {{ color: {theme.TEXT}; }}
      h2 {{ color: {theme.ACCENT}; margin-bottom: 2px; }}
      h3 {{ color: {theme.MUTED}; margin-top: 14px; }}
      th {{ color: {theme.MUTED}; text-align: left; padding: 2px 10px 2px 0; }}
      td {{ padding: 2px 10px 2px 0; }}
    </style>
    <h2>{escape(meta.name)}</h2>
    <p style='color:{theme.MUTED}'>{escape(meta.source or loaded.source)}<br>running on {escape(loaded.device)}</p>
    <p><b>{len(meta.categories)} categories:</b> {escape(', '.join(meta.categories[:40]))}{' …' if len(meta.categories) > 40 else ''}</p>
    <p><b>Input:</b> {meta.input_size}×{meta.input_size}; {preprocessing}</p>
    <p><b>Architecture:</b> {config.num_scales} scale flows (scale_list {list(config.scale_list)}, grFactor
       {list(config.grFactor)}), blocks per flow {config.blocks_per_flow}, {len(exits)} exits,
       {exits[-1].params / 1e6:.3f} M parameters, {exits[-1].flops / 1e6:.2f} MFLOPs for the full network</p>
    <h3>Exits</h3>
    <table><tr><th>exit</th><th>scale flow</th><th>features</th><th>MFLOPs</th><th>M params</th>
    <th>accuracy</th></tr>{''.join(rows)}</table>
    <p style='color:{theme.MUTED}'>MFLOPs and parameters are cumulative: everything run up to the exit.</p>
    <h3>Calibrated budgets</h3>
    {_budgets_html(meta, exits[-1].flops)}
    <h3>Recipe</h3>
    {_table(own) if own else '<p>not recorded</p>'}
    {_lineage_html(meta.recipe)}
    """


class ModelCardDialog(QDialog):
    def __init__(self, loaded: LoadedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Model card: {loaded.model.meta.name}")
        scale = theme.font_scale()
        self.resize(int(780 * scale), int(680 * scale))
        self.browser = QTextBrowser(self)
        self.browser.setOpenExternalLinks(True)
        self.browser.setHtml(model_card_html(loaded))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.browser)
        layout.addWidget(buttons)

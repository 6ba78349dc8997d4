"""Evaluation: every exit's prediction on a data set, the anytime table, the budgeted-batch curve
and the single-threshold sweep the app's slider uses."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import Tensor

from .config import RANetConfig
from .data import DataError, ImageSet
from .flops import exit_infos
from .model import RANet
from .policies import budgeted_thresholds, exits_for_thresholds, single_threshold_for_budget, thresholds_for_budget
from .transforms import Preprocessing, get_preprocessing
from .weights import ModelMeta, average_parents, lineage, run_summary, total_epochs

__all__ = ["ExitOutputs", "predict_exits", "anytime_table", "budgeted_curve", "threshold_sweep", "paired_difference",
           "calibrate_budget", "per_class"]

BUDGET_POINTS = [p / 20 for p in range(1, 40)]  # the paper's p = 1/20 ... 39/20


@dataclass
class ExitOutputs:
    """Per sample and exit: max-softmax confidence and predicted class, ``[N, K]`` each."""

    confidence: Tensor
    prediction: Tensor

    def correct(self, labels: Tensor) -> Tensor:
        return self.prediction == labels[:, None]


@torch.no_grad()
def predict_exits(model: RANet, data: ImageSet, prep: Preprocessing, batch_size: int = 500,
                  device: torch.device | str = "cpu") -> ExitOutputs:
    """Run every exit on every image (training tensors, prepared as in training)."""
    model.eval()
    conf, pred = [], []
    for start in range(0, len(data), batch_size):
        batch = prep.prepare_training_batch(data.images[start : start + batch_size])
        x = prep.normalize(batch.to(device))
        probs = torch.stack([logits.float().softmax(-1) for logits in model(x)], dim=1)  # [B, K, C]
        c, p = probs.max(-1)
        conf.append(c.cpu())
        pred.append(p.cpu())
    return ExitOutputs(torch.cat(conf), torch.cat(pred))


def anytime_table(outputs: ExitOutputs, labels: Tensor, flops: list[int]) -> list[dict]:
    acc = outputs.correct(labels).float().mean(0).mul(100)
    return [{"exit": k + 1, "accuracy": round(float(acc[k]), 2), "flops": flops[k]} for k in range(len(flops))]


def paired_difference(correct: Tensor, reference: Tensor) -> tuple[float, float]:
    """Accuracy of ``correct`` minus that of ``reference`` on the same images, in points, with the
    half-width of its 95 % interval (normal approximation of the paired per-image differences).
    Paired, because both decide the same images: most agree, so the interval is narrower than
    either accuracy's own."""
    d = correct.double() - reference.double()
    half = 1.96 * float(d.std()) / len(d) ** 0.5 if len(d) > 1 else float("nan")
    return float(d.mean()) * 100, half * 100


def _correct_at(outputs: ExitOutputs, labels: Tensor, thresholds: list[float]) -> tuple[Tensor, Tensor]:
    """Each sample's exit at ``thresholds`` and whether its answer there is right."""
    exits = exits_for_thresholds(outputs.confidence, thresholds)
    return exits, outputs.correct(labels).gather(1, exits[:, None])[:, 0]


def _operating_point(outputs: ExitOutputs, labels: Tensor, flops: list[int], thresholds: list[float]) -> dict:
    exits, correct = _correct_at(outputs, labels, thresholds)
    every = outputs.correct(labels)
    cost = torch.tensor(flops, dtype=torch.float64)[exits]
    counts = torch.bincount(exits, minlength=len(flops))
    difference, half = paired_difference(correct, every[:, -1])
    return {
        "accuracy": round(float(correct.float().mean()) * 100, 2),
        "vs_final": round(difference, 2), "vs_final_ci95": round(half, 2),
        "mean_flops": round(float(cost.mean()), 1),
        "exit_share": [round(float(c) / len(exits), 4) for c in counts],
        "thresholds": [round(float(t), 6) for t in thresholds],
    }


def budgeted_curve(val: ExitOutputs, test: ExitOutputs, test_labels: Tensor, flops: list[int]) -> list[dict]:
    """The paper's budgeted batch classification: thresholds from ``val``, measured on ``test``."""
    points = []
    for p in BUDGET_POINTS:
        thresholds = budgeted_thresholds(val.confidence, p)
        points.append({"p": p, **_operating_point(test, test_labels, flops, thresholds)})
    return points


def threshold_sweep(outputs: ExitOutputs, labels: Tensor, flops: list[int], steps: int = 101) -> list[dict]:
    """One global confidence threshold for every exit, from 0 to 1 (what the app's slider does)."""
    k = len(flops)
    return [
        {"threshold": round(t, 4), **_operating_point(outputs, labels, flops, [t] * k)}
        for t in (i / (steps - 1) for i in range(steps))
    ]


def per_class(outputs: ExitOutputs, labels: Tensor, flops: list[int], budgets: dict[str, list[float]],
              names: list[str]) -> list[dict]:
    """For each class of the test images: its final exit's accuracy and, at each budget's
    thresholds, its accuracy and mean cost (RANet's story: some classes are settled cheaply)."""
    cost = torch.tensor(flops, dtype=torch.float64)
    final = outputs.correct(labels)[:, -1]
    at = {label: _correct_at(outputs, labels, t) for label, t in budgets.items()}
    rows = []
    for c, name in enumerate(names):
        mask = labels == c
        if not bool(mask.any()):
            continue
        rows.append({
            "class": c, "name": name, "images": int(mask.sum()),
            "final_accuracy": round(float(final[mask].double().mean()) * 100, 2),
            "budgets": {label: {"accuracy": round(float(right[mask].double().mean()) * 100, 2),
                                "mean_flops": round(float(cost[exits[mask]].mean()), 1)}
                        for label, (exits, right) in at.items()},
        })
    return rows


CALIBRATIONS = {"geometric": "the paper's p^k shares", "single": "one threshold for every exit"}


def calibrate_budget(val: ExitOutputs, val_labels: Tensor, flops: list[int], mean_flops: float) -> tuple[list[float], str]:
    """Thresholds for a FLOPs budget from the validation split, and which family they come from
    (a key of ``CALIBRATIONS``): the paper's geometric exit shares, or one threshold for every exit
    (the app's slider) where that scores higher on the validation images. Ties keep the paper's."""
    geometric = thresholds_for_budget(val.confidence, flops, mean_flops)
    single = single_threshold_for_budget(val.confidence, flops, mean_flops)
    right = [int(_correct_at(val, val_labels, t)[1].sum()) for t in (geometric, single)]
    return (single, "single") if right[1] > right[0] else (geometric, "geometric")


# -- the ``ranet evaluate`` command ---------------------------------------------------------------

BUDGET_FRACTIONS = (0.25, 0.4, 0.6)  # calibrated thresholds shipped for these shares of full FLOPs


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="weights file or authors' checkpoint (default: embedded model)")
    p.add_argument("--config", help="an authors' args.txt")
    p.add_argument("--data", default="fashion-mnist", choices=["fashion-mnist", "cifar10", "cifar100", "folder"])
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--limit", type=int, default=0, help="only the first N test and validation images (smoke tests)")
    p.add_argument("--plot", metavar="FILE.png", help="accuracy against MFLOPs, like the paper's figures")
    p.add_argument("--write-card", action="store_true",
                   help="store per-exit accuracy and calibrated thresholds in the weights file and write "
                        "MODEL_CARD.md beside it")


def _dynamic_target(anytime: list[dict], curve: list[dict], sweep: list[dict], full_flops: int) -> dict:
    """The cheapest point within 0.1 point of the final exit, on the budgeted-batch curve and on the
    single-threshold sweep."""
    final = anytime[-1]["accuracy"]

    def cheapest(points: list[dict]) -> dict | None:
        ok = [pt for pt in points if pt["accuracy"] >= final - 0.1]
        return min(ok, key=lambda pt: pt["mean_flops"]) if ok else None

    best, single = cheapest(curve), cheapest(sweep)
    return {"final_accuracy": final, "matching_point": best,
            "flops_share": round(best["mean_flops"] / full_flops, 4) if best else None,
            "sweep_matching_point": single,
            "sweep_flops_share": round(single["mean_flops"] / full_flops, 4) if single else None}


def run(args: argparse.Namespace) -> int:
    from .checkpoints import load_model
    from .data import load_dataset, train_val_split
    from .weights import save_weights

    if args.batch_size < 1:
        raise DataError("--batch-size must be at least 1")
    model = load_model(args.weights, config=args.config, device=args.device)
    device = next(model.parameters()).device
    meta, prep = model.meta, model.transform
    flops = meta.exit_flops
    seed = int(meta.recipe.get("seed", 0) or 0)
    test = load_dataset(args.data, args.data_root, "test", prep.input_size)
    _, val = train_val_split(load_dataset(args.data, args.data_root, "train", prep.input_size), seed=seed)
    if args.limit:
        test, val = test.subset(torch.arange(min(args.limit, len(test)))), val.subset(torch.arange(min(args.limit, len(val))))
    if len(test.classes) != len(meta.categories):
        raise DataError(f"the data set has {len(test.classes)} classes, the model {len(meta.categories)}")
    start = time.perf_counter()
    test_out = predict_exits(model, test, prep, args.batch_size, device)
    val_out = predict_exits(model, val, prep, args.batch_size, device)
    seconds = time.perf_counter() - start
    anytime = anytime_table(test_out, test.labels, flops)
    curve = budgeted_curve(val_out, test_out, test.labels, flops)
    sweep = threshold_sweep(test_out, test.labels, flops)
    calibrated = {f"{round(f * 100)}%": calibrate_budget(val_out, val.labels, flops, f * flops[-1])
                  for f in BUDGET_FRACTIONS}
    budgets = {label: t for label, (t, _) in calibrated.items()}
    budget_points = {label: {**_operating_point(test_out, test.labels, flops, t), "calibration": family}
                     for label, (t, family) in calibrated.items()}
    report = {
        "model": meta.name, "data": args.data, "test_images": len(test), "val_images": len(val),
        "exits": anytime, "full_flops": flops[-1], "dynamic": curve, "threshold_sweep": sweep,
        "budgets": budget_points, "target": _dynamic_target(anytime, curve, sweep, flops[-1]),
        "per_class": per_class(test_out, test.labels, flops, budgets, meta.categories),
        "seconds": round(seconds, 1), "device": str(device),
    }
    if args.plot:
        _plot(report, Path(args.plot))
    if args.write_card:
        source = Path(meta.source)
        meta.exit_accuracy = [row["accuracy"] for row in anytime]
        meta.thresholds = {label: [round(t, 6) if abs(t) != float("inf") else t for t in ts] for label, ts in budgets.items()}
        meta.recipe = {**meta.recipe, "evaluation": {
            "command": args.command_line,
            "test_images": len(test), "budget_points": budget_points, "target": report["target"],
            "torch": str(torch.__version__)}}
        save_weights(source, model.config, model.state_dict(), meta)
        (source.parent / "MODEL_CARD.md").write_text(render_model_card(meta, model.config, report))
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{meta.name} on {len(test)} {args.data} test images ({seconds:.1f} s on {device})")
        print(f"{'exit':>4} {'MFLOPs':>8} {'top-1 %':>8}")
        for row in anytime:
            print(f"{row['exit']:>4} {row['flops'] / 1e6:>8.2f} {row['accuracy']:>8.2f}")
        tgt = report["target"]
        if tgt["matching_point"]:
            pt = tgt["matching_point"]
            print(f"dynamic (budgeted batch): {pt['accuracy']:.2f}% at {pt['mean_flops'] / 1e6:.2f} MFLOPs "
                  f"= {tgt['flops_share'] * 100:.1f}% of the full network (final exit {tgt['final_accuracy']:.2f}%; "
                  f"{_vs_final(pt)})")
        if tgt["sweep_matching_point"]:
            pt = tgt["sweep_matching_point"]
            print(f"dynamic (one threshold {pt['thresholds'][0]:g}): {pt['accuracy']:.2f}% at "
                  f"{pt['mean_flops'] / 1e6:.2f} MFLOPs = {tgt['sweep_flops_share'] * 100:.1f}% ({_vs_final(pt)})")
        for label, pt in budget_points.items():
            print(f"budget {label:>4}: {pt['accuracy']:.2f}% at {pt['mean_flops'] / 1e6:.2f} MFLOPs ({_vs_final(pt)}; "
                  f"{CALIBRATIONS[pt['calibration']]})")
    return 0


def _difference(point: dict) -> str:
    """A point's accuracy minus the final exit's, with its paired 95 % half-width: "-0.12 ± 0.18"."""
    return f"{point['vs_final']:+.2f} ± {point['vs_final_ci95']:.2f}"


def _vs_final(point: dict) -> str:
    return f"{_difference(point)} points vs the final exit, paired 95 %"


def render_model_card(meta: ModelMeta, config: RANetConfig, report: dict) -> str:
    """Markdown model card from the weights' metadata and an evaluation report."""
    r = meta.recipe
    parents = average_parents(r)
    lines = [
        f"# Model card: {meta.name}", "",
        "Generated by `python -m ranet evaluate --write-card`; every number below was measured by the project's "
        f"own {'`train`, `average`' if parents else '`train`'} and `evaluate` commands.", "",
        "## Categories", "", ", ".join(meta.categories), "",
        "## Preprocessing", "", get_preprocessing(meta.preprocessing).description, "",
        f"## Per exit ({report['test_images']} test images)", "",
        "| exit | scale flow | MFLOPs | params (M) | top-1 % |", "|---:|---:|---:|---:|---:|",
    ]
    infos = exit_infos(config, meta.input_size)
    for k, row in enumerate(report["exits"]):
        lines.append(f"| {row['exit']} | {infos[k].flow} ({infos[k].resolution_path[-1]}) | {row['flops'] / 1e6:.2f} | {meta.exit_params[k] / 1e6:.3f} | {row['accuracy']:.2f} |")
    tgt = report["target"]
    lines += ["", "## Dynamic inference", ""]
    if tgt["matching_point"]:
        pt = tgt["matching_point"]
        lines.append(f"Budgeted batch (thresholds from the {report['val_images']} validation images): "
                     f"{pt['accuracy']:.2f}% at {pt['mean_flops'] / 1e6:.2f} MFLOPs, "
                     f"{tgt['flops_share'] * 100:.1f}% of the full network's {report['full_flops'] / 1e6:.2f} MFLOPs "
                     f"(final exit alone: {tgt['final_accuracy']:.2f}%; {_vs_final(pt)}).")
    if tgt.get("sweep_matching_point"):
        pt = tgt["sweep_matching_point"]
        lines += ["", f"One threshold for every exit (the app's slider, swept from 0 to 1 in steps of 0.01 on the test "
                      f"images): first within 0.1 point of the final exit at {pt['thresholds'][0]:g}, "
                      f"{pt['accuracy']:.2f}% at {pt['mean_flops'] / 1e6:.2f} MFLOPs, "
                      f"{tgt['sweep_flops_share'] * 100:.1f}% of the full network ({_vs_final(pt)})."]
    lines += ["", "Calibrated budgets: for each share of the full network's FLOPs, thresholds from the validation "
                  "images, of the paper's geometric exit shares and one threshold for every exit whichever scores "
                  "higher there (ties: the paper's); measured once on the test images.", "",
              "| budget (share of full FLOPs) | test top-1 % | vs final exit (points, paired 95 %) | mean MFLOPs "
              "| calibration | thresholds T_1..T_K |", "|---|---:|---:|---:|---|---|"]
    for label, pt in report["budgets"].items():
        ts = ", ".join("-" if abs(t) == float("inf") else f"{t:.4f}" for t in meta.thresholds[label])
        lines.append(f"| {label} | {pt['accuracy']:.2f} | {_difference(pt)} | {pt['mean_flops'] / 1e6:.2f} | "
                     f"{CALIBRATIONS[pt['calibration']]} | {ts} |")
    labels = list(report["budgets"])
    lines += ["", f"## Per class ({report['test_images']} test images)", "",
              "Top-1 % at the final exit, then at each calibrated budget: top-1 % and the class's mean MFLOPs.", "",
              "| class | images | final exit | " + " | ".join(f"{label}: top-1 | {label}: MFLOPs" for label in labels) + " |",
              "|---|---:|---:|" + "---:|---:|" * len(labels)]
    for row in report["per_class"]:
        cells = " | ".join(f"{row['budgets'][label]['accuracy']:.2f} | {row['budgets'][label]['mean_flops'] / 1e6:.2f}"
                           for label in labels)
        lines.append(f"| {row['name']} | {row['images']} | {row['final_accuracy']:.2f} | {cells} |")
    lines += ["", "## Training", "", f"- Command: `{r.get('command', '?')}`"]
    if parents:
        shares = " and ".join(f"{share:.0%} of `{p.get('weights')}`" for share, p in parents)
        epochs = " and ".join(str(total_epochs(p.get("recipe", {}))) for _, p in parents)
        lines += [f"- Weight average, no training of its own: {shares}; every parameter and batch-norm "
                  f"statistic interpolated; torch {r.get('torch')}",
                  f"- Epochs: {epochs} in the parents' lines of training (see Lineage), seed {r.get('seed')} "
                  "(both parents share its validation split)"]
    else:
        lines += [
            f"- Epochs: {r.get('epochs')}, batch {r.get('batch_size')}, lr {r.get('lr')} ({r.get('schedule')}), "
            f"momentum {r.get('momentum')}, weight decay {r.get('weight_decay')}, seed {r.get('seed')}, "
            f"mixed precision: {r.get('amp')}",
            f"- Wall time: {r.get('wall_time_s', 0) / 60:.1f} min on {r.get('device')}; torch {r.get('torch')}",
            *([f"- Random erasing: probability {r['random_erasing']}"] if r.get("random_erasing") else []),
            *([f"- Self-distillation: earlier exits learn from the last exit's softened prediction, weight "
               f"{r['distill']}, temperature {r['distill_temperature']}"] if r.get("distill") else []),
            *(["- Heads only: the shared network and the last exit were frozen (batch-norm statistics too); "
               "only the earlier exits' classifiers were trained"] if r.get("heads_only") else []),
        ]
    lines += [f"- Images: {r.get('train_images')} for training, {r.get('val_images')} held out for calibration",
              f"- Parameters: {meta.num_params:,}",
              *([f"- Note: {r['note']}"] if r.get("note") else []),
              "- Data set files (sha256):"]
    lines += [f"  - `{name}`: `{digest}`" for name, digest in r.get("dataset_sha256", {}).items()]
    if parents:
        lines += ["", "## Lineage", "",
                  "A weight average of the two runs below, each with the runs it was warm-started from, newest "
                  "first (a file already listed is not repeated).", ""]
    elif r.get("init"):
        lines += ["", "## Lineage", "",
                  f"Warm-started: {r.get('total_epochs')} epochs in total. Each run began from the weights of the one below it "
                  "with a fresh optimizer and schedule, on the same training split.", ""]
    for a in lineage(r):
        head = (f"{'  ' * a.depth}- {'' if a.share is None else f'{a.share:.0%} '}`{a.weights}` "
                f"(sha256 `{a.sha256[:16]}…`)")
        lines.append(f"{head}: listed above" if a.repeated else
                     f"{head}: `{a.recipe.get('command', '?')}`; {run_summary(a.recipe)}"
                     + (f". Note: {a.recipe['note']}" if a.recipe.get("note") else ""))
    return "\n".join(lines) + "\n"


def _plot(report: dict, path: Path) -> None:
    """Accuracy against MFLOPs with pyqtgraph, rendered offscreen."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import pyqtgraph as pg
    import pyqtgraph.exporters

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

"""``ranet evaluate``: the anytime table, the budgeted-batch and single-threshold curves, the
calibrated budgets and the per-class table of a model on a labelled data set; optionally a new
weights file carrying them in its record, with its model card."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch

from ..card import budget_table, dynamic_inference, exit_table, model_card
from ..checkpoints import load_model
from ..datasets import DATASETS, load_dataset, train_val_split
from ..errors import UsageError
from ..files import atomic_path
from ..metrics import (BUDGET_FRACTIONS, anytime_table, budgeted_curve, calibrate_budget, dynamic_target,
                       operating_point, per_class, predict_exits, threshold_sweep)
from ..weights import Budget, ClassResult, Evaluation, OperatingPoint, WeightsRecord, default_weights_path, save_weights

__all__ = ["add_arguments", "run", "evaluated_record"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="weights file or authors' checkpoint (default: embedded model)")
    p.add_argument("--config", help="an authors' args.txt")
    p.add_argument("--data", default="fashion-mnist", choices=[n for n, spec in DATASETS.items() if spec.load])
    p.add_argument("--data-root", default=None)
    p.add_argument("--device", default="auto")
    p.add_argument("--batch-size", type=int, default=500)
    p.add_argument("--json", action="store_true", help="one JSON object")
    p.add_argument("--limit", type=int, default=0, help="only the first N test and validation images (smoke tests)")
    p.add_argument("--plot", metavar="FILE.png", help="accuracy against MFLOPs, like the paper's figures")
    p.add_argument("--write-card", metavar="OUT.pt",
                   help="write the weights again to OUT.pt with this evaluation in their record (per-exit accuracy, "
                        "calibrated budgets, per class), and MODEL_CARD.md beside it")
    p.add_argument("--overwrite", action="store_true",
                   help="let --write-card replace the weights file that was evaluated")


def run(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    model = load_model(args.weights, config=args.config, device=args.device)
    if args.write_card:
        _check_output(Path(args.write_card), Path(model.meta.source), args.overwrite)
    device = next(model.parameters()).device
    meta, prep = model.meta, model.transform
    flops = meta.exit_flops
    seed = int(meta.recipe.get("seed", 0) or 0)
    test = load_dataset(args.data, args.data_root, "test", prep.input_size)
    _, val = train_val_split(load_dataset(args.data, args.data_root, "train", prep.input_size), seed=seed)
    if args.limit:
        test, val = test.subset(torch.arange(min(args.limit, len(test)))), val.subset(torch.arange(min(args.limit, len(val))))
    if len(test.classes) != len(meta.categories):
        raise UsageError(f"the data set has {len(test.classes)} classes, the model {len(meta.categories)}")
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
    budget_points = {label: {**operating_point(test_out, test.labels, flops, t), "calibration": family}
                     for label, (t, family) in calibrated.items()}
    report = {
        "model": meta.name, "data": args.data, "test_images": len(test), "val_images": len(val),
        "exits": anytime, "full_flops": flops[-1], "dynamic": curve, "threshold_sweep": sweep,
        "budgets": budget_points, "target": dynamic_target(anytime, curve, sweep, flops[-1]),
        "per_class": per_class(test_out, test.labels, flops, budgets, meta.categories),
        "seconds": round(seconds, 1), "device": str(device),
    }
    if args.plot:
        from .plot import plot_accuracy_vs_flops  # pyqtgraph and Qt, only for a plot

        plot_accuracy_vs_flops(report, Path(args.plot))
    record = evaluated_record(meta, report, budgets, args.command_line)
    if args.write_card:
        out = Path(args.write_card)
        save_weights(out, record, model.state_dict())
        with atomic_path(out.parent / "MODEL_CARD.md") as tmp:
            tmp.write_text(model_card(record), encoding="utf-8")
    if args.json:
        print(json.dumps(report))
    else:
        print(f"{meta.name} on {len(test)} {args.data} test images ({seconds:.1f} s on {device})\n")
        print("\n\n".join("\n".join(part) for part in ([exit_table(record).rstrip()], dynamic_inference(record),
                                                         budget_table(record)) if part))
    return 0


def _check_output(out: Path, source: Path, overwrite: bool) -> None:
    """Refuse to replace the evaluated weights (the embedded model among them) unless asked to."""
    same = out.exists() and source.exists() and out.resolve() == source.resolve()
    if same and not overwrite:
        raise UsageError(f"--write-card {out} would replace the weights being evaluated; "
                         "give another path, or add --overwrite")
    if out.resolve() == default_weights_path().resolve() and not overwrite:
        raise UsageError(f"--write-card {out} would replace the embedded model; add --overwrite to do so")


def evaluated_record(record: WeightsRecord, report: dict, budgets: dict[str, list[float]],
                     command: str) -> WeightsRecord:
    """``record`` with the measurements of an evaluation ``report`` and its calibrated ``budgets``."""
    target = report["target"]

    def point(d: dict | None) -> OperatingPoint | None:
        return None if d is None else OperatingPoint.from_dict(d)

    return replace(
        record,
        budgets=tuple(Budget(label, tuple(round(t, 6) if abs(t) != float("inf") else t for t in ts),
                             report["budgets"][label]["calibration"], point(report["budgets"][label]))
                      for label, ts in budgets.items()),
        evaluation=Evaluation(
            command=command, test_images=report["test_images"], val_images=report["val_images"],
            exit_accuracy=tuple(row["accuracy"] for row in report["exits"]),
            budgeted_match=point(target["matching_point"]), sweep_match=point(target["sweep_matching_point"]),
            per_class=tuple(ClassResult(row["name"], row["images"], row["final_accuracy"],
                                        {label: (b["accuracy"], b["mean_flops"]) for label, b in row["budgets"].items()})
                            for row in report["per_class"]),
            torch=str(torch.__version__)),
    )

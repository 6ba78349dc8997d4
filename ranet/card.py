"""The model card: a :class:`~ranet.weights.WeightsRecord` rendered as Markdown.

One renderer for every page: ``weights/MODEL_CARD.md``, the app's *Model card* dialog and the
README's per-exit table (:func:`exit_table`) all come from here, so a number is written once, in
the record.
"""

from __future__ import annotations

from .flops import exit_infos
from .lineage import average_parents, lineage, run_summary, total_epochs
from .weights import CALIBRATIONS, OperatingPoint, WeightsRecord

__all__ = ["model_card", "exit_table", "dynamic_inference", "budget_table", "per_class_table"]


def exit_table(record: WeightsRecord) -> str:
    """Per exit: the scale flow it taps, cumulative MFLOPs and parameters, and test accuracy."""
    infos = exit_infos(record.config, record.input_size)
    accuracy = record.exit_accuracy or ()
    lines = ["| exit | scale flow | MFLOPs | params (M) | top-1 % |", "|---:|---:|---:|---:|---:|"]
    for k, info in enumerate(infos):
        top1 = f"{accuracy[k]:.2f}" if k < len(accuracy) else "–"
        lines.append(f"| {k + 1} | {info.flow} ({info.resolution_path[-1]}) | {record.exit_flops[k] / 1e6:.2f} | "
                     f"{record.exit_params[k] / 1e6:.3f} | {top1} |")
    return "\n".join(lines) + "\n"


def _difference(point: OperatingPoint) -> str:
    """A point's accuracy minus the final exit's, with its paired 95 % half-width: "-0.12 ± 0.18"."""
    return f"{point.vs_final:+.2f} ± {point.vs_final_ci95:.2f}"


def _vs_final(point: OperatingPoint) -> str:
    return f"{_difference(point)} points vs the final exit, paired 95 %"


def _threshold(t: float) -> str:
    return "-" if abs(t) == float("inf") else f"{t:.4f}"


def model_card(record: WeightsRecord) -> str:
    """The whole card, in Markdown."""
    parents = average_parents(record.recipe)
    ev = record.evaluation
    tested = f" ({ev.test_images} test images)" if ev else ""
    lines = [
        f"# Model card: {record.name}", "",
        "Generated from the weights' record by `python -m ranet evaluate --write-card`; every number below was "
        f"measured by the project's own {'`train`, `average`' if parents else '`train`'} and `evaluate` commands.", "",
        "## Categories", "", ", ".join(record.categories), "",
        "## Preprocessing", "", record.transform.description, "",
        f"## Per exit{tested}", "", exit_table(record).rstrip(),
    ]
    for title, section in (("Dynamic inference", dynamic_inference(record)), ("Calibrated budgets", budget_table(record)),
                           (f"Per class{tested}", per_class_table(record))):
        if section:
            lines += ["", f"## {title}", "", *section]
    lines += ["", *_training(record)]
    return "\n".join(lines) + "\n"


def dynamic_inference(record: WeightsRecord) -> list[str]:
    """The cheapest points within 0.1 point of the final exit, on both curves, as paragraphs."""
    ev, full = record.evaluation, record.exit_flops[-1]
    if ev is None:
        return []
    curves = [(ev.budgeted_match, f"Budgeted batch (thresholds from the {ev.val_images} validation images): ",
               f"of the full network's {full / 1e6:.2f} MFLOPs (final exit alone: {ev.exit_accuracy[-1]:.2f}%; "),
              (ev.sweep_match, "One threshold for every exit (the app's slider, swept from 0 to 1 in steps of 0.01 on "
               "the test images): first within 0.1 point of the final exit at {first:g}, ", "of the full network (")]
    paragraphs = [lead.format(first=pt.thresholds[0]) + f"{pt.accuracy:.2f}% at {pt.mean_flops / 1e6:.2f} MFLOPs, "
                  f"{pt.mean_flops / full:.1%} {share}{_vs_final(pt)})." for pt, lead, share in curves if pt]
    return [line for p in paragraphs for line in (p, "")][:-1]


def budget_table(record: WeightsRecord) -> list[str]:
    """Each calibrated budget: how it was calibrated, its thresholds and what it scored on test."""
    if not record.budgets:
        return []
    lines = ["For each share of the full network's FLOPs, thresholds from the validation images: the paper's "
             "geometric exit shares or one threshold for every exit, whichever scores higher there (ties: the "
             "paper's); measured once on the test images.", "",
             "| budget (share of full FLOPs) | test top-1 % | vs final exit (points, paired 95 %) | mean MFLOPs "
             "| calibration | thresholds T_1..T_K |", "|---|---:|---:|---:|---|---|"]
    for b in record.budgets:
        test = f"{b.test.accuracy:.2f} | {_difference(b.test)} | {b.test.mean_flops / 1e6:.2f}" if b.test else "– | – | –"
        lines.append(f"| {b.label} | {test} | {CALIBRATIONS.get(b.calibration, '–')} | "
                     f"{', '.join(map(_threshold, b.thresholds))} |")
    return lines


def per_class_table(record: WeightsRecord) -> list[str]:
    """Per class of the test images: final-exit accuracy, and per budget accuracy and mean MFLOPs."""
    ev = record.evaluation
    if not ev or not ev.per_class:
        return []
    labels = [b.label for b in record.budgets]
    lines = ["Top-1 % at the final exit, then at each calibrated budget: top-1 % and the class's mean MFLOPs.", "",
             "| class | images | final exit | " + " | ".join(f"{label}: top-1 | {label}: MFLOPs" for label in labels)
             + " |", "|---|---:|---:|" + "---:|---:|" * len(labels)]
    for row in ev.per_class:
        cells = " | ".join(f"{row.budgets[label][0]:.2f} | {row.budgets[label][1] / 1e6:.2f}" for label in labels)
        lines.append(f"| {row.name} | {row.images} | {row.final_accuracy:.2f} | {cells} |")
    return lines


def _training(record: WeightsRecord) -> list[str]:
    r = record.recipe
    parents = average_parents(r)
    lines = ["## Training", "", f"- Command: `{r.get('command', '?')}`"]
    if parents:
        shares = " and ".join(f"{share:.0%} of `{p.get('weights')}`" for share, p in parents)
        epochs = " and ".join(str(total_epochs(p.get("recipe", {}))) for _, p in parents)
        lines += [f"- Weight average, no training of its own: {shares}; every parameter and batch-norm "
                  f"statistic interpolated; torch {r.get('torch')}",
                  f"- Epochs: {epochs} in the parents' lines of training (see Lineage), seed {r.get('seed')} "
                  "(both parents share its validation split)"]
    elif "epochs" in r:
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
    if "train_images" in r:
        lines.append(f"- Images: {r.get('train_images')} for training, {r.get('val_images')} held out for calibration")
    lines += [f"- Parameters: {record.num_params:,}", *([f"- Note: {r['note']}"] if r.get("note") else [])]
    if record.data_sha256:
        lines += ["- Data set files (sha256):", *(f"  - `{name}`: `{digest}`" for name, digest in record.data_sha256.items())]
    if parents:
        lines += ["", "## Lineage", "",
                  "A weight average of the two runs below, each with the runs it was warm-started from, newest "
                  "first (a file already listed is not repeated).", ""]
    elif r.get("init"):
        lines += ["", "## Lineage", "",
                  f"Warm-started: {r.get('total_epochs')} epochs in total. Each run began from the weights of the one "
                  "below it with a fresh optimizer and schedule, on the same training split.", ""]
    for a in lineage(r):
        head = (f"{'  ' * a.depth}- {'' if a.share is None else f'{a.share:.0%} '}`{a.weights}` "
                f"(sha256 `{a.sha256[:16]}…`)")
        lines.append(f"{head}: listed above" if a.repeated else
                     f"{head}: `{a.recipe.get('command', '?')}`; {run_summary(a.recipe)}"
                     + (f". Note: {a.recipe['note']}" if a.recipe.get("note") else ""))
    return lines

"""``ranet average``: one model from two runs of the same network, by averaging their weights.

Two fine-tunes that began from one parent stay in one basin of the loss, so the weights in
between also form a working model, often better than either end (Wortsman et al., "Robust
fine-tuning of zero-shot models" and "Model soups", 2022). No data are needed; the result is
evaluated like any other model.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import torch

from ..checkpoints import load_model
from ..errors import UsageError
from ..lineage import parent_record, total_epochs
from ..weights import save_weights

__all__ = ["add_arguments", "average_state_dicts", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("base", help="weights file that gets the share 1 - MIX")
    p.add_argument("other", help="weights file that gets the share MIX")
    p.add_argument("--mix", type=float, required=True, help="share of OTHER, strictly between 0 and 1")
    p.add_argument("--out", required=True, help="weights file to write")
    p.add_argument("--name", default=None, help="model name written into the weights (default: BASE's)")
    p.add_argument("--note", default="", help="free text for the model card")


def average_state_dicts(base: dict[str, torch.Tensor], other: dict[str, torch.Tensor],
                        mix: float) -> dict[str, torch.Tensor]:
    """``(1 - mix) * base + mix * other`` for every floating tensor, batch-norm statistics included;
    integer buffers (batch-norm's step counters) are taken from ``base``."""
    return {k: torch.lerp(v.float(), other[k].float(), mix) if v.is_floating_point() else v.clone()
            for k, v in base.items()}


def run(args: argparse.Namespace) -> int:
    if not 0.0 < args.mix < 1.0:
        raise UsageError(f"--mix must be strictly between 0 and 1, got {args.mix}")
    base, other = load_model(args.base, device="cpu"), load_model(args.other, device="cpu")
    if base.config != other.config:
        raise UsageError(f"{args.other}: its architecture differs from {args.base}'s")
    for field in ("categories", "preprocessing", "input_size"):
        if getattr(base.meta, field) != getattr(other.meta, field):
            raise UsageError(f"{args.other}: its {field.replace('_', ' ')} differ from {args.base}'s")
    for key in ("data", "seed"):
        # The seed picks the validation split: a parent trained on the other's split would leak it.
        if base.meta.recipe.get(key) != other.meta.recipe.get(key):
            raise UsageError(f"{args.other} was trained with {key} {other.meta.recipe.get(key)!r}, {args.base} "
                             f"with {base.meta.recipe.get(key)!r}; average runs on the same data and split")
    parents = [parent_record(args.base, base.meta), parent_record(args.other, other.meta)]
    shared = ("data", "seed", "train_images", "val_images")
    recipe = {
        "command": args.command_line,
        **{k: base.meta.recipe[k] for k in shared if k in base.meta.recipe},
        # A later warm start counts its epochs on top of the longer line of training.
        "total_epochs": max(total_epochs(p["recipe"]) for p in parents),
        "torch": str(torch.__version__),
        "note": args.note,
        "average": {"mix": args.mix, "parents": parents},
    }
    # The parents' network, categories and data; no evaluation, no budgets: those are measured anew.
    record = replace(base.meta, name=args.name or base.meta.name, budgets=(), evaluation=None, recipe=recipe)
    path = save_weights(args.out, record, average_state_dicts(base.state_dict(), other.state_dict(), args.mix))
    print(f"wrote {path}: {1 - args.mix:.0%} of {args.base} and {args.mix:.0%} of {args.other}")
    return 0

"""A model's lineage: the runs it descends from, as the recipes in its weights record them.

``ranet train --init`` records the parent it warm-started from, ``ranet average`` its two
parents; each parent entry carries the parent's own recipe, so the whole line can be walked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import file_sha256
from .weights import WeightsRecord

__all__ = ["Ancestor", "parent_record", "average_parents", "lineage", "run_summary", "total_epochs"]


def parent_record(path: str | Path, record: WeightsRecord) -> dict[str, Any]:
    """How a derived model names a parent in its recipe: file name, sha256 and the parent's own recipe."""
    return {"weights": Path(path).name, "sha256": file_sha256(path), "recipe": dict(record.recipe)}


@dataclass
class Ancestor:
    """One earlier run in a model's lineage, as its recipe recorded it."""

    depth: int  # 0 for the model's own line; an average's parents sit one deeper than the average
    share: float | None  # the weight it got in the average above it, if any
    weights: str
    sha256: str
    recipe: dict[str, Any]
    repeated: bool  # the same file (sha256) was listed earlier: its own ancestors are not repeated


def average_parents(recipe: dict[str, Any]) -> list[tuple[float, dict[str, Any]]]:
    """An average's two parents with their shares, ``[]`` when the recipe records no (well-formed) average."""
    avg = recipe.get("average")
    if not isinstance(avg, dict) or not isinstance(avg.get("mix"), (int, float)):
        return []
    parents = avg.get("parents")
    if not isinstance(parents, list) or len(parents) != 2 or not all(isinstance(p, dict) for p in parents):
        return []
    return list(zip((1 - avg["mix"], avg["mix"]), parents))


def total_epochs(recipe: dict[str, Any]) -> int:
    """Epochs along a model's line of training: its own run's plus every warm start's before it
    (for an average, the longer of its parents' lines)."""
    return recipe.get("total_epochs", recipe.get("epochs", 0))


def lineage(recipe: dict[str, Any]) -> list[Ancestor]:
    """Every run a model descends from, newest first: warm starts (``init``) one after the other,
    the two parents of an average (``average``) indented below it. Malformed entries are skipped."""
    seen: set[str] = set()
    out: list[Ancestor] = []

    def visit(r: dict[str, Any], depth: int) -> None:
        parents = average_parents(r)
        if parents:
            for share, parent in parents:
                walk(parent, depth, share)
        elif isinstance(r.get("init"), dict):
            walk(r["init"], depth, None)

    def walk(entry: dict[str, Any], depth: int, share: float | None) -> None:
        digest, recipe = str(entry.get("sha256", "")), entry.get("recipe")
        recipe = recipe if isinstance(recipe, dict) else {}
        repeated = bool(digest) and digest in seen
        seen.add(digest)
        out.append(Ancestor(depth, share, str(entry.get("weights", "?")), digest, recipe, repeated))
        if not repeated:
            visit(recipe, depth + 1 if average_parents(recipe) else depth)

    visit(recipe, 0)
    return out


def run_summary(recipe: dict[str, Any]) -> str:
    """What one run did, in a line: epochs, learning rate, time and device (or the average it took)."""
    parents = average_parents(recipe)
    if parents:
        return f"a weight average, {parents[0][0]:.0%} and {parents[1][0]:.0%} of the two runs below it"
    return (f"{recipe.get('epochs')} epochs, lr {recipe.get('lr')} ({recipe.get('schedule')}), "
            f"{recipe.get('wall_time_s', 0) / 60:.1f} min on {recipe.get('device')}, torch {recipe.get('torch')}")

"""The project's weights file: state dict, configuration and metadata in one ``weights_only`` file.

Like torchvision's ``Weights``, the metadata carries what a user or a page needs to know
(categories, per-exit accuracy and FLOPs, thresholds, recipe) and names the preprocessing that
builds the transform. The model card, the CLI and the app render from it.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch

from .config import RANetConfig
from .transforms import Preprocessing, get_preprocessing

__all__ = ["ModelMeta", "WEIGHTS_FORMAT", "default_weights_path", "save_weights", "is_weights_file", "file_sha256",
           "parent_record", "Ancestor", "average_parents", "lineage", "run_summary", "total_epochs"]

WEIGHTS_FORMAT = "ranet-demo-weights"
WEIGHTS_VERSION = 1
DEFAULT_WEIGHTS_NAME = "ranet_fashion_mnist.pt"


@dataclass
class ModelMeta:
    """Facts about a set of weights. Every number here was measured by the project's commands."""

    name: str
    categories: list[str]
    preprocessing: str
    input_size: int
    exit_flops: list[int] = field(default_factory=list)
    exit_params: list[int] = field(default_factory=list)
    exit_accuracy: list[float] | None = None  # top-1 on the test split, per exit, in %
    thresholds: dict[str, list[float]] = field(default_factory=dict)  # budget label → per-exit T_k
    recipe: dict[str, Any] = field(default_factory=dict)
    source: str = ""  # where the model was loaded from (not saved)

    @property
    def transform(self) -> Preprocessing:
        return get_preprocessing(self.preprocessing)

    @property
    def num_params(self) -> int:
        return self.exit_params[-1] if self.exit_params else 0

    def budget_label(self, name: str) -> str:
        """The calibrated budget ``name`` means: "40", "40%" and "40 %" all find "40%". Raises
        ValueError with a one-line reason when these weights carry no such budget."""
        wanted = name.replace(" ", "").rstrip("%")
        for label in self.thresholds:
            if str(label).replace(" ", "").rstrip("%") == wanted:
                return label
        known = ", ".join(map(str, self.thresholds)) or "none"
        raise ValueError(f"no calibrated thresholds for a budget of {name!r} in these weights (known: {known})")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("source")
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "") -> "ModelMeta":
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known and k != "source"}, source=source)


def default_weights_path() -> Path:
    """The embedded model: ``weights/`` beside the package, or inside a PyInstaller bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base / "weights" / DEFAULT_WEIGHTS_NAME


def is_weights_file(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == WEIGHTS_FORMAT


def save_weights(path: str | Path, config: RANetConfig, state_dict: dict[str, torch.Tensor], meta: ModelMeta,
                 half: bool = True) -> Path:
    """Write atomically (temporary file, then rename). ``half`` stores floats as fp16 (half size)."""
    path = Path(path)
    sd = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
          for k, v in state_dict.items()}
    payload = {
        "format": WEIGHTS_FORMAT,
        "version": WEIGHTS_VERSION,
        "config": config.to_dict(),
        "meta": meta.to_dict(),
        "state_dict": sd,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return path


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def parent_record(path: str | Path, meta: ModelMeta) -> dict[str, Any]:
    """How a derived model names a parent in its recipe: file name, sha256 and the parent's own recipe."""
    recipe = {k: v for k, v in meta.recipe.items() if k != "evaluation"}
    return {"weights": Path(path).name, "sha256": file_sha256(path), "recipe": recipe}


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

"""The weights record: every fact about a set of weights, in one typed, frozen description.

Like torchvision's ``Weights.meta``, the record holds what a user or a page needs to know: the
configuration, categories, preprocessing, per-exit FLOPs, parameters and accuracy, the calibrated
budgets and how each was calibrated, the per-class table, the recipe with its lineage and the
hashes of the data. It travels inside the weights file; the model carries it
(``model.meta``); ``ranet flops``, ``ranet evaluate``, the app's model card,
``weights/MODEL_CARD.md`` and the README's table all read it (:mod:`ranet.card` renders it).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

import torch

from .config import RANetConfig
from .datasets import get_preprocessing
from .files import atomic_path
from .transforms import Preprocessing

__all__ = ["WeightsRecord", "Budget", "OperatingPoint", "ClassResult", "Evaluation", "WEIGHTS_FORMAT",
           "WEIGHTS_VERSION", "CALIBRATIONS", "default_weights_path", "save_weights", "is_weights_file",
           "record_from_file"]

WEIGHTS_FORMAT = "ranet-demo-weights"
WEIGHTS_VERSION = 2  # 1: the record's facts spread over "meta" and its recipe; 2: this record
DEFAULT_WEIGHTS_NAME = "ranet_fashion_mnist.pt"
CALIBRATIONS = {"geometric": "the paper's p^k shares", "single": "one threshold for every exit"}


@dataclass(frozen=True)
class OperatingPoint:
    """Early exit at fixed thresholds, measured on the test images."""

    accuracy: float  # top-1, %
    vs_final: float  # points against the final exit on the same images
    vs_final_ci95: float  # half-width of the paired 95 % interval of ``vs_final``
    mean_flops: float
    exit_share: tuple[float, ...]
    thresholds: tuple[float, ...]

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "OperatingPoint":
        """From a saved record, or from :func:`ranet.metrics.operating_point`'s dict (other keys ignored)."""
        return cls(**{f.name: tuple(d[f.name]) if f.name in ("exit_share", "thresholds") else float(d[f.name])
                      for f in fields(cls)})


@dataclass(frozen=True)
class Budget:
    """Thresholds calibrated on held-out images for a share of the full network's FLOPs."""

    label: str  # e.g. "40%"
    thresholds: tuple[float, ...]  # T_1..T_K; the last is -inf (the last exit takes the rest)
    calibration: str = ""  # a key of CALIBRATIONS ("" when not recorded)
    test: OperatingPoint | None = None


@dataclass(frozen=True)
class ClassResult:
    """One class of the test images: its final exit's accuracy, and per budget accuracy and cost."""

    name: str
    images: int
    final_accuracy: float
    budgets: Mapping[str, tuple[float, float]]  # budget label -> (top-1 %, mean FLOPs)


@dataclass(frozen=True)
class Evaluation:
    """What ``ranet evaluate`` measured and how."""

    command: str
    test_images: int
    val_images: int
    exit_accuracy: tuple[float, ...]  # top-1 % per exit on the test images
    budgeted_match: OperatingPoint | None = None  # cheapest budgeted-batch point within 0.1 of the final exit
    sweep_match: OperatingPoint | None = None  # the same on the single-threshold sweep
    per_class: tuple[ClassResult, ...] = ()
    torch: str = ""


@dataclass(frozen=True)
class WeightsRecord:
    """The single description of a model. ``source`` (where it was loaded from) is not saved."""

    name: str
    config: RANetConfig
    categories: tuple[str, ...]
    preprocessing: str  # a name known to :func:`ranet.datasets.get_preprocessing`
    input_size: int
    exit_flops: tuple[int, ...]
    exit_params: tuple[int, ...]
    budgets: tuple[Budget, ...] = ()
    evaluation: Evaluation | None = None
    recipe: Mapping[str, Any] = field(default_factory=dict)  # how it was made, with its lineage
    data_sha256: Mapping[str, str] = field(default_factory=dict)  # file name -> sha256 of the data set
    source: str = field(default="", compare=False)

    @property
    def transform(self) -> Preprocessing:
        return get_preprocessing(self.preprocessing)

    @property
    def num_params(self) -> int:
        return self.exit_params[-1] if self.exit_params else 0

    @property
    def exit_accuracy(self) -> tuple[float, ...] | None:
        return self.evaluation.exit_accuracy if self.evaluation else None

    @property
    def thresholds(self) -> dict[str, list[float]]:
        """Budget label -> per-exit thresholds."""
        return {b.label: list(b.thresholds) for b in self.budgets}

    def budget(self, name: str) -> Budget:
        """The calibrated budget ``name`` means: "40", "40%" and "40 %" all find "40%". Raises
        ValueError with a one-line reason when these weights carry no such budget."""
        wanted = name.replace(" ", "").rstrip("%")
        for b in self.budgets:
            if b.label.replace(" ", "").rstrip("%") == wanted:
                return b
        known = ", ".join(b.label for b in self.budgets) or "none"
        raise ValueError(f"These weights have no calibrated thresholds for a budget of {name!r} (known: {known}).")

    def check(self) -> list[str]:
        """What the commands and the app rely on, as a list of problems (empty when sound)."""
        problems = []
        try:
            get_preprocessing(self.preprocessing)
        except ValueError as exc:
            problems.append(str(exc).rstrip("."))
        k, n = self.config.num_exits, self.config.num_classes
        if len(self.categories) != n or not all(isinstance(c, str) for c in self.categories):
            problems.append(f"expected {n} category names")
        if not isinstance(self.input_size, int) or not 8 <= self.input_size <= 4096:
            problems.append("the input size must be 8..4096")
        if not all(len(b.thresholds) == k for b in self.budgets):
            problems.append(f"expected {k} thresholds per budget")
        if len(self.exit_flops) != k or len(self.exit_params) != k:
            problems.append(f"expected FLOPs and parameters for {k} exits")
        return problems

    def to_dict(self) -> dict[str, Any]:
        """Plain values only (what ``torch.load(weights_only=True)`` reads back)."""
        d = asdict(self)
        d.pop("source")
        d["config"] = self.config.to_dict()
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "") -> "WeightsRecord":
        """The record saved by :meth:`to_dict`; TypeError, ValueError or KeyError when malformed."""
        evaluation = d.get("evaluation")
        return cls(
            name=str(d["name"]), config=RANetConfig.from_dict(d["config"]),
            categories=tuple(d["categories"]), preprocessing=d["preprocessing"], input_size=d["input_size"],
            exit_flops=tuple(int(v) for v in d["exit_flops"]), exit_params=tuple(int(v) for v in d["exit_params"]),
            budgets=tuple(_budget(b) for b in d.get("budgets", ())),
            evaluation=_evaluation(evaluation) if evaluation else None,
            recipe=dict(d.get("recipe", {})), data_sha256=dict(d.get("data_sha256", {})), source=source,
        )

    @classmethod
    def from_version_1(cls, config: Mapping[str, Any], meta: Mapping[str, Any], source: str = "") -> "WeightsRecord":
        """A record from a version-1 file, whose evaluation sat inside its recipe."""
        recipe = dict(meta.get("recipe", {}))
        evaluation = recipe.pop("evaluation", None)
        points = evaluation.get("budget_points", {}) if evaluation else {}
        budgets = tuple(Budget(label, tuple(float(t) for t in ts), points.get(label, {}).get("calibration", ""),
                               OperatingPoint.from_dict(points[label]) if label in points else None)
                        for label, ts in meta.get("thresholds", {}).items())
        target = evaluation.get("target", {}) if evaluation else {}
        record = cls(
            name=str(meta["name"]), config=RANetConfig.from_dict(config), categories=tuple(meta["categories"]),
            preprocessing=meta["preprocessing"], input_size=meta["input_size"],
            exit_flops=tuple(meta.get("exit_flops", ())), exit_params=tuple(meta.get("exit_params", ())),
            budgets=budgets, recipe=recipe, data_sha256=dict(recipe.pop("dataset_sha256", {})), source=source,
        )
        if not evaluation or not meta.get("exit_accuracy"):
            return record
        return replace(record, evaluation=Evaluation(
            command=evaluation.get("command", ""), test_images=evaluation.get("test_images", 0),
            val_images=recipe.get("val_images", 0), exit_accuracy=tuple(meta["exit_accuracy"]),
            budgeted_match=OperatingPoint.from_dict(target["matching_point"]) if target.get("matching_point") else None,
            sweep_match=OperatingPoint.from_dict(target["sweep_matching_point"]) if target.get("sweep_matching_point") else None,
            torch=evaluation.get("torch", "")))


def _budget(d: Mapping[str, Any]) -> Budget:
    test = d.get("test")
    return Budget(str(d["label"]), tuple(float(t) for t in d["thresholds"]), str(d.get("calibration", "")),
                  OperatingPoint.from_dict(test) if test else None)


def _evaluation(d: Mapping[str, Any]) -> Evaluation:
    return Evaluation(
        command=str(d["command"]), test_images=int(d["test_images"]), val_images=int(d["val_images"]),
        exit_accuracy=tuple(float(a) for a in d["exit_accuracy"]),
        budgeted_match=OperatingPoint.from_dict(d["budgeted_match"]) if d.get("budgeted_match") else None,
        sweep_match=OperatingPoint.from_dict(d["sweep_match"]) if d.get("sweep_match") else None,
        per_class=tuple(ClassResult(str(c["name"]), int(c["images"]), float(c["final_accuracy"]),
                                    {k: (float(v[0]), float(v[1])) for k, v in c["budgets"].items()})
                        for c in d.get("per_class", ())),
        torch=str(d.get("torch", "")))


def default_weights_path() -> Path:
    """The embedded model: ``weights/`` beside the package, or inside a PyInstaller bundle."""
    base = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parent.parent))
    return base / "weights" / DEFAULT_WEIGHTS_NAME


def is_weights_file(obj: Any) -> bool:
    return isinstance(obj, dict) and obj.get("format") == WEIGHTS_FORMAT


def record_from_file(obj: Mapping[str, Any], source: str = "") -> WeightsRecord:
    """The record of a loaded weights file. ValueError: a version this code does not know;
    TypeError or KeyError: a damaged record."""
    version = obj.get("version")
    if version == 1:
        return WeightsRecord.from_version_1(obj["config"], obj["meta"], source)
    if version != WEIGHTS_VERSION:
        raise ValueError(f"weights format version {version!r}; this ranet reads versions 1 to {WEIGHTS_VERSION}, "
                         "so the file was written by a newer release: update ranet-demo")
    return WeightsRecord.from_dict(obj["meta"], source)


def save_weights(path: str | Path, record: WeightsRecord, state_dict: dict[str, torch.Tensor],
                 half: bool = True) -> Path:
    """Write the record and the tensors atomically. ``half`` stores floats as fp16 (half size)."""
    sd = {k: (v.detach().cpu().half() if half and v.is_floating_point() else v.detach().cpu())
          for k, v in state_dict.items()}
    payload = {"format": WEIGHTS_FORMAT, "version": WEIGHTS_VERSION, "meta": record.to_dict(), "state_dict": sd}
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return Path(path)


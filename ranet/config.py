"""RANet configuration: the fields of the authors' ``args.txt``, named presets, and the block plan.

The field names follow the reference training code on purpose: an ``args.txt`` written by the
authors' ``main.py`` maps onto :class:`RANetConfig` one to one.
"""

from __future__ import annotations

import ast
import math
import reprlib
import stat
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

from .datasets import dataset_for_authors
from .errors import ConfigError

__all__ = [
    "RANetConfig",
    "PRESETS",
    "BlockPlan",
    "ConfigError",
    "parse_args_txt",
    "parse_args_text",
    "preset",
]

MAX_ARGS_TXT_BYTES = 1_000_000  # the authors' files are a few hundred bytes
# Far above every published RANet; they stop a hostile args.txt from making a model that takes
# hours or all memory to build.
LIMITS = {"nBlocks": 64, "block_step": 64, "step": 64, "nChannels": 4096, "growthRate": 4096,
          "num_classes": 100_000, "scales": 16, "factor": 64}


@dataclass(frozen=True)
class BlockPlan:
    """One block of one scale flow, as the reference code builds it."""

    flow: int  # 0 = coarsest
    block: int  # 1-based inside the flow
    num_layers: int
    fusion: bool  # fuses with the coarser flow's features of the same block
    down: bool  # the block's last layer halves the resolution
    transition: bool
    exit_index: int | None  # 0-based exit evaluated after this block, if any


@dataclass(frozen=True)
class RANetConfig:
    """Hyper-parameters of a RANet, named as in the authors' ``args.txt``.

    Lists are stored as tuples so that a config is hashable and can key caches.
    """

    data: str = "cifar10"
    nBlocks: int = 2
    block_step: int = 2
    nChannels: int = 16
    growthRate: int = 6
    grFactor: tuple[int, ...] = (4, 2, 1)
    bnFactor: tuple[int, ...] = (4, 2, 1)
    scale_list: tuple[int, ...] = (1, 2, 3)
    compress_factor: float = 0.25
    step: int = 4
    stepmode: str = "even"
    reduction: float = 0.5
    num_classes: int | None = field(default=None)

    def __post_init__(self) -> None:
        for name in ("grFactor", "bnFactor", "scale_list"):
            object.__setattr__(self, name, _int_tuple(name, getattr(self, name)))
        self._check_types()
        if self.num_classes is None:
            spec = dataset_for_authors(self.data)
            if spec is None or spec.num_classes is None:
                raise ConfigError(f"unknown data set {self.data!r}: give num_classes")
            object.__setattr__(self, "num_classes", spec.num_classes)
        self.validate()

    def _check_types(self) -> None:
        number, text = ((int, float), "a number"), (str, "text")
        expected = {"data": text, "stepmode": text, "compress_factor": number, "reduction": number}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple) or (f.name == "num_classes" and value is None):
                continue
            kind, want = expected.get(f.name, (int, "a whole number"))
            if not isinstance(value, kind) or isinstance(value, bool):
                raise ConfigError(f"{f.name} must be {want}, not {reprlib.repr(value)}")

    def validate(self) -> None:
        n = len(self.grFactor)
        if n < 1 or len(self.bnFactor) != n or len(self.scale_list) != n:
            raise ConfigError(
                f"grFactor, bnFactor and scale_list need one entry per scale flow "
                f"(got {len(self.grFactor)}, {len(self.bnFactor)}, {len(self.scale_list)})"
            )
        if self.stem not in ("cifar", "imagenet"):
            raise ConfigError(f"unknown data set {self.data!r}: it must start with 'cifar' or be 'ImageNet'")
        if self.stepmode not in ("even", "lg"):
            raise ConfigError(f"stepmode must be 'even' or 'lg', not {self.stepmode!r}")
        if list(self.scale_list) != sorted(self.scale_list) or self.scale_list[0] != 1:
            raise ConfigError(f"scale_list must start at 1 and never decrease, got {list(self.scale_list)}")
        if min(self.nBlocks, self.step, self.nChannels, self.growthRate, self.num_classes or 0) < 1:
            raise ConfigError("nBlocks, step, nChannels, growthRate and num_classes must be positive")
        if self.block_step < 0:
            raise ConfigError("block_step must not be negative")
        if min(self.grFactor + self.bnFactor) < 1:
            raise ConfigError(f"grFactor and bnFactor must be positive, got {list(self.grFactor)} and "
                              f"{list(self.bnFactor)}")
        too_big = [k for k in ("nBlocks", "block_step", "step", "nChannels", "growthRate", "num_classes")
                   if getattr(self, k) > LIMITS[k]]
        if n > LIMITS["scales"] or max(self.grFactor + self.bnFactor + self.scale_list) > LIMITS["factor"]:
            too_big.append("the number of scales or a factor")
        if too_big:
            raise ConfigError(f"implausibly large {', '.join(too_big)} (see ranet.config.LIMITS)")

    # -- derived structure ------------------------------------------------------------------
    @property
    def stem(self) -> str:
        return "cifar" if self.data.startswith("cifar") else ("imagenet" if self.data == "ImageNet" else "")

    @property
    def num_scales(self) -> int:
        return len(self.grFactor)

    @property
    def blocks_per_flow(self) -> list[int]:
        """``B[1:]`` of the format document: flow i has ``nBlocks + i*block_step`` blocks."""
        return [self.nBlocks + i * self.block_step for i in range(self.num_scales)]

    @property
    def num_exits(self) -> int:
        return self.nBlocks + (self.num_scales - 1) * self.block_step

    @property
    def default_input_size(self) -> int:
        return 32 if self.stem == "cifar" else 224

    def layers_in_block(self, block: int) -> int:
        return self.step if self.stepmode == "even" else self.step * block

    def block_plan(self) -> list[list[BlockPlan]]:
        """Per flow, the list of its blocks with their role (fusion, down-sampling, exit)."""
        bounds = [0] + self.blocks_per_flow
        plan: list[list[BlockPlan]] = []
        exit_index = 0
        for i in range(self.num_scales):
            rank = self.scale_list[i]
            # The reference takes bounds[:i+1][-(rank-1):]; for rank 1 that slice is the whole list.
            down_blocks = bounds[: i + 1][-(rank - 1) :]
            flow = []
            for n in range(1, bounds[i + 1] + 1):
                fusion = n <= bounds[i]
                exit_here = None if fusion else exit_index
                if not fusion:
                    exit_index += 1
                flow.append(
                    BlockPlan(
                        flow=i,
                        block=n,
                        num_layers=self.layers_in_block(n),
                        fusion=fusion,
                        down=fusion and n in down_blocks,
                        transition=any(n == math.floor(j * bounds[i + 1] / rank) for j in range(1, rank)),
                        exit_index=exit_here,
                    )
                )
            plan.append(flow)
        return plan

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for k in ("grFactor", "bnFactor", "scale_list"):
            d[k] = list(d[k])
        return d

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "RANetConfig":
        """Build from any mapping (an ``args.txt`` namespace, a JSON object); extra keys are ignored."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"a configuration must map names to values, not {reprlib.repr(values)}")
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in values.items() if k in known}
        for k in ("grFactor", "bnFactor", "scale_list"):
            if isinstance(kwargs.get(k), str):  # the authors' command line form "4-2-1"
                kwargs[k] = kwargs[k].split("-")
        return cls(**kwargs)


def _int_tuple(name: str, values: Any) -> tuple[int, ...]:
    try:
        return tuple(int(v) for v in values)
    except (TypeError, ValueError, OverflowError):
        raise ConfigError(f"{name} must be a list of whole numbers, not {reprlib.repr(values)}") from None


PRESETS: dict[str, RANetConfig] = {
    # The configurations of the paper and the authors' scripts (names as in reference.json).
    "cifar10_default": RANetConfig(),
    "cifar100_default": RANetConfig(data="cifar100"),
    "cifar10_readme_lg": RANetConfig(step=2, stepmode="lg"),
    "cifar10_train_cifar_sh": RANetConfig(grFactor=(4, 2, 1, 1), bnFactor=(4, 2, 1, 1), scale_list=(1, 2, 3, 3)),
    "imagenet_readme": RANetConfig(
        data="ImageNet", nChannels=32, growthRate=16, grFactor=(4, 2, 2, 1), bnFactor=(4, 2, 2, 1),
        scale_list=(1, 2, 3, 4), step=8,
    ),
    "imagenet_train_imagenet_sh": RANetConfig(
        data="ImageNet", nChannels=16, growthRate=16, grFactor=(4, 2, 1, 1), bnFactor=(4, 2, 1, 1),
        scale_list=(1, 2, 3, 4), step=8,
    ),
}


def preset(name: str) -> RANetConfig:
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(f"unknown preset {name!r}; choose one of: {', '.join(PRESETS)}") from None


def parse_args_txt(path: str | Path) -> RANetConfig:
    """Read an authors' ``args.txt`` file; see :func:`parse_args_text`."""
    path = Path(path)
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # reading a pipe or a device could block forever
            raise ConfigError(f"{path}: not a regular file")
        if info.st_size > MAX_ARGS_TXT_BYTES:
            raise ConfigError(f"{path.name}: too large to be an args.txt")
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    return parse_args_text(text, path.name)


def parse_args_text(text: str, name: str = "args.txt") -> RANetConfig:
    """Parse ``Namespace(key=value, ...)`` with :mod:`ast`: literals only, never ``eval``."""
    path = Path(name)
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, MemoryError, RecursionError):  # the last two: absurd nesting
        raise ConfigError(f"{path.name}: not an args.txt (expected one line 'Namespace(key=value, ...)')") from None
    if not isinstance(node, ast.Call) or node.args:
        raise ConfigError(f"{path.name}: not an args.txt (expected one line 'Namespace(key=value, ...)')")
    values: dict[str, Any] = {}
    for kw in node.keywords:
        try:
            values[kw.arg] = ast.literal_eval(kw.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            continue  # a value that is not a literal (never needed for the architecture)
    missing = [k for k in ("data", "grFactor", "scale_list", "nChannels", "growthRate") if k not in values]
    if missing:
        raise ConfigError(f"{path.name}: args.txt lacks {', '.join(missing)}")
    return RANetConfig.from_dict(values)

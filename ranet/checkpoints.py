"""``load_model``: the project's weights files, the authors' checkpoints and run folders, bare
state dicts. Every file is read with ``torch.load(weights_only=True)``; nothing in it runs."""

from __future__ import annotations

import pickle
import re
import reprlib
import stat
from pathlib import Path
from typing import Any

import torch

from .categories import categories_for
from .config import ConfigError, RANetConfig, parse_args_txt
from .device import resolve_device
from .model import RANet
from .transforms import PREPROCESSING
from .weights import ModelMeta, default_weights_path, is_weights_file

__all__ = ["CheckpointError", "load_model", "read_checkpoint", "find_args_txt", "save_authors_checkpoint"]

PREPROCESSING_FOR_DATA = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet": "imagenet"}


class CheckpointError(ValueError):
    """A model file that cannot be used; ``str(err)`` is one line naming the file and the reason."""


def read_checkpoint(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``, every failure turned into one clear line."""
    corrupt = f"{path.name}: not a PyTorch checkpoint, or the file is truncated or corrupt"
    if _is_special_file(path):  # reading a pipe or a device could block forever
        raise CheckpointError(f"{path}: not a regular file (a device, pipe or socket)")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise CheckpointError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{path}: is a folder without args.txt and a checkpoint") from None
    except PermissionError:
        raise CheckpointError(f"{path}: permission denied") from None
    except pickle.UnpicklingError as exc:
        found = re.search(r"GLOBAL ([\w.]+)", str(exc))
        if found or "reduce for unrecognized function" in str(exc):
            what = f" ({found.group(1)})" if found else ""
            raise CheckpointError(f"{path.name}: refused: it holds Python objects{what} that could run code "
                                  "when loaded; only tensors and plain values are accepted") from None
        raise CheckpointError(corrupt) from None
    except MemoryError:
        raise CheckpointError(f"{path.name}: not enough memory to read it") from None
    except OSError as exc:
        raise CheckpointError(f"{path}: {exc.strerror.lower()}" if exc.errno and exc.strerror else corrupt) from None
    except Exception:  # torch's readers raise assorted types (RuntimeError, KeyError, ...) on damaged files
        raise CheckpointError(corrupt) from None


def _is_special_file(path: Path) -> bool:
    try:
        mode = path.stat().st_mode
    except (OSError, ValueError):
        return False  # torch.load says why
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


def find_args_txt(checkpoint: Path) -> Path | None:
    """The authors' run folders keep ``args.txt`` beside ``save_models/``: look beside the file
    (also ``NAME.args.txt`` for ``NAME.pth.tar``) and one or two folders up."""
    named = checkpoint.with_name(checkpoint.name.split(".")[0] + ".args.txt")
    if named.is_file():
        return named
    for folder in [checkpoint.parent, *list(checkpoint.parents)[1:3]]:
        candidate = folder / "args.txt"
        if candidate.is_file():
            return candidate
    return None


def _checkpoint_in_run_folder(folder: Path) -> Path:
    models = folder / "save_models" if (folder / "save_models").is_dir() else folder
    best = models / "model_best.pth.tar"
    if best.is_file():
        return best
    numbered = sorted(models.glob("checkpoint_*.pth.tar"),
                      key=lambda p: int(re.sub(r"\D", "", p.stem) or 0))
    if numbered:
        return numbered[-1]
    others = sorted(models.glob("*.pth.tar")) + sorted(models.glob("*.pt")) + sorted(models.glob("*.pth"))
    if others:
        return others[0]
    raise CheckpointError(f"{folder}: no checkpoint found (expected save_models/model_best.pth.tar)")


def _fit_report(model: RANet, state_dict: dict[str, torch.Tensor], limit: int = 3) -> str | None:
    expected = model.state_dict()
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    wrong = [f"{k} {tuple(state_dict[k].shape)} vs {tuple(v.shape)}"
             for k, v in expected.items() if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    parts = []
    if wrong:
        parts.append(f"shape mismatch (checkpoint vs config): {'; '.join(wrong[:limit])}" + (" …" if len(wrong) > limit else ""))
    if missing:
        parts.append(f"missing keys: {', '.join(missing[:limit])}" + (f" (+{len(missing) - limit} more)" if len(missing) > limit else ""))
    if unexpected:
        parts.append(f"unexpected keys: {', '.join(unexpected[:limit])}" + (f" (+{len(unexpected) - limit} more)" if len(unexpected) > limit else ""))
    return "; ".join(parts) or None


def _as_config(config: RANetConfig | str | Path | dict | None) -> RANetConfig | None:
    if config is None or isinstance(config, RANetConfig):
        return config
    if isinstance(config, dict):
        return RANetConfig.from_dict(config)
    return parse_args_txt(config)


def load_model(path: str | Path | None = None, config: RANetConfig | str | Path | dict | None = None,
               device: str | torch.device | None = None) -> RANet:
    """Load a ready RANet (eval mode, on ``device``; ``None``/``auto`` = CUDA, MPS, CPU).

    ``path``: the project's weights file (default: the embedded model), an authors' checkpoint
    (``args.txt`` beside it or one or two folders up, or given as ``config``), an authors' run
    folder, or a bare state dict with ``config``. The model carries ``model.meta``
    (:class:`~ranet.weights.ModelMeta`) and ``model.transform``.
    """
    path = Path(path) if path is not None else default_weights_path()
    if not path.exists() and path == default_weights_path():
        raise CheckpointError(f"the embedded model is missing ({path}); pass a weights file")
    try:
        cfg = _as_config(config)
        if path.is_dir():
            cfg = cfg or (parse_args_txt(path / "args.txt") if (path / "args.txt").is_file() else None)
            path = _checkpoint_in_run_folder(path)
        obj = read_checkpoint(path)
        state_dict = _state_dict(obj, path)
        if is_weights_file(obj):
            cfg = cfg or RANetConfig.from_dict(obj.get("config"))
            meta = _weights_meta(obj, path)
        else:
            cfg = cfg or _authors_config(path)
            meta = _authors_meta(cfg, path, obj)
        _check_meta(meta, cfg, path)
        model = _build(cfg, {k.removeprefix("module."): v for k, v in state_dict.items()}, path)
    except ConfigError as exc:
        raise CheckpointError(f"bad configuration: {exc}") from None
    model.meta = meta
    model.transform = meta.transform
    return model.to(resolve_device(device)).eval()


def _state_dict(obj: Any, path: Path) -> dict[str, torch.Tensor]:
    state_dict = obj.get("state_dict", obj) if isinstance(obj, dict) else None
    if not isinstance(state_dict, dict) or not state_dict or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state_dict.items()):
        raise CheckpointError(f"{path.name}: not a RANet checkpoint (no state_dict of tensors inside)")
    return state_dict


def _authors_config(path: Path) -> RANetConfig:
    args_txt = find_args_txt(path)
    if args_txt is None:
        raise CheckpointError(f"{path.name}: no args.txt found beside it or one or two folders up; "
                              "pass the configuration (--config args.txt)")
    return parse_args_txt(args_txt)


def _weights_meta(obj: dict, path: Path) -> ModelMeta:
    try:
        return ModelMeta.from_dict(obj["meta"], source=str(path))
    except (KeyError, TypeError, AttributeError):
        raise CheckpointError(f"{path.name}: damaged weights file (its metadata is missing or incomplete)") from None


def _check_meta(meta: ModelMeta, cfg: RANetConfig, path: Path) -> None:
    """What the CLI and the app rely on, checked once here instead of failing mid-classification."""
    problems = []
    if not isinstance(meta.preprocessing, str) or meta.preprocessing not in PREPROCESSING:
        problems.append(f"unknown preprocessing {reprlib.repr(meta.preprocessing)}")
    categories = meta.categories
    if not isinstance(categories, list) or len(categories) != cfg.num_classes or \
            not all(isinstance(c, str) for c in categories):
        problems.append(f"expected {cfg.num_classes} category names")
    if not isinstance(meta.input_size, int) or not 8 <= meta.input_size <= 4096:
        problems.append("the input size must be 8..4096")
    if not isinstance(meta.thresholds, dict) or not all(
            isinstance(t, list) and len(t) == cfg.num_exits and all(isinstance(v, (int, float)) for v in t)
            for t in meta.thresholds.values()):
        problems.append(f"expected {cfg.num_exits} thresholds per budget")
    if problems:
        raise CheckpointError(f"{path.name}: damaged metadata: {'; '.join(problems)}")


def _build(cfg: RANetConfig, state_dict: dict[str, torch.Tensor], path: Path) -> RANet:
    # Compared on the meta device first: a configuration that does not fit the file is refused
    # before memory is allocated for it (a hostile args.txt could ask for terabytes).
    with torch.device("meta"):
        problem = _fit_report(RANet(cfg), state_dict)
    if problem:
        raise CheckpointError(f"{path.name} does not fit its configuration: {problem}")
    floats = {k: v.float() for k, v in state_dict.items() if v.is_floating_point()}
    broken = next((k for k, v in floats.items() if not bool(torch.isfinite(v).all())), None)
    if broken is not None:
        raise CheckpointError(f"{path.name}: damaged weights (NaN or infinite values in {broken})")
    model = RANet(cfg)
    try:
        model.load_state_dict({**state_dict, **floats})
    except (RuntimeError, TypeError, ValueError):  # e.g. complex or sparse tensors in the file
        raise CheckpointError(f"{path.name}: its tensors cannot be loaded into a RANet") from None
    return model


def _authors_meta(cfg: RANetConfig, path: Path, obj: Any) -> ModelMeta:
    from .flops import exit_infos

    prep = PREPROCESSING_FOR_DATA.get(cfg.data, "cifar10")
    infos = exit_infos(cfg)
    stem = path.parent.parent.name if path.parent.name == "save_models" else path.stem
    epoch = obj.get("epoch") if isinstance(obj, dict) else None
    return ModelMeta(
        name=f"RANet {cfg.data} ({stem})",
        categories=categories_for(cfg.data, cfg.num_classes),
        preprocessing=prep,
        input_size=cfg.default_input_size,
        exit_flops=[e.flops for e in infos],
        exit_params=[e.params for e in infos],
        recipe={"source": "authors' training code", "epoch": epoch,
                "best_prec1": obj.get("best_prec1") if isinstance(obj, dict) else None},
        source=str(path),
    )


def save_authors_checkpoint(path: str | Path, model: RANet, epoch: int = 0, best_prec1: float = 0.0) -> Path:
    """Write a checkpoint exactly as the authors' ``main.py`` does (``module.`` keys), with its
    ``args.txt`` beside it: handy for tests and for handing a model to the reference code."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = {f"module.{k}": v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"epoch": epoch, "arch": "RANet", "state_dict": sd, "best_prec1": best_prec1}, path)
    fields = ", ".join(f"{k}={v!r}" for k, v in model.config.to_dict().items())
    (path.parent / "args.txt").write_text(f"Namespace({fields}, arch='RANet')\n")
    return path

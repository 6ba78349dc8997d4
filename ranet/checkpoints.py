"""``load_model``: the project's weights files, the authors' checkpoints and run folders, bare
state dicts. Every file is read with ``torch.load(weights_only=True)``; nothing in it runs."""

from __future__ import annotations

import logging
import pickle
import re
import stat
import warnings
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from .config import RANetConfig, parse_args_txt
from .datasets import dataset_for_authors, get_dataset
from .device import resolve_device
from .errors import CheckpointError, ConfigError
from .flops import exit_infos
from .model import RANet
from .weights import WeightsRecord, default_weights_path, is_weights_file, record_from_file

__all__ = ["load_model", "read_checkpoint", "find_args_txt", "save_authors_checkpoint"]

log = logging.getLogger(__name__)


def read_checkpoint(path: Path) -> Any:
    """``torch.load`` with ``weights_only=True``, every failure turned into one clear line."""
    corrupt = f"{path.name}: not a PyTorch checkpoint, or the file is truncated or corrupt"
    if _is_special_file(path):  # reading a pipe or a device could block forever
        raise CheckpointError(f"{path}: not a regular file (a device, pipe or socket)")
    # torch's warnings (e.g. about pickle protocols) are logged, not printed over a one-line reason.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            return _torch_load(path, corrupt)
        finally:
            for warning in caught:
                log.warning("%s: %s", path.name, warning.message)


def _torch_load(path: Path, corrupt: str) -> Any:
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
    folder, or a bare state dict with ``config``. The model carries its
    :class:`~ranet.weights.WeightsRecord` as ``model.meta``.
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
        state_dict = {k.removeprefix("module."): v for k, v in state_dict.items()}
        if is_weights_file(obj):
            record = _weights_record(obj, path)
            if cfg is not None and cfg != record.config:
                record = replace(record, config=cfg)
            problems = record.check()
            if problems:
                raise CheckpointError(f"{path.name}: damaged metadata: {'; '.join(problems)}")
            model = _build(record.config, state_dict, path, record)
        else:
            cfg = cfg or _authors_config(path)
            model = _build(cfg, state_dict, path)
            model.meta = _authors_record(model, path, obj)
    except ConfigError as exc:
        raise CheckpointError(f"bad configuration: {exc}") from None
    return model.to(resolve_device(device))


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


def _weights_record(obj: dict, path: Path) -> WeightsRecord:
    try:
        return record_from_file(obj, source=str(path))
    except ConfigError:
        raise
    except ValueError as exc:  # a version this code does not know
        raise CheckpointError(f"{path.name}: {exc}") from None
    except (KeyError, TypeError, AttributeError):
        raise CheckpointError(f"{path.name}: damaged weights file (its metadata is missing or incomplete)") from None


def _build(cfg: RANetConfig, state_dict: dict[str, torch.Tensor], path: Path,
           record: WeightsRecord | None = None) -> RANet:
    """The network of ``cfg`` holding ``state_dict``, in eval mode, with ``record`` as its meta."""
    # Built once, on the meta device: a configuration that does not fit the file is refused
    # before memory is allocated for it (a hostile args.txt could ask for terabytes), and no
    # time goes into initialising parameters that the file's tensors replace.
    with torch.device("meta"):
        model = RANet(cfg, meta=record, init_weights=False)
    problem = _fit_report(model, state_dict)
    if problem:
        raise CheckpointError(f"{path.name} does not fit its configuration: {problem}")
    try:
        floats, every = _as_float32(state_dict)
    except RuntimeError:  # e.g. sparse tensors in the file
        raise CheckpointError(f"{path.name}: its tensors cannot be loaded into a RANet") from None
    if not bool(torch.isfinite(every).all()):
        broken = next(k for k, v in floats.items() if not bool(torch.isfinite(v).all()))
        raise CheckpointError(f"{path.name}: damaged weights (NaN or infinite values in {broken})")
    try:
        model.load_state_dict({**state_dict, **floats}, assign=True)
    except (RuntimeError, TypeError, ValueError):  # e.g. complex or sparse tensors in the file
        raise CheckpointError(f"{path.name}: its tensors cannot be loaded into a RANet") from None
    return model.eval()


def _as_float32(state_dict: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
    """Every floating tensor as float32, each a view of one flat buffer, and the buffer: one
    finiteness check covers them all (hundreds of small checks cost most of a load)."""
    floating = {k: v for k, v in state_dict.items() if v.is_floating_point()}
    flat = torch.empty(sum(v.numel() for v in floating.values()))
    views, start = {}, 0
    for k, v in floating.items():
        views[k] = flat[start : start + v.numel()].view(v.shape)
        views[k].copy_(v)
        start += v.numel()
    return views, flat


def _authors_record(model: RANet, path: Path, obj: Any) -> WeightsRecord:
    cfg = model.config
    spec = dataset_for_authors(cfg.data) or get_dataset("cifar10")
    infos = exit_infos(cfg, cfg.default_input_size, model=model)
    stem = path.parent.parent.name if path.parent.name == "save_models" else path.stem
    epoch = obj.get("epoch") if isinstance(obj, dict) else None
    return WeightsRecord(
        name=f"RANet {cfg.data} ({stem})", config=cfg, categories=tuple(spec.categories(cfg.num_classes)),
        preprocessing=spec.preprocessing.name, input_size=cfg.default_input_size,
        exit_flops=tuple(e.flops for e in infos), exit_params=tuple(e.params for e in infos),
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

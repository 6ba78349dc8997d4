"""RANet: Resolution Adaptive Networks (Yang et al., CVPR 2020), with true early exit.

The public API: build a model from a configuration, load weights or the authors' checkpoints,
count FLOPs the paper's way, and classify with early exit. Names are imported on first use, so
``import ranet.files`` (or the app's first window) does not wait for torch.
"""

from __future__ import annotations

import importlib
from typing import Any

_API = {
    "checkpoints": ["load_model", "save_authors_checkpoint"],
    "config": ["PRESETS", "RANetConfig", "parse_args_txt", "preset"],
    "datasets": ["DATASETS", "DatasetSpec", "get_dataset", "load_dataset", "register"],
    "device": ["device_label", "resolve_device"],
    "errors": ["CheckpointError", "ConfigError", "DataError", "ImageLoadError", "RANetError", "UsageError"],
    "flops": ["ExitInfo", "exit_flops", "exit_infos", "exit_params"],
    "images": ["load_image", "scan_images"],
    "inference": ["EarlyExitEngine", "ExitResult"],
    "model": ["ExitRunner", "RANet", "build_model", "fold_batchnorm"],
    "policies": ["exits_for_thresholds", "leaves"],
    "reading": ["read_batches"],
    "weights": ["WeightsRecord", "default_weights_path", "save_weights"],
}
_MODULE_OF = {name: module for module, names in _API.items() for name in names}

__all__ = sorted(_MODULE_OF)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'ranet' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""RANet: Resolution Adaptive Networks (Yang et al., CVPR 2020), with true early exit.

The public API: build a model from a configuration, load weights or the authors' checkpoints,
count FLOPs the paper's way, and classify with early exit.
"""

from .checkpoints import CheckpointError, load_model, save_authors_checkpoint
from .config import PRESETS, ConfigError, RANetConfig, parse_args_txt, preset
from .device import device_label, resolve_device
from .flops import ExitInfo, exit_flops, exit_infos, exit_params
from .images import ImageLoadError, load_image, scan_images
from .inference import EarlyExitEngine, ExitResult
from .model import ExitRunner, RANet, build_model, fold_batchnorm
from .weights import ModelMeta, default_weights_path, save_weights

__all__ = [
    "CheckpointError", "ConfigError", "EarlyExitEngine", "ExitInfo", "ExitResult", "ExitRunner",
    "ImageLoadError", "ModelMeta", "PRESETS", "RANet", "RANetConfig", "build_model", "default_weights_path",
    "device_label", "exit_flops", "exit_infos", "exit_params", "fold_batchnorm", "load_image", "load_model",
    "parse_args_txt", "preset", "resolve_device", "save_authors_checkpoint", "save_weights", "scan_images",
]

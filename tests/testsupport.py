"""Constants and helpers shared by the test modules (importable by name; ``conftest`` is not,
because tests/app has a conftest of its own)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"

# Small enough to build in well under a second; same topology as the shipped model.
TINY_CONFIG = dict(data="cifar10", nBlocks=2, block_step=2, nChannels=4, growthRate=4, grFactor=[4, 2, 1],
                   bnFactor=[4, 2, 1], scale_list=[1, 2, 3], compress_factor=0.25, step=1, stepmode="even",
                   reduction=0.5)


def write_tiny_args_txt(path: Path) -> Path:
    """The tiny configuration as an authors' ``args.txt`` (what ``train --config`` reads)."""
    fields = ", ".join(f"{k}={v!r}" for k, v in TINY_CONFIG.items())
    path.write_text(f"Namespace({fields})")
    return path


def needs_reference() -> pytest.MarkDecorator:
    return pytest.mark.skipif(not REFERENCE.is_dir(),
                              reason=f"../shared/reference not found at {REFERENCE} (CI has it)")


def make_tiny_weights(path: Path, seed: int = 0) -> Path:
    from ranet.config import RANetConfig
    from ranet.data import FASHION_MNIST_CLASSES
    from ranet.flops import exit_infos
    from ranet.model import RANet
    from ranet.weights import ModelMeta, save_weights

    torch.manual_seed(seed)
    cfg = RANetConfig.from_dict(TINY_CONFIG)
    model = RANet(cfg).eval()
    infos = exit_infos(cfg, 32)
    meta = ModelMeta(name="tiny test RANet", categories=list(FASHION_MNIST_CLASSES), preprocessing="fashion-mnist",
                     input_size=32, exit_flops=[e.flops for e in infos], exit_params=[e.params for e in infos],
                     recipe={"note": "random weights for tests"})
    return save_weights(path, cfg, model.state_dict(), meta, half=False)

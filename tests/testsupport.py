"""Constants and helpers shared by the test modules (importable by name; ``conftest`` is not,
because tests/app has a conftest of its own)."""

from __future__ import annotations

import os
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parent / "data"  # the authors' fixtures and key lists: see data/README.md
SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"

# Small enough to build in well under a second; same topology as the shipped model.
TINY_CONFIG = dict(data="cifar10", nBlocks=2, block_step=2, nChannels=4, growthRate=4, grFactor=[4, 2, 1],
                   bnFactor=[4, 2, 1], scale_list=[1, 2, 3], compress_factor=0.25, step=1, stepmode="even",
                   reduction=0.5)


# The configurations of the authors' reference.json (their training code's defaults, the settings of
# their README and shell scripts, and the two fixtures in data/), written out so that no test needs
# the reference folder. Per-exit figures: test_flops.py; state_dict keys: data/keys/.
_CIFAR10_DEFAULT = dict(data="cifar10", nBlocks=2, block_step=2, nChannels=16, growthRate=6, grFactor=[4, 2, 1],
                        bnFactor=[4, 2, 1], scale_list=[1, 2, 3], compress_factor=0.25, step=4, stepmode="even",
                        reduction=0.5)
_IMAGENET_4_SCALES = dict(data="ImageNet", grFactor=[4, 2, 2, 1], bnFactor=[4, 2, 2, 1], scale_list=[1, 2, 3, 4])
REFERENCE_CONFIGS: dict[str, dict] = {
    "cifar10_default": _CIFAR10_DEFAULT,
    "cifar10_train_cifar_sh": {**_CIFAR10_DEFAULT, "grFactor": [4, 2, 1, 1], "bnFactor": [4, 2, 1, 1],
                               "scale_list": [1, 2, 3, 3]},
    "cifar10_readme_lg": {**_CIFAR10_DEFAULT, "step": 2, "stepmode": "lg"},
    "cifar100_default": {**_CIFAR10_DEFAULT, "data": "cifar100"},
    "imagenet_readme": {**_CIFAR10_DEFAULT, **_IMAGENET_4_SCALES, "nChannels": 32, "growthRate": 16, "step": 8},
    "imagenet_train_imagenet_sh": {**_CIFAR10_DEFAULT, "data": "ImageNet", "growthRate": 16,
                                   "grFactor": [4, 2, 1, 1], "bnFactor": [4, 2, 1, 1], "scale_list": [1, 2, 3, 4],
                                   "step": 8},
    "tiny_cifar_fixture": {**_CIFAR10_DEFAULT, "nChannels": 8, "growthRate": 4, "step": 2},
    "tiny_imagenet_fixture": {**_CIFAR10_DEFAULT, **_IMAGENET_4_SCALES, "nChannels": 8, "growthRate": 4, "step": 2},
}


def write_tiny_args_txt(path: Path) -> Path:
    """The tiny configuration as an authors' ``args.txt`` (what ``train --config`` reads)."""
    fields = ", ".join(f"{k}={v!r}" for k, v in TINY_CONFIG.items())
    path.write_text(f"Namespace({fields})")
    return path


def make_tiny_weights(path: Path, seed: int = 0) -> Path:
    from ranet.config import RANetConfig
    from ranet.datasets import get_dataset
    from ranet.flops import exit_infos
    from ranet.model import RANet
    from ranet.weights import WeightsRecord, save_weights

    torch.manual_seed(seed)
    cfg = RANetConfig.from_dict(TINY_CONFIG)
    model = RANet(cfg).eval()
    infos = exit_infos(cfg, 32)
    record = WeightsRecord(name="tiny test RANet", config=cfg, categories=tuple(get_dataset("fashion-mnist").categories(10)),
                           preprocessing="fashion-mnist", input_size=32, exit_flops=tuple(e.flops for e in infos),
                           exit_params=tuple(e.params for e in infos), recipe={"note": "random weights for tests"})
    return save_weights(path, record, model.state_dict(), half=False)


def linked_tree(root: Path) -> tuple[Path, list[Path]]:
    """A dropped folder ``root/parent/drop`` with links that lead out of it or twice to one file:
    ``loop -> ..``, ``sibling -> ../other`` (a tree beside it), ``l1.png`` and ``l2.png`` to one
    image of that sibling, ``twin.png`` to ``a.png``. Returns the folder and what a scan must list
    (real paths, each once); the parent and the sibling hold images that must not be listed."""
    import shutil

    parent = root / "parent"
    drop = parent / "drop"
    (drop / "sub").mkdir(parents=True)
    (parent / "other").mkdir()
    images = sorted((SAMPLES / "Bag").glob("*.png"))
    for image, name in zip(images, ["drop/a.png", "drop/b.png", "drop/sub/c.png", "other/o1.png", "other/o2.png",
                                    "p.png"]):
        shutil.copy(image, parent / name)
    os.symlink("..", drop / "loop")
    os.symlink("../other", drop / "sibling")
    os.symlink("../other/o1.png", drop / "l1.png")
    os.symlink("../other/o1.png", drop / "l2.png")
    os.symlink("a.png", drop / "twin.png")
    return drop, [drop / "a.png", drop / "b.png", parent / "other" / "o1.png", drop / "sub" / "c.png"]

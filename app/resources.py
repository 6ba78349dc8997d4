"""Paths of the files shipped with the app, from a source tree or a PyInstaller bundle."""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["resource_root", "resource_path", "samples_dir"]


def resource_root() -> Path:
    """The folder holding ``assets/``: the bundle's unpack folder when frozen, else the repo root."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def samples_dir() -> Path:
    """The bundled Fashion-MNIST test images, one folder per class."""
    return resource_path("assets", "samples")

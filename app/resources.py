"""Paths of the files shipped with the app, from a source tree or a PyInstaller bundle, and the
app's version."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

__all__ = ["resource_root", "resource_path", "samples_dir", "app_version"]


def resource_root() -> Path:
    """The folder holding ``assets/``: the bundle's unpack folder when frozen, else the repo root."""
    frozen = getattr(sys, "_MEIPASS", None)
    return Path(frozen) if frozen else Path(__file__).resolve().parent.parent


def resource_path(*parts: str) -> Path:
    return resource_root().joinpath(*parts)


def samples_dir() -> Path:
    """The bundled Fashion-MNIST test images, one folder per class."""
    return resource_path("assets", "samples")


def app_version() -> str:
    """The installed package's version (a bundle carries its metadata); without it, a note."""
    try:
        return metadata.version("ranet-demo")
    except metadata.PackageNotFoundError:
        return "(version not recorded)"

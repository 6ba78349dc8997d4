"""Checks of options that several commands share; a bad value is a :class:`~ranet.errors.UsageError`."""

from __future__ import annotations

import torch

from ..device import resolve_device
from ..errors import UsageError

__all__ = ["check_threshold", "device_option"]


def check_threshold(value: float | None) -> None:
    """``--threshold``, when given, is a confidence between 0 and 1."""
    if value is not None and not 0.0 <= value <= 1.0:
        raise UsageError(f"--threshold must be between 0 and 1, got {value}")


def device_option(name: str) -> torch.device:
    """``--device`` resolved (auto = CUDA, MPS, CPU); an unavailable device is a usage error."""
    try:
        return resolve_device(name)
    except ValueError as exc:
        raise UsageError(str(exc)) from None

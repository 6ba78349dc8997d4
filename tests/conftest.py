"""Shared fixtures: a tiny RANet saved as the project's weights file, and the reference folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
torch.set_num_threads(1)

from testsupport import make_tiny_weights  # noqa: E402


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights file of a tiny random RANet with the Fashion-MNIST categories."""
    return make_tiny_weights(tmp_path_factory.mktemp("weights") / "tiny.pt")


def pytest_addoption(parser):
    parser.addoption("--quick", action="store_true",
                     help="skip the slow tests (the PyInstaller bundle build); CI runs everything")


def pytest_collection_modifyitems(config, items):
    if not config.getoption("--quick"):
        return
    skip = pytest.mark.skip(reason="skipped by --quick (CI runs it)")
    for item in items:
        if "slow" in item.keywords or "bundle" in item.keywords:
            item.add_marker(skip)

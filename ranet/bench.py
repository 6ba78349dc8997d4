"""``ranet bench``: being written (issue 6)."""

from __future__ import annotations

import argparse


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto")
    p.add_argument("--json", action="store_true")


def run(args: argparse.Namespace) -> int:
    raise NotImplementedError

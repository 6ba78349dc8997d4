"""``python -m ranet`` / ``ranet``: flops, classify, evaluate, train, bench."""

from __future__ import annotations

import argparse
import sys

__all__ = ["main"]


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ranet", description="Resolution Adaptive Networks: tools")
    sub = parser.add_subparsers(dest="command", required=True)
    from . import train

    train.add_arguments(sub.add_parser("train", help="train a RANet (the paper's objective)"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "train":
        from . import train
        return train.run(args)
    return 2

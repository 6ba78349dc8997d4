"""``python -m ranet`` / ``ranet``: flops, classify, evaluate, train, average, bench.

Exit codes: 0 success, 1 some inputs could not be processed, 2 usage or model errors. Bad input
and bad checkpoints give one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import threading
import warnings
from pathlib import Path
from typing import Iterator, Sequence

from torch import Tensor

from ..allocator import tune_allocator
from ..checkpoints import load_model
from ..config import PRESETS, RANetConfig, parse_args_txt, preset
from ..errors import RANetError, UsageError
from ..flops import exit_infos
from ..images import scan_images
from ..inference import EarlyExitEngine, ExitResult, stream_lanes
from ..reading import read_batches
from ..weights import WeightsRecord
from . import average, bench, evaluate, train
from .options import check_threshold, device_option

__all__ = ["main"]


def _model_options(p: argparse.ArgumentParser, flops_only: bool = False) -> None:
    p.add_argument("--weights", help="weights file, authors' checkpoint (.pth.tar) or run folder (default: embedded model)")
    p.add_argument("--config", help="an authors' args.txt (for checkpoints without one beside them)")
    if flops_only:
        p.add_argument("--preset", help="a named configuration (see --list-presets)")
        p.add_argument("--list-presets", action="store_true", help="list the named configurations")


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ranet", description="Resolution Adaptive Networks: tools")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("flops", help="per-exit FLOPs and parameters (the paper's convention)")
    _model_options(p, flops_only=True)
    p.add_argument("--input-size", type=int, help="input height/width (default: the model's)")
    p.add_argument("--json", action="store_true", help="one JSON object")

    p = sub.add_parser("classify", help="classify images and folders with early exit")
    _model_options(p)
    p.add_argument("paths", nargs="+", metavar="PATH", help="image files and folders (recursive)")
    p.add_argument("--threshold", type=float, default=None,
                   help="confidence to leave at an exit, 0..1 (default: 0.9)")
    p.add_argument("--budget", default=None, metavar="SHARE",
                   help="use the weights' calibrated thresholds for this FLOPs budget, e.g. 40%% (see the model card)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")

    evaluate.add_arguments(sub.add_parser("evaluate", help="anytime and budgeted-batch evaluation"))
    train.add_arguments(sub.add_parser("train", help="train a RANet (the paper's objective)"))
    average.add_arguments(sub.add_parser("average", help="average the weights of two runs of one network"))
    bench.add_arguments(sub.add_parser("bench", help="measure early exit in seconds, not only FLOPs"))
    return parser


def _resolve_config(args: argparse.Namespace) -> tuple[RANetConfig, WeightsRecord | None]:
    if getattr(args, "preset", None):
        return preset(args.preset), None
    if args.config and not args.weights:
        return parse_args_txt(args.config), None
    model = load_model(args.weights, config=args.config, device="cpu")
    return model.config, model.meta


def _cmd_flops(args: argparse.Namespace) -> int:
    if args.list_presets:
        for name, cfg in PRESETS.items():
            print(f"{name:28s} {cfg.data:9s} scales={list(cfg.scale_list)} exits={cfg.num_exits}")
        return 0
    cfg, meta = _resolve_config(args)
    size = args.input_size or (meta.input_size if meta else cfg.default_input_size)
    if size < 8 or size > 4096:
        raise UsageError(f"--input-size {size} is out of range (8..4096)")
    infos = exit_infos(cfg, size)
    # A model's own figures come from its record; another input size is counted afresh.
    own = meta is not None and size == meta.input_size
    flops = list(meta.exit_flops) if own else [e.flops for e in infos]
    params = list(meta.exit_params) if own else [e.params for e in infos]
    if args.json:
        print(json.dumps({
            "model": meta.name if meta else None, "config": cfg.to_dict(), "input_size": size,
            "exit_flops": flops, "exit_params": params,
            "exits": [{"exit": e.index + 1, "flow": e.flow, "block": e.block, "flops": f, "params": n,
                       "resolution": e.resolution, "resolution_path": e.resolution_path}
                      for e, f, n in zip(infos, flops, params)],
        }))
        return 0
    print(f"{meta.name if meta else cfg.data}: input {size}x{size}, {cfg.num_scales} scales, {len(infos)} exits")
    print(f"{'exit':>4} {'flow':>4} {'block':>5} {'MFLOPs':>10} {'params (M)':>11}  resolution path")
    for e, f, n in zip(infos, flops, params):
        print(f"{e.index + 1:>4} {e.flow:>4} {e.block:>5} {f / 1e6:>10.2f} {n / 1e6:>11.3f}  "
              f"{' -> '.join(e.resolution_path)} (exit at {e.resolution}x{e.resolution})")
    return 0


def _cmd_classify(args: argparse.Namespace) -> int:
    if args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_threshold(args.threshold)
    device = device_option(args.device)
    model = load_model(args.weights, config=args.config, device=device)
    thresholds: float | list[float] = 0.9 if args.threshold is None else args.threshold
    if args.budget is not None:
        try:
            thresholds = list(model.meta.budget(args.budget).thresholds)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    engine = EarlyExitEngine(model, thresholds, on_notice=lambda m: print(f"notice: {m}", file=sys.stderr))
    failures = 0
    printing = threading.Lock()  # lines come from the engine's lanes as well as from this thread

    def report(path: Path, result: ExitResult | None = None, error: str | None = None) -> None:
        nonlocal failures
        if error is not None:
            failures += 1
            line = (json.dumps({"path": str(path), "ok": False, "error": error}) if args.json else
                    f"{path}: ERROR {error}")
        elif args.json:
            line = json.dumps({"path": str(path), "ok": True, **result.to_json()})
        else:
            line = (f"{path}: {result.label} ({result.confidence:.3f}) exit {result.exit}/{len(engine.exits)} "
                    f"{result.flops / 1e6:.2f} MFLOPs via {' -> '.join(result.resolution_path)} "
                    f"{result.ms:.1f} ms")
        with printing:
            print(line, flush=True)

    waiting: dict[int, tuple[Path, float]] = {}  # by stream position: path, ms spent reading it

    def batches() -> Iterator[Tensor]:
        given = 0
        for batch in read_batches(scan_images(args.paths), model.transform, args.batch_size):
            for path, reason in batch.failures:
                report(path, error=reason)
            if batch.inputs is not None:
                waiting.update(enumerate(zip(batch.paths, batch.read_ms), start=given))
                given += len(batch.paths)
                yield batch.inputs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow's warnings about files it copes with; failures are reported
        # Lines come out as images are decided: an image that needs a later exit waits there for others.
        for position, result in engine.stream(batches(), lanes=stream_lanes()):
            path, read_ms = waiting.pop(position)
            result.ms += read_ms
            report(path, result)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    tune_allocator()  # before the first batch: activations stay in the heap (see ranet.allocator)
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # file names need not be valid in the terminal's encoding
            stream.reconfigure(errors="backslashreplace")
    parser = _build_parser()
    args = parser.parse_args(argv)
    # Recorded in weights and model cards: the command exactly as given, also when called from Python.
    args.command_line = "python -m ranet " + shlex.join(sys.argv[1:] if argv is None else argv)
    commands = {"flops": _cmd_flops, "classify": _cmd_classify, "evaluate": evaluate.run, "train": train.run,
                "average": average.run, "bench": bench.run}
    try:
        return commands[args.command](args)
    except RANetError as exc:
        print(f"ranet {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"ranet {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0

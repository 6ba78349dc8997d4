"""``python -m app.folder_bench``: the app's first pass over a folder against the CLI's.

Writes ``--images`` Fashion-MNIST test images as PNG files, then times, interleaved in one
process, :class:`app.workers.ClassifyWorker` (scan, read, preprocess, early exit, batch by batch,
as the window runs it, without the window) and the folder path of ``ranet bench`` (decoding
threads one batch ahead). Prints one JSON object: medians of ``--rounds``, images/s, and the
app's share of the CLI's throughput (the target is at least 80 %).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

TARGET_SHARE = 0.8


def _app_pass(model, folder: Path, threshold: float) -> tuple[float, int]:
    from .workers import ClassifyWorker

    outcomes: list = []
    worker = ClassifyWorker(model, [str(folder)], threshold)
    worker.signals.result.connect(outcomes.extend)
    start = time.perf_counter()
    worker.run()
    return time.perf_counter() - start, sum(o.result is not None for o in outcomes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.folder_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=10_000, help="PNG files in the folder (default: 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians reported (default: 3)")
    parser.add_argument("--threshold", type=float, default=0.728, help="global threshold (default: 0.728)")
    args = parser.parse_args(argv)

    from ranet.allocator import tune_allocator

    tune_allocator()
    import torch

    from ranet import fold_batchnorm, load_model
    from ranet.commands.bench import _folder_case, _write_pngs
    from ranet.datasets import load_dataset
    from ranet.inference import EarlyExitEngine

    model = fold_batchnorm(load_model(None, device="cpu"))
    engine = EarlyExitEngine(model, args.threshold)
    times: dict[str, list[float]] = {"app": [], "cli": []}
    with tempfile.TemporaryDirectory(prefix="ranet-app-bench-") as tmp:
        _write_pngs(Path(tmp), load_dataset("fashion-mnist", None, "test"), args.images)
        for _ in range(args.rounds):
            seconds, classified = _app_pass(model, Path(tmp), args.threshold)
            assert classified == args.images, classified
            times["app"].append(seconds)
            times["cli"].append(_folder_case(engine, model.transform, Path(tmp), 256, 2)["seconds"])
    app, cli = statistics.median(times["app"]), statistics.median(times["cli"])
    share = cli / app
    print(json.dumps({
        "images": args.images, "rounds": args.rounds, "threads": torch.get_num_threads(), "load": os.getloadavg()[0],
        "app_seconds": app, "cli_seconds": cli, "app_images_per_s": args.images / app,
        "cli_images_per_s": args.images / cli, "app_share_of_cli": share, "target_share": TARGET_SHARE,
        "meets_target": share >= TARGET_SHARE, "app_s_rounds": times["app"], "cli_s_rounds": times["cli"],
    }))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

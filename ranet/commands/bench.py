"""``ranet bench``: early exit measured in seconds, not only in FLOPs.

On the Fashion-MNIST test images the full network (a plain forward pass through every exit) is
timed against the early-exit engine at one operating point: the smallest single global
confidence threshold (the app's slider) whose accuracy on the held-out validation images (the
5,000 training images that training set aside) is within 0.1 point of the full network's there.
Choosing it on validation images, as the paper calibrates, keeps the timed test images out of
the choice. Both start from the same normalised tensors and batch sizes. Besides the
speed-ups: the latency to reach each exit at batch 1, a folder of PNG files classified end to
end, and the cost of re-thresholding cached results (what the slider does).

Against the hardware: a float32 matmul measured in the same run gives the machine's peak, and
each way of classifying is reported as useful GFLOP/s (2 × multiply-accumulates × images/s) and
its share of that peak. Against a static network: torchvision's resnet18 and mobilenet_v3_small
(untrained, timing only) on the same inputs and batches.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import torch
from torch import Tensor, nn

from PIL import Image

from ..allocator import tune_allocator
from ..checkpoints import load_model
from ..datasets import ImageSet, load_dataset, train_val_split
from ..errors import UsageError
from ..images import scan_images
from ..inference import EarlyExitEngine, in_lanes, stream_lanes
from ..metrics import ExitOutputs, predict_exits
from ..model import ExitRunner, RANet
from ..policies import exits_for_thresholds
from ..reading import DECODE_WORKERS, read_batches
from ..transforms import Preprocessing
from .options import check_threshold, device_option

__all__ = ["add_arguments", "run", "choose_threshold", "TARGETS"]

# The targets; reported, never asserted.
TARGETS = {
    "wall_to_flops_batch1_cpu": 0.8,
    "wall_to_flops_batched_gpu": 0.7,
    "wall_speedup_batch1_cpu": 7.0,
    "peak_share_batched_cpu": 0.6,
    "folder_seconds_per_10000": 3.0,
    "rethreshold_ms": 5.0,
}
BASELINES = ("resnet18", "mobilenet_v3_small")  # torchvision's, untrained: timing only
BASELINE_NOTE = ("torchvision's {} with num_classes=10 and random weights, on the same normalised 3x32x32 inputs "
                 "and batches: timing only, their answers mean nothing")
ACCURACY_TOLERANCE = 0.1  # percentage points
THRESHOLD_STEPS = 1000  # the threshold is searched on a 0.001 grid
RETHRESHOLD_ROWS = 10_000
LATENCY_IMAGES = 50


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--weights", help="weights file or authors' checkpoint (default: embedded model)")
    p.add_argument("--config", help="an authors' args.txt")
    p.add_argument("--data-root", default=None, help="Fashion-MNIST folder (default: the system's)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or mps")
    p.add_argument("--images", type=int, default=2000, help="test images timed (default: 2000)")
    p.add_argument("--batch-size", type=int, default=None,
                   help="the large batch (default: 256 on CPU, 1024 on a GPU)")
    p.add_argument("--folder-images", type=int, default=10_000,
                   help="PNG files written and classified end to end (default: 10000; 0 skips)")
    p.add_argument("--workers", type=int, default=DECODE_WORKERS,
                   help=f"decoding threads for the folder (default: {DECODE_WORKERS})")
    p.add_argument("--threshold", type=float, default=None,
                   help="time this global threshold instead of the one calibrated on the validation images")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.add_argument("--warmup", type=int, default=3, help="warm-up batches before each timing (default: 3)")
    p.add_argument("--repeats", type=int, default=3, help="timed passes; the median is reported (default: 3)")
    p.add_argument("--no-baselines", action="store_true",
                   help="skip torchvision's static networks (resnet18, mobilenet_v3_small)")
    p.add_argument("--json", action="store_true", help="one JSON object")


# -- timing helpers -------------------------------------------------------------------------------

def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


def _batches(x: Tensor, batch_size: int) -> list[Tensor]:
    return [x[i : i + batch_size] for i in range(0, len(x), batch_size)]


@torch.no_grad()
def _full_pass(model: RANet, batches: Sequence[Tensor], device: torch.device) -> list[Tensor]:
    """The whole network on every batch; the last exit's class per image, on the CPU."""
    out = []
    for batch in batches:
        logits = model(batch.to(device, non_blocking=True))[-1]
        out.append(logits.float().softmax(-1).argmax(-1).cpu())
    return out


@torch.no_grad()
def _static_pass(net: nn.Module, batches: Iterable[Tensor], device: torch.device) -> None:
    """A static network on every batch, its class per image copied back as the full pass does."""
    for batch in batches:
        net(batch.to(device, non_blocking=True)).softmax(-1).argmax(-1).cpu()


def _static_in_lanes(net: nn.Module, batches: Sequence[Tensor], device: torch.device, lanes: int) -> None:
    """:func:`_static_pass` with the batches shared out among ``lanes`` threads as the engine's
    lanes share them (:func:`~ranet.inference.in_lanes`): the same chance for the static networks."""
    def lane(taken: Iterator[Tensor]) -> tuple:
        _static_pass(net, taken, device)
        return ()

    for _ in in_lanes(lane, batches, lanes):
        pass


def _timed(fn: Callable[[], object], device: torch.device) -> tuple[float, object]:
    _synchronize(device)
    start = time.perf_counter()
    value = fn()
    _synchronize(device)
    return time.perf_counter() - start, value


@torch.no_grad()
def _matmul_gflops(device: torch.device, runs: int = 5) -> float:
    """The machine's float32 peak as one large matmul reaches it (2048² on a CPU, 8192² on a GPU)."""
    size = 2048 if device.type == "cpu" else 8192
    a, b = torch.randn(size, size, device=device), torch.randn(size, size, device=device)
    a @ b
    seconds, _ = _timed(lambda: [a @ b for _ in range(runs)], device)
    return runs * 2 * size**3 / seconds / 1e9


@contextmanager
def _counting_macs(net: nn.Module) -> Iterator[list[int]]:
    """Inside, ``total[0]`` counts the multiply-accumulates of ``net``'s convolutions and linear
    layers per image of a batch of one. The same rule for RANet and the static networks: the
    authors' FLOPs counter also counts ReLUs, pooling and biases (0.3-0.6 % more for RANet)."""
    total = [0]

    def count(module: nn.Module, _: tuple, out: Tensor) -> None:
        if isinstance(module, nn.Conv2d):
            per_out = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total[0] += out[0].numel() * per_out
        else:
            total[0] += module.in_features * module.out_features

    handles = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            yield total
    finally:
        for h in handles:
            h.remove()


def _macs(net: nn.Module, x: Tensor) -> int:
    """A static network's multiply-accumulates for one image ``x[:1]``."""
    with _counting_macs(net) as total:
        net(x[:1])
    return total[0]


def _exit_macs(model: RANet, x: Tensor) -> list[int]:
    """RANet's multiply-accumulates for one image ``x[:1]`` up to and including each exit."""
    with _counting_macs(model) as total:
        return [total[0] for _ in ExitRunner(model, x[:1])]


def _static_baselines(device: torch.device, x: Tensor) -> tuple[dict[str, tuple[nn.Module, int]], str]:
    """torchvision's static networks with their MACs per image, and a note for the report (why
    they are absent, when torchvision is not installed, as in the packaged app)."""
    try:
        import torchvision.models as tvm
    except Exception as exc:  # ImportError, or a torchvision built for another torch
        return {}, f"skipped: torchvision cannot be imported ({type(exc).__name__})"
    nets = {}
    for name in BASELINES:
        net = getattr(tvm, name)(weights=None, num_classes=10).eval().to(device)
        nets[name] = (net, _macs(net, x.to(device)))
    return nets, BASELINE_NOTE.format(" and ".join(BASELINES))


# -- operating point ------------------------------------------------------------------------------

def choose_threshold(outputs: ExitOutputs, labels: Tensor, tolerance: float = ACCURACY_TOLERANCE,
                     steps: int = THRESHOLD_STEPS) -> float:
    """The smallest global threshold on a ``1/steps`` grid whose accuracy is at least the last
    exit's minus ``tolerance`` points; ``inf`` (no early exit) when none is."""
    correct = outputs.correct(labels)
    n = len(labels)
    need = int(correct[:, -1].sum()) - tolerance / 100 * n
    for i in range(steps + 1):
        t = i / steps
        exits = exits_for_thresholds(outputs.confidence, [t] * correct.shape[1])
        # A small slack absorbs the float error in ``tolerance / 100 * n``.
        if int(correct.gather(1, exits[:, None]).sum()) >= need - 1e-9:
            return t
    return math.inf


# -- the measurements -----------------------------------------------------------------------------

def _speedup_case(model: RANet, engine: EarlyExitEngine, x: Tensor, labels: Tensor, batch_size: int,
                  device: torch.device, warmup: int, repeats: int, target: float | None,
                  baselines: dict[str, tuple[nn.Module, int]], exit_macs: Sequence[int], lanes: int = 1) -> dict:
    """Full network against the engine (and the static baselines, and the matmul peak) on the
    same images and batches, interleaved per repeat so that a background load slows all alike.
    ``exit_macs``: RANet's MACs per image up to each exit, by the static networks' rule. With
    ``lanes`` > 1, early exit and the static networks are also timed in that many lanes (as
    ``ranet classify`` runs a folder on the CPU)."""
    batches = _batches(x, batch_size)
    warm = batches[: max(warmup, 0)]
    _full_pass(model, warm, device)
    engine.classify_batches(warm)
    for net, _ in baselines.values():
        _static_pass(net, warm, device)
    full_s, dyn_s, peak, lanes_s = [], [], [], []
    static_s: dict[str, list[float]] = {name: [] for name in baselines}
    static_lanes_s: dict[str, list[float]] = {name: [] for name in baselines}
    full_pred, results = None, []
    for _ in range(repeats):
        seconds, full_pred = _timed(lambda: _full_pass(model, batches, device), device)
        full_s.append(seconds)
        seconds, results = _timed(lambda: engine.classify_batches(batches), device)
        dyn_s.append(seconds)
        for name, (net, _) in baselines.items():
            static_s[name].append(_timed(lambda: _static_pass(net, batches, device), device)[0])
        peak.append(_matmul_gflops(device))
        if lanes > 1:
            lanes_s.append(_timed(lambda: list(engine.stream(batches, lanes=lanes)), device)[0])
            for name, (net, _) in baselines.items():
                static_lanes_s[name].append(_timed(lambda: _static_in_lanes(net, batches, device, lanes), device)[0])
    flops = [e.flops for e in engine.exits]
    mean_flops = sum(r.flops for r in results) / len(results)
    mean_macs = sum(exit_macs[r.exit - 1] for r in results) / len(results)
    n = len(x)
    full_t, dyn_t = statistics.median(full_s), statistics.median(dyn_s)
    flops_speedup = flops[-1] / mean_flops
    wall_speedup = full_t / dyn_t
    counts = [0] * len(flops)
    for r in results:
        counts[r.exit - 1] += 1
    ratio = wall_speedup / flops_speedup
    peak_gflops = statistics.median(peak)

    def hardware(macs: float, seconds: float) -> dict:
        gflops = 2 * macs * n / seconds / 1e9
        return {"gflops": gflops, "peak_share": gflops / peak_gflops}

    static = {}
    for name, (_, macs) in baselines.items():
        t = statistics.median(static_s[name])
        static[name] = {"macs": macs, "ms_per_image": t * 1000 / n, "images_per_s": n / t, **hardware(macs, t),
                        "early_exit_speedup": t / dyn_t, "s_repeats": static_s[name]}
    full_hw, dyn_hw = hardware(exit_macs[-1], full_t), hardware(mean_macs, dyn_t)
    in_lanes = None
    if lanes_s:
        lanes_t = statistics.median(lanes_s)
        in_lanes = {"lanes": lanes, "dynamic_ms_per_image": lanes_t * 1000 / n, **hardware(mean_macs, lanes_t),
                    "dynamic_s_repeats": lanes_s, "baselines": {}}
        for name, (_, macs) in baselines.items():
            t = statistics.median(static_lanes_s[name])
            in_lanes["baselines"][name] = {"ms_per_image": t * 1000 / n, **hardware(macs, t),
                                           "early_exit_speedup": t / lanes_t, "s_repeats": static_lanes_s[name]}
    return {
        "case": "speedup", "batch_size": batch_size, "images": n,
        "full_ms_per_image": full_t * 1000 / n, "dynamic_ms_per_image": dyn_t * 1000 / n,
        "full_images_per_s": n / full_t, "dynamic_images_per_s": n / dyn_t,
        "full_accuracy": int((torch.cat(full_pred) == labels).sum()) / n * 100,
        "dynamic_accuracy": sum(r.class_index == int(y) for r, y in zip(results, labels)) / n * 100,
        "full_flops": flops[-1], "mean_dynamic_flops": mean_flops, "exit_share": [c / n for c in counts],
        "full_macs": exit_macs[-1], "mean_dynamic_macs": mean_macs,
        "flops_speedup": flops_speedup, "wall_speedup": wall_speedup, "wall_to_flops": ratio,
        "target_wall_to_flops": target, "meets_target": None if target is None else ratio >= target,
        "full_s_repeats": full_s, "dynamic_s_repeats": dyn_s,
        "peak_gflops": peak_gflops, "peak_gflops_repeats": peak,
        "full_gflops": full_hw["gflops"], "full_peak_share": full_hw["peak_share"],
        "dynamic_gflops": dyn_hw["gflops"], "dynamic_peak_share": dyn_hw["peak_share"],
        "baselines": static, "in_lanes": in_lanes,
    }


@torch.no_grad()
def _exit_latency(model: RANet, x: Tensor, device: torch.device, warmup: int, repeats: int) -> list[float]:
    """Median ms from an image's arrival to exit k's class probabilities on the CPU, batch 1."""
    images = x[:LATENCY_IMAGES]
    for i in range(min(warmup, len(images))):
        list(ExitRunner(model, images[i : i + 1].to(device)))
    times: list[list[float]] = [[] for _ in range(model.num_exits)]
    for _ in range(repeats):
        for i in range(len(images)):
            start = time.perf_counter()
            runner = ExitRunner(model, images[i : i + 1].to(device))
            for k in range(model.num_exits):
                runner.step().float().softmax(-1).cpu()  # .cpu() waits for the device
                times[k].append(time.perf_counter() - start)
    return [statistics.median(t) * 1000 for t in times]


def _rethreshold_ms(confidence: Tensor, thresholds: Sequence[float], runs: int = 200) -> float:
    """Median ms of ``exits_for_thresholds`` on ``RETHRESHOLD_ROWS`` cached confidences, held as
    the app holds them (a numpy array)."""
    reps = -(-RETHRESHOLD_ROWS // len(confidence))
    cached = confidence.repeat(reps, 1)[:RETHRESHOLD_ROWS].float().cpu().numpy()
    for _ in range(10):
        exits_for_thresholds(cached, thresholds)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        exits_for_thresholds(cached, thresholds)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def _write_pngs(folder: Path, data: ImageSet, count: int) -> None:
    """``count`` test images as PNG files named ``NNNNN_label.png`` (cycling through the set)."""
    images = data.images[:, 0].contiguous().numpy()
    for i in range(count):
        j = i % len(data)
        Image.fromarray(images[j]).save(folder / f"{i:05d}_{int(data.labels[j])}.png")


def _folder_case(engine: EarlyExitEngine, prep: Preprocessing, folder: Path, batch_size: int,
                 workers: int) -> dict:
    """Scan, decode, preprocess and classify every PNG in ``folder`` as ``ranet classify`` does
    (:func:`~ranet.reading.read_batches` into the engine's stream, in its lanes): the clock runs
    from the scan to the last result."""
    start = time.perf_counter()
    paths = list(scan_images([folder]))
    inputs: list[Path] = []  # the path of every image given to the engine, in stream order
    failed = 0

    def batches() -> Iterator[Tensor]:
        nonlocal failed
        for batch in read_batches(paths, prep, batch_size, workers):
            failed += len(batch.failures)
            if batch.inputs is not None:
                inputs.extend(batch.paths)
                yield batch.inputs

    lanes = stream_lanes()
    results = [(inputs[position], result) for position, result in engine.stream(batches(), lanes=lanes)]
    seconds = time.perf_counter() - start
    correct = sum(r.class_index == int(p.stem.rsplit("_", 1)[1]) for p, r in results)
    n = len(paths)
    per_10000 = seconds * 10_000 / n if n else None
    target = TARGETS["folder_seconds_per_10000"]
    return {
        "case": "folder", "images": n, "classified": len(results), "failed": failed, "seconds": seconds,
        "images_per_s": n / seconds if seconds else None, "batch_size": batch_size, "workers": workers,
        "lanes": lanes,
        "accuracy": correct / len(results) * 100 if results else None,
        "seconds_per_10000": per_10000, "target_seconds_per_10000": target,
        "meets_target": None if per_10000 is None else per_10000 <= target,
    }


# -- the command ----------------------------------------------------------------------------------

def _progress(message: str) -> None:
    if sys.stderr.isatty():
        print(f"… {message}", file=sys.stderr, flush=True)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return _cpu_model()


def run(args: argparse.Namespace) -> int:
    for name in ("images", "repeats", "threads", "workers"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            raise UsageError(f"--{name} must be at least 1")
    for name in ("folder_images", "warmup"):
        if getattr(args, name) < 0:
            raise UsageError(f"--{name.replace('_', '-')} must not be negative")
    if args.batch_size is not None and args.batch_size < 1:
        raise UsageError("--batch-size must be at least 1")
    check_threshold(args.threshold)
    device = device_option(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    large = args.batch_size or (256 if device.type == "cpu" else 1024)

    # The engine classifies with folded BatchNorms; the full network is timed the same way, on the
    # engine's copy. (Built from the loaded network, whose exits' FLOPs it counts in one pass.)
    engine = EarlyExitEngine(load_model(args.weights, config=args.config, device=device))
    model = engine.model
    meta, prep = model.meta, model.transform
    test = load_dataset("fashion-mnist", args.data_root, "test")
    if len(meta.categories) != len(test.classes):
        raise UsageError(f"the model has {len(meta.categories)} classes, Fashion-MNIST {len(test.classes)}")
    data = test.subset(torch.arange(min(args.images, len(test))))
    x = prep.normalize(prep.prepare_training_batch(data.images))
    labels = data.labels

    _progress(f"all exits on {len(data)} images")
    outputs = predict_exits(model, data, prep, large, device)
    k = model.num_exits
    if args.threshold is None:
        seed = int(meta.recipe.get("seed", 0) or 0)  # the split the model's training held out
        _, val = train_val_split(load_dataset("fashion-mnist", args.data_root, "train"), seed=seed)
        _progress(f"calibrating the threshold on {len(val)} validation images")
        threshold = choose_threshold(predict_exits(model, val, prep, large, device), val.labels)
        policy = (f"smallest single global threshold (on a 1/{THRESHOLD_STEPS} grid) whose accuracy on the "
                  f"{len(val)} held-out validation images is within {ACCURACY_TOLERANCE} point of the full "
                  f"network's there")
    else:
        threshold, policy = args.threshold, "single global threshold given with --threshold"
    engine.set_thresholds(threshold)

    baselines, baseline_note = ({}, "skipped: --no-baselines") if args.no_baselines else _static_baselines(device, x)
    exit_macs = _exit_macs(model, x.to(device))
    cases = []
    for bs in [1] if large == 1 else [1, large]:
        _progress(f"full network against early exit and the static networks at batch {bs}")
        target = (TARGETS["wall_to_flops_batch1_cpu"] if bs == 1 and device.type == "cpu" else
                  TARGETS["wall_to_flops_batched_gpu"] if bs > 1 and device.type != "cpu" else None)
        cases.append(_speedup_case(model, engine, x, labels, bs, device, args.warmup, args.repeats, target,
                                   baselines, exit_macs, lanes=stream_lanes() if bs > 1 and device.type == "cpu" else 1))
    _progress("per-exit latency at batch 1")
    latency = _exit_latency(model, x, device, args.warmup, args.repeats)
    cases += [{"case": "exit_latency", "exit": i + 1, "batch_size": 1, "flops": e.flops, "ms": ms}
              for i, (e, ms) in enumerate(zip(engine.exits, latency))]
    folder = None
    if args.folder_images:
        with tempfile.TemporaryDirectory(prefix="ranet-bench-") as tmp:
            _progress(f"writing {args.folder_images} PNG files")
            _write_pngs(Path(tmp), test, args.folder_images)
            _progress("classifying the folder")
            folder = _folder_case(engine, prep, Path(tmp), large, args.workers)
        cases.append(folder)
    rethreshold = _rethreshold_ms(outputs.confidence, engine.thresholds)
    cases.append({"case": "rethreshold", "rows": RETHRESHOLD_ROWS, "exits": k, "ms": rethreshold,
                  "target_ms": TARGETS["rethreshold_ms"], "meets_target": rethreshold <= TARGETS["rethreshold_ms"]})

    one, big = cases[0], [c for c in cases if c["case"] == "speedup"][-1]
    resnet = big["baselines"].get("resnet18")
    on_cpu = device.type == "cpu"
    report = {
        "model": meta.name, "weights": meta.source, "device": str(device), "device_name": _device_name(device),
        "cpu": _cpu_model(), "cpu_cores": os.cpu_count(), "threads": torch.get_num_threads(),
        "torch": torch.__version__, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "images": len(data),
        "policy": policy,
        "threshold": threshold if math.isfinite(threshold) else None,
        "full_accuracy": one["full_accuracy"], "dynamic_accuracy": one["dynamic_accuracy"],
        "full_flops": one["full_flops"], "mean_dynamic_flops": one["mean_dynamic_flops"],
        "batch_size": 1, "flops_speedup": one["flops_speedup"], "wall_speedup": one["wall_speedup"],
        "wall_to_flops": one["wall_to_flops"], "large_batch_size": large,
        "large_batch_wall_speedup": big["wall_speedup"], "large_batch_flops_speedup": big["flops_speedup"],
        "allocator": tune_allocator(),
        "matmul_peak_gflops": statistics.median(p for c in cases if c["case"] == "speedup" for p in c["peak_gflops_repeats"]),
        "large_batch_dynamic_gflops": big["dynamic_gflops"], "large_batch_dynamic_peak_share": big["dynamic_peak_share"],
        "large_batch_full_peak_share": big["full_peak_share"],
        "target_peak_share": TARGETS["peak_share_batched_cpu"] if on_cpu else None,
        "meets_peak_share_target": big["dynamic_peak_share"] >= TARGETS["peak_share_batched_cpu"] if on_cpu else None,
        "target_wall_speedup_batch1": TARGETS["wall_speedup_batch1_cpu"] if on_cpu else None,
        "meets_wall_speedup_batch1_target": one["wall_speedup"] >= TARGETS["wall_speedup_batch1_cpu"] if on_cpu else None,
        "baselines_note": baseline_note,
        "large_batch_vs_resnet18": resnet["early_exit_speedup"] if resnet else None,
        "large_batch_lanes": big["in_lanes"]["lanes"] if big["in_lanes"] else 1,
        "large_batch_lanes_dynamic_peak_share": big["in_lanes"]["peak_share"] if big["in_lanes"] else None,
        "exit_latency_ms": latency,
        "folder_images": folder["images"] if folder else 0,
        "folder_seconds": folder["seconds"] if folder else None,
        "folder_images_per_s": folder["images_per_s"] if folder else None,
        "rethreshold_ms": rethreshold, "warmup": args.warmup, "repeats": args.repeats,
        "cases": cases,
    }
    if args.json:
        print(json.dumps(report))
    else:
        _print_table(report)
    return 0


def _verdict(ok: bool | None) -> str:
    return "-" if ok is None else "ok" if ok else "MISSED"


def _print_table(r: dict) -> None:
    print(f"{r['model']} on {r['images']} Fashion-MNIST test images; {r['device']} ({r['device_name']}), "
          f"{r['threads']} threads, torch {r['torch']}")
    t = "none (full network)" if r["threshold"] is None else f"{r['threshold']:.3f}"
    print(f"operating point: threshold {t}, the {r['policy']}")
    print(f"  full network {r['full_accuracy']:.2f}% at {r['full_flops'] / 1e6:.2f} MFLOPs; early exit "
          f"{r['dynamic_accuracy']:.2f}% at {r['mean_dynamic_flops'] / 1e6:.2f} MFLOPs per image (measured at batch 1)")
    print()
    print(f"{'batch':>5} {'full ms/img':>11} {'exit ms/img':>11} {'FLOPs x':>8} {'wall x':>7} {'wall/FLOPs':>10}  target")
    for c in (c for c in r["cases"] if c["case"] == "speedup"):
        target = f"≥{c['target_wall_to_flops']:.0%} {_verdict(c['meets_target'])}" if c["target_wall_to_flops"] else "-"
        print(f"{c['batch_size']:>5} {c['full_ms_per_image']:>11.3f} {c['dynamic_ms_per_image']:>11.3f} "
              f"{c['flops_speedup']:>7.2f}x {c['wall_speedup']:>6.2f}x {c['wall_to_flops']:>10.0%}  {target}")
    print()
    _print_hardware(r)
    print()
    print(f"{'exit':>4} {'MFLOPs':>8} {'ms to reach (batch 1)':>22}")
    for c in (c for c in r["cases"] if c["case"] == "exit_latency"):
        print(f"{c['exit']:>4} {c['flops'] / 1e6:>8.2f} {c['ms']:>22.3f}")
    print()
    folder = next((c for c in r["cases"] if c["case"] == "folder"), None)
    if folder:
        print(f"folder: {folder['images']} PNG files to results in {folder['seconds']:.2f} s = "
              f"{folder['images_per_s']:.0f} images/s (batch {folder['batch_size']}, {folder['workers']} decoding "
              f"thread{'' if folder['workers'] == 1 else 's'}, up to {folder['lanes']} engine lanes; target ≤ {folder['target_seconds_per_10000']:.0f} s per 10,000: "
              f"{_verdict(folder['meets_target'])})")
    re = next(c for c in r["cases"] if c["case"] == "rethreshold")
    print(f"re-threshold {re['rows']} cached results: {re['ms']:.3f} ms (median; target ≤ {re['target_ms']:.0f} ms: "
          f"{_verdict(re['meets_target'])})")


def _print_hardware(r: dict) -> None:
    """Useful GFLOP/s and share of the matmul peak, early exit against the static networks."""
    allocator = " ".join(f"{k}={v}" for k, v in r["allocator"].items()) or "the C library's defaults"
    print(f"hardware: float32 matmul peak {r['matmul_peak_gflops']:.1f} GFLOP/s (same run); allocator: {allocator}")
    print(f"{'batch':>5} {'network':<29} {'MMACs':>7} {'ms/img':>8} {'GFLOP/s':>8} {'of peak':>7} {'early exit x':>12}")
    for c in (c for c in r["cases"] if c["case"] == "speedup"):
        rows = [("RANet full", c["full_macs"], c["full_ms_per_image"], c["full_gflops"], c["full_peak_share"],
                 c["wall_speedup"]),
                ("RANet early exit", c["mean_dynamic_macs"], c["dynamic_ms_per_image"], c["dynamic_gflops"],
                 c["dynamic_peak_share"], None)]
        rows += [(name, b["macs"], b["ms_per_image"], b["gflops"], b["peak_share"], b["early_exit_speedup"])
                 for name, b in c["baselines"].items()]
        if c["in_lanes"]:
            lanes = c["in_lanes"]
            tag = f", {lanes['lanes']} lanes"
            rows.append(("RANet early exit" + tag, c["mean_dynamic_macs"], lanes["dynamic_ms_per_image"],
                         lanes["gflops"], lanes["peak_share"], None))
            rows += [(name + tag, c["baselines"][name]["macs"], b["ms_per_image"], b["gflops"], b["peak_share"],
                      b["early_exit_speedup"]) for name, b in lanes["baselines"].items()]
        for name, macs, ms, gflops, share, speedup in rows:
            x = "-" if speedup is None else f"{speedup:.2f}x"
            print(f"{c['batch_size']:>5} {name:<29} {macs / 1e6:>7.2f} {ms:>8.3f} {gflops:>8.1f} {share:>7.0%} {x:>12}")
    print(f"static networks: {r['baselines_note']}")
    if r["target_peak_share"] is not None:
        lanes = (f", {r['large_batch_lanes_dynamic_peak_share']:.0%} in {r['large_batch_lanes']} lanes"
                 if r["large_batch_lanes_dynamic_peak_share"] is not None else "")
        print(f"early exit at batch {r['large_batch_size']}: {r['large_batch_dynamic_peak_share']:.0%} of the peak{lanes} "
              f"(target ≥ {r['target_peak_share']:.0%}: {_verdict(r['meets_peak_share_target'])}); batch 1 "
              f"{r['wall_speedup']:.2f}x the full network (target ≥ {r['target_wall_speedup_batch1']:.0f}x: "
              f"{_verdict(r['meets_wall_speedup_batch1_target'])})")

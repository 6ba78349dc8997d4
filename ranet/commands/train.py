"""``ranet train``: the paper's objective (sum of every exit's cross-entropy), SGD with momentum,
cosine or multi-step schedule, resumable every epoch, one process or many (``torchrun``)."""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import time
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F

from ..checkpoints import load_model
from ..config import RANetConfig, parse_args_txt, preset
from ..datasets import DATASETS, augment, get_dataset, load_dataset, train_val_split
from ..device import device_label, resolve_device
from ..errors import UsageError
from ..files import atomic_path
from ..flops import exit_infos
from ..lineage import parent_record, total_epochs
from ..metrics import predict_exits
from ..model import RANet
from ..weights import WeightsRecord, save_weights

__all__ = ["add_arguments", "exits_loss", "run"]


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", default="fashion-mnist", choices=[n for n, spec in DATASETS.items() if spec.load])
    p.add_argument("--data-root", default=None, help="data folder (default: the data set's usual place, "
                   "e.g. %s for Fashion-MNIST)" % DATASETS["fashion-mnist"].default_root)
    p.add_argument("--preset", default="cifar10_default", help="architecture preset (default: cifar10_default)")
    p.add_argument("--config", default=None, help="an authors' args.txt instead of a preset")
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.csv, model.pt")
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--batch-size", type=int, default=128, help="global batch size")
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--schedule", default="cosine", choices=["cosine", "multistep"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--erase", type=float, default=None,
                   help="random-erasing probability (default: the data set's, 0.5 for fashion-mnist)")
    p.add_argument("--distill", type=float, default=0.0, metavar="ALPHA",
                   help="self-distillation: each earlier exit's loss becomes (1-ALPHA)*cross-entropy + ALPHA*KL to "
                        "the last exit's softened prediction (default 0: the paper's objective)")
    p.add_argument("--distill-temperature", type=float, default=2.0, metavar="T",
                   help="softmax temperature of the self-distillation term (default 2)")
    p.add_argument("--heads-only", action="store_true",
                   help="with --init: train only the classifier heads of the earlier exits; the shared "
                        "network and the last exit stay frozen (batch-norm statistics too), so the last "
                        "exit's predictions do not change")
    p.add_argument("--init", default=None, metavar="WEIGHTS",
                   help="warm start: begin from this weights file (same architecture and seed) with a fresh "
                        "optimizer and schedule; the model card records the lineage")
    p.add_argument("--device", default="auto")
    p.add_argument("--amp", choices=["auto", "off", "bf16", "fp16"], default="auto",
                   help="mixed precision: auto = bf16 on CUDA, off on CPU")
    p.add_argument("--cuda-graph", action="store_true",
                   help="capture forward and backward in a CUDA graph (one CUDA process): this small network "
                        "is bound by kernel launches on a GPU, not by arithmetic")
    p.add_argument("--limit", type=int, default=0, help="use only the first N training images (smoke tests)")
    p.add_argument("--max-steps", type=int, default=0, help="stop each epoch after N steps (smoke tests)")
    p.add_argument("--name", default=None, help="model name written into the weights")
    p.add_argument("--note", default="", help="free text for the model card (e.g. how a resumed run changed)")


def exits_loss(logits: list[torch.Tensor], y: torch.Tensor, distill: float = 0.0,
               temperature: float = 2.0) -> torch.Tensor:
    """The paper's objective, the sum of every exit's cross-entropy. With ``distill`` > 0 each earlier
    exit also learns from the last exit's softened prediction, weighted ``distill`` against its
    cross-entropy (self-distillation, as in Li et al., "Improved Techniques for Training Adaptive
    Deep Networks", ICCV 2019); the last exit is the teacher and gets no gradient from it."""
    logits = [z.float() for z in logits]
    if distill <= 0:
        return sum(F.cross_entropy(z, y) for z in logits)
    teacher = F.log_softmax(logits[-1].detach() / temperature, dim=1)
    loss = F.cross_entropy(logits[-1], y)
    for z in logits[:-1]:
        # T^2 keeps the soft term's gradient on the cross-entropy's scale (Hinton et al., 2015).
        kd = F.kl_div(F.log_softmax(z / temperature, dim=1), teacher, reduction="batchmean",
                      log_target=True) * temperature ** 2
        loss = loss + (1 - distill) * F.cross_entropy(z, y) + distill * kd
    return loss


def _lr_at(args: argparse.Namespace, epoch: float) -> float:
    if args.schedule == "cosine":
        return 0.5 * args.lr * (1 + math.cos(math.pi * epoch / args.epochs))
    return args.lr * (0.1 ** sum(epoch >= m * args.epochs for m in (0.5, 0.75)))


def _warm_start(model: RANet, weights: str, cfg: RANetConfig, seed: int) -> dict:
    """Load ``weights`` into ``model``; returns the parent's identity and recipe for the lineage."""
    parent = load_model(weights, device="cpu")
    if parent.config != cfg:
        raise UsageError(f"--init {weights}: its architecture differs from the one being trained")
    parent_seed = parent.meta.recipe.get("seed")
    if parent_seed is not None and parent_seed != seed:
        # The seed picks the held-out validation split; another seed would train on the parent's.
        raise UsageError(f"--init {weights} was trained with --seed {parent_seed}; use the same seed "
                         "so the validation split stays held out")
    model.load_state_dict(parent.state_dict())
    return parent_record(weights, parent.meta)


def _graph_capture(model: RANet, sample: torch.Tensor, autocast: torch.autocast) -> None:
    """Replace the training-mode forward (and its backward) of ``model`` by CUDA graph replays.

    Batches must keep ``sample``'s shape; eval mode still runs the ordinary forward."""
    torch.backends.cudnn.benchmark = True  # picked once during the warm-up, then frozen in the graph
    with autocast:
        torch.cuda.make_graphed_callables(model, (sample,), allow_unused_input=True)


def _setup_distributed() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.distill <= 1.0:
        raise UsageError(f"--distill must be between 0 and 1, got {args.distill}")
    if args.distill_temperature <= 0:
        raise UsageError(f"--distill-temperature must be above 0, got {args.distill_temperature}")
    rank, world = _setup_distributed()
    device = resolve_device(args.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    amp = {"auto": "bf16" if device.type == "cuda" else "off"}.get(args.amp, args.amp)
    if args.cuda_graph and (device.type != "cuda" or world > 1):
        raise UsageError("--cuda-graph needs a CUDA device and a single process")
    if args.heads_only and (not args.init or args.cuda_graph):
        raise UsageError("--heads-only needs --init (the network whose heads it trains) and no --cuda-graph")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    say = print if rank == 0 else (lambda *a, **k: None)

    cfg = parse_args_txt(args.config) if args.config else preset(args.preset)
    spec = get_dataset(args.data)
    full = load_dataset(args.data, args.data_root, "train")
    if len(full.classes) != cfg.num_classes:
        cfg = RANetConfig.from_dict({**cfg.to_dict(), "num_classes": len(full.classes)})
    train_set, val_set = train_val_split(full, seed=args.seed)
    if args.limit:
        train_set = train_set.subset(torch.arange(min(args.limit, len(train_set))))
    prep = spec.preprocessing

    torch.manual_seed(args.seed)
    model = RANet(cfg)
    parent = _warm_start(model, args.init, cfg, args.seed) if args.init else None
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    trained = model.classifier[:-1] if args.heads_only else model  # the part the optimizer moves
    model.requires_grad_(False)
    trained.requires_grad_(True)
    optimizer = torch.optim.SGD(trained.parameters(), lr=args.lr, momentum=args.momentum,
                                weight_decay=args.weight_decay, nesterov=False,
                                fused=device.type == "cuda" or None)
    start_epoch, wall = 0, 0.0
    ckpt_path = out / "checkpoint.pt"
    if ckpt_path.exists():
        state = torch.load(ckpt_path, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch, wall = state["epoch"], state["wall_s"]
        say(f"resuming {ckpt_path} after epoch {start_epoch}")
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model

    erase = args.erase if args.erase is not None else spec.random_erasing
    log_path = out / "log.csv"
    per_rank = max(1, args.batch_size // world)
    steps_per_epoch = len(train_set) // (per_rank * world) or 1
    # Graph capture needs autocast's weight-cast cache off; eager runs keep it.
    autocast = torch.autocast(device.type, dtype=torch.bfloat16 if amp == "bf16" else torch.float16,
                              enabled=amp != "off", cache_enabled=not args.cuda_graph)
    captured = False
    if args.max_steps:
        steps_per_epoch = min(steps_per_epoch, args.max_steps)
    for epoch in range(start_epoch, args.epochs):
        net.train()
        if args.heads_only:  # the frozen part keeps its batch-norm statistics
            model.eval()
            trained.train()
        g = torch.Generator().manual_seed(args.seed * 100003 + epoch)  # same order after a resume
        order = torch.randperm(len(train_set), generator=g)
        t0, seen = time.time(), 0
        loss_sum = torch.zeros((), device=device)  # summed on the device: no sync per step
        for step in range(steps_per_epoch):
            lr = _lr_at(args, epoch + step / steps_per_epoch)
            for group in optimizer.param_groups:
                group["lr"] = lr
            idx = order[(step * world + rank) * per_rank : (step * world + rank + 1) * per_rank]
            batch = augment(prep.prepare_training_batch(train_set.images[idx]), g,
                            pad=spec.crop_padding, erase=erase)
            y = train_set.labels[idx]
            if device.type == "cuda":  # pinned, so that the copy does not wait for the GPU
                batch, y = batch.pin_memory(), y.pin_memory()
            x = prep.normalize(batch.to(device, non_blocking=True))
            y = y.to(device, non_blocking=True)
            if device.type == "cuda":
                x = x.contiguous(memory_format=torch.channels_last)
            if args.cuda_graph and not captured:
                _graph_capture(model, x, autocast)
                captured = True
            with autocast:
                loss = exits_loss(net(x), y, args.distill, args.distill_temperature)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            loss_sum += loss.detach() * len(idx)
            seen += len(idx)
        mean_loss = loss_sum.item() / seen
        epoch_time = time.time() - t0
        wall += epoch_time
        if rank == 0:
            val = predict_exits(model, val_set, prep, device=device)
            acc = val.correct(val_set.labels).float().mean(0).mul(100).tolist()
            rate = seen * world / epoch_time
            eta = epoch_time * (args.epochs - epoch - 1)
            say(f"epoch {epoch + 1}/{args.epochs}  loss {mean_loss:.4f}  lr {lr:.4f}  "
                f"val acc/exit {' '.join(f'{a:.2f}' for a in acc)}  {rate:.0f} img/s  "
                f"ETA {eta / 60:.1f} min", flush=True)
            new_log = not log_path.exists()
            with open(log_path, "a", newline="") as fh:
                w = csv.writer(fh)
                if new_log:
                    w.writerow(["epoch", "loss", "lr", "images_per_s", "epoch_s"] +
                               [f"val_acc_exit{k + 1}" for k in range(len(acc))])
                w.writerow([epoch + 1, f"{mean_loss:.5f}", f"{lr:.6f}", f"{rate:.1f}", f"{epoch_time:.1f}"] +
                           [f"{a:.3f}" for a in acc])
            with atomic_path(ckpt_path) as tmp:
                torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                            "epoch": epoch + 1, "wall_s": wall, "config": cfg.to_dict()}, tmp)
    if rank == 0:
        infos = exit_infos(cfg, prep.input_size)
        record = WeightsRecord(
            name=args.name or f"RANet {args.preset if not args.config else 'custom'} ({args.data})",
            config=cfg, categories=tuple(full.classes), preprocessing=prep.name, input_size=prep.input_size,
            exit_flops=tuple(e.flops for e in infos), exit_params=tuple(e.params for e in infos),
            recipe={
                "command": args.command_line,
                "data": args.data, "epochs": args.epochs, "batch_size": args.batch_size, "lr": args.lr,
                "momentum": args.momentum, "weight_decay": args.weight_decay, "schedule": args.schedule,
                "seed": args.seed, "amp": amp, "processes": world, "random_erasing": erase,
                "total_epochs": args.epochs + (total_epochs(parent["recipe"]) if parent else 0),
                "wall_time_s": round(wall, 1), "device": device_label(device),
                "torch": str(torch.__version__), "python": platform.python_version(),
                "train_images": len(train_set), "val_images": len(val_set), "note": args.note,
                **({"distill": args.distill, "distill_temperature": args.distill_temperature}
                   if args.distill > 0 else {}),
                **({"heads_only": True} if args.heads_only else {}),
                **({"init": parent} if parent else {}),
            },
            data_sha256=spec.file_hashes(args.data_root),
        )
        path = save_weights(out / "model.pt", record, model.state_dict())
        say(f"wrote {path}")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return 0


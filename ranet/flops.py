"""Per-exit FLOPs and parameters with the paper's convention, and per-exit structure.

Counted on the meta device (no memory, no arithmetic) by hooking the leaf modules of one
batch-1 forward pass, exactly as the authors' counter adds them up: Conv2d multiply-accumulates
(no bias), ReLU = input elements, pooling = ``N*C*Hout*Wout*k*k``, Linear = ``in*out + out``;
BatchNorm, interpolation and concatenation cost nothing. An exit's figure is the running total
when its Linear has run.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .config import RANetConfig
from .errors import ConfigError
from .model import RANet

__all__ = ["ExitInfo", "exit_infos", "exit_flops", "exit_params"]


@dataclass(frozen=True)
class ExitInfo:
    """What the app, the CLI and the plots need to know about one exit."""

    index: int  # 0-based, in evaluation order
    flow: int  # scale flow the exit taps (0 = coarsest)
    block: int  # 1-based block of that flow after which it sits
    flops: int  # cumulative multiply-accumulates for one image up to and including this exit
    params: int  # cumulative parameters of every module run so far
    resolution: int  # spatial size (height) of the features the exit reads
    flow_resolutions: tuple[int, ...]  # entry resolution of every flow that has run, coarse to fine

    @property
    def resolution_path(self) -> list[str]:
        """Human-readable path, e.g. ``['8x8', '16x16']``."""
        return [f"{r}x{r}" for r in self.flow_resolutions]


def _leaf_cost(module: nn.Module, inp: torch.Tensor, out: torch.Tensor) -> int:
    """The authors' counter, per leaf module, for a batch of one."""
    if isinstance(module, nn.Conv2d):
        kh, kw = module.kernel_size
        return module.in_channels * module.out_channels * kh * kw * out.shape[2] * out.shape[3] // module.groups
    if isinstance(module, nn.ReLU):
        return inp.numel()
    if isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
        k = module.kernel_size if isinstance(module.kernel_size, int) else module.kernel_size[0]
        return out.numel() * k * k
    if isinstance(module, nn.Linear):
        return module.in_features * module.out_features + module.out_features
    if isinstance(module, nn.BatchNorm2d):
        return 0
    raise TypeError(f"no FLOPs rule for {type(module).__name__}")


def _same_shape(x: torch.Tensor) -> torch.Tensor:
    return x


_COUNTED: dict[tuple[RANetConfig, int, int], tuple[ExitInfo, ...]] = {}


def _trace(model: RANet, height: int, width: int) -> tuple[ExitInfo, ...]:
    """One batch-1 forward pass of ``model`` (eval mode, BatchNorm not folded) with hooks that add
    up every leaf module's cost and parameters and note each block's resolutions."""
    totals = {"flops": 0, "params": 0}
    snapshots: list[tuple[int, int]] = []
    block_res: dict[tuple[int, int], tuple[int, int]] = {}  # (flow, block) -> (in, out) height

    def on_leaf(module: nn.Module, inp, out) -> None:
        totals["flops"] += _leaf_cost(module, inp[0], out)
        totals["params"] += sum(p.numel() for p in module.parameters(recurse=False))

    def on_block(_m, inp, out, key: tuple[int, int]) -> None:
        block_res[key] = (inp[0].shape[2], out[0].shape[2])

    handles = [m.register_forward_hook(on_leaf) for m in model.modules() if not list(m.children())]
    handles += [head.linear.register_forward_hook(lambda *_: snapshots.append((totals["flops"], totals["params"])))
                for head in model.classifier]
    handles += [block.register_forward_hook(lambda m, i, o, key=(f, n): on_block(m, i, o, key))
                for f, flow in enumerate(model.scale_flows) for n, block in enumerate(flow)]
    cfg = model.config
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width, device=next(model.parameters()).device))
    except RuntimeError:
        # The exit heads end in a fixed 2x2 pool feeding a Linear: only sizes near the
        # training size give them the 1x1 map they need (the reference model fails alike).
        raise ConfigError(f"input size {height}x{width} does not fit this model's exit heads "
                          f"(trained for {cfg.default_input_size}x{cfg.default_input_size})") from None
    finally:
        for handle in handles:
            handle.remove()
    infos = []
    for flow_plan in model.plan:
        for plan in flow_plan:
            if plan.exit_index is None:
                continue
            flops, params = snapshots[plan.exit_index]
            infos.append(
                ExitInfo(
                    index=plan.exit_index,
                    flow=plan.flow,
                    block=plan.block,
                    flops=int(flops),
                    params=int(params),
                    resolution=block_res[(plan.flow, plan.block - 1)][1],
                    flow_resolutions=tuple(block_res[(f, 0)][0] for f in range(plan.flow + 1)),
                )
            )
    return tuple(infos)


def _meta_model(cfg: RANetConfig) -> RANet:
    """A model without memory or arithmetic, for configurations that have no weights at hand."""
    with torch.device("meta"):
        model = RANet(cfg, init_weights=False).eval()  # nothing to initialise: only shapes count
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            # Free in the paper's count, and on the meta device torch would run it through Python
            # decompositions that first import its compiler (seconds): the shape is all we need.
            m.forward = _same_shape
    return model


def exit_infos(cfg: RANetConfig, input_size: int | tuple[int, int] | None = None,
               model: RANet | None = None) -> list[ExitInfo]:
    """Per-exit cost and structure for one image of ``input_size`` (the config's default if None).

    Counted once per configuration and size. ``model``, a built RANet of ``cfg`` in eval mode
    with its BatchNorms (not folded), is counted with instead of a model on the meta device: on
    that device torch first imports its compiler, which takes seconds."""
    size = input_size or cfg.default_input_size
    h, w = (size, size) if isinstance(size, int) else size
    key = (cfg, int(h), int(w))
    if key not in _COUNTED:
        _COUNTED[key] = _trace(model if model is not None else _meta_model(cfg), key[1], key[2])
    return list(_COUNTED[key])


def exit_flops(cfg: RANetConfig, input_size: int | tuple[int, int] | None = None) -> list[int]:
    return [e.flops for e in exit_infos(cfg, input_size)]


def exit_params(cfg: RANetConfig, input_size: int | tuple[int, int] | None = None) -> list[int]:
    return [e.params for e in exit_infos(cfg, input_size)]

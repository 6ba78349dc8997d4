"""The RANet architecture, with module names that match the authors' checkpoints key for key.

Besides ``forward`` (all exits, as the reference returns them) the model can run one exit at a
time through :class:`ExitRunner`, dropping samples between exits: that is what makes early exit
save real work.
"""

from __future__ import annotations

import copy
import math
from typing import Callable, Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from .config import BlockPlan, RANetConfig
from .transforms import Preprocessing
from .weights import WeightsRecord

__all__ = ["RANet", "ExitRunner", "build_model", "fold_batchnorm"]


def _resize(x: Tensor, size: Sequence[int]) -> Tensor:
    # With align_corners=True a same-size interpolation is the identity; skipping it (and the
    # copy it makes) saves a large share of CPU time and changes no value.
    if tuple(x.shape[-2:]) == tuple(size):
        return x
    if x.is_meta:  # counting FLOPs: only the shape matters, and meta has no kernel of its own for this
        return x.new_empty((*x.shape[:-2], *size))
    return F.interpolate(x, size=tuple(size), mode="bilinear", align_corners=True)


class ConvBasic(nn.Module):
    """Conv (no bias) → BN → ReLU, stored under ``net`` as in the checkpoints."""

    def __init__(self, n_in: int, n_out: int, kernel: int = 3, stride: int = 1, padding: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(n_in, n_out, kernel, stride, padding, bias=False),
            nn.BatchNorm2d(n_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class ConvBN(nn.Module):
    """Bottleneck: 1x1 to ``min(n_in, bn_width*n_out)`` then 3x3 (stride 2 when ``down``)."""

    def __init__(self, n_in: int, n_out: int, bn_width: int, down: bool = False) -> None:
        super().__init__()
        inner = min(n_in, bn_width * n_out)
        self.net = nn.Sequential(
            nn.Conv2d(n_in, inner, 1, 1, 0, bias=False),
            nn.BatchNorm2d(inner),
            nn.ReLU(inplace=True),
            nn.Conv2d(inner, n_out, 3, 2 if down else 1, 1, bias=False),
            nn.BatchNorm2d(n_out),
            nn.ReLU(inplace=True),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)


class DenseLayer(nn.Module):
    """``concat(x, conv_normal(x))``."""

    def __init__(self, n_in: int, growth: int, bn_width: int) -> None:
        super().__init__()
        self.conv_normal = ConvBN(n_in, growth, bn_width)

    def forward(self, x: Tensor) -> Tensor:
        return torch.cat([x, self.conv_normal(x)], dim=1)


class FusionLayer(nn.Module):
    """Dense layer that also takes a feature of the coarser flow and up-samples it."""

    def __init__(
        self, n_in: int, n_in_low: int, growth: int, bn_width: int, bn_width_low: int, compress: float, down: bool
    ) -> None:
        super().__init__()
        n_up = math.floor(growth * compress)
        self.conv_up = ConvBN(n_in_low, n_up, bn_width_low)
        self.conv_normal = ConvBN(n_in, growth - n_up, bn_width, down=down)

    def forward(self, x_low: Tensor, x: Tensor) -> Tensor:
        res = self.conv_normal(x)
        size = res.shape[-2:]
        return torch.cat([_resize(x, size), _resize(self.conv_up(x_low), size), res], dim=1)


class Block(nn.Module):
    """A normal block (dense layers) or a fusion block (fusion layers + ``conv_last``), then an
    optional transition. ``forward`` returns the output and the feature list the finer flow uses:
    the block's input and each layer's output, before ``conv_last`` and the transition."""

    def __init__(
        self, plan: BlockPlan, n_in: int, growth: int, bn_width: int, reduction: float,
        low_channels: Sequence[int] = (), bn_width_low: int = 1, compress: float = 0.25,
    ) -> None:
        super().__init__()
        self.fusion = plan.fusion
        layers: list[nn.Module] = []
        for k in range(plan.num_layers):
            width = n_in + k * growth
            if plan.fusion:
                down = plan.down and k == plan.num_layers - 1
                layers.append(FusionLayer(width, low_channels[k], growth, bn_width, bn_width_low, compress, down))
            else:
                layers.append(DenseLayer(width, growth, bn_width))
        self.layers = nn.ModuleList(layers)
        n_out = n_in + plan.num_layers * growth
        self.feature_channels = [n_in + k * growth for k in range(plan.num_layers + 1)]
        if plan.fusion:
            n_last = math.floor(n_out * compress)
            self.conv_last = ConvBasic(low_channels[plan.num_layers], n_last, kernel=1, stride=1, padding=0)
            n_out += n_last
        self.trans = None
        if plan.transition:
            self.trans = ConvBasic(n_out, math.floor(reduction * n_out), kernel=1, stride=1, padding=0)
            n_out = math.floor(reduction * n_out)
        self.out_channels = n_out

    def forward(self, x: Tensor, low_features: Sequence[Tensor] = ()) -> tuple[Tensor, list[Tensor]]:
        features = [x]
        for k, layer in enumerate(self.layers):
            x = layer(low_features[k], x) if self.fusion else layer(x)
            features.append(x)
        if self.fusion:
            x = torch.cat([x, _resize(self.conv_last(low_features[-1]), x.shape[-2:])], dim=1)
        if self.trans is not None:
            x = self.trans(x)
        return x, features


class Exit(nn.Module):
    """Classifier: two stride-2 ConvBasic, 2x2 average pool, flatten, linear."""

    def __init__(self, n_in: int, width: int, num_classes: int) -> None:
        super().__init__()
        self.m = nn.Sequential(
            ConvBasic(n_in, width, kernel=3, stride=2, padding=1),
            ConvBasic(width, width, kernel=3, stride=2, padding=1),
            nn.AvgPool2d(2),
        )
        self.linear = nn.Linear(width, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.linear(self.m(x).flatten(1))


class Stem(nn.Module):
    """Built from the finest resolution down; ``forward`` returns the flows coarsest first."""

    def __init__(self, cfg: RANetConfig) -> None:
        super().__init__()
        widths = [cfg.nChannels * g for g in reversed(cfg.grFactor)]
        ranks = list(reversed(cfg.scale_list))
        if cfg.stem == "cifar":
            first: nn.Module = ConvBasic(3, widths[0], kernel=3, stride=1, padding=1)
        else:
            first = nn.Sequential(
                nn.Conv2d(3, widths[0], 7, 2, 3),
                nn.BatchNorm2d(widths[0]),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1),
            )
        layers = [first]
        for j in range(1, cfg.num_scales):
            stride = 1 if ranks[j] == ranks[j - 1] else 2
            layers.append(ConvBasic(widths[j - 1], widths[j], kernel=3, stride=stride, padding=1))
        self.layers = nn.ModuleList(layers)

    def forward(self, x: Tensor) -> list[Tensor]:
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out[::-1]


class RANet(nn.Module):
    """Resolution Adaptive Network (Yang et al., CVPR 2020).

    ``model(x)`` returns the logits of every exit, in exit order, as the reference does.
    ``meta`` is the weights record of a trained model (None for a new one). ``init_weights=False``
    skips the reference initialisation, for parameters that a state dict replaces at once.
    """

    def __init__(self, cfg: RANetConfig, meta: WeightsRecord | None = None, init_weights: bool = True) -> None:
        super().__init__()
        self.config = cfg
        self.meta = meta
        self.plan = cfg.block_plan()
        self.scale_flows = nn.ModuleList()
        self.classifier = nn.ModuleList()
        self.FirstLayer = Stem(cfg)  # registered last, as in the reference's key order
        low_channels: list[list[int]] = []
        for i, flow_plan in enumerate(self.plan):
            flow = nn.ModuleList()
            n_in = cfg.nChannels * cfg.grFactor[i]
            growth = cfg.growthRate * cfg.grFactor[i]
            flow_channels = []
            for plan in flow_plan:
                block = Block(
                    plan, n_in, growth, cfg.bnFactor[i], cfg.reduction,
                    low_channels=low_channels[plan.block - 1] if plan.fusion else (),
                    bn_width_low=cfg.bnFactor[i - 1] if i else 1,
                    compress=cfg.compress_factor,
                )
                flow.append(block)
                flow_channels.append(block.feature_channels)
                n_in = block.out_channels
                if plan.exit_index is not None:
                    width = 128 if cfg.stem == "cifar" else n_in
                    self.classifier.append(Exit(n_in, width, cfg.num_classes))
            low_channels = flow_channels
            self.scale_flows.append(flow)
        if init_weights:
            self._init_weights()

    def _init_weights(self) -> None:
        # The reference initialisation (He-normal convs, unit BN, zero linear bias); the stem
        # keeps PyTorch's defaults there too.
        for part in (self.scale_flows, self.classifier):
            for m in part.modules():
                if isinstance(m, nn.Conv2d):
                    n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                    nn.init.normal_(m.weight, 0.0, math.sqrt(2.0 / n))
                elif isinstance(m, nn.BatchNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)
                elif isinstance(m, nn.Linear):
                    nn.init.zeros_(m.bias)

    @property
    def num_exits(self) -> int:
        return len(self.classifier)

    @property
    def transform(self) -> Preprocessing:
        """One PIL image -> model input, as the weights record names it."""
        if self.meta is None:
            raise ValueError("this model has no weights record, so its preprocessing is unknown")
        return self.meta.transform

    def forward(self, x: Tensor) -> list[Tensor]:
        return list(ExitRunner(self, x))


def _rows(t: Tensor, index: Tensor) -> Tensor:
    """``t.index_select(0, index)`` in ``t``'s memory format. On a channels-last tensor each sample
    is one contiguous block, so the rows are picked from the NHWC view: a copy per sample, where
    index_select would return NCHW (and every convolution after it copy back) and ``t[index]``
    gathers element by element (3x slower)."""
    if t.dim() == 4 and not t.is_contiguous() and t.is_contiguous(memory_format=torch.channels_last):
        return t.permute(0, 2, 3, 1).index_select(0, index).permute(0, 3, 1, 2)
    return t.index_select(0, index)


class ExitRunner:
    """Evaluates a RANet lazily, one exit at a time, over a batch that may shrink or grow.

    Iterating yields the logits of exit 0, 1, ... for the samples still present. Between two
    exits, :meth:`keep` drops samples (their remaining computation never happens) and
    :meth:`merge` joins runners waiting at the same exit into one batch.
    """

    def __init__(self, model: RANet, x: Tensor) -> None:
        self.model = model
        self._stem = model.FirstLayer(x)
        self._flow = 0
        self._block = 0
        self._x = self._stem[0]
        self._coarser: list[list[Tensor]] = []  # feature lists of the previous flow's blocks
        self._current: list[list[Tensor]] = []
        self.next_exit = 0

    @property
    def batch_size(self) -> int:
        return self._x.shape[0]

    @property
    def device(self) -> torch.device:
        return self._x.device

    @property
    def done(self) -> bool:
        return self.next_exit >= self.model.num_exits

    def _state(self) -> tuple:
        return self._flow, self._block, self._x, self._stem, list(self._coarser), list(self._current), self.next_exit

    def _restore(self, state: tuple) -> None:
        self._flow, self._block, self._x, self._stem, self._coarser, self._current, self.next_exit = state

    def _apply(self, fn: Callable[[Tensor], Tensor]) -> None:
        self._stem = [fn(t) for t in self._stem]
        self._x = fn(self._x)
        self._coarser = [[fn(t) for t in feats] for feats in self._coarser]
        self._current = [[fn(t) for t in feats] for feats in self._current]

    def keep(self, index: Tensor) -> None:
        """Continue with the samples ``index`` (a long tensor of positions in the current batch)."""
        index = index.to(self._x.device)
        self._apply(lambda t: _rows(t, index))

    def subset(self, index: Tensor) -> "ExitRunner":
        """A new runner at the same exit with the samples ``index`` only; this one is unchanged."""
        part = copy.copy(self)
        part.keep(index)
        return part

    def to(self, device: torch.device | str) -> "ExitRunner":
        self._apply(lambda t: t.to(device))
        return self

    @classmethod
    def merge(cls, runners: Sequence["ExitRunner"]) -> "ExitRunner":
        """One runner over the samples of ``runners`` (in that order), all waiting at the same exit."""
        first = runners[0]
        if len(runners) == 1:
            return first
        if any(r.next_exit != first.next_exit or r.model is not first.model for r in runners):
            raise ValueError("only runners of one model waiting at the same exit can be merged")
        merged = copy.copy(first)
        merged._stem = [torch.cat(ts) for ts in zip(*(r._stem for r in runners))]
        merged._x = torch.cat([r._x for r in runners])
        merged._coarser = [[torch.cat(ts) for ts in zip(*feats)] for feats in zip(*(r._coarser for r in runners))]
        merged._current = [[torch.cat(ts) for ts in zip(*feats)] for feats in zip(*(r._current for r in runners))]
        return merged

    def step(self) -> Tensor:
        """Run up to and including the next exit; return its logits. On an exception (out of
        memory) the runner is left as it was before the call, so the step can be retried."""
        if self.done:
            raise StopIteration
        before = self._state()
        try:
            return self._step()
        except BaseException:
            self._restore(before)
            raise

    def _step(self) -> Tensor:
        model = self.model
        while True:
            flow_plan = model.plan[self._flow]
            if self._block == len(flow_plan):  # next flow: the finished one becomes the coarser
                self._flow += 1
                self._block = 0
                self._coarser, self._current = self._current, []
                self._x = self._stem[self._flow]
                continue
            plan = flow_plan[self._block]
            block = model.scale_flows[self._flow][self._block]
            low = self._coarser[self._block] if plan.fusion else ()
            self._x, features = block(self._x, low)
            self._current.append(features)
            self._block += 1
            if plan.exit_index is not None:
                self.next_exit += 1
                return model.classifier[plan.exit_index](self._x)

    def __iter__(self) -> Iterator[Tensor]:
        while not self.done:
            yield self.step()


def build_model(cfg: RANetConfig) -> RANet:
    return RANet(cfg)


def _conv_bn_pairs(model: nn.Module) -> list[tuple[nn.Sequential, int]]:
    return [(seq, i) for seq in model.modules() if isinstance(seq, nn.Sequential)
            for i in range(len(seq) - 1) if isinstance(seq[i], nn.Conv2d) and isinstance(seq[i + 1], nn.BatchNorm2d)]


def fold_batchnorm(model: RANet) -> RANet:
    """An inference copy of ``model`` (eval mode) with each BatchNorm folded into the convolution
    before it. The outputs are the same up to float rounding; every layer is a conv → BN → ReLU,
    so this drops a third of the operators, and at small batches their launch overhead (on a GPU
    most of the time per image) goes with them. A model with nothing left to fold is returned
    as it is: the copy costs ~0.2 s, too much to pay again for every batch of work.

    On the CPU the copy's convolution weights are also stored channels-last, so every activation
    is too (the same answers; 1.23x faster early exit at batch 256 and 1.13x at batch 1 on 2
    threads, see docs/benchmarks.md). Elsewhere the layout is left as it is (not measured)."""
    if not _conv_bn_pairs(model):
        return model.eval()
    folded = copy.deepcopy(model).eval()
    for seq, i in _conv_bn_pairs(folded):
        seq[i] = fuse_conv_bn_eval(seq[i], seq[i + 1])
        seq[i + 1] = nn.Identity()
    if next(folded.parameters()).device.type == "cpu":
        folded.to(memory_format=torch.channels_last)
    return folded

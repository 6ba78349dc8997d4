"""Not one answer may change: the embedded model's class and exit for 500 Fashion-MNIST test images,
recorded with the engine before any speed work (tests/data/engine_answers.json), reproduced exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ranet import EarlyExitEngine, load_model
from ranet.datasets import DATASETS, load_dataset

FIXTURE = Path(__file__).parent / "data" / "engine_answers.json"
ROOT = DATASETS["fashion-mnist"].default_root

pytestmark = pytest.mark.skipif(not ROOT.is_dir(), reason=f"Fashion-MNIST not found at {ROOT}")


@pytest.fixture(scope="module")
def recorded() -> dict:
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def inputs(recorded) -> torch.Tensor:
    model = load_model(None, device="cpu")
    test = load_dataset("fashion-mnist", None, "test")
    prep = model.transform
    return prep.normalize(prep.prepare_training_batch(test.images[torch.tensor(recorded["indices"])]))


@pytest.mark.parametrize("batch_size", [256, 7])
def test_engine_reproduces_every_recorded_class_and_exit(recorded, inputs, batch_size):
    engine = EarlyExitEngine(load_model(None, device="cpu"))
    for case in recorded["cases"]:
        engine.set_thresholds(case["threshold"])
        results = [r for i in range(0, len(inputs), batch_size) for r in engine.classify(inputs[i:i + batch_size])]
        assert [r.class_index for r in results] == case["class"], case["threshold"]
        assert [r.exit for r in results] == case["exit"], case["threshold"]


def test_the_engines_lanes_reproduce_every_recorded_class_and_exit(recorded, inputs):
    """As ``ranet classify`` runs a folder on the CPU: pooled across batches, in two lanes."""
    engine = EarlyExitEngine(load_model(None, device="cpu"))
    for case in recorded["cases"]:
        engine.set_thresholds(case["threshold"])
        batches = [inputs[i:i + 32] for i in range(0, len(inputs), 32)]
        decided = dict(engine.stream(batches, lanes=2))
        results = [decided[p] for p in range(len(inputs))]
        assert [r.class_index for r in results] == case["class"], case["threshold"]
        assert [r.exit for r in results] == case["exit"], case["threshold"]


def test_the_fixture_reaches_every_exit(recorded):
    """A fixture where every image left at exit 1 would check little of the network."""
    deep = next(c for c in recorded["cases"] if c["threshold"] == 0.99)
    assert set(deep["exit"]) == {1, 2, 3, 4, 5, 6} and len(deep["exit"]) == 500


def test_the_engine_runs_channels_last_on_the_cpu(tiny_weights):
    """The layout the answers above are checked with (fold_batchnorm stores it on the CPU)."""
    convs = [m for m in EarlyExitEngine(load_model(tiny_weights, device="cpu")).model.modules()
             if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    assert convs and all(m.weight.is_contiguous(memory_format=torch.channels_last) for m in convs)

"""The weights record is the single description of a model: checked against the network it
describes, written and read back, and the one source of the model card and the README's table."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ranet import CheckpointError, RANet, default_weights_path, load_model
from ranet.card import exit_table, model_card
from ranet.flops import exit_infos
from ranet.weights import WEIGHTS_VERSION, WeightsRecord, record_from_file, save_weights

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = default_weights_path()


@pytest.fixture(scope="module")
def shipped() -> WeightsRecord:
    return load_model(SHIPPED, device="cpu").meta


def test_shipped_record_matches_the_network_it_describes(shipped):
    """As torchvision's tests do for their weights' metadata: rebuild, recount, compare."""
    model = RANet(shipped.config)
    infos = exit_infos(shipped.config, shipped.input_size)
    assert shipped.exit_flops == tuple(e.flops for e in infos)
    assert shipped.exit_params == tuple(e.params for e in infos)
    assert shipped.num_params == sum(p.numel() for p in model.parameters())
    assert len(shipped.categories) == shipped.config.num_classes and shipped.check() == []
    assert all(len(b.thresholds) == model.num_exits and b.calibration for b in shipped.budgets)
    assert shipped.evaluation is not None and len(shipped.evaluation.exit_accuracy) == model.num_exits
    assert sum(row.images for row in shipped.evaluation.per_class) == shipped.evaluation.test_images
    assert shipped.data_sha256 and all(len(d) == 64 for d in shipped.data_sha256.values())


def test_the_model_carries_its_record_as_a_declared_attribute(shipped):
    model = load_model(SHIPPED, device="cpu")
    assert model.meta == shipped and model.transform is shipped.transform
    assert RANet(shipped.config).meta is None and RANet(shipped.config, meta=shipped).meta is shipped


def test_readme_table_is_rendered_from_the_shipped_record(shipped):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- exit-table[^>]*-->\n(.*?)<!-- /exit-table -->", readme, re.S)
    assert found, "README.md lost its exit-table markers"
    assert found.group(1) == exit_table(shipped), "README's per-exit table differs from the shipped weights' record"


def test_model_card_md_is_rendered_from_the_shipped_record(shipped):
    assert (ROOT / "weights" / "MODEL_CARD.md").read_text(encoding="utf-8") == model_card(shipped)


def test_record_round_trips_through_a_weights_file(tiny_weights, tmp_path):
    model = load_model(tiny_weights, device="cpu")
    again = load_model(save_weights(tmp_path / "again.pt", model.meta, model.state_dict()), device="cpu")
    assert again.meta == model.meta
    assert WeightsRecord.from_dict(model.meta.to_dict()) == model.meta


def test_a_future_version_is_refused_with_one_line(tiny_weights, tmp_path):
    payload = torch.load(tiny_weights, weights_only=True)
    payload["version"] = WEIGHTS_VERSION + 1
    torch.save(payload, tmp_path / "future.pt")
    with pytest.raises(CheckpointError) as err:
        load_model(tmp_path / "future.pt", device="cpu")
    assert "newer" in str(err.value) and "\n" not in str(err.value)


def test_a_version_1_file_still_loads(tiny_weights, tmp_path):
    model = load_model(tiny_weights, device="cpu")
    record = replace(model.meta, recipe={"seed": 0})
    old = {"format": "ranet-demo-weights", "version": 1, "config": record.config.to_dict(), "state_dict": model.state_dict(),
           "meta": {"name": record.name, "categories": list(record.categories), "preprocessing": record.preprocessing,
                    "input_size": record.input_size, "exit_flops": list(record.exit_flops),
                    "exit_params": list(record.exit_params), "exit_accuracy": None,
                    "thresholds": {"40%": [0.9] * model.num_exits}, "recipe": {"seed": 0}}}
    torch.save(old, tmp_path / "v1.pt")
    loaded = load_model(tmp_path / "v1.pt", device="cpu").meta
    assert loaded == replace(record, budgets=loaded.budgets) and loaded.thresholds == {"40%": [0.9] * model.num_exits}
    assert record_from_file(old).budgets[0].label == "40%"


def test_counting_on_a_loaded_network_equals_counting_on_the_meta_device(tiny_weights, monkeypatch):
    import ranet.flops

    model = load_model(tiny_weights, device="cpu")
    monkeypatch.setattr(ranet.flops, "_COUNTED", {})
    on_model = exit_infos(model.config, 32, model=model)
    monkeypatch.setattr(ranet.flops, "_COUNTED", {})
    assert exit_infos(model.config, 32) == on_model
    assert not model.training and all(not p.is_meta for p in model.parameters())


"""The data set registry: one entry per data set holds its classes, preprocessing, loader, input
size and usual place; adding one is one ``register`` call, which the commands then offer."""

from __future__ import annotations

import pytest
import torch

from ranet import RANetConfig
from ranet.commands.cli import main
from ranet.datasets import (DATASETS, DatasetSpec, ImageSet, dataset_for_authors, get_dataset, get_preprocessing,
                            register)
from ranet.errors import DataError
from testsupport import write_tiny_args_txt


def test_every_entry_is_complete_and_its_preprocessing_resolves():
    assert {"fashion-mnist", "cifar10", "cifar100", "imagenet", "folder"} <= set(DATASETS)
    for name, spec in DATASETS.items():
        assert spec.name == name and get_preprocessing(spec.preprocessing.name) is spec.preprocessing
        if spec.num_classes is not None and spec.class_names():
            assert len(spec.class_names()) == spec.num_classes


def test_the_authors_data_names_give_the_number_of_classes():
    for data, classes in (("cifar10", 10), ("cifar100", 100), ("ImageNet", 1000)):
        assert dataset_for_authors(data).num_classes == classes == RANetConfig(data=data).num_classes


def test_a_taken_name_and_an_unknown_one_are_refused():
    with pytest.raises(ValueError, match="already registered"):
        register(DATASETS["cifar10"])
    with pytest.raises(DataError, match="unknown data set"):
        get_dataset("mnist-3d")


def test_a_new_data_set_is_one_entry_away_from_training_and_evaluation(tmp_path, monkeypatch, capsys):
    def load(root, split, size) -> ImageSet:
        g = torch.Generator().manual_seed(0 if split == "train" else 1)
        labels = torch.arange(60) % 3
        images = (torch.rand(60, 1, 28, 28, generator=g) * 80 + labels[:, None, None, None] * 60).to(torch.uint8)
        return ImageSet(images, labels, ["dark", "grey", "light"])

    spec = DatasetSpec("stripes", DATASETS["fashion-mnist"].preprocessing, class_names=lambda: ("dark", "grey", "light"),
                       num_classes=3, load=load, default_root=tmp_path, crop_padding=2)
    monkeypatch.setitem(DATASETS, spec.name, spec)
    out = tmp_path / "run"
    assert main(["train", "--data", "stripes", "--config", str(write_tiny_args_txt(tmp_path / "args.txt")),
                 "--epochs", "1", "--batch-size", "16", "--out", str(out)]) == 0
    assert main(["evaluate", "--weights", str(out / "model.pt"), "--data", "stripes", "--json"]) == 0
    report = capsys.readouterr().out.strip().splitlines()[-1]
    assert '"data": "stripes"' in report and '"test_images": 60' in report

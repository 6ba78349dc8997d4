"""FLOPs and parameters per exit, to the integer, against the authors' counter."""

from __future__ import annotations

import pytest

from testsupport import REFERENCE_CONFIGS
from ranet import RANetConfig, exit_infos
from ranet.config import PRESETS

# The per-exit figures of the authors' reference.json, written out.
EXPECTED = {
    "cifar10_default": ([13438730, 28907540, 42279710, 47982632, 58278898, 61272316],
                        [468106, 1071444, 1474420, 1866078, 2163276, 2451158]),
    "cifar10_train_cifar_sh": ([15814410, 31283220, 44655390, 50358312, 60654578, 63647996, 90173958, 94904592],
                               [470442, 1073780, 1476756, 1868414, 2165612, 2453494, 2871636, 3261830]),
    "cifar10_readme_lg": ([8360714, 21765140, 32844062, 41523752, 53225778, 58921020],
                          [347050, 876660, 1270165, 1754271, 2130143, 2547601]),
    "cifar100_default": ([13450340, 28930760, 42314540, 48029072, 58336948, 61341976],
                         [479716, 1094664, 1509250, 1912518, 2221326, 2520818]),
    "imagenet_readme": ([246472360, 631164048, 860403190, 1041144878, 1869847124, 2160379452, 2734279235, 2828311039],
                        [9916712, 37916432, 48345820, 65121348, 85601768, 113060656, 121474513, 131123991]),
    "imagenet_train_imagenet_sh": ([168066600, 520465424, 731890809, 903794197, 1052251864, 1118803728, 1589013903,
                                    1680979979],
                                   [8090920, 33314832, 42982814, 58901892, 63997294, 70852502, 78532931, 87972617]),
}
TINY = {  # the two fixtures' configurations: testsupport.REFERENCE_CONFIGS
    "tiny_cifar_fixture": ([3556618, 7699988, 10847582, 12939880, 15264818, 16633148],
                           [244146, 531964, 754762, 985364, 1177396, 1373326]),
    "tiny_imagenet_fixture": ([18212536, 21333312, 23089957, 24169073, 30151492, 31639856, 35613218, 36072778],
                              [163448, 454688, 568498, 721728, 890073, 1095103, 1171117, 1257029]),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_presets_match_reference_figures(name):
    flops, params = EXPECTED[name]
    infos = exit_infos(PRESETS[name])
    assert [e.flops for e in infos] == flops
    assert [e.params for e in infos] == params


@pytest.mark.parametrize("name", list(TINY))
def test_fixture_configs_match_reference_figures(name):
    flops, params = TINY[name]
    infos = exit_infos(RANetConfig.from_dict(REFERENCE_CONFIGS[name]))
    assert [e.flops for e in infos] == flops
    assert [e.params for e in infos] == params


def test_params_total_equals_model_parameters():
    import torch

    from ranet import RANet

    cfg = PRESETS["cifar10_default"]
    with torch.device("meta"):
        total = sum(p.numel() for p in RANet(cfg).parameters())
    assert exit_infos(cfg)[-1].params == total


def test_exit_metadata_describes_the_resolution_path():
    infos = exit_infos(PRESETS["cifar10_default"])
    assert [e.flow for e in infos] == [0, 0, 1, 1, 2, 2]
    assert infos[0].resolution_path == ["8x8"]
    assert infos[2].resolution_path == ["8x8", "16x16"]
    assert infos[-1].resolution_path == ["8x8", "16x16", "32x32"]
    imagenet = exit_infos(PRESETS["imagenet_readme"])
    assert imagenet[-1].resolution_path == ["7x7", "14x14", "28x28", "56x56"]


def test_flops_follow_the_input_size():
    cfg = PRESETS["imagenet_train_imagenet_sh"]
    small, large = exit_infos(cfg, 224), exit_infos(cfg, 256)
    assert all(b.flops > a.flops for a, b in zip(small, large))
    assert [a.params for a in small] == [b.params for b in large]
    assert exit_infos(PRESETS["cifar10_default"], 28)[-1].flops < exit_infos(PRESETS["cifar10_default"], 32)[-1].flops


def test_input_size_that_does_not_fit_the_heads_is_a_clear_error():
    from ranet import ConfigError

    with pytest.raises(ConfigError, match="does not fit"):
        exit_infos(PRESETS["cifar10_default"], 64)

"""The network diagram follows any configuration: 3 or 4 scales, CIFAR or ImageNet stems."""

from __future__ import annotations

import pytest

from ranet import PRESETS, exit_infos

from app.widgets.network_diagram import NetworkDiagram, block_boxes


@pytest.mark.parametrize("name", ["cifar10_default", "cifar10_train_cifar_sh", "imagenet_readme", "cifar10_readme_lg"])
def test_diagram_draws_every_preset(qtbot, name):
    config = PRESETS[name]
    exits = exit_infos(config)
    boxes = block_boxes(config, exits)
    assert [len(f) for f in boxes] == config.blocks_per_flow
    assert sum(b.exit_index is not None for f in boxes for b in f) == len(exits)
    for e in exits:  # the resolution the boxes compute agrees with the FLOPs counter's
        assert boxes[e.flow][e.block - 1].resolution == e.resolution
    diagram = NetworkDiagram()
    qtbot.addWidget(diagram)
    diagram.resize(640, 260)
    diagram.set_model(config, exits)
    diagram.set_state(len(exits) // 2)
    image = diagram.grab().toImage()
    assert len({image.pixel(x, y) for x in range(0, 640, 4) for y in range(0, 260, 4)}) > 20

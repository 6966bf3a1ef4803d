"""MVM and MAC counts equal hand-computed values; tiles follow the mapping rule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from memtorch_power.energy import estimate, map_tiles
from memtorch_power.nn import AnalogConv1d, AnalogConv2d, AnalogLinear, analogize


def _row(model: nn.Module, x: torch.Tensor, name: str = "(model)", **kwargs):  # type: ignore[no-untyped-def]
    return estimate(model, x, **kwargs).layer(name)


def test_linear_one_mvm_per_input_row() -> None:
    row = _row(AnalogLinear(10, 7), torch.randn(2, 3, 10), training=False)
    assert row.mvms_forward == 6
    assert row.macs_forward == 6 * 10 * 7
    assert row.shape == "10x7"


def test_conv1d_stride_padding_dilation_groups() -> None:
    layer = AnalogConv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)
    x = torch.randn(3, 4, 11)
    # L_out = floor((11 + 2*1 - 2*(3-1) - 1) / 2) + 1 = 5; one MVM per position and group
    row = _row(layer, x, training=False)
    assert layer(x).shape == (3, 6, 5)
    assert row.mvms_forward == 3 * 5 * 2
    assert row.macs_forward == 3 * 5 * 2 * (2 * 3) * 3  # rows = 4/2*3, cols = 6/2


def test_conv2d_stride_padding_dilation_groups() -> None:
    layer = AnalogConv2d(6, 4, (3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2), groups=2)
    x = torch.randn(2, 6, 7, 9)
    # H_out = floor((7 + 2 - 2 - 1) / 2) + 1 = 4; W_out = floor((9 - 2 - 1) / 1) + 1 = 7
    row = _row(layer, x, training=False)
    assert layer(x).shape == (2, 4, 4, 7)
    assert row.mvms_forward == 2 * 28 * 2
    assert row.macs_forward == 2 * 28 * 2 * (3 * 3 * 2) * 2


def test_conv2d_same_padding_and_unbatched_input() -> None:
    layer = AnalogConv2d(3, 5, 3, padding="same", dilation=2)
    assert _row(layer, torch.randn(1, 3, 6, 6), training=False).mvms_forward == 36
    row = _row(layer, torch.randn(3, 6, 6), training=False)  # unbatched [C, H, W]
    assert row.mvms_forward == 36 and row.macs_forward == 36 * 27 * 5


def test_digital_layers_are_counted_with_exact_macs(cnn: nn.Sequential) -> None:
    model = analogize(cnn, "ideal", exclude=["4"])  # depthwise conv stays digital
    x = torch.randn(2, 3, 8, 8)
    report = estimate(model, x, training=False)
    depthwise = report.layer("4")
    assert depthwise.kind == "digital"
    assert depthwise.macs_forward == 2 * 8 * 4 * 4 * 9  # out elements * (C_in/groups) * k*k
    assert report.layer("3").ops == 2 * 8 * 4 * 4 * 4  # max-pool: 4 compares per output
    assert report.layer("2").ops == 2 * 8 * 8 * 8  # ReLU: 1 op per element
    assert report.layer("0").kind == "analog" and report.layer("6").kind == "analog"
    total = sum(layer.macs_forward for layer in report.layers)
    assert total == 2 * 64 * 27 * 8 + 2 * 16 * 8 * 9 + 2 * 128 * 5


def test_backward_counts_follow_autograd() -> None:
    model = analogize(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)), "pcm_training")
    report = estimate(model, torch.randn(4, 6))
    first, last = report.layer("0"), report.layer("2")
    # the input needs no gradient: no transposed MVM for the first layer
    assert first.mvms_backward == 0 and last.mvms_backward == 4
    assert first.macs_backward == 4 * 30  # weight gradient only
    assert last.macs_backward == 2 * 4 * 15  # input + weight gradients
    assert first.weight_updates == last.weight_updates == 1


def test_digital_update_presets_have_no_array_backward() -> None:
    model = analogize(nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 3)), "pcm_hwa")
    last = estimate(model, torch.randn(4, 6)).layer("2")
    assert last.mvms_backward == 0 and last.macs_backward == 2 * 4 * 15
    assert "digital_compute" in last.analog["backward"]
    assert "dac" not in last.analog["backward"]


@pytest.mark.parametrize(
    ("rows", "cols", "array", "tiles"),
    [(256, 256, 256, 1), (257, 256, 256, 2), (300, 130, 128, 6), (1000, 10, 256, 4), (5, 600, 256, 3)],
)
def test_tiles_follow_ceil_rule(rows: int, cols: int, array: int, tiles: int) -> None:
    mapping = map_tiles(rows, cols, 1, array, array)
    assert mapping.tiles == math.ceil(rows / array) * math.ceil(cols / array) == tiles
    assert mapping.adds_per_output == math.ceil(rows / array) - 1
    assert mapping.utilisation == pytest.approx(rows * cols / (tiles * array * array))


def test_tiles_in_report_use_the_profile_array() -> None:
    layer = AnalogLinear(300, 130)
    x = torch.randn(1, 300)
    assert estimate(layer, x, analog="isaac", training=False).layers[0].tiles == 6
    assert estimate(layer, x, analog="hermes", training=False).layers[0].tiles == 2
    report = estimate(layer, x, analog="isaac", training=False)
    assert any("128x128" in note for note in report.notes)


def test_grouped_convolutions_pack_block_diagonally() -> None:
    depthwise = map_tiles(9, 1, 64, 256, 256)  # 3x3 depthwise: 256 // 9 = 28 groups per array
    assert depthwise.groups_per_array == 28 and depthwise.tiles == 3
    assert map_tiles(9, 1, 16, 256, 256).tiles == 1
    wide = map_tiles(200, 100, 4, 256, 256)  # one group per array (2*200 > 256 rows)
    assert wide.tiles == 4
    big = map_tiles(300, 100, 3, 256, 256)  # larger than an array: not packed
    assert big.tiles == 3 * 2 * 1 and big.groups_per_array == 1


def test_partial_sums_are_added_digitally() -> None:
    row = _row(AnalogLinear(600, 10), torch.randn(4, 600), training=False)
    assert row.tiles == 3
    accumulate = row.analog["forward"]["accumulate"]
    assert accumulate == pytest.approx(4 * 10 * 2 * 0.1e-12)  # (3-1) adds per output, 0.1 pJ each

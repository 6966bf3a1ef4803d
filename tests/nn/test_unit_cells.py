"""Nested PCM unit cells: the energy traits read through them, and their tiles save and load."""

import copy

import pytest
import torch
from aihwkit.nn import AnalogLinear
from aihwkit.simulator.configs.compounds import VectorUnitCell
from aihwkit.simulator.parameters.enums import PulseType, VectorUnitCellUpdatePolicy
from aihwkit.simulator.presets import MixedPrecisionPCMPreset

from memtorch_power.presets import Preset, traits_of
from memtorch_power.tiles import TransferAnalogTile


def _pairs_per_weight(pairs: int, constant_step: bool = False) -> MixedPrecisionPCMPreset:
    """Mixed precision whose weight is ``pairs`` PCM pairs, each read at ``1/pairs``."""
    config = MixedPrecisionPCMPreset()
    pair = config.device.device
    if constant_step:
        for device in pair.unit_cell_devices:
            device.A_up = device.A_down = device.dw_min_std = 0.0
            device.dw_min_dtod = device.up_down_dtod = device.w_max_dtod = 0.0
        config.update.pulse_type = PulseType.DETERMINISTIC_IMPLICIT
    config.device.device = VectorUnitCell(unit_cell_devices=[copy.deepcopy(pair) for _ in range(pairs)],
                                          update_policy=VectorUnitCellUpdatePolicy.SINGLE_SEQUENTIAL,
                                          gamma_vec=[1.0 / pairs] * pairs)
    config.tile_class = TransferAnalogTile
    return config


def _preset(pairs: int, constant_step: bool = False) -> Preset:
    return Preset(f"pairs_{pairs}", "test", "test", "mixed_precision", lambda: _pairs_per_weight(pairs, constant_step))


def test_traits_of_a_pair_and_of_three_pairs_per_weight() -> None:
    one, three = traits_of("pcm_mixed_precision"), traits_of(_preset(3))
    assert (one.dw_min, one.w_max, one.devices_per_weight) == (pytest.approx(0.01), pytest.approx(2.0), 2)
    # a pulse programs one device of one pair, read at 1/3; the three pairs together span one range
    assert three.dw_min == pytest.approx(0.01 / 3) and three.w_max == pytest.approx(2.0)
    assert three.devices_per_weight == 6


def test_one_accumulator_count_moves_the_weight_by_the_traits_step() -> None:
    """What the energy monitor divides by (``dw_min``) is what one pulse moves the weight."""
    preset = _preset(3, constant_step=True)
    layer = AnalogLinear(16, 4, bias=False, rpu_config=preset.rpu_config())
    tile = next(layer.analog_tiles())
    tile.tile.set_weights(torch.zeros(4, 16))
    tile.tile.set_learning_rate(1.0)
    counts = torch.arange(16, dtype=torch.float32) % 4  # 0-3 whole device steps of accumulated update
    x = (counts + 0.5) * 0.01
    tile.tile.update(x.unsqueeze(0), -torch.ones(1, 4), False)
    tile.tile.update(torch.zeros(1, 16), -torch.ones(1, 4), False)  # the transfer follows the accumulation
    moved = tile.tile.get_weights()
    assert torch.allclose(moved, counts.expand(4, 16) * traits_of(preset).dw_min, atol=1e-6)


def test_a_tile_of_three_pairs_saves_and_loads_its_devices() -> None:
    torch.manual_seed(0)
    layer = AnalogLinear(8, 4, rpu_config=_pairs_per_weight(3))
    tile = next(layer.analog_tiles())
    tile.tile.set_learning_rate(0.5)
    for _ in range(5):
        tile.tile.update(torch.randn(2, 8), torch.randn(2, 4), False)
    saved = tile.get_hidden_parameters()
    state = layer.state_dict()  # aihwkit alone raises "... already exists in state map"
    loaded = AnalogLinear(8, 4, rpu_config=_pairs_per_weight(3))
    loaded.load_state_dict(state)
    restored = next(loaded.analog_tiles()).get_hidden_parameters()
    for name in ("hidden_weights_0_0", "hidden_weights_1_0", "hidden_weights_0_2", "hidden_weights_1_2"):
        assert torch.equal(restored[name], saved[name]), name
    assert torch.allclose(loaded.get_weights()[0], layer.get_weights()[0])

"""What the two tiles whose digital unit forms its own step (``FactoredStepTile``,
``AdamStepTile``) share through their base class: the step follows each tensor's feature axis,
the digital unit's state travels with the state dict, and an analog bias column (which would go
without the step) and aihwkit's indexed convolution update are refused. Each tile's own arithmetic is tested in ``test_factored_step.py`` and ``test_adam_step.py``."""

import pytest
import torch
from aihwkit.nn import AnalogLinear
from aihwkit.simulator.presets import MixedPrecisionPCMPreset

from memtorch_power.tiles import AdamStepTile, FactoredStepTile

TILES = pytest.mark.parametrize("tile_class", [FactoredStepTile, AdamStepTile], ids=lambda cls: cls.__name__)


def _layer(tile_class: type) -> AnalogLinear:
    config = MixedPrecisionPCMPreset()
    config.tile_class = tile_class
    return AnalogLinear(6, 4, bias=False, rpu_config=config)


def _batches(n: int, seed: int = 0) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(seed)
    return [(torch.randn(5, 6, generator=generator), torch.randn(5, 4, generator=generator) * scale)
            for scale in (1.0, 10.0, 0.1)[:n]]


@TILES
def test_transposed_inputs_give_the_same_step(capture_aihwkit_updates, tile_class: type) -> None:  # type: ignore[no-untyped-def]
    seen = capture_aihwkit_updates()
    x, d = _batches(1)[0]
    plain, transposed = (next(_layer(tile_class).analog_tiles()) for _ in range(2))
    transposed.in_trans = transposed.out_trans = True  # x as [in, batch], d as [out, batch]
    plain.update(x, d)
    transposed.update(x.T.contiguous(), d.T.contiguous())
    (x1, d1), (x2, d2) = seen
    assert torch.allclose(d1.T @ x1, d2 @ x2.T, atol=1e-6)


@TILES
@pytest.mark.parametrize("updates_before_saving", [1, 2])
def test_the_digital_unit_state_travels_with_the_state_dict_so_a_resumed_run_takes_the_same_steps(  # type: ignore[no-untyped-def]
        capture_aihwkit_updates, tile_class: type, updates_before_saving: int) -> None:
    *before, after = _batches(updates_before_saving + 1, seed=1)
    layer = _layer(tile_class)
    tile = next(layer.analog_tiles())
    tile.set_learning_rate(0.01)
    for batch in before:
        tile.update(*batch)
    loaded = _layer(tile_class)
    loaded.load_state_dict(layer.state_dict())
    resumed = next(loaded.analog_tiles())
    steps, *tensors = tile_class._DIGITAL_STATE  # the step count, then the statistics or moments
    assert getattr(resumed, steps) == updates_before_saving
    for name in tensors:
        assert torch.equal(getattr(resumed, name), getattr(tile, name))
    assert torch.allclose(loaded.get_weights()[0], layer.get_weights()[0])
    seen = capture_aihwkit_updates()
    tile.update(*after)
    resumed.update(*after)
    (x1, d1), (x2, d2) = seen
    assert torch.allclose(d1.T @ x1, d2.T @ x2)


@TILES
def test_an_indexed_convolution_update_is_refused_rather_than_left_without_the_step(tile_class: type) -> None:
    tile = next(_layer(tile_class).analog_tiles())
    with pytest.raises(NotImplementedError, match="use_indexed=False"):
        tile.update_indexed(torch.randn(2, 6), torch.randn(2, 4))


@TILES
def test_an_analog_bias_column_is_refused_as_it_would_go_without_the_step(tile_class: type) -> None:
    config = MixedPrecisionPCMPreset()
    config.tile_class = tile_class
    config.mapping.digital_bias = False
    tile = next(AnalogLinear(6, 4, bias=True, rpu_config=config).analog_tiles())
    with pytest.raises(ValueError, match="digital bias"):
        tile.update(*_batches(1)[0])

"""``AdamStepTile``: mixed precision whose digital unit accumulates Adam's step in ``chi``."""

import pytest
import torch
from aihwkit.nn import AnalogLinear
from aihwkit.simulator.presets import MixedPrecisionPCMPreset

from memtorch_power.tiles import AdamStepTile


def _layer(inputs: int = 6, outputs: int = 4, bias: bool = False) -> AnalogLinear:
    config = MixedPrecisionPCMPreset()
    config.tile_class = AdamStepTile
    return AnalogLinear(inputs, outputs, bias=bias, rpu_config=config)


def _adam_step(gradients: list[torch.Tensor], beta1: float = 0.9, beta2: float = 0.999,
               eps: float = 1e-8) -> torch.Tensor:
    """Adam (Kingma & Ba 2015), written out: the step for the last of ``gradients``."""
    m = v = torch.zeros_like(gradients[0])
    for t, g in enumerate(gradients, start=1):
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
    return (m / (1 - beta1**t)) / (torch.sqrt(v / (1 - beta2**t)) + eps)


def _batches(n: int, inputs: int = 6, outputs: int = 4) -> list[tuple[torch.Tensor, torch.Tensor]]:
    generator = torch.Generator().manual_seed(0)
    return [(torch.randn(5, inputs, generator=generator), torch.randn(5, outputs, generator=generator) * scale)
            for scale in (1.0, 10.0, 0.1)[:n]]


@pytest.mark.parametrize("inputs,outputs", [(6, 4), (3, 5)])  # one-hot errors, then one-hot inputs
def test_the_tile_hands_aihwkit_adams_step_as_a_sum_of_rank_one_products(capture_aihwkit_updates, inputs, outputs) -> None:  # type: ignore[no-untyped-def]
    seen = capture_aihwkit_updates()
    tile = next(_layer(inputs, outputs).analog_tiles())
    gradients = []
    for x, d in _batches(3, inputs, outputs):
        tile.update(x, d)
        gradients.append(d.T @ x)
        x_vectors, d_vectors = seen[-1]
        assert len(x_vectors) == min(inputs, outputs)  # one vector per row (or column) of the step
        assert torch.allclose(d_vectors.T @ x_vectors, _adam_step(gradients), rtol=1e-4, atol=1e-6)


def test_the_accumulator_receives_exactly_the_learning_rate_times_the_step() -> None:
    tile = next(_layer().analog_tiles())
    tile.set_learning_rate(1e-4)  # far below a device step: no pulse fires, chi keeps everything
    names = list(tile.tile.get_hidden_parameter_names())
    chi = names.index("hidden_weights_chi")
    before = tile.tile.get_hidden_parameters()[chi].clone()
    weights = tile.tile.get_weights().clone()
    gradients = []
    expected = torch.zeros(4, 6)
    for x, d in _batches(3):
        tile.update(x, d)
        gradients.append(d.T @ x)
        expected += 1e-4 * _adam_step(gradients)
    assert torch.allclose(tile.tile.get_hidden_parameters()[chi] - before, expected, atol=1e-7)
    assert torch.equal(tile.tile.get_weights(), weights)  # nothing was programmed yet


def test_adams_step_is_priced_on_top_of_mixed_precision() -> None:
    from torch import nn

    from memtorch_power.energy import estimate
    from memtorch_power.energy.pricing import ADAM_MOMENT_ACCESSES, ADAM_OPS_PER_WEIGHT, CHI_BYTES
    from memtorch_power.energy.profiles import get_digital_profile
    from memtorch_power.nn import analogize
    from memtorch_power.presets import traits_of

    assert traits_of("pcm_mixed_precision_adam").adam_step
    assert not traits_of("pcm_mixed_precision").adam_step
    assert not traits_of("pcm_mixed_precision_adam").factored_step
    x = torch.randn(4, 16)
    plain, adam = (estimate(analogize(nn.Sequential(nn.Linear(16, 8)), preset), x).layer("0").analog["update"]
                   for preset in ("pcm_mixed_precision", "pcm_mixed_precision_adam"))
    d = get_digital_profile("a100_fp16")
    assert adam["digital_compute"] - plain["digital_compute"] == pytest.approx(16 * 8 * ADAM_OPS_PER_WEIGHT * d.op_pj * 1e-12)
    moments = 16 * 8 * ADAM_MOMENT_ACCESSES * CHI_BYTES * d.activation_pj_per_byte
    assert adam["digital_memory"] - plain["digital_memory"] == pytest.approx(moments * 1e-12)

"""``FactoredStepTile``: mixed precision whose digital unit takes Adafactor's factored step."""

import pytest
import torch
from aihwkit.nn import AnalogLinear
from aihwkit.simulator.presets import MixedPrecisionPCMPreset

from memtorch_power.tiles import FactoredStepTile


def _layer() -> AnalogLinear:
    config = MixedPrecisionPCMPreset()
    config.tile_class = FactoredStepTile
    return AnalogLinear(6, 4, bias=False, rpu_config=config)


def _adafactor_step(gradients: list[torch.Tensor], beta2: float = 0.999) -> torch.Tensor:
    """Adafactor without momentum (Shazeer & Stern 2018), written out for the last gradient."""
    rows = cols = 0.0
    for step, g in enumerate(gradients, start=1):
        rows = beta2 * rows + (1 - beta2) * (g**2).mean(1)
        cols = beta2 * cols + (1 - beta2) * (g**2).mean(0)
    r, c = rows / (1 - beta2**step), cols / (1 - beta2**step)
    update = gradients[-1] / torch.sqrt(torch.outer(r, c) / r.mean())
    return update / max(1.0, update.pow(2).mean().sqrt().item())


def test_the_tile_hands_aihwkit_the_factored_step_as_an_outer_product(capture_aihwkit_updates) -> None:  # type: ignore[no-untyped-def]
    seen = capture_aihwkit_updates()
    tile = next(_layer().analog_tiles())
    generator = torch.Generator().manual_seed(0)
    batches = [(torch.randn(5, 6, generator=generator), torch.randn(5, 4, generator=generator) * scale)
               for scale in (1.0, 10.0, 0.1)]
    gradients = []
    for x, d in batches:
        tile.update(x, d)
        gradients.append(d.T @ x)
        x_scaled, d_scaled = seen[-1]
        # the outer product aihwkit accumulates is Adafactor's step for this gradient
        assert torch.allclose(d_scaled.T @ x_scaled, _adafactor_step(gradients), rtol=1e-4, atol=1e-6)
    # the step does not follow the gradient's scale: a fresh tile given 100x the errors takes the same step
    x, d = batches[0]
    next(_layer().analog_tiles()).update(x, 100 * d)
    (x_first, d_first), (x_large, d_large) = seen[0], seen[-1]
    assert torch.allclose(d_large.T @ x_large, d_first.T @ x_first, rtol=1e-4, atol=1e-6)


def test_the_factored_step_is_priced_on_top_of_mixed_precision() -> None:
    from torch import nn

    from memtorch_power.energy import estimate
    from memtorch_power.energy.pricing import CHI_BYTES, FACTORED_OPS_PER_WEIGHT
    from memtorch_power.energy.profiles import get_digital_profile
    from memtorch_power.nn import analogize
    from memtorch_power.presets import traits_of

    assert traits_of("pcm_mixed_precision_factored").factored_step
    assert not traits_of("pcm_mixed_precision").factored_step
    x = torch.randn(4, 16)
    plain, factored = (estimate(analogize(nn.Sequential(nn.Linear(16, 8)), preset), x).layer("0").analog["update"]
                       for preset in ("pcm_mixed_precision", "pcm_mixed_precision_factored"))
    d = get_digital_profile("a100_fp16")
    # 128 weights x the step's operations, plus one multiply per input (4 x 16) and error (4 x 8) element
    ops = 16 * 8 * FACTORED_OPS_PER_WEIGHT + 4 * 16 + 4 * 8
    assert factored["digital_compute"] - plain["digital_compute"] == pytest.approx(ops * d.op_pj * 1e-12)
    # the row and column statistics: one fp32 read and write per row and column per step
    stats = (16 + 8) * 2 * CHI_BYTES * d.activation_pj_per_byte
    assert factored["digital_memory"] - plain["digital_memory"] == pytest.approx(stats * 1e-12)

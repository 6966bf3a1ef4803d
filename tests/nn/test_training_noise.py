"""The hardware-aware training weight noise, read and changed on the fly (noise ramp-up, issue 15)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize, set_weight_noise_std, weight_noise_std


def _model() -> nn.Module:
    torch.manual_seed(0)
    return analogize(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8)), "pcm_hwa").train()


def _spread(model: nn.Module, x: torch.Tensor) -> float:
    """Mean standard deviation of the outputs over repeated training forwards of the same input."""
    with torch.no_grad():
        return float(torch.stack([model(x) for _ in range(30)]).std(0).mean())


def test_the_training_forward_follows_the_noise_set_on_the_fly() -> None:
    model, x = _model(), torch.randn(16, 64)
    assert weight_noise_std(model) == [0.06, 0.06]  # the preset's 6 % of the largest weight
    quiet = _spread(set_weight_noise_std(model, [0.0, 0.0]), x)
    loud = _spread(set_weight_noise_std(model, [0.3, 0.3]), x)
    assert weight_noise_std(model) == [0.3, 0.3]
    assert loud > 2 * quiet  # what is left at 0 is the preset's output noise


@pytest.mark.parametrize(("values", "message"), [([0.1], "1 values for 2 tiles"), ([0.1, -0.1], "must be >= 0")])
def test_bad_noise_values_are_refused(values: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        set_weight_noise_std(_model(), values)


def test_models_without_hardware_aware_tiles_are_refused() -> None:
    with pytest.raises(ValueError, match="no analog layer"):
        weight_noise_std(nn.Linear(4, 2))
    with pytest.raises(ValueError, match="on the fly"):
        weight_noise_std(analogize(nn.Linear(4, 2), "pcm_training"))

"""set_input_range_init: hardware-aware tiles re-initialise their input ranges from data at the
chosen width (and only where a preset learns input ranges)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize, set_input_range_init


def _ranges(model: nn.Module) -> list[float]:
    return [float(v) for k, v in model.state_dict().items() if k.endswith("input_range")]


def _fit_ranges(model: nn.Module, x: torch.Tensor, batches: int = 3) -> list[float]:
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(x)
    return _ranges(model)


def test_ranges_start_at_the_chosen_width_of_the_inputs() -> None:
    torch.manual_seed(0)
    x = torch.randn(256, 16)  # unit standard deviation
    narrow = analogize(nn.Sequential(nn.Linear(16, 8)), "pcm_hwa")
    wide = analogize(nn.Sequential(nn.Linear(16, 8)), "pcm_hwa")
    set_input_range_init(wide, 10.0, batches=3)
    narrow_ranges, wide_ranges = _fit_ranges(narrow, x), _fit_ranges(wide, x)
    assert narrow_ranges[0] == pytest.approx(3.0, rel=0.15)  # the preset's 3 standard deviations
    assert wide_ranges[0] == pytest.approx(10.0, rel=0.15)


def test_an_already_initialised_model_starts_again() -> None:
    torch.manual_seed(0)
    model = analogize(nn.Sequential(nn.Linear(16, 8)), "pcm_hwa")
    before = _fit_ranges(model, torch.randn(256, 16), batches=120)  # past the preset's 100 batches
    set_input_range_init(model, 6.0, batches=2)
    after = _fit_ranges(model, 4 * torch.randn(256, 16), batches=2)
    assert after[0] == pytest.approx(24.0, rel=0.15) and after[0] > 4 * before[0]


def test_bad_arguments_and_presets_without_input_ranges() -> None:
    model = analogize(nn.Sequential(nn.Linear(4, 2)), "pcm_hwa")
    with pytest.raises(ValueError, match="std_alpha must be > 0"):
        set_input_range_init(model, 0.0)
    with pytest.raises(ValueError, match="batches must be >= 1"):
        set_input_range_init(model, 3.0, batches=0)
    with pytest.raises(ValueError, match="no analog tile of this model learns an input range"):
        set_input_range_init(analogize(nn.Sequential(nn.Linear(4, 2)), "ideal"), 3.0)

"""Program-and-verify (issue 15): a verify loop over aihwkit's PCM programming error."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.nn import ProgramVerify, analogize, program, program_verified
from memtorch_power.nn.convert import analog_tiles


def _model() -> nn.Module:
    torch.manual_seed(0)
    return analogize(nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 8)), "pcm_hwa").eval()


def _programming_error(model: nn.Module) -> float:
    """Mean |programmed - target| weight over every tile."""
    errors = [(tile.programmed_weights - tile.reference_combined_weights).abs().flatten() for tile in analog_tiles(model)]
    return float(torch.cat(errors).mean())


def test_verify_loop_shrinks_the_programming_error_and_counts_its_pulses() -> None:
    plain, verified = _model(), _model()
    torch.manual_seed(1)
    program(plain)
    torch.manual_seed(1)
    pulses = program_verified(verified, ProgramVerify(tolerance_us=0.3, max_iterations=10))
    assert pulses > 1.0  # some devices were programmed again
    assert _programming_error(verified) < 0.7 * _programming_error(plain)
    x = torch.randn(16, 64)
    with torch.no_grad():
        assert not torch.allclose(plain(x), verified(x))


def test_a_tolerance_nobody_misses_programs_as_aihwkit_does() -> None:
    plain, verified = _model(), _model()
    torch.manual_seed(2)
    program(plain)
    torch.manual_seed(2)
    assert program_verified(verified, ProgramVerify(tolerance_us=1e6)) == 1.0
    for a, b in zip(analog_tiles(plain), analog_tiles(verified)):
        torch.testing.assert_close(a.programmed_weights, b.programmed_weights)


def test_the_preset_noise_model_is_restored_after_programming() -> None:
    model = _model()
    before = [type(tile.rpu_config.noise_model) for tile in analog_tiles(model)]
    program(model, verify=ProgramVerify())
    assert [type(tile.rpu_config.noise_model) for tile in analog_tiles(model)] == before


@pytest.mark.parametrize(("field", "value", "message"), [
    ("tolerance_us", 0.0, "tolerance_us must be > 0"),
    ("max_iterations", 0, "max_iterations must be >= 1"),
])
def test_bad_verify_settings_are_refused(field: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProgramVerify(**{field: value})

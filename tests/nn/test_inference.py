"""Programming and drift of the hardware-aware inference preset."""

import pytest
import torch
from torch import nn

from memtorch_power.nn import DRIFT_TIMES_S, analogize, drift, program
from memtorch_power.presets import get_preset


def _model(preset: object = "pcm_hwa") -> nn.Module:
    torch.manual_seed(3)
    digital = nn.Sequential(nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, 32))
    return analogize(digital, preset).eval()


def _mean_abs_output(model: nn.Module, x: torch.Tensor, repeats: int = 5) -> torch.Tensor:
    with torch.no_grad():
        return torch.stack([model(x) for _ in range(repeats)]).mean(0)


def test_drift_changes_outputs_more_after_a_year_than_an_hour() -> None:
    model = _model()
    x = torch.randn(256, 64)
    ideal = _mean_abs_output(model, x)  # before programming: no programming noise
    program(model)
    drift(model, DRIFT_TIMES_S["1 h"])
    error_hour = (_mean_abs_output(model, x) - ideal).abs().mean()
    drift(model, DRIFT_TIMES_S["1 year"])
    error_year = (_mean_abs_output(model, x) - ideal).abs().mean()
    assert error_hour > 0
    assert error_year > 1.2 * error_hour, (error_hour, error_year)


def _output_scale_after_a_year(preset: object) -> float:
    model = _model(preset)
    x = torch.randn(256, 64)
    program(model)
    drift(model, 1.0)
    fresh = _mean_abs_output(model, x).abs().mean()
    drift(model, DRIFT_TIMES_S["1 year"])
    aged = _mean_abs_output(model, x).abs().mean()
    return (aged / fresh).item()


def test_global_drift_compensation_restores_the_output_scale() -> None:
    config = get_preset("pcm_hwa").rpu_config()
    config.drift_compensation = None
    uncompensated = _output_scale_after_a_year(config)
    compensated = _output_scale_after_a_year("pcm_hwa")
    assert uncompensated < 0.85, f"drift should shrink uncompensated outputs, ratio {uncompensated:.2f}"
    assert abs(compensated - 1.0) < 0.1, f"compensated output scale ratio {compensated:.2f}"


def test_program_needs_eval_mode_and_an_inference_preset() -> None:
    model = _model().train()
    with pytest.raises(RuntimeError, match="eval mode"):
        program(model)
    with pytest.raises(ValueError, match="pcm_training.*no programming/drift model"):
        program(_model("pcm_training"))
    with pytest.raises(ValueError, match="no analog layer"):
        drift(nn.Linear(2, 2).eval(), 10.0)
    with pytest.raises(ValueError, match="t_seconds must be >= 0"):
        drift(_model(), -1.0)

"""Options against drift (issue 15): per-column compensation and adaptive batch-norm statistics."""

from __future__ import annotations

import io

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize, drift, program, recalibrate_batchnorm, set_drift_compensation


def _model() -> nn.Module:
    torch.manual_seed(0)
    digital = nn.Sequential(nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 4))
    return analogize(digital, "pcm_hwa").eval()


def _alphas(model: nn.Module) -> list[torch.Tensor]:
    return [buffer.detach().clone() for name, buffer in model.named_buffers() if name.endswith("alpha")]


def test_per_column_compensation_scales_each_column_and_global_one_factor() -> None:
    x = torch.randn(32, 16)
    per_column = set_drift_compensation(_model(), "per_column")
    torch.manual_seed(1)
    drift(program(per_column), 86_400.0)
    glob = _model()
    torch.manual_seed(1)
    drift(program(glob), 86_400.0)
    column_alphas, global_alphas = _alphas(per_column), _alphas(glob)
    assert column_alphas and all(a.numel() == 1 for a in global_alphas)
    assert any(a.numel() > 1 and not torch.allclose(a, a.flatten()[0].expand_as(a)) for a in column_alphas)
    assert not torch.allclose(per_column(x), glob(x))


def test_drifted_per_column_state_reloads_weights_only() -> None:
    model = set_drift_compensation(_model(), "per_column")
    drift(program(model), 3600.0)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    fresh = _model()
    fresh.load_state_dict(torch.load(buffer, weights_only=True))
    assert [a.shape for a in _alphas(fresh)] == [a.shape for a in _alphas(model)]


def test_unknown_compensation_is_refused() -> None:
    with pytest.raises(ValueError, match="per_column"):
        set_drift_compensation(_model(), "per_row")  # type: ignore[arg-type]


def test_recalibrated_statistics_are_those_of_the_drifted_chip() -> None:
    model = _model()
    torch.manual_seed(2)
    drift(program(model), 365 * 86_400.0)
    batches = [torch.randn(64, 16) for _ in range(3)]
    norm = model[1]
    before = norm.running_mean.clone()
    with torch.no_grad():
        torch.manual_seed(3)
        pre_norm = torch.cat([model[0](b) for b in batches])
    torch.manual_seed(3)
    recalibrate_batchnorm(model, batches)
    assert not torch.allclose(norm.running_mean, before)
    # the cumulative average of the three batch means is their mean, up to the chip's read noise
    target = pre_norm.mean(dim=0)
    torch.testing.assert_close(norm.running_mean, target, rtol=0.0, atol=0.03)
    assert (norm.running_mean - target).abs().max() < (before - target).abs().max()
    assert norm.momentum == 0.1 and not norm.training and not model.training  # flags restored


def test_recalibration_needs_batch_norms_and_batches() -> None:
    with pytest.raises(ValueError, match="no batch norm"):
        recalibrate_batchnorm(analogize(nn.Sequential(nn.Linear(4, 2)), "pcm_hwa"), [torch.randn(2, 4)])
    with pytest.raises(ValueError, match="no batch given"):
        recalibrate_batchnorm(_model(), [])

"""accuracy_after_drift with the issue-15 options: the compensation setting and recalibrated
batch-norm statistics change the measured accuracy and leave the trained model as it was
(per-column against global compensation: tests/nn/test_drift_options.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.kws.drift import DriftEvaluation, accuracy_after_drift
from memtorch_power.nn import ProgramVerify, analogize


def _setup() -> tuple[nn.Module, list[tuple[torch.Tensor, torch.Tensor]]]:
    torch.manual_seed(0)
    teacher = nn.Linear(12, 3)
    x = torch.randn(256, 12)
    y = teacher(x).argmax(dim=1)
    model = nn.Sequential(nn.Linear(12, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    batches = [(x[i:i + 64], y[i:i + 64]) for i in range(0, 256, 64)]
    return analogize(model, "pcm_hwa"), batches


TIMES = {"1 year": 365 * 86_400.0}


def test_options_change_the_measurement_and_restore_the_model() -> None:
    model, batches = _setup()
    statistics = model[1].running_mean.clone()
    plain = accuracy_after_drift(model, batches, TIMES, repeats=2)
    uncompensated = accuracy_after_drift(model, batches, TIMES, repeats=2, compensation="none")
    recalibrated = accuracy_after_drift(model, batches, TIMES, repeats=2, recalibration=batches)
    assert [r["accuracy"] for r in plain] != [r["accuracy"] for r in uncompensated]
    assert [r["accuracy"] for r in plain] != [r["accuracy"] for r in recalibrated]
    torch.testing.assert_close(model[1].running_mean, statistics)  # trained statistics restored


def test_verified_programming_is_measured_and_reports_its_pulses() -> None:
    model, batches = _setup()
    plain = accuracy_after_drift(model, batches, {"1 s": 1.0}, repeats=2)
    verified = accuracy_after_drift(model, batches, {"1 s": 1.0}, repeats=2,
                                    verify=ProgramVerify(tolerance_us=0.2, max_iterations=20))
    assert all(r["programming_pulses"] > 1.0 for r in verified)
    assert "programming_pulses" not in plain[0]
    assert [r["accuracy"] for r in plain] != [r["accuracy"] for r in verified]


def test_drift_evaluation_validates_its_options() -> None:
    with pytest.raises(ValueError, match="recalibration_batches"):
        DriftEvaluation(recalibration_batches=-1)
    with pytest.raises(ValueError, match="tolerance_us must be > 0"):
        DriftEvaluation(verify_tolerance_us=0.0)
    assert DriftEvaluation(verify_tolerance_us=0.5, verify_iterations=4).verify == ProgramVerify(0.5, 4)

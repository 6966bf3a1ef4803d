"""Energy is linear in batch size and in the number of batches."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.energy import estimate
from memtorch_power.nn import analogize


def test_inference_energy_linear_in_batch_size(cnn: nn.Sequential) -> None:
    model = analogize(cnn, "pcm_hwa")
    reports = {n: estimate(model, torch.randn(n, 3, 8, 8), training=False) for n in (1, 2, 4)}
    for n in (2, 4):
        for a, b in zip(reports[n].layers, reports[1].layers):
            if a.kind == "analog":  # every analog component is per MVM: proportional
                assert a.analog_j() == pytest.approx(n * b.analog_j(), rel=1e-9)
            assert a.mvms_forward == n * b.mvms_forward
            assert a.macs_forward == n * b.macs_forward
            assert a.digital["forward"].get("compute", 0.0) == pytest.approx(n * b.digital["forward"].get("compute", 0.0))
    # digital processors fetch weights once per batch: affine in batch size, not proportional
    for side in ("analog_j", "digital_j"):
        e1, e2, e4 = (getattr(reports[n], side)() for n in (1, 2, 4))
        assert e4 - e2 == pytest.approx(2 * (e2 - e1), rel=1e-9)


def test_training_energy_linear_in_batches(cnn: nn.Sequential) -> None:
    model = analogize(cnn, "pcm_mixed_precision")
    x = torch.randn(2, 3, 8, 8)
    one, three = estimate(model, x, batches=1), estimate(model, x, batches=3)
    for phase in ("forward", "backward", "update"):
        assert three.analog_j(phase) == pytest.approx(3 * one.analog_j(phase), rel=1e-9)
        assert three.digital_j(phase) == pytest.approx(3 * one.digital_j(phase), rel=1e-9)
    assert three.totals()["pcm_pulses"] == pytest.approx(3 * one.totals()["pcm_pulses"])


def test_pulsed_update_energy_follows_pulses_per_step() -> None:
    model = analogize(nn.Sequential(nn.Linear(16, 8)), "pcm_training")
    x = torch.randn(4, 16)
    low = estimate(model, x, pulses_per_weight_step=0.1).layer("0")
    high = estimate(model, x, pulses_per_weight_step=0.2).layer("0")
    assert low.pcm_pulses == pytest.approx(0.1 * 16 * 8)
    assert high.analog["update"]["pcm_pulses"] == pytest.approx(2 * low.analog["update"]["pcm_pulses"])

"""Inference rules: dropout is free in eval mode; batch norm folds into the conv/linear before it."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.energy import estimate
from memtorch_power.energy.counting import WorkloadCounter
from memtorch_power.nn import analogize

X = torch.randn(2, 3, 8, 8)
ELEMENTS = 2 * 8 * 8 * 8  # elements of every [2, 8, 8, 8] activation below


def _conv_bn_relu_dropout() -> nn.Module:
    return analogize(nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(),
                                   nn.Dropout(0.5), nn.Flatten(), nn.Linear(512, 4)), "pcm_hwa")


@pytest.mark.parametrize("placement", ["periphery", "baseline"])
def test_eval_dropout_and_folded_batch_norm_cost_nothing(placement: str) -> None:
    report = estimate(_conv_bn_relu_dropout(), X, training=False, digital_layers_on=placement)
    bn, relu, dropout = report.layer("1"), report.layer("2"), report.layer("3")
    assert bn.runs_on == "folded" and dropout.runs_on == "free"
    for layer in (bn, dropout):
        assert layer.analog_j() == 0.0 and layer.digital_j() == 0.0 and layer.ops == 0
    assert relu.analog_j() > 0 and relu.digital_j() > 0  # the activation is still priced
    assert any("folded" in note and "1" in note for note in report.notes)
    assert any("dropout is the identity" in note for note in report.notes)


def test_training_prices_batch_norm_and_dropout_as_counted() -> None:
    report = estimate(_conv_bn_relu_dropout(), X, training=True)
    bn, dropout = report.layer("1"), report.layer("3")
    assert bn.runs_on != "folded" and bn.ops == 4 * ELEMENTS  # mean, variance, normalise, affine
    assert bn.digital_j("forward") > 0 and bn.digital_j("backward") > 0
    assert dropout.digital_j("forward") > 0  # traffic of the mask multiply (mask itself not counted)
    assert not any("folded" in note for note in report.notes)


def test_batch_norm_after_an_activation_is_not_folded() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8))
    report = estimate(analogize(model, "pcm_hwa"), X, training=False)
    bn = report.layer("2")
    assert bn.runs_on == "periphery" and bn.ops == 2 * ELEMENTS  # per-channel scale and shift
    assert bn.digital_j() > 0 and bn.analog_j() > 0
    assert any("not directly after" in note and "2" in note for note in report.notes)


class _Custom(nn.Module):
    """Batch norms fed in a custom forward: directly, through a functional op, after an in-place op."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.direct, self.after_relu, self.after_inplace = (nn.BatchNorm2d(8) for _ in range(3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a = self.direct(self.conv(x))
        b = self.after_relu(torch.relu(self.conv(x)))
        y = self.conv(x)
        y.add_(1.0)  # modified in place after the conv: no longer its output
        return a + b + self.after_inplace(y)


@pytest.mark.parametrize("mode", ["grad", "inference"])
def test_folding_detection_follows_tensors_not_module_order(mode: str) -> None:
    model = _Custom().eval()
    counter = WorkloadCounter(model)
    counter.start("run", track_backward=False)
    with torch.enable_grad() if mode == "grad" else torch.inference_mode():
        model(X)
    counter.remove()
    counts = counter.counts["run"]
    assert counts["direct"].folded.calls == 1
    assert counts["after_relu"].folded.calls == 0  # a functional ReLU in between
    if mode == "grad":  # the in-place add bumps the version counter (inference tensors have none)
        assert counts["after_inplace"].folded.calls == 0
    report = estimate(analogize(_Custom(), "pcm_hwa"), X, training=False)
    assert report.layer("direct").runs_on == "folded"
    assert report.layer("after_relu").runs_on == "periphery"
    assert report.layer("after_inplace").runs_on == "periphery"


def test_folding_detection_works_for_inference_tensors_and_inplace_modules() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8),
                          nn.Conv2d(8, 8, 1), nn.ReLU(inplace=True), nn.BatchNorm2d(8))
    counter = WorkloadCounter(model.eval())
    counter.start("run", track_backward=False)
    with torch.inference_mode():  # what Lightning uses for validation and test
        model(X)
    counter.remove()
    counts = counter.counts["run"]
    assert counts["1"].folded.calls == 1  # directly after the first conv
    assert counts["4"].folded.calls == 0  # after an in-place ReLU module that changed the tensor


def test_batch_norm_after_linear_on_a_sequence_is_not_folded() -> None:
    # BatchNorm1d normalises dim 1 (the sequence), not the Linear's output features: no fold
    model = nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(4))
    report = estimate(analogize(model, "pcm_hwa"), torch.randn(3, 4, 6), training=False)
    assert report.layer("1").runs_on != "folded"
    flat = estimate(analogize(nn.Sequential(nn.Linear(6, 5), nn.BatchNorm1d(5)), "pcm_hwa"),
                    torch.randn(3, 6), training=False)
    assert flat.layer("1").runs_on == "folded"


def test_batch_norm_without_running_statistics_is_never_folded() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8, track_running_stats=False))
    bn = estimate(analogize(model, "pcm_hwa"), X, training=False).layer("1")
    assert bn.runs_on != "folded" and bn.ops == 4 * ELEMENTS  # batch statistics even in eval mode


def test_folding_scales_with_batches() -> None:
    model = _conv_bn_relu_dropout()
    one, three = (estimate(model, X, training=False, batches=n) for n in (1, 3))
    assert three.layer("1").runs_on == "folded"
    assert three.analog_j() == pytest.approx(3 * one.analog_j(), rel=1e-9)
    assert three.digital_j() == pytest.approx(3 * one.digital_j(), rel=1e-9)

"""EnergyReport exports, text, plot, and the helpers around estimate."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from memtorch_power.energy import energy_per_inference, estimate, get_analog_profile, programming_energy
from memtorch_power.nn import analogize


@pytest.fixture
def report(cnn: nn.Sequential):  # type: ignore[no-untyped-def]
    return estimate(analogize(cnn, "pcm_hwa"), torch.randn(2, 3, 8, 8), batches=2)


def test_rows_phases_and_components_add_up(report) -> None:  # type: ignore[no-untyped-def]
    assert [layer.name for layer in report.layers] == ["0", "1", "2", "3", "4", "5", "6"]
    for layer in report.layers:
        assert layer.analog_j() == pytest.approx(sum(layer.analog_j(p) for p in ("forward", "backward", "update")))
        assert layer.analog_j() == pytest.approx(sum(layer.components("analog").values()))
        if layer.analog_j() > 0:
            assert layer.savings == pytest.approx(layer.digital_j() / layer.analog_j())
    totals = report.totals()
    assert totals["analog_j"] == pytest.approx(report.analog_j())
    assert totals["savings"] == pytest.approx(report.digital_j() / report.analog_j())
    flatten = report.layer("5")  # a view: no arithmetic, no traffic
    assert flatten.runs_on == "free" and flatten.analog_j() == flatten.digital_j() == 0.0
    assert report.layer("1").runs_on == "periphery"  # batch norm in training: forward on the periphery


def test_baseline_placement_prices_digital_layers_the_same(cnn: nn.Sequential) -> None:
    report = estimate(analogize(cnn, "pcm_hwa"), torch.randn(2, 3, 8, 8), digital_layers_on="baseline")
    assert report.layer("1").savings == pytest.approx(1.0)  # digital layers cost the same
    assert report.layer("1").runs_on == "baseline" and report.digital_layers_on == "baseline"
    assert report.meta()["digital_layers_on"] == "baseline"


def test_dataframe_csv_json(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    frame = report.to_dataframe()
    for column in ("name", "kind", "shape", "tiles", "macs_forward", "mvms_forward", "mvms_backward",
                   "analog_forward_j", "analog_backward_j", "analog_update_j", "digital_j", "savings",
                   "analog_adc_j", "digital_compute_j"):
        assert column in frame.columns
    assert len(frame) == len(report.layers)
    csv_path = report.to_csv(tmp_path / "out" / "energy.csv")
    json_path = report.to_json(tmp_path / "out" / "energy.json")
    assert csv_path.read_text().splitlines()[0].startswith("name,kind")
    data = json.loads(json_path.read_text())
    assert data["totals"]["analog_j"] == pytest.approx(report.analog_j())
    assert data["meta"]["analog_profile"] == "hermes" and data["meta"]["batches"] == 2
    assert data["layers"][0]["analog_components"]["forward"]["adc"] > 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["energy.csv", "energy.json"]


def test_text_and_plot(report, tmp_path) -> None:  # type: ignore[no-untyped-def]
    text = str(report)
    assert "TOTAL" in text and "hermes" in text and "a100_fp16" in text and "periphery" in text
    assert all(layer.name in text for layer in report.layers)
    figure = report.plot(tmp_path / "energy.png")
    assert (tmp_path / "energy.png").stat().st_size > 0
    assert len(figure.axes) == 1 and figure.axes[0].get_ylabel() == "energy (J)"


def test_estimate_leaves_the_model_as_it_was(cnn: nn.Sequential) -> None:
    model = analogize(cnn, "pcm_hwa").train()
    stats = model[1].running_mean.clone()
    estimate(model, torch.randn(4, 3, 8, 8))
    assert model.training and all(m.training for m in model.modules())
    assert torch.equal(model[1].running_mean, stats)
    assert all(not m._forward_hooks for m in model.modules())


def test_energy_per_inference_and_programming(cnn: nn.Sequential) -> None:
    model = analogize(cnn, "pcm_hwa")
    x = torch.randn(4, 3, 8, 8)
    per_sample = energy_per_inference(model, x)
    report = estimate(model, x, training=False)
    assert per_sample.batch_size == 4
    assert per_sample.analog_j == pytest.approx(report.analog_j() / 4)
    hermes = get_analog_profile("hermes")
    weights = 27 * 8 + 9 * 8 + 128 * 5
    expected = weights * 4 * hermes.program_iterations * (hermes.pulse_pj + hermes.cell_read_pj + hermes.adc_pj)
    assert programming_energy(model, "hermes") == pytest.approx(expected * 1e-12)
    assert report.programming_j == pytest.approx(expected * 1e-12)
    assert math.isfinite(per_sample.savings)

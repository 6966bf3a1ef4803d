"""The analog system runs its layers that are not analog on its own on-chip digital periphery."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.energy import EnergyMonitor, estimate, get_analog_profile, get_digital_profile
from memtorch_power.nn import analogize

X = torch.randn(2, 3, 8, 8)


def _dscnn_like() -> nn.Module:
    """Conv, BN, ReLU, depthwise conv (left digital), BN, ReLU, pointwise conv, pool, classifier."""
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1, groups=8, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(), nn.Dropout(0.2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 4),
    )
    return analogize(model, "pcm_hwa", skip_grouped=True)


def test_relu_is_priced_from_the_periphery_constants() -> None:
    hermes = get_analog_profile("hermes")
    relu = estimate(_dscnn_like(), X, training=False).layer("2")
    elements = 2 * 8 * 8 * 8
    assert relu.runs_on == "periphery" and relu.ops == elements
    parts = relu.analog["forward"]
    assert parts["periphery_compute"] == pytest.approx(elements * hermes.periphery_op_pj * 1e-12)
    values = 2 * elements  # input read + output written, 1 byte each at 8-bit inputs
    assert parts["periphery_memory"] == pytest.approx(
        values * hermes.periphery_bytes_per_value * hermes.periphery_sram_pj_per_byte * 1e-12)
    # the digital baseline still prices it on its own profile
    a100 = get_digital_profile("a100_fp16")
    assert relu.digital["forward"]["compute"] == pytest.approx(elements * a100.op_pj * 1e-12)


def test_depthwise_conv_left_digital_runs_on_the_periphery() -> None:
    hermes = get_analog_profile("hermes")
    depthwise = estimate(_dscnn_like(), X, training=False).layer("3")
    assert depthwise.kind == "digital" and depthwise.runs_on == "periphery"
    macs = 2 * 8 * 8 * 8 * 9
    assert depthwise.macs_forward == macs
    assert depthwise.analog["forward"]["periphery_compute"] == pytest.approx(macs * hermes.periphery_mac_pj * 1e-12)
    assert depthwise.savings > 1


def test_analog_system_does_not_depend_on_the_baseline_at_inference() -> None:
    # what an edge user expects: the analog chip's energy is the same whatever it is compared with
    model = _dscnn_like()
    cloud = estimate(model, X, digital="a100_fp16", training=False)
    edge = estimate(model, X, digital="cortex_m4", training=False)
    assert cloud.analog_j() == pytest.approx(edge.analog_j(), rel=1e-12)
    assert cloud.digital_j() != pytest.approx(edge.digital_j())
    # with the digital layers on the baseline, the analog system inherits the baseline's costs
    on_cloud = estimate(model, X, digital="a100_fp16", training=False, digital_layers_on="baseline")
    on_edge = estimate(model, X, digital="cortex_m4", training=False, digital_layers_on="baseline")
    assert on_cloud.analog_j() != pytest.approx(on_edge.analog_j())
    assert cloud.analog_j() < on_cloud.analog_j() and edge.analog_j() < on_edge.analog_j()


def test_baseline_placement_reproduces_the_co_processor() -> None:
    report = estimate(_dscnn_like(), X, training=False, digital_layers_on="baseline")
    for layer in report.layers:
        if layer.kind == "digital" and layer.runs_on == "baseline":
            assert layer.analog_j() == pytest.approx(layer.digital_j())
            assert set(layer.components("analog")) <= {"digital_compute", "digital_memory"}
    assert any("digital_layers_on='baseline'" in note for note in report.notes)


def test_periphery_energy_follows_its_constants() -> None:
    model = _dscnn_like()
    hermes = get_analog_profile("hermes")
    base = estimate(model, X, training=False)
    dearer = estimate(model, X, analog=hermes.replace(periphery_sram_pj_per_byte=2 * hermes.periphery_sram_pj_per_byte),
                      training=False)
    memory = sum(layer.analog["forward"].get("periphery_memory", 0.0) for layer in base.layers)
    assert memory > 0
    assert dearer.analog_j() - base.analog_j() == pytest.approx(memory, rel=1e-9)
    assert dearer.digital_j() == pytest.approx(base.digital_j())


def test_dense_digital_layers_run_on_the_baseline() -> None:
    model = analogize(nn.Sequential(nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 4)), "pcm_hwa", exclude=["2"])
    report = estimate(model, torch.randn(3, 16), training=False)
    dense = report.layer("2")
    assert dense.kind == "digital" and dense.runs_on == "baseline"
    assert dense.analog_j() == pytest.approx(dense.digital_j())
    assert report.layer("1").runs_on == "periphery"
    assert any("dense digital layers 2" in note for note in report.notes)


def test_profile_without_periphery_falls_back_to_the_baseline() -> None:
    bare = get_analog_profile("hermes").replace(
        name="bare", periphery_op_pj=None, periphery_mac_pj=None, periphery_sram_pj_per_byte=None)
    assert not bare.has_periphery
    report = estimate(_dscnn_like(), X, analog=bare, training=False)
    assert report.layer("2").runs_on == "baseline"
    assert any("gives no periphery energies" in note for note in report.notes)


def test_training_runs_the_forward_on_the_periphery_and_the_backward_on_the_host() -> None:
    report = estimate(_dscnn_like(), X, training=True)
    bn = report.layer("1")
    assert bn.runs_on == "periphery"
    assert set(bn.analog["forward"]) == {"periphery_compute", "periphery_memory"}
    assert bn.analog["backward"] == pytest.approx(
        {"digital_compute": bn.digital["backward"]["compute"],
         "digital_memory": bn.digital["backward"]["weight_memory"] + bn.digital["backward"]["activation_memory"]})
    assert any("training host" in note for note in report.notes)


def test_unknown_placement_is_refused() -> None:
    with pytest.raises(ValueError, match="digital_layers_on must be one of 'periphery', 'baseline'"):
        estimate(_dscnn_like(), X, digital_layers_on="gpu")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="digital_layers_on"):
        EnergyMonitor(digital_layers_on="host")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="periphery_op_pj must be a finite number >= 0"):
        get_analog_profile("hermes").replace(name="bad", periphery_op_pj=-1.0)

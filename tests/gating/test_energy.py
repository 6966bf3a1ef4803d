"""Always-on against gated pipeline energy, from unit costs."""

from __future__ import annotations

import pytest

from memtorch_power.federated.radio import BLE
from memtorch_power.gating.detector import DetectionStats
from memtorch_power.gating.energy import ADC_J_PER_SAMPLE, PipelineCosts, always_on_energy, gated_energy
from memtorch_power.gating.report import sweep_rows

COSTS = PipelineCosts(adc_j_per_sample=1e-11, bits_per_sample=16, sample_rate=16000, link=BLE,
                      detector_j_per_window=1e-6, server_j_per_window=1e-5)


def test_always_on_pays_for_every_sample_bit_and_window() -> None:
    e = always_on_energy(COSTS, duration_s=10.0, windows=40)
    assert e.adc_j == pytest.approx(160000 * 1e-11)
    assert e.radio_j == pytest.approx(160000 * 16 * BLE.tx_j_per_bit)
    assert e.server_j == pytest.approx(40 * 1e-5) and e.detector_j == 0


def test_gated_pays_the_detector_and_only_the_flagged_audio() -> None:
    e = gated_energy(COSTS, duration_s=10.0, windows=40, flagged_windows=2, transmitted_s=1.5)
    assert e.detector_j == pytest.approx(40 * 1e-6)
    assert e.adc_j == pytest.approx(1.5 * 16000 * 1e-11)
    assert e.radio_j == pytest.approx(1.5 * 16000 * 16 * BLE.tx_j_per_bit)
    assert e.server_j == pytest.approx(2 * 1e-5)
    nothing = gated_energy(COSTS, 10.0, 40, 0, 0.0)
    assert nothing.total_j == pytest.approx(40 * 1e-6)
    digitize_all = PipelineCosts(**{**COSTS.__dict__, "gated_digitizes_all": True})
    assert gated_energy(digitize_all, 10.0, 40, 0, 0.0).adc_j == pytest.approx(160000 * 1e-11)


def test_sweep_rows_report_savings_per_hour() -> None:
    stats = DetectionStats(0.5, keywords=4, hits=3, misses=1, false_alarms=1, detections=4, duration_s=60.0,
                           windows=240, flagged_windows=12, transmitted_s=6.0)
    (row,) = sweep_rows([stats], COSTS)
    assert row["hit_rate"] == 0.75 and row["false_alarms_per_hour"] == pytest.approx(60.0)
    always = always_on_energy(COSTS, 60.0, 240).total_j * 60
    gated = gated_energy(COSTS, 60.0, 240, 12, 6.0).total_j * 60
    assert row["always_on_j_per_h"] == pytest.approx(always) and row["gated_j_per_h"] == pytest.approx(gated)
    assert row["savings"] == pytest.approx(always / gated) and row["savings"] > 1
    assert ADC_J_PER_SAMPLE == pytest.approx(2.2e-15 * 4096)

"""Calibration against published figures, built up from the profiles' components."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from memtorch_power.energy import (
    estimate,
    full_tile_tops_per_watt,
    get_analog_profile,
    get_digital_profile,
    list_profiles,
)
from memtorch_power.energy.docs import BEGIN, END, catalogue_markdown
from memtorch_power.energy.mapping import map_tiles, mvm_energy_pj
from memtorch_power.energy.profiles import CITED_FIELDS
from memtorch_power.nn import AnalogLinear

DOCS = Path(__file__).resolve().parents[2] / "docs" / "energy_profiles.md"


def _one_mvm_j(rows: int, cols: int, profile: str) -> tuple[float, dict[str, float]]:
    layer = AnalogLinear(rows, cols, bias=False, preset="pcm_hwa")  # 8-bit DAC/ADC
    report = estimate(layer, torch.randn(1, rows), analog=profile, training=False)
    row = report.layers[0]
    assert row.mvms_forward == 1 and row.macs_forward == rows * cols
    return row.analog_j("forward"), dict(row.analog["forward"])


def test_hermes_one_full_mvm_matches_published_efficiency() -> None:
    energy, parts = _one_mvm_j(256, 256, "hermes")
    published = 2 * 256 * 256 / 9.76e12  # 13.4 nJ at 9.76 TOPS/W (Le Gallo et al. 2023)
    assert energy == pytest.approx(published, rel=0.25)
    # the total is built from components, none of which carries it alone
    assert {"dac", "array", "adc", "movement"} <= set(parts)
    assert max(parts.values()) < 0.9 * energy
    assert sum(parts.values()) == pytest.approx(energy)


def test_ibm14nm_full_tile_matches_published_efficiency() -> None:
    energy, parts = _one_mvm_j(512, 2048, "ibm14nm")
    tops_per_watt = 2 * 512 * 2048 / energy / 1e12
    assert tops_per_watt == pytest.approx(12.4, rel=0.25)
    assert len([p for p in parts.values() if p > 0]) >= 3


def test_a100_fp16_is_two_ops_per_mac_at_datasheet_efficiency() -> None:
    derived_tops_per_watt = 312e12 / 400.0 / 1e12  # FP16 tensor dense / TDP (A100 datasheet)
    profile = get_digital_profile("a100_fp16")
    assert 2.0 / profile.mac_pj == pytest.approx(derived_tops_per_watt, rel=0.10)
    layer = AnalogLinear(64, 32, bias=False)
    report = estimate(layer, torch.randn(10, 64), digital="a100_fp16", training=False)
    macs = report.layers[0].macs_forward
    compute_j = report.layers[0].digital["forward"]["compute"]
    assert compute_j == pytest.approx(2 * macs / (derived_tops_per_watt * 1e12), rel=0.10)


def test_h100_fp16_uses_dense_throughput() -> None:
    profile = get_digital_profile("h100_fp16")
    assert profile.tops_per_watt == pytest.approx(1979 / 2 / 700, rel=1e-6)


def test_isaac_adc_scales_with_bits_and_bit_serial_inputs_with_cycles() -> None:
    isaac = get_analog_profile("isaac")
    mapping = map_tiles(128, 128, 1, 128, 128)
    at8 = mvm_energy_pj(isaac, mapping, in_bits=8, out_bits=8)
    at9 = mvm_energy_pj(isaac, mapping, in_bits=8, out_bits=9)
    at4_in = mvm_energy_pj(isaac, mapping, in_bits=4, out_bits=8)
    assert at9["adc"] == pytest.approx(2 * at8["adc"])
    assert at4_in["dac"] == pytest.approx(at8["dac"] / 2)
    assert at4_in["adc"] == pytest.approx(at8["adc"] / 2)
    assert isaac.adc_pj == pytest.approx(16e-3 / (8 * 1.28e9) * 1e12)  # ISAAC: 16 mW, 8 ADCs


def test_every_catalogue_constant_cites_a_source() -> None:
    for name in list_profiles():
        profile = (get_analog_profile(name) if name in list_profiles("analog")
                   else get_digital_profile(name))
        for field_name in CITED_FIELDS[type(profile)]:
            source = profile.sources.get(field_name, "")
            assert len(source) > 10, f"{name}.{field_name} has no source"


def test_catalogue_has_the_required_profiles() -> None:
    names = set(list_profiles())
    assert {"hermes", "ibm14nm", "isaac", "horowitz45_fp32", "horowitz45_fp16", "horowitz45_int8",
            "a100_fp16", "a100_fp32", "h100_fp16", "h100_fp32", "cortex_m4"} <= names
    assert full_tile_tops_per_watt(get_analog_profile("hermes")) == pytest.approx(9.76, rel=0.01)


def test_docs_table_matches_the_code() -> None:
    text = DOCS.read_text(encoding="utf-8")
    generated = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert generated == catalogue_markdown().strip(), (
        "docs/energy_profiles.md is stale: regenerate with python -m memtorch_power.energy.docs"
    )

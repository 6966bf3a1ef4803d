"""benchmarks/training_sweep.py: every variant builds the aihwkit configuration it describes
(TTv2 with its buffer and one-pulse transfers, chopped TTv2, Ambrogio et al.'s fast-weight cell,
the capacitor-only control) and each diagnostic switches off what it names."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from aihwkit.simulator.configs import SingleRPUConfig
from aihwkit.simulator.configs.compounds import ChoppedTransferCompound, DynamicTransferCompound, TransferCompound
from aihwkit.simulator.presets.devices import CapacitorPresetDevice, EcRamPresetDevice

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import training_sweep as sweep  # noqa: E402


def _config(name: str):
    return sweep.variant_preset(sweep.VARIANTS[name]).rpu_config()


@pytest.mark.parametrize("name", sorted(sweep.VARIANTS))
def test_every_variant_builds_its_configuration(name: str) -> None:
    preset = sweep.variant_preset(sweep.VARIANTS[name])
    assert preset.name.endswith(f"{name.split(':', 1)[1]}]")
    assert preset.rpu_config() is not None


def test_no_two_variants_share_a_preset_name_or_run_folder() -> None:
    names = [sweep.variant_preset_name(variant) for variant in sweep.VARIANTS.values()]
    assert len(set(names)) == len(names)
    assert sweep.variant_preset_name(sweep.VARIANTS["tt:reads_8"]) == "pcm_tiki_taka[reads_8]"
    assert sweep.variant_preset_name(sweep.VARIANTS["t2:lr_0.1"]) == "pcm_tiki_taka[t2_lr_0.1]"


def test_ttv2_buffers_reads_and_fires_at_most_one_pulse_per_transfer() -> None:
    device = _config("t2:lr_0.1").device
    assert isinstance(device, ChoppedTransferCompound)
    assert device.in_chop_prob == 0.0 and not device.no_buffer
    assert device.units_in_mbatch and device.transfer_every == pytest.approx(1 / 8)
    assert device.transfer_update.desired_bl == 1
    assert isinstance(device.unit_cell_devices[0], CapacitorPresetDevice)
    assert _config("t2:lr_0.1_reads_32").device.transfer_every == pytest.approx(1 / 32)
    assert _config("t2:chopped_lr_0.1").device.in_chop_prob == pytest.approx(0.1)


def test_fast_weight_cell_reads_both_arrays_and_resets_what_it_moves() -> None:
    device = _config("fw:gamma_1_lr_1_reads_1").device
    assert type(device) is TransferCompound
    assert device.gamma_vec == [1.0, 1.0]
    assert device.with_reset_prob == 1.0
    assert not device.scale_transfer_lr and device.transfer_lr == 1.0  # moves gamma x the fast weight
    assert device.fast_lr == 1.0 and device.n_reads_per_transfer == 1
    half = _config("fw:gamma_0.5_lr_0.2").device
    assert half.gamma_vec == [0.5, 1.0] and half.transfer_lr == 0.5 and half.fast_lr == 0.2


def test_diagnostics_switch_off_what_they_name() -> None:
    plain = _config("t2:lr_0.1").device
    assert not plain.transfer_forward.is_perfect
    assert _config("t2:lr_0.1_exact_read").device.transfer_forward.is_perfect
    for name in ("t2:lr_0.1_constant_step_pcm", "fw:gamma_1_lr_1_reads_1_constant_step_pcm"):
        for device in _config(name).device.unit_cell_devices[1].unit_cell_devices:
            assert device.A_up == device.A_down == 0.0 and device.dw_min_std == 0.0
    for device in plain.unit_cell_devices[1].unit_cell_devices:
        assert device.A_up != 0.0 and device.dw_min_std > 0.0
    fine = _config("t2:lr_0.1_fine_fast_array").device.unit_cell_devices[0]
    assert fine.dw_min == pytest.approx(CapacitorPresetDevice().dw_min / 10) and fine.dw_min_std == 0.0
    control = _config("cap:sgd_lr_1")
    assert isinstance(control, SingleRPUConfig) and isinstance(control.device, CapacitorPresetDevice)
    slow = _config("t2:lr_0.1_capacitor_slow").device.unit_cell_devices[1]
    assert isinstance(slow, CapacitorPresetDevice)
    noisy = CapacitorPresetDevice()
    for device in (_config("cap:sgd_lr_1_noiseless").device,
                   _config("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_noiseless_fast").device.unit_cell_devices[0]):
        assert device.dw_min_std == device.dw_min_dtod == device.up_down_dtod == device.w_max_dtod == 0.0
        assert (device.dw_min, device.w_max, device.gamma_up) == (noisy.dw_min, noisy.w_max, noisy.gamma_up)
    assert noisy.dw_min_std > 0.0 and noisy.up_down_dtod > 0.0
    uniform = _config("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_uniform_fast").device.unit_cell_devices[0]
    assert uniform.dw_min_std == noisy.dw_min_std and uniform.dw_min_dtod == uniform.up_down_dtod == 0.0
    ecram = _config("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_ecram_fast").device.unit_cell_devices
    assert isinstance(ecram[0], EcRamPresetDevice) and ecram[0].up_down_dtod < noisy.up_down_dtod
    with pytest.raises(ValueError, match="fast_array must be"):
        sweep._closed_loop(fast_array="graphene")


def test_common_mode_refreshes_both_devices_to_the_offset() -> None:
    for name in ("fw:gamma_1_lr_1_reads_1_common_mode_1", "t2:lr_0.1_common_mode_1"):
        pair = _config(name).device.unit_cell_devices[1]
        assert [device.reset for device in pair.unit_cell_devices] == [1.0, 1.0]
    assert all(device.reset < 0.1 for device in _config("t2:lr_0.1").device.unit_cell_devices[1].unit_cell_devices)


def test_table_gives_test_accuracy_with_interval_only_where_recorded() -> None:
    run = {"variant": "t2:lr_0.1", "why": "w", "epochs": 40, "best_val_acc": 0.5, "fit_wall_s": 1.0}
    text = sweep.table({"runs": [run, {**run, "test_acc": 0.5, "test_clips": 100}]})
    first, second = text.splitlines()[2:]
    assert "| - |" in first
    assert "50.00 % [40.4, 59.6] (100 clips)" in second


def test_agad_uses_a_dynamic_reference_over_the_same_arrays() -> None:
    device = _config("ag:lr_0.1").device
    assert isinstance(device, DynamicTransferCompound)
    assert device.auto_scale and device.fast_lr == 0.1 and device.in_chop_prob > 0.0
    assert device.transfer_every == pytest.approx(1 / 8) and device.transfer_update.desired_bl == 1
    assert isinstance(device.unit_cell_devices[0], CapacitorPresetDevice)


def test_test_recorded_refuses_what_it_cannot_test_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import json

    monkeypatch.setattr(sweep, "RESULTS", tmp_path)
    name = "cl:gamma_1_scheduled_reads_1_threshold_0.1_limit_1"
    results = sweep.results_file(sweep.VARIANTS[name].base)
    with pytest.raises(SystemExit, match="no recorded run"):
        sweep.test_recorded_run(name, 0, 40, "unused", str(tmp_path / "runs"))
    row = {"variant": name, "seed": 0, "epochs": 40, "best_val_acc": 0.8}
    results.write_text(json.dumps({"runs": [row]}))
    with pytest.raises(SystemExit, match="no recorded run"):  # another seed
        sweep.test_recorded_run(name, 1, 40, "unused", str(tmp_path / "runs"))
    with pytest.raises(SystemExit, match="best.ckpt is missing"):
        sweep.test_recorded_run(name, 0, 40, "unused", str(tmp_path / "runs"))
    results.write_text(json.dumps({"runs": [{**row, "test_acc": 0.7, "test_clips": 714}]}))
    with pytest.raises(SystemExit, match="tested already: 70.00 %"):
        sweep.test_recorded_run(name, 0, 40, "unused", str(tmp_path / "runs"))
    monkeypatch.setattr(sys, "argv", ["training_sweep.py", "--test-recorded", "--seed", "0", "--epochs", "40"])
    with pytest.raises(SystemExit, match="--variants: name at least one of"):  # nothing named: says so
        sweep.main()


def test_pcm_fast_weight_is_the_sweep_variant_its_numbers_were_measured_with() -> None:
    """The registered preset and its KWS training settings are those of the 40-epoch runs its
    caveat and the README quote; a different cell is told apart."""
    from memtorch_power.kws.compare_config import DEFAULT_TRAINING
    from memtorch_power.presets import get_preset

    measured = sweep.VARIANTS["cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_polarity"]
    assert get_preset("pcm_fast_weight").rpu_config() == sweep.variant_preset(measured).rpu_config()
    assert DEFAULT_TRAINING["pcm_fast_weight"] == {**DEFAULT_TRAINING["pcm_tiki_taka"], **measured.training}
    for other in ("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1",  # without polarity inversion
                  "cl:gamma_1_scheduled_reads_1_threshold_0.1_limit_1"):
        assert get_preset("pcm_fast_weight").rpu_config() != sweep.variant_preset(sweep.VARIANTS[other]).rpu_config()

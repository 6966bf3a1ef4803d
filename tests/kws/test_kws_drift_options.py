"""accuracy_after_drift with the issue-15 options: the compensation setting and recalibrated
batch-norm statistics change the measured accuracy and leave the trained model as it was
(per-column against global compensation: tests/nn/test_drift_options.py)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.kws.drift import DriftEvaluation, accuracy_after_drift
from memtorch_power.nn import ProgramVerify, analogize
from memtorch_power.nn.convert import analog_tiles


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
    with pytest.raises(ValueError, match="conductance_pairs must be an integer >= 1"):
        DriftEvaluation(conductance_pairs=0)


def test_two_conductance_pairs_are_programmed_and_measured() -> None:
    from aihwkit.inference.converter.conductance import NPairConductanceConverter

    model, batches = _setup()
    single = accuracy_after_drift(model, batches, TIMES, repeats=3)
    paired = accuracy_after_drift(model, batches, TIMES, repeats=3, conductance_pairs=2)
    converters = [tile.rpu_config.noise_model.g_converter for tile in analog_tiles(model)]
    assert all(isinstance(c, NPairConductanceConverter) and len(c.f_lst) == 2 for c in converters)
    assert [r["accuracy"] for r in single] != [r["accuracy"] for r in paired]
    assert min(r["accuracy"] for r in paired) > 0.8  # the trained model still works after a year


def test_without_a_pair_count_the_tiles_keep_their_own_converter() -> None:
    from aihwkit.inference.converter.conductance import NPairConductanceConverter

    model, batches = _setup()
    tiles = analog_tiles(model)
    for tile in tiles:  # a user's own conductance mapping (pairs of significance 1 and 2)
        tile.rpu_config.noise_model.g_converter = NPairConductanceConverter([1.0, 2.0], g_max=25.0)
    accuracy_after_drift(model, batches, TIMES, repeats=1)
    assert all(tile.rpu_config.noise_model.g_converter.f_lst == [1.0, 2.0] for tile in tiles)
    accuracy_after_drift(model, batches, TIMES, repeats=1, conductance_pairs=1)
    assert not any(isinstance(tile.rpu_config.noise_model.g_converter, NPairConductanceConverter) for tile in tiles)


def test_drift_evaluation_recalibrates_when_only_test_was_set_up(tiny_root, tmp_path) -> None:
    """``trainer.test`` on a saved checkpoint (what the CLI's ``test`` does) sets up only the test
    split; the callback's batch-norm re-estimation needs training batches all the same."""
    import json

    import lightning as L

    from memtorch_power.kws.datamodule import SpeechCommandsDataModule
    from memtorch_power.kws.module import KeywordSpotter

    data = SpeechCommandsDataModule(root=str(tiny_root), batch_size=8, num_workers=0)
    module = KeywordSpotter(model="dscnn", preset="pcm_hwa", num_classes=data.num_classes, n_features=data.n_features,
                            n_frames=data.n_frames, skip_grouped=True)
    evaluation = DriftEvaluation(times=["1 day"], repeats=1, output_dir=str(tmp_path), recalibration_batches=1,
                                 conductance_pairs=2)
    trainer = L.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False, enable_checkpointing=False,
                        limit_test_batches=1, callbacks=[evaluation])
    trainer.test(module, datamodule=data, verbose=False)
    report = json.loads((tmp_path / "drift.json").read_text())
    assert report["conductance_pairs"] == 2 and [r["time"] for r in report["summary"]] == ["1 day"]

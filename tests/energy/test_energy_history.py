"""Training energy next to accuracy: the per-epoch log, energy-to-accuracy, resuming a run."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import pytest
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from memtorch_power.energy import EnergyMonitor, energy_to_accuracy, plot_accuracy_vs_energy
from memtorch_power.energy.history import EpochEnergy, accumulate, history_csv
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for


def _history(accuracies: list[float | None], joules: float = 2.0) -> list[EpochEnergy]:
    return accumulate((epoch, 10 * (epoch + 1), joules, 10 * joules, acc) for epoch, acc in enumerate(accuracies))


def test_energy_to_accuracy_reached_at_first_epoch_over_target() -> None:
    history = _history([0.3, 0.6, 0.81, 0.79, 0.9])
    result = energy_to_accuracy(history, 0.8)
    assert result.reached and result.epoch == 2
    assert result.analog_j == pytest.approx(6.0) and result.digital_j == pytest.approx(60.0)
    assert result.best_accuracy == pytest.approx(0.9)
    assert result.text() == "6 J at epoch 2" and result.text("digital") == "60 J at epoch 2"


def test_energy_to_accuracy_reached_late_counts_every_epoch_before() -> None:
    history = _history([0.1, None, 0.2, 0.5, 0.7, 0.95])  # epoch 1 had no validation
    result = energy_to_accuracy(history, 0.95)
    assert result.reached and result.epoch == 5 and result.analog_j == pytest.approx(12.0)


def test_energy_to_accuracy_never_reached_reports_no_energy() -> None:
    history = _history([0.1, 0.15, 0.188])
    result = energy_to_accuracy(history, 0.825)
    assert not result.reached and result.epoch is None and result.analog_j is None and result.digital_j is None
    assert result.text() == "not reached (best 18.8 %)"


def test_energy_to_accuracy_rejects_a_percentage() -> None:
    with pytest.raises(ValueError, match="fraction"):
        energy_to_accuracy(_history([0.5]), 82.5)


def test_digital_history_has_no_analog_column_and_round_trips() -> None:
    history = accumulate([(0, 5, None, 1.5, 0.4), (1, 10, None, 1.5, 0.6)])
    assert history[-1].cumulative_analog_j is None and history[-1].cumulative_digital_j == pytest.approx(3.0)
    assert [EpochEnergy.from_dict(r.as_dict()) for r in history] == history
    assert history_csv(history).splitlines()[0].startswith("epoch,step,analog_j")
    with pytest.raises(ValueError, match="'accuracy'"):
        EpochEnergy.from_dict({"epoch": 0, "step": 1, "analog_j": 1.0, "digital_j": 1.0,
                               "cumulative_analog_j": 1.0, "cumulative_digital_j": 1.0})


def test_plot_draws_one_line_per_run_and_the_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    figure = plot_accuracy_vs_energy({"pcm": _history([0.2, 0.5]), "digital": accumulate(
        [(0, 5, None, 3.0, 0.4), (1, 10, None, 3.0, 0.7)])}, target=0.6)
    axes = figure.axes[0]
    assert axes.get_xscale() == "log"
    assert len(axes.lines) == 3  # two runs and the target line
    labels = [line.get_label() for line in axes.lines]
    assert "pcm (PCM system)" in labels and "digital (digital baseline)" in labels
    path = tmp_path / "plot.png"
    figure.savefig(path)
    assert path.stat().st_size > 1000


class _Classifier(pl.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = analogize(nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)), "ideal")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val/acc", (self(x).argmax(1) == y).float().mean())

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return optimizer_for(self, lr=0.1)


def _loader() -> DataLoader:
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(40, 6, generator=generator)
    return DataLoader(TensorDataset(x, (x[:, 0] > 0).long() + (x[:, 1] > 0).long()), batch_size=8)


def _trainer(folder, epochs: int, monitor: EnergyMonitor) -> pl.Trainer:  # type: ignore[no-untyped-def]
    return pl.Trainer(
        max_epochs=epochs, callbacks=[monitor, ModelCheckpoint(dirpath=folder, save_last=True, save_top_k=0)],
        logger=False, enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
        num_sanity_val_steps=0, default_root_dir=folder,
    )


def test_per_epoch_log_sums_to_the_monitor_totals(tmp_path) -> None:  # type: ignore[no-untyped-def]
    monitor = EnergyMonitor(dirpath=tmp_path)
    trainer = _trainer(tmp_path, 3, monitor)
    trainer.fit(_Classifier(), _loader(), _loader())
    history = monitor.history
    assert [row.epoch for row in history] == [0, 1, 2] and [row.step for row in history] == [5, 10, 15]
    total = monitor.report("train")
    assert sum(row.analog_j for row in history) == pytest.approx(total.analog_j(), rel=1e-9)
    assert history[-1].cumulative_digital_j == pytest.approx(total.digital_j(), rel=1e-9)
    assert all(row.accuracy is not None and 0.0 <= row.accuracy <= 1.0 for row in history)
    assert trainer.callback_metrics["energy/train_analog_cumulative_j"].item() == pytest.approx(total.analog_j(), rel=1e-6)
    saved = json.loads((tmp_path / "energy_history.json").read_text())
    assert saved["metric"] == "val/acc" and len(saved["epochs"]) == 3
    assert (tmp_path / "energy_history.csv").read_text().count("\n") == 4


def test_a_resumed_run_continues_the_energy_curve(tmp_path) -> None:  # type: ignore[no-untyped-def]
    straight = EnergyMonitor(dirpath=tmp_path / "straight")
    _trainer(tmp_path / "straight", 4, straight).fit(_Classifier(), _loader(), _loader())

    first = EnergyMonitor(dirpath=tmp_path / "resumed")
    _trainer(tmp_path / "resumed", 2, first).fit(_Classifier(), _loader(), _loader())
    checkpoint = tmp_path / "resumed" / "last.ckpt"
    # the monitor's state in the checkpoint is plain data (JSON-serialisable)
    states = torch.load(checkpoint, weights_only=True)["callbacks"]
    saved = next(value for key, value in states.items() if key.startswith("EnergyMonitor"))
    assert len(json.loads(json.dumps(saved))["history"]) == 2

    resumed = EnergyMonitor(dirpath=tmp_path / "resumed")
    # analog checkpoints load with weights_only=True (memtorch_power.nn.safe_load)
    _trainer(tmp_path / "resumed", 4, resumed).fit(_Classifier(), _loader(), _loader(), ckpt_path=checkpoint,
                                                   weights_only=True)
    assert [row.epoch for row in resumed.history] == [0, 1, 2, 3]
    assert [row.step for row in resumed.history] == [5, 10, 15, 20]
    # same workload per epoch, so the resumed curve ends where the uninterrupted one does
    assert resumed.history[-1].cumulative_analog_j == pytest.approx(straight.history[-1].cumulative_analog_j, rel=1e-9)
    assert resumed.report("train").analog_j() == pytest.approx(straight.report("train").analog_j(), rel=1e-9)
    assert sum(row.digital_j for row in resumed.history) == pytest.approx(resumed.report("train").digital_j(), rel=1e-9)


def test_evaluating_an_earlier_checkpoint_after_fit_keeps_the_fit_counts(tmp_path) -> None:  # type: ignore[no-untyped-def]
    monitor = EnergyMonitor(dirpath=tmp_path)
    every_epoch = ModelCheckpoint(dirpath=tmp_path, filename="e{epoch}", save_top_k=-1,
                                  auto_insert_metric_name=False)
    trainer = pl.Trainer(max_epochs=3, callbacks=[monitor, every_epoch], logger=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", num_sanity_val_steps=0)
    module = _Classifier()
    trainer.fit(module, _loader(), _loader())
    before = monitor.report("train").analog_j()
    # Lightning restores callbacks from the checkpoint here too; that older state must not win
    trainer.validate(module, _loader(), ckpt_path=str(tmp_path / "e0.ckpt"), weights_only=True, verbose=False)
    assert len(monitor.history) == 3
    assert monitor.report("train").analog_j() == pytest.approx(before, rel=1e-12)

"""EnergyMonitor counts the batches a Lightning fit really runs."""

from __future__ import annotations

import json

import lightning.pytorch as pl
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from memtorch_power.energy import EnergyMonitor, estimate
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for


class TinyModule(pl.LightningModule):
    def __init__(self, preset: str) -> None:
        super().__init__()
        self.net = analogize(
            nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(32, 3)),
            preset,
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def validation_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        x, y = batch
        self.log("val_loss", nn.functional.cross_entropy(self(x), y))

    def test_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
        self.validation_step(batch, batch_idx)

    def configure_optimizers(self):  # type: ignore[no-untyped-def]
        return optimizer_for(self, lr=0.05)


def _fit(preset: str, tmp_path, batches: int = 4, batch_size: int = 5):  # type: ignore[no-untyped-def]
    data = TensorDataset(torch.randn(batches * batch_size, 2, 8), torch.randint(0, 3, (batches * batch_size,)))
    loader = DataLoader(data, batch_size=batch_size)
    module = TinyModule(preset)
    monitor = EnergyMonitor("hermes", "a100_fp16", dirpath=tmp_path)
    trainer = pl.Trainer(
        max_epochs=1, callbacks=[monitor], logger=False, enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
        limit_val_batches=2, num_sanity_val_steps=1,
    )
    trainer.fit(module, loader, loader)
    return module, monitor, trainer, loader


def test_epoch_totals_equal_estimate_times_batches(tmp_path) -> None:  # type: ignore[no-untyped-def]
    module, monitor, trainer, loader = _fit("ideal", tmp_path, batches=4)
    expected = estimate(module, torch.randn(5, 2, 8), batches=4)
    measured = monitor.report("train")
    assert measured.batches == 4 and measured.batch_size == 5
    for got, want in zip(measured.layers, expected.layers):
        assert got.name == want.name
        assert (got.mvms_forward, got.macs_forward, got.macs_backward, got.weight_updates) == (
            want.mvms_forward, want.macs_forward, want.macs_backward, want.weight_updates)
    for phase in ("forward", "backward", "update"):
        assert measured.analog_j(phase) == pytest.approx(expected.analog_j(phase), rel=1e-9)
        assert measured.digital_j(phase) == pytest.approx(expected.digital_j(phase), rel=1e-9)
    # validation: 2 batches, sanity check not counted, inference only
    validation = monitor.report("validate")
    assert validation.batches == 2
    assert validation.analog_j() == pytest.approx(
        estimate(module, torch.randn(5, 2, 8), batches=2, training=False).analog_j(), rel=1e-9)
    # logged per epoch and written when training ended
    assert trainer.callback_metrics["energy/train_analog_j"].item() == pytest.approx(measured.analog_j(), rel=1e-6)
    assert "energy/validate_digital_j" in trainer.callback_metrics
    saved = json.loads((tmp_path / "energy_train.json").read_text())
    assert saved["totals"]["analog_j"] == pytest.approx(measured.analog_j())
    assert (tmp_path / "energy_validate.csv").exists()
    # a later test run is counted as inference and written on its own
    trainer.test(module, loader, verbose=False)
    assert monitor.report("test").batches == 4 and not monitor.report("test").training
    assert (tmp_path / "energy_test.json").exists()
    assert monitor.report("train").analog_j() == pytest.approx(measured.analog_j())


def test_pulses_are_measured_for_in_memory_training(tmp_path) -> None:  # type: ignore[no-untyped-def]
    _, monitor, _, _ = _fit("pcm_training", tmp_path, batches=2)
    report = monitor.report("train")
    analog_rows = [layer for layer in report.layers if layer.kind == "analog"]
    assert all(layer.pulses_measured for layer in analog_rows)
    assert sum(layer.pcm_pulses for layer in analog_rows) > 0
    assert all(layer.analog["update"].get("pcm_pulses", 0) > 0 for layer in analog_rows)
    assert report.layer("net.3").mvms_backward == 10  # transposed MVMs on the array


def test_monitor_needs_an_analog_layer(tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Digital(TinyModule):
        def __init__(self) -> None:
            pl.LightningModule.__init__(self)
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return torch.optim.SGD(self.parameters(), lr=0.1)

    data = TensorDataset(torch.randn(4, 2, 8), torch.randint(0, 3, (4,)))
    trainer = pl.Trainer(max_epochs=1, callbacks=[EnergyMonitor()], logger=False, accelerator="cpu",
                         enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    with pytest.raises(ValueError, match="no analog layer"):
        trainer.fit(Digital(), DataLoader(data, batch_size=2))


class NormModule(TinyModule):
    """Conv -> BN -> ReLU -> Dropout -> Linear: BN folds and dropout is free in validation."""

    def __init__(self) -> None:
        pl.LightningModule.__init__(self)
        self.net = analogize(
            nn.Sequential(nn.Conv1d(2, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU(), nn.Dropout(0.1),
                          nn.Flatten(), nn.Linear(32, 3)),
            "ideal",
        )


def test_validation_is_priced_as_inference(tmp_path) -> None:  # type: ignore[no-untyped-def]
    data = TensorDataset(torch.randn(10, 2, 8), torch.randint(0, 3, (10,)))
    loader = DataLoader(data, batch_size=5)
    module = NormModule()
    monitor = EnergyMonitor("hermes", "cortex_m4", dirpath=tmp_path)
    trainer = pl.Trainer(max_epochs=1, callbacks=[monitor], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu",
                         num_sanity_val_steps=0)
    trainer.fit(module, loader, loader)
    train, validate = monitor.report("train"), monitor.report("validate")
    assert train.layer("net.1").runs_on == "periphery" and train.layer("net.1").digital_j() > 0
    assert validate.layer("net.1").runs_on == "folded" and validate.layer("net.1").digital_j() == 0.0
    assert validate.layer("net.3").runs_on == "free"
    expected = estimate(module, torch.randn(5, 2, 8), "hermes", "cortex_m4", training=False, batches=2)
    assert validate.analog_j() == pytest.approx(expected.analog_j(), rel=1e-9)
    assert validate.digital_j() == pytest.approx(expected.digital_j(), rel=1e-9)

"""``pcm_tiki_taka``: in-array training with a fast array and a PCM long-term store (issue 13)."""

from __future__ import annotations

import io

import lightning.pytorch as pl
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from memtorch_power.energy import EnergyMonitor
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import Preset, get_preset, pcm_tiki_taka_config, traits_of


def _tile_weights(layer: nn.Module) -> torch.Tensor:
    return next(t for c in layer.analog_crossbars() for t in c.analog_tiles()).tile.get_weights().clone()


def test_preset_models_a_transfer_update_with_pcm_as_the_store() -> None:
    preset = get_preset("pcm_tiki_taka")
    assert preset.update == "transfer" and preset.needs_analog_optimizer
    assert "Gokmen & Haensch" in preset.source and "Ambrogio" in preset.source
    traits = traits_of(preset)
    # PCM pulses are priced with the PCM device's step, not the fast (capacitor) array's
    assert traits.dw_min == pytest.approx(0.01) and traits.devices_per_weight == 2
    assert (traits.transfer_every, traits.transfer_reads, traits.transfer_in_mbatch) == (1.0, 8, True)


def test_learns_a_small_task_in_the_array(train_toy_task) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    model = analogize(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), "pcm_tiki_taka")
    before = [_tile_weights(layer) for layer in (model[0], model[2])]
    start, end, accuracy = train_toy_task(model, 20)  # the weight matrices are no torch parameters
    # aihwkit's C++ tiles draw from their own clock-seeded generator, so each run differs: over
    # 100 runs (2026-12-04) the loss ended at 0.30 of its start (median; 0.68 at most, which the
    # earlier bound of 0.6 failed once) and accuracy at 88 % (78 % at least; chance 33 %)
    assert end < 0.75 * start and accuracy > 0.75
    for layer, old in zip((model[0], model[2]), before):
        assert not torch.equal(_tile_weights(layer), old)


def test_checkpoints_keep_both_arrays() -> None:
    model = analogize(nn.Sequential(nn.Linear(4, 3)), "pcm_tiki_taka")
    optimizer = optimizer_for(model, lr=0.5)
    for _ in range(3):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).pow(2).sum().backward()
        optimizer.step()
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)  # aihwkit 1.1.0 alone raises "Key 1.num_states already exists"
    fresh = analogize(nn.Sequential(nn.Linear(4, 3)), "pcm_tiki_taka")
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=True))
    tile, loaded = (next(t for c in m[0].analog_crossbars() for t in c.analog_tiles()).tile for m in (model, fresh))
    # the weights the network computes with come back exactly; aihwkit's load re-writes the PCM
    # pair from them (set_weights), so the split between G+ and G- and the fast array's pending
    # (volatile) content are not restored
    torch.testing.assert_close(loaded.get_weights(), tile.get_weights())
    names = tile.get_hidden_parameter_names()
    device_parameters = [i for i, name in enumerate(names) if not name.startswith("hidden_weights")]
    torch.testing.assert_close(loaded.get_hidden_parameters()[device_parameters],
                               tile.get_hidden_parameters()[device_parameters])


class _ColumnsChanged(pl.Callback):
    """The steps at which the simulator changed the PCM array, and the first column it changed."""

    def __init__(self) -> None:
        self.columns: dict[int, list[int]] = {}
        self._before: torch.Tensor | None = None

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        self._before = _tile_weights(pl_module.net[0])

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:  # type: ignore[no-untyped-def]
        assert self._before is not None
        columns = (_tile_weights(pl_module.net[0]) != self._before).any(0).nonzero().flatten().tolist()
        self.columns[batch_idx] = columns


def test_monitor_counts_the_transfers_the_simulator_applied(tmp_path, tiny_analog_module) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(0)
    def every_second_step_without_refresh():  # type: ignore[no-untyped-def]
        config = pcm_tiki_taka_config(transfer_every=2.0)
        config.device.unit_cell_devices[1].refresh_every = 0  # a refresh also rewrites PCM pairs
        return config

    preset = Preset("tiki_taka_every_2", "test", "test", "transfer", every_second_step_without_refresh)
    monitor, changed = EnergyMonitor(dirpath=tmp_path), _ColumnsChanged()
    trainer = pl.Trainer(max_epochs=1, callbacks=[monitor, changed], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(tiny_analog_module(preset), DataLoader(TensorDataset(torch.randn(45, 4)), batch_size=5))  # 9 steps
    layer = monitor.report("train").layers[0]
    # every 2nd step one column of the fast array is read and written into the PCM array
    assert layer.weight_updates == 9 and layer.transfer_reads == 4
    # each transfer writes the next column: at steps 2, 4, 6, 8 (1-based) columns 0, 1, 2, 3. The
    # transfer's pulse trains are stochastic (aihwkit seeds its C++ generator from the clock), so
    # a small fast-array column can fire no pulse at all: a transfer changes its column or nothing
    # (seen once in a full-suite run), never another column, and most transfers change theirs
    written = [changed.columns[step] for step in (1, 3, 5, 7)]
    assert all(columns in ([k], []) for k, columns in enumerate(written)), written
    assert sum(1 for columns in written if columns) >= 2, written
    # between transfers the PCM array is left alone (inside Lightning the very first step moved
    # it too in about half of the runs, which a plain loop does not reproduce: not understood)
    assert all(not changed.columns[step] for step in (2, 4, 6, 8))
    assert layer.analog["update"]["transfer_adc"] > 0 and layer.pcm_pulses > 0

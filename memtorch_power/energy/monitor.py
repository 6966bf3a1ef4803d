"""``EnergyMonitor``: a Lightning callback that counts the workload a model really runs.

It hooks the LightningModule's layers (see :class:`~memtorch_power.energy.counting.WorkloadCounter`)
and counts every batch of fit, validation, test and predict: forward MVMs/MACs, the backward
that autograd runs in training, and one update per optimizer step. For the pulsed presets
(``pcm_training``, ``pcm_mixed_precision``) it measures the PCM pulses of each step as
``sum |dW| / dw_min`` over the tile weights read before and after the step; for the
closed-loop transfer presets (built by ``pcm_fast_weight_config``) it reads instead how many weights the tiles'
transfers programmed into PCM (their ``programmed_weights`` counters).

Cost per batch: the hooks (a dictionary look-up and a few integer adds per layer, a weak
reference per conv/linear call for batch-norm folding, no tensor data read, so no GPU
synchronisation) and one integer add per optimizer step. Only the pulse
measurement of pulsed presets reads weights (CPU tiles; turn it off with ``measure_pulses=False``).

**Energy against accuracy.** After every training epoch the monitor appends an
:class:`~memtorch_power.energy.history.EpochEnergy` row to :attr:`EnergyMonitor.history`: the
epoch's training energy on the analog system and on the digital baseline, the cumulative
energies, and the validation metric (``metric``, default ``val/acc``) that epoch reached. It
writes the log to ``{filename}_history.csv/.json`` (atomically, every epoch) and logs the
cumulative energies. :func:`~memtorch_power.energy.history.energy_to_accuracy` reads the
energy to reach a target accuracy off it.

**Resuming.** The monitor's counts, steps and per-epoch log are part of the checkpoint
(:meth:`EnergyMonitor.state_dict`, plain data that ``torch.load(weights_only=True)`` reads), so
``fit --ckpt_path last.ckpt`` continues the energy curve instead of starting it again at zero.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.trainer.states import TrainerFn

from memtorch_power.energy.build import build_report, check_placement
from memtorch_power.energy.counting import LayerCounts, WorkloadCounter
from memtorch_power.energy.history import EpochEnergy, history_csv, next_epoch
from memtorch_power.energy.pricing import DEFAULT_PULSES_PER_WEIGHT_STEP, DigitalPlacement
from memtorch_power.energy.profiles import (
    AnalogProfile,
    DigitalProfile,
    get_analog_profile,
    get_digital_profile,
)
from memtorch_power.energy.report import EnergyReport
from memtorch_power.energy.rules import first_tensor
from memtorch_power.io import write_json, write_text
from memtorch_power.nn.base import AnalogLayer
from memtorch_power.presets import PULSED_UPDATES



class EnergyMonitor(Callback):
    """Count the real workload of a Lightning run and report its energy (J).

    Logs per epoch (``pl_module.log``): ``energy/train_analog_j``, ``energy/train_digital_j``
    and the same for ``validate``, and the cumulative training energies
    ``energy/train_analog_cumulative_j`` and ``energy/train_digital_cumulative_j``. After every
    training epoch it writes the per-epoch log :attr:`history` (energy next to the validation
    ``metric``) to ``{filename}_history.csv/.json``. When training ends it writes ``{filename}_train.csv/.json``
    (and ``_validate``), when testing (or a stand-alone validation) ends
    ``{filename}_test.csv/.json`` (``_validate``), into ``dirpath`` or ``trainer.log_dir``.

    Args:
        analog: analog profile name or :class:`AnalogProfile`.
        digital: digital baseline name or :class:`DigitalProfile`.
        dirpath: where to write the reports (default: ``trainer.log_dir``).
        filename: file name stem of the reports.
        log: log the per-epoch energies with ``pl_module.log``.
        measure_pulses: measure PCM pulses of pulsed presets from the weight change.
        pulses_per_weight_step: expectation used when pulses are not measured.
        metric: the validation metric recorded next to the energy in :attr:`history`.
        digital_layers_on: where the analog system runs its layers that are not analog
            (``"periphery"``: the analog chip's digital periphery, the default; ``"baseline"``:
            the digital profile); see :func:`~memtorch_power.energy.estimate`. Validation, test
            and predict batches are priced as inference (dropout free, batch norms folded).

    Raises:
        ValueError: unknown profile or ``digital_layers_on``; at setup, a model without analog layer.
    """

    def __init__(
        self,
        analog: str | AnalogProfile = "hermes",
        digital: str | DigitalProfile = "a100_fp16",
        dirpath: str | os.PathLike[str] | None = None,
        filename: str = "energy",
        log: bool = True,
        measure_pulses: bool = True,
        pulses_per_weight_step: float = DEFAULT_PULSES_PER_WEIGHT_STEP,
        digital_layers_on: DigitalPlacement = "periphery",
        metric: str = "val/acc",
    ) -> None:
        self.digital_layers_on = check_placement(digital_layers_on, "EnergyMonitor")
        self.analog = get_analog_profile(analog)
        self.digital = get_digital_profile(digital)
        self.dirpath = None if dirpath is None else Path(dirpath)
        self.filename = filename
        self.log_energy = log
        self.measure_pulses = measure_pulses
        self.pulses_per_weight_step = pulses_per_weight_step
        self.metric = metric
        self.history: list[EpochEnergy] = []
        self.counter: WorkloadCounter | None = None
        self.steps: dict[str, int] = {}
        self.batches: dict[str, int] = {}
        self.batch_size: dict[str, int] = {}
        self._stage: str | None = None
        self._resume: str | None = None
        self._epoch_start: dict[str, tuple[dict[str, LayerCounts], int, int]] = {}
        self._pulsed: list[tuple[str, AnalogLayer, float]] = []
        self._before: dict[str, list[torch.Tensor]] = {}
        self._closed_loop: list[tuple[str, AnalogLayer]] = []
        self._programmed_before: dict[str, int] = {}
        self._pending: dict[str, Any] | None = None
        self._validated = False

    # -- public -----------------------------------------------------------------------------------
    def report(self, stage: str = "train") -> EnergyReport:
        """The energy of everything counted in ``stage`` (``train``, ``validate``, ``test``, ``predict``).

        Raises:
            ValueError: if nothing was counted in that stage.
        """
        if self.counter is None or stage not in self.counter.counts:
            seen = [] if self.counter is None else list(self.counter.counts)
            raise ValueError(f"EnergyMonitor: nothing counted in stage {stage!r}; counted: {seen}")
        counts = self._with_steps(stage, self.counter.counts[stage], self.steps.get(stage, 0))
        return self._build(stage, counts, self.batches.get(stage, 0))

    def stages(self) -> list[str]:
        """Phases in which something was counted."""
        return [] if self.counter is None else list(self.counter.counts)

    def state_dict(self) -> dict[str, Any]:
        """Everything counted so far and the per-epoch log, as plain data (saved in checkpoints)."""
        counts = {} if self.counter is None else self.counter.counts
        return {
            "counts": {stage: {name: c.as_dict() for name, c in table.items()} for stage, table in counts.items()},
            "steps": dict(self.steps),
            "batches": dict(self.batches),
            "batch_size": dict(self.batch_size),
            "history": [row.as_dict() for row in self.history],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Continue from :meth:`state_dict` when the next ``fit`` starts (a resumed run keeps
        counting from there). Lightning also restores callbacks when ``test``/``validate`` load a
        checkpoint; that state is ignored, so a test after fit keeps what fit counted."""
        self._pending = dict(state_dict)

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._pending is not None:
            self._apply(self._pending)
            self._pending = None

    def _apply(self, state_dict: dict[str, Any]) -> None:
        counts = {stage: {name: LayerCounts.from_dict(c) for name, c in table.items()}
                  for stage, table in state_dict.get("counts", {}).items()}
        self.steps = dict(state_dict.get("steps", {}))
        self.batches = dict(state_dict.get("batches", {}))
        self.batch_size = dict(state_dict.get("batch_size", {}))
        self.history = [EpochEnergy.from_dict(row) for row in state_dict.get("history", [])]
        assert self.counter is not None  # fit has run setup()
        self.counter.counts = counts

    # -- Lightning hooks --------------------------------------------------------------------------
    def setup(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        counter = WorkloadCounter(pl_module)
        if not counter.analog_names:
            counter.remove()
            raise ValueError("EnergyMonitor: the model has no analog layer (use memtorch_power.nn.analogize)")
        if self.counter is not None:  # a later stage (test after fit): keep what was counted
            self.counter.remove()
            counter.counts = self.counter.counts
        self.counter = counter
        from memtorch_power.presets import traits_of

        analog = [(name, module) for name, module in pl_module.named_modules() if isinstance(module, AnalogLayer)]
        traits = {name: traits_of(module.preset) for name, module in analog}  # each builds the preset's config
        self._closed_loop = [(name, module) for name, module in analog if traits[name].closed_loop_transfer]
        self._pulsed = [
            (name, module, float(traits[name].dw_min or 0.0))
            for name, module in analog
            if module.preset.update in PULSED_UPDATES and traits[name].dw_min and not traits[name].closed_loop_transfer
        ]

    def teardown(self, trainer: pl.Trainer, pl_module: pl.LightningModule, stage: str) -> None:
        self._pending = None
        if self.counter is not None:
            self.counter.remove()  # the counts stay readable through report()

    def on_train_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        assert self.counter is not None
        self.counter.refresh_trainable(pl_module)
        self._enter("train")
        self._mark_epoch("train")
        self._validated = False

    def on_train_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                             batch_idx: int) -> None:
        self._count_batch("train", batch)

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                                 optimizer: torch.optim.Optimizer) -> None:
        self.steps["train"] = self.steps.get("train", 0) + 1
        if self.measure_pulses and self._pulsed:
            self._before = {name: _tile_weights(layer) for name, layer, _ in self._pulsed}
        self._programmed_before = {name: _programmed_weights(layer) for name, layer in self._closed_loop}

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule, outputs: Any,
                           batch: Any, batch_idx: int) -> None:
        if self._before:
            self._add_pulses("train")
        if self._programmed_before:
            self._add_programmed("train")

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        report = self._epoch_report("train")
        if report is None:
            return
        self._log_epoch("train", report, pl_module)
        value = trainer.callback_metrics.get(self.metric) if self._validated else None
        row = next_epoch(self.history[-1] if self.history else None, trainer.current_epoch,
                         self.steps.get("train", 0), report.analog_j(), report.digital_j(),
                         None if value is None else float(value))
        self.history.append(row)
        if self.log_energy:
            pl_module.log("energy/train_analog_cumulative_j", row.cumulative_analog_j, on_step=False, on_epoch=True)
            pl_module.log("energy/train_digital_cumulative_j", row.cumulative_digital_j, on_step=False, on_epoch=True)
        self._write_history(trainer)

    def on_train_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self.counter is not None:
            self.counter.stop()
        self._stage = None
        self._write(trainer, ("train", "validate"))

    def on_validation_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._resume = self._stage
        if trainer.sanity_checking:
            self._leave()
        else:
            self._enter("validate")

    def on_validation_epoch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            self._mark_epoch("validate")

    def on_validation_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                                  batch_idx: int, dataloader_idx: int = 0) -> None:
        if not trainer.sanity_checking:
            self._count_batch("validate", batch)

    def on_validation_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if not trainer.sanity_checking:
            report = self._epoch_report("validate") if self.log_energy else None
            if report is not None:
                self._log_epoch("validate", report, pl_module)
            self._validated = True

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._resume is not None:
            self._enter(self._resume)
        else:
            self._leave()
        if trainer.state.fn == TrainerFn.VALIDATING:  # trainer.validate(): write now
            self._write(trainer, ("validate",))

    def on_test_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._enter("test")

    def on_test_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                            batch_idx: int, dataloader_idx: int = 0) -> None:
        self._count_batch("test", batch)

    def on_test_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._leave()
        self._write(trainer, ("test",))

    def on_predict_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._enter("predict")

    def on_predict_batch_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule, batch: Any,
                               batch_idx: int, dataloader_idx: int = 0) -> None:
        self._count_batch("predict", batch)

    def on_predict_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        self._leave()

    # -- internals --------------------------------------------------------------------------------
    def _enter(self, stage: str) -> None:
        if self.counter is not None:
            self.counter.start(stage, track_backward=stage == "train")
            self._stage = stage

    def _leave(self) -> None:
        if self.counter is not None:
            self.counter.stop()
        self._stage = None

    def _count_batch(self, stage: str, batch: Any) -> None:
        self.batches[stage] = self.batches.get(stage, 0) + 1
        if stage not in self.batch_size:
            tensor = first_tensor(batch if not isinstance(batch, dict) else list(batch.values()))
            if tensor is not None and tensor.dim() > 0:
                self.batch_size[stage] = int(tensor.shape[0])

    def _add_pulses(self, stage: str) -> None:
        assert self.counter is not None
        table = self.counter.counts.setdefault(stage, {})
        for name, layer, dw_min in self._pulsed:
            before = self._before.get(name)
            if before is None:
                continue
            pulses, cells = 0.0, 0
            for old, new in zip(before, _tile_weights(layer)):
                delta = (new - old).abs()
                pulses += float(delta.sum()) / dw_min
                cells += int((delta > 0).sum())
            counts = table.setdefault(name, LayerCounts())
            counts.pulses = (counts.pulses or 0.0) + pulses
            counts.cells_programmed = (counts.cells_programmed or 0) + cells
        self._before = {}

    def _add_programmed(self, stage: str) -> None:
        assert self.counter is not None
        table = self.counter.counts.setdefault(stage, {})
        for name, layer in self._closed_loop:
            before = self._programmed_before.get(name)
            if before is None:
                continue
            counts = table.setdefault(name, LayerCounts())
            counts.weights_reprogrammed = (counts.weights_reprogrammed or 0) + _programmed_weights(layer) - before
        self._programmed_before = {}

    def _mark_epoch(self, stage: str) -> None:
        assert self.counter is not None
        table = self.counter.counts.get(stage, {})
        self._epoch_start[stage] = (
            {name: _copy(c) for name, c in table.items()},
            self.steps.get(stage, 0),
            self.batches.get(stage, 0),
        )

    def _epoch_report(self, stage: str) -> EnergyReport | None:
        """The energy of the epoch of ``stage`` that is ending (None if it was not marked)."""
        if self.counter is None or stage not in self._epoch_start:
            return None
        start, steps0, batches0 = self._epoch_start[stage]
        now = self.counter.counts.get(stage, {})
        delta = {name: _minus(c, start.get(name)) for name, c in now.items()}
        steps = self.steps.get(stage, 0) - steps0
        return self._build(stage, self._with_steps(stage, delta, steps), self.batches.get(stage, 0) - batches0)

    def _log_epoch(self, stage: str, report: EnergyReport, pl_module: pl.LightningModule) -> None:
        if not self.log_energy:
            return
        pl_module.log(f"energy/{stage}_analog_j", report.analog_j(), on_step=False, on_epoch=True)
        pl_module.log(f"energy/{stage}_digital_j", report.digital_j(), on_step=False, on_epoch=True)

    def _with_steps(self, stage: str, counts: dict[str, LayerCounts], steps: int) -> dict[str, LayerCounts]:
        out = {}
        for name, c in counts.items():
            c = _copy(c)
            c.steps = steps if stage == "train" and c.weight_grad.calls > 0 else 0
            out[name] = c
        return out

    def _build(self, stage: str, counts: dict[str, LayerCounts], batches: int) -> EnergyReport:
        assert self.counter is not None
        return build_report(self.counter.infos, counts, self.analog, self.digital, stage == "train",
                            batches, self.batch_size.get(stage), self.pulses_per_weight_step,
                            self.digital_layers_on)

    def _folder(self, trainer: pl.Trainer) -> Path:
        return self.dirpath if self.dirpath is not None else Path(trainer.log_dir or ".")

    def _write_history(self, trainer: pl.Trainer) -> None:
        if not trainer.is_global_zero:
            return
        folder = self._folder(trainer)
        rows = [row.as_dict() for row in self.history]
        write_text(folder / f"{self.filename}_history.csv", history_csv(self.history))
        write_json(folder / f"{self.filename}_history.json",
                   {"metric": self.metric, "analog": self.analog.name, "digital": self.digital.name, "epochs": rows})

    def _write(self, trainer: pl.Trainer, stages: tuple[str, ...]) -> None:
        folder = self._folder(trainer)
        if not trainer.is_global_zero:
            return
        for stage in stages:
            if self.counter is not None and stage in self.counter.counts and self.batches.get(stage):
                report = self.report(stage)
                report.to_csv(folder / f"{self.filename}_{stage}.csv")
                report.to_json(folder / f"{self.filename}_{stage}.json")


def _programmed_weights(layer: AnalogLayer) -> int:
    """Weights the closed-loop transfers of ``layer``'s tiles have programmed so far."""
    return sum(
        int(getattr(tile, "programmed_weights", 0))
        for crossbar in layer.analog_crossbars()
        for tile in crossbar.analog_tiles()
    )


def _tile_weights(layer: AnalogLayer) -> list[torch.Tensor]:
    """The raw weights of every aihwkit tile of ``layer`` (device units, copies)."""
    return [
        tile.tile.get_weights().detach().clone()
        for crossbar in layer.analog_crossbars()
        for tile in crossbar.analog_tiles()
    ]


def _copy(c: LayerCounts) -> LayerCounts:
    return LayerCounts(c.forward.scaled(1), c.input_grad.scaled(1), c.weight_grad.scaled(1), c.steps,
                       c.pulses, c.cells_programmed, c.shapes, c.folded.scaled(1), c.weights_reprogrammed)


def _minus(now: LayerCounts, then: LayerCounts | None) -> LayerCounts:
    if then is None:
        return _copy(now)
    pulses = None if now.pulses is None else now.pulses - (then.pulses or 0.0)
    cells = None if now.cells_programmed is None else now.cells_programmed - (then.cells_programmed or 0)
    programmed = (None if now.weights_reprogrammed is None
                  else now.weights_reprogrammed - (then.weights_reprogrammed or 0))
    return LayerCounts(now.forward.minus(then.forward), now.input_grad.minus(then.input_grad),
                       now.weight_grad.minus(then.weight_grad), 0, pulses, cells, now.shapes,
                       now.folded.minus(then.folded), programmed)


__all__ = ["EnergyMonitor"]

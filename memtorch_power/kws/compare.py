"""Train the same keyword spotter digitally and on each PCM preset, and compare them.

One table: test accuracy (and after drift), training energy and energy per inference
(analog profile against the digital baseline), wall time, training throughput, parameters,
MACs. A second table puts the training energy next to the accuracy it bought: the energy each
preset needed to reach a target validation accuracy (default: the digital run's best minus 1
point), or "not reached", never a saving for a run that did not get there. Every number is
measured in the run or computed by :mod:`memtorch_power.energy` from the workload counted
during the run.
"""

from __future__ import annotations

import copy
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from memtorch_power.energy import EnergyMonitor, energy_per_inference, energy_to_accuracy, estimate
from memtorch_power.energy.history import EpochEnergy, accumulate
from memtorch_power.energy.meter import EnergyMeter
from memtorch_power.checkpoint_io import AtomicCheckpointIO
from memtorch_power.io import save_figure, write_json, write_text
from memtorch_power.kws.compare_report import (  # noqa: F401  (MLPERF_TINY_BEST_KWS_J: re-exported)
    MLPERF_TINY_BEST_KWS_J,
    comparison_markdown,
    plot_accuracy_energy,
    plot_comparison,
)
from memtorch_power.kws.datamodule import SpeechCommandsDataModule
from memtorch_power.kws.drift import DriftEvaluation
from memtorch_power.kws.models import count_macs, count_parameters
from memtorch_power.kws.module import DIGITAL, KeywordSpotter
from memtorch_power.kws.pretrained import metadata as pretrained_metadata
from memtorch_power.kws.pretrained import resolve as resolve_pretrained
from memtorch_power.kws.timing import TrainingThroughput
from memtorch_power.nn import analogize, digitalize
from memtorch_power.presets import get_preset
from memtorch_power.kws.compare_config import (
    DEFAULT_TRAINING,
    FINETUNE_TRAINING,
    TARGET_MARGIN,
    ComparisonConfig,
)


class _EpochSteps(L.Callback):
    """Records, per training epoch, the optimizer steps so far and the validation accuracy
    (for runs without an :class:`EnergyMonitor`: the digital model)."""

    def __init__(self, metric: str = "val/acc") -> None:
        self.metric = metric
        self.epochs: list[tuple[int, int, float | None]] = []

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        value = trainer.callback_metrics.get(self.metric)
        self.epochs.append((trainer.current_epoch, trainer.global_step, None if value is None else float(value)))


def _digital_history(epochs: list[tuple[int, int, float | None]], joules_per_step: float) -> list[EpochEnergy]:
    """Per-epoch log of a digital run: each epoch's optimizer steps priced at the baseline's
    energy per training step (J)."""
    steps_before = [0] + [step for _, step, _ in epochs[:-1]]
    return accumulate((epoch, step, None, (step - before) * joules_per_step, accuracy)
                      for (epoch, step, accuracy), before in zip(epochs, steps_before))


def _baseline_view(module: KeywordSpotter) -> torch.nn.Module:
    """The network with every Linear/Conv as an ``ideal`` crossbar: the energy module prices
    its workload on the digital baseline (a digital model has no analog layer to price)."""
    network = copy.deepcopy(module.network).cpu()
    return network if module.is_analog else analogize(network, "ideal")


def _budget(preset: str, config: ComparisonConfig, init_from: str | None) -> tuple[bool, int, str]:
    """``(given weights, epochs, started_from)`` of a row: the digital row with ``init_from`` is
    tested as given (0 epochs), another preset with ``init_from`` fine-tunes from the digital
    weights, the rest train from scratch."""
    if init_from is None:
        return False, config.epochs, "scratch"
    if preset == DIGITAL:
        return True, 0, "given weights"
    return False, finetune_epochs_of(preset, config), "digital"


def finetune_epochs_of(preset: str, config: ComparisonConfig) -> int:
    """The fine-tuning epochs of ``preset`` (``config.finetune_epochs``, per preset or for all;
    ``config.epochs`` where it is not set)."""
    chosen = config.finetune_epochs
    if isinstance(chosen, dict):
        chosen = chosen.get(preset)
    return int(chosen) if chosen else config.epochs


def run_preset(preset: str, config: ComparisonConfig, datamodule: SpeechCommandsDataModule,
               init_from: str | None = None) -> dict[str, Any]:
    """Train, test and price one preset; returns its row of the comparison table.

    Args:
        init_from: checkpoint of a digital run to start from (hardware-aware fine-tuning);
            the preset then trains ``config.finetune_epochs`` epochs with
            :data:`FINETUNE_TRAINING`'s settings. For ``"digital"`` itself: the trained weights
            (``config.digital_from``), tested without training.
    """
    folder = Path(config.output_dir) / preset
    L.seed_everything(config.seed, workers=True, verbose=False)
    defaults = DEFAULT_TRAINING.get(preset, DEFAULT_TRAINING[DIGITAL])
    pretrained, epochs, started_from = _budget(preset, config, init_from)
    if started_from == "digital":
        defaults = FINETUNE_TRAINING.get(preset, defaults)
    settings = {**defaults, **config.training.get(preset, {})}
    module = KeywordSpotter(
        model=config.model, preset=preset, num_classes=datamodule.num_classes,
        n_features=datamodule.n_features, n_frames=datamodule.n_frames, init_from=init_from, **settings,
    )
    throughput = TrainingThroughput()
    drift_report = DriftEvaluation(times=config.drift_times, repeats=config.drift_repeats, output_dir=str(folder),
                                   compensation=config.drift_compensation,
                                   recalibration_batches=config.recalibration_batches,
                                   verify_tolerance_us=config.verify_tolerance_us,
                                   conductance_pairs=config.conductance_pairs)
    checkpoint = ModelCheckpoint(dirpath=folder / "checkpoints", monitor="val/acc", mode="max", filename="best")
    callbacks: list[L.Callback] = [
        checkpoint,
        throughput,
        drift_report,
    ]
    monitor = None
    epoch_steps = _EpochSteps()  # a digital run has no monitor to log its epochs
    if module.is_analog:
        monitor = EnergyMonitor(config.analog_profile, config.digital_profile, dirpath=str(folder))
        callbacks.append(monitor)
    else:
        callbacks.append(epoch_steps)
    trainer = L.Trainer(
        max_epochs=epochs,
        limit_train_batches=config.limit_train_batches,
        limit_val_batches=config.limit_eval_batches,
        limit_test_batches=config.limit_eval_batches,
        logger=CSVLogger(config.output_dir, name=preset, version=""),
        callbacks=callbacks,
        plugins=[AtomicCheckpointIO()],
        enable_progress_bar=config.progress,
        enable_model_summary=False,
        log_every_n_steps=10,
        accelerator=config.accelerator,
        devices=config.devices,
    )
    started = time.perf_counter()
    with EnergyMeter() as meter:  # the host's own counters (RAPL, NVML) where it has them
        trainer.fit(module, datamodule=datamodule)
    fit_s = time.perf_counter() - started
    if pretrained:  # no epoch ran: save the given weights as the row's checkpoint
        trainer.save_checkpoint(folder / "checkpoints" / "best.ckpt", weights_only=True)
        checkpoint.best_model_path = str(folder / "checkpoints" / "best.ckpt")
    tested = trainer.test(module, datamodule=datamodule, ckpt_path=None if pretrained else "best", verbose=False)[0]
    if pretrained:
        checkpoint.best_model_score = trainer.validate(module, datamodule=datamodule, verbose=False)[0]["val/acc"]

    example = datamodule.example_input(config.batch_size)
    baseline = _baseline_view(module)
    recorded = pretrained_metadata(init_from) if pretrained else None
    if monitor is not None:
        train_report = monitor.report("train")
        train_analog_j, train_digital_j = train_report.analog_j(), train_report.digital_j()
        history = monitor.history
    else:  # digital run: the same counted steps, priced on the digital baseline
        train_analog_j = float("nan")
        per_step = estimate(baseline, example, config.analog_profile, config.digital_profile,
                            training=True, batches=1).digital_j()
        epochs_run = epoch_steps.epochs
        if recorded:  # the run that made the given weights, as its recipe recorded it
            epochs_run = [(e["epoch"], e["steps"], e["val_acc"]) for e in recorded["history"]]
        history = _digital_history(epochs_run, per_step)
        train_digital_j = history[-1].cumulative_digital_j if history else 0.0
    inference = energy_per_inference(
        copy.deepcopy(module.network).cpu() if module.is_analog else baseline,
        datamodule.example_input(1), config.analog_profile, config.digital_profile,
    )
    digital_network = digitalize(copy.deepcopy(module.network)) if module.is_analog else module.network
    macs = count_macs(digital_network, (1, datamodule.n_features, datamodule.n_frames))
    row: dict[str, Any] = {
        "preset": preset,
        "test_acc": tested["test/acc"],
        "test_clips": int(module.test_confusion.compute().sum()),
        "best_val_acc": _score(checkpoint.best_model_score),
        "train_energy_analog_j": train_analog_j,
        "train_energy_digital_j": train_digital_j,
        "inference_energy_analog_j": inference.analog_j if module.is_analog else float("nan"),
        "inference_energy_digital_j": inference.digital_j,
        "fit_wall_s": fit_s,
        "train_energy_measured_j": meter.result.total_j,
        "train_energy_meter": ", ".join(meter.result.meters) or meter.result.note,
        "train_clips_per_s": throughput.clips_per_second,
        "train_steps": trainer.global_step,
        "parameters": count_parameters(digital_network),
        "macs_per_inference": macs,
        "update": "digital" if preset == DIGITAL else get_preset(preset).update,
        "epochs": epochs,
        "started_from": started_from,
        "checkpoint": checkpoint.best_model_path,
        "phases": "all digital" if preset == DIGITAL else get_preset(preset).phases,
        "caveat": "" if preset == DIGITAL else get_preset(preset).caveat,
        "history": [row.as_dict() for row in history],
        "weights_from": (recorded or {}).get("command", init_from) if pretrained else None,
    }
    if drift_report.summary:
        for entry in drift_report.summary:
            row[f"acc_after_{entry['time'].replace(' ', '_')}"] = entry["accuracy_mean"]
            row[f"acc_std_after_{entry['time'].replace(' ', '_')}"] = entry["accuracy_std"]  # between programmings
    write_json(folder / "result.json", row)
    return row


def _score(value: torch.Tensor | float | None) -> float | None:
    return None if value is None else float(value)


def compare(config: ComparisonConfig) -> list[dict[str, Any]]:
    """Run every preset of ``config`` and write the comparison into ``config.output_dir``:
    ``comparison.csv``, ``comparison.json``, ``comparison.md`` and ``comparison.png``."""
    datamodule = SpeechCommandsDataModule(
        config.root, batch_size=config.batch_size, features=config.features, n_features=config.n_features,
        freq_masks=config.freq_masks, freq_mask_bins=config.freq_mask_bins, seed=config.seed,
    )
    rows: list[dict[str, Any]] = []
    for preset in config.presets:
        init_from = None
        if preset in config.start_from_digital:
            init_from = next(r["checkpoint"] for r in rows if r["preset"] == DIGITAL)
        elif preset == DIGITAL and config.digital_from is not None:
            init_from = str(resolve_pretrained(config.digital_from))
        earlier = _earlier_result(preset, config, init_from)
        rows.append(earlier if earlier is not None else run_preset(preset, config, datamodule, init_from=init_from))
    add_energy_to_accuracy(rows, config.target_acc)
    write_report(rows, config)
    return rows


def _earlier_result(preset: str, config: ComparisonConfig, init_from: str | None) -> dict[str, Any] | None:
    """The row an earlier run of this comparison wrote for ``preset``, if it may be reused."""
    path = Path(config.output_dir) / preset / "result.json"
    if not config.reuse_results or not path.exists():
        return None
    row = json.loads(path.read_text())
    _, epochs, started = _budget(preset, config, init_from)
    if row.get("epochs") != epochs or row.get("started_from") != started or "history" not in row:
        return None
    return row


def target_accuracy(rows: list[dict[str, Any]], target_acc: float | None = None) -> float | None:
    """The accuracy at which training energy is compared: ``target_acc`` if given, else the
    digital row's best validation accuracy minus :data:`TARGET_MARGIN`; None without either."""
    if target_acc is not None:
        return target_acc
    digital = next((r for r in rows if r["preset"] == DIGITAL and r.get("best_val_acc") is not None), None)
    return None if digital is None else max(1e-6, digital["best_val_acc"] - TARGET_MARGIN)


def add_energy_to_accuracy(rows: list[dict[str, Any]], target_acc: float | None = None) -> float | None:
    """Add to each row the training energy it needed to reach the target validation accuracy.

    Adds ``target_acc``, ``target_reached``, ``target_epoch``, ``energy_to_target_j`` (on the
    system the preset models: the PCM system for PCM presets, the digital baseline for the
    digital run), ``energy_to_target_digital_j`` (the same workload on the digital baseline)
    and ``test_acc_per_j`` (final test accuracy per joule of training). Returns the target.
    """
    target = target_accuracy(rows, target_acc)
    for row in rows:
        history = [EpochEnergy.from_dict(r) for r in row.get("history", [])]
        system_j = row["train_energy_digital_j"] if row["preset"] == DIGITAL else row["train_energy_analog_j"]
        row["test_acc_per_j"] = row["test_acc"] / system_j if system_j else float("nan")
        row["target_acc"] = target
        if target is None or not history:
            row.update(target_reached=None, target_epoch=None, energy_to_target_j=None, energy_to_target_digital_j=None)
            continue
        reached = energy_to_accuracy(history, target)
        row["target_reached"] = reached.reached
        row["target_epoch"] = reached.epoch
        row["energy_to_target_j"] = reached.digital_j if row["preset"] == DIGITAL else reached.analog_j
        row["energy_to_target_digital_j"] = reached.digital_j
    return target


def write_report(rows: list[dict[str, Any]], config: ComparisonConfig) -> None:
    """Write the comparison table and plots (atomically) into ``config.output_dir``."""
    import pandas as pd


    folder = Path(config.output_dir)
    frame = pd.DataFrame(rows)
    write_text(folder / "comparison.csv", frame.drop(columns=["history"], errors="ignore").to_csv(index=False))
    write_json(folder / "comparison.json", {"config": asdict(config), "rows": rows,
                                            "mlperf_tiny_best_kws_j": MLPERF_TINY_BEST_KWS_J})
    write_text(folder / "comparison.md", comparison_markdown(rows, config) + "\n")
    figure = plot_comparison(rows)
    save_figure(figure, folder / "comparison.png")
    save_figure(plot_accuracy_energy(rows), folder / "accuracy_vs_training_energy.png")

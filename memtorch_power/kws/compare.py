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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, get_args

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
from memtorch_power.kws.models import MODELS, count_macs, count_parameters
from memtorch_power.kws.module import DIGITAL, KeywordSpotter
from memtorch_power.kws.pretrained import metadata as pretrained_metadata
from memtorch_power.kws.pretrained import resolve as resolve_pretrained
from memtorch_power.kws.timing import TrainingThroughput
from memtorch_power.nn import DRIFT_TIMES_S, analogize, digitalize
from memtorch_power.nn.inference import DriftCompensation
from memtorch_power.presets import get_preset

#: pcm_tiki_taka_adapt's steps, from scratch or fine-tuning alike: small steps for the trained batch
#: norms and for the transfers to PCM (benchmarks/results/pcm_tiki_taka_sweep.json, tt:finetune_omega_1.4)
_ADAPT_TRAINING: dict[str, Any] = {"optimizer": "sgd", "lr": 0.01, "analog_lr": 0.001, "momentum": 0.0}

#: Optimizer settings per preset, measured on speech_commands_mini (DS-CNN, 10 MFCC, 4 epochs).
#: The DS-CNN's batch norms make its digital parameters want a large SGD step: plain SGD at
#: lr 0.05 reached 17 % test, at lr 1.0 73 % (Adam 3e-3: 58 %). The in-memory presets update
#: their tiles by pulses at ``analog_lr`` and everything digital by SGD at ``lr``.
DEFAULT_TRAINING: dict[str, dict[str, Any]] = {
    DIGITAL: {"optimizer": "adam", "lr": 3e-3},
    "ideal": {"optimizer": "adam", "lr": 3e-3},
    # lr 3e-3 -> 21.7 % test, 1e-2 -> 51.1 % (before the input norm; weights are normalised
    # per column on the tile, so Adam's steps are relative to w_max)
    "pcm_hwa": {"optimizer": "adam", "lr": 1e-2},
    # lr 0.05 -> 6.6 % (one class), lr 1.0 with weight scaling -> 42 % (79 % in 40 epochs);
    # the tiles' step tuned on validation (benchmarks/results/pcm_mixed_precision_sweep.json):
    # 40 epochs, best validation 87.0 % at analog_lr 0.1, 85.0 % at 0.3 (70.1 % at 1.0 after 10)
    "pcm_mixed_precision": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
    # Tiki-Taka: the fast array steps at fast_lr 1.0; the tile lr scales the transfer to PCM
    # (0.1: 53 % validation after 10 epochs, 1.0: 42 %; benchmarks/results/pcm_tiki_taka_sweep.json)
    "pcm_tiki_taka": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
    "pcm_tiki_taka_adapt": _ADAPT_TRAINING,
    # no tile step tried learned in 4 epochs (analog_lr 1.0, 0.1, 0.01: 15-18 %); see
    # BENCHMARKS.md for why in-array SGD on PCM trails
    "pcm_training": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
}

#: Optimizer settings of a preset that starts from the digital run's trained weights
#: (``ComparisonConfig.start_from_digital``): hardware-aware fine-tuning takes a smaller step
#: than training from scratch, so that it adapts the trained weights to the noisy, quantised
#: forward instead of relearning them.
FINETUNE_TRAINING: dict[str, dict[str, Any]] = {
    # input ranges re-initialised at 10 standard deviations: at the preset's 3 the digitally trained
    # DS-CNN fell to 31 % validation before any weight update (docs/kws_accuracy_notes.md)
    "pcm_hwa": {"optimizer": "adam", "lr": 2e-3, "input_range_std_alpha": 10.0},
    "pcm_tiki_taka_adapt": _ADAPT_TRAINING,
    # the in-memory presets adapt trained weights with the small steps that keep pcm_tiki_taka_adapt's
    # programmed DS-CNN near digital (the from-scratch SGD lr 1.0 would undo the trained batch norms)
    "pcm_mixed_precision": _ADAPT_TRAINING,
    "pcm_training": _ADAPT_TRAINING,
}


@dataclass
class ComparisonConfig:
    """What to compare and on which budget.

    Attributes:
        root: Speech Commands folder (full release or the bundled mini set).
        presets: ``"digital"`` and/or preset names, trained in this order.
        model: architecture (``"dscnn"``, ``"res8"``, ``"bcresnet"``).
        features: ``"mfcc"`` (as Hello Edge and MLPerf Tiny's DS-CNN) or ``"logmel"``.
        n_features: MFCC coefficients or mel bands per frame (10 MFCC: the MLPerf Tiny shape,
            fast; 40 log-mel bands: the most accurate on speech_commands_mini, 4x the MACs).
        freq_masks: SpecAugment frequency masks per training example (of up to
            ``freq_mask_bins`` rows each); 2 masks of 6 bands took the 40-log-mel DS-CNN from
            89.5 % to 90.8 % test on speech_commands_mini. 0 (the default) disables them.
        freq_mask_bins: widest frequency mask, feature rows.
        epochs: training epochs for every preset (the same budget for all).
        batch_size: examples per batch.
        limit_train_batches: fraction (float) or number (int) of training batches per epoch.
        limit_eval_batches: fraction or number of validation and test batches (also bounds
            the drift evaluation); 1.0 = all.
        drift_repeats: programming runs per drift time (inference presets).
        drift_times: drift time labels evaluated (see ``memtorch_power.nn.DRIFT_TIMES_S``).
        drift_compensation: how the programmed chip rescales drifted outputs: ``"global"`` (one
            factor per tile), ``"per_column"`` (one per output column) or ``"none"``
            (:func:`memtorch_power.nn.set_drift_compensation`).
        recalibration_batches: re-estimate the batch norms' statistics on this many unlabelled
            training batches after each drift time (adaptive batch-norm statistics, Joshi et al.,
            Nature Communications 11, 2473, 2020); 0: off.
        analog_profile: energy profile of the PCM system.
        digital_profile: energy profile of the digital baseline.
        output_dir: run folder for checkpoints, logs and the comparison report.
        seed: global seed (same data order and initialisation for every preset).
        progress: show Lightning's progress bars.
        training: per-preset optimizer settings overriding :data:`DEFAULT_TRAINING` (and
            :data:`FINETUNE_TRAINING` for presets that start from the digital run).
        start_from_digital: presets that start from the digital run's best weights instead of
            from scratch (hardware-aware fine-tuning, as in Rasch et al., Nature Communications
            14, 5282, 2023); needs ``"digital"`` earlier in ``presets``. Their rows count only
            their own epochs and energy, not the digital pre-training's.
        finetune_epochs: epochs of the presets in ``start_from_digital`` (None: ``epochs``): one
            number for all, or one per preset (``{pcm_hwa: 2, pcm_mixed_precision: 1}``; a preset
            not named takes ``epochs``).
        digital_from: the digital row's weights instead of training it in this run: the name of a
            shipped model (:mod:`memtorch_power.kws.pretrained`, e.g. ``"dscnn_logmel40"``) or the
            path of a digital KeywordSpotter checkpoint or network ``state_dict``. The row is
            tested here; its training energy and curve are priced from the recorded per-epoch
            history of the run that made it (the shipped model's ``.json``), or left empty
            without one. The presets in ``start_from_digital`` fine-tune from these weights.
        target_acc: validation accuracy (fraction) at which training energy is compared;
            None: the digital run's best validation accuracy minus :data:`TARGET_MARGIN`.
        reuse_results: read a preset's row from ``<output_dir>/<preset>/result.json`` when an
            earlier run of the same comparison (same epochs and start) left one, instead of
            training it again: an interrupted comparison resumes with the presets it lacks.
        accelerator: where to train and evaluate, as Lightning's ``Trainer`` takes it
            (``"cpu"``, ``"gpu"``, ``"cuda"``, ``"auto"``). The pulsed presets run on CPU only:
            asking for a GPU with one of them is an error that names it.
        devices: device count or ids, as Lightning's ``Trainer`` takes them.
    """

    root: str
    presets: list[str] = field(default_factory=lambda: [DIGITAL, "pcm_hwa", "pcm_mixed_precision", "pcm_training"])
    model: str = "dscnn"
    features: str = "mfcc"
    n_features: int = 10
    freq_masks: int = 0
    freq_mask_bins: int = 6
    epochs: int = 3
    batch_size: int = 64
    limit_train_batches: float | int = 1.0
    limit_eval_batches: float | int = 1.0
    drift_repeats: int = 2
    drift_times: list[str] = field(default_factory=lambda: ["1 s", "1 h", "1 day", "1 month", "1 year"])
    drift_compensation: DriftCompensation = "global"
    recalibration_batches: int = 0
    analog_profile: str = "hermes"
    digital_profile: str = "a100_fp16"
    output_dir: str = "runs/compare"
    seed: int = 0
    progress: bool = True
    training: dict[str, dict[str, Any]] = field(default_factory=dict)
    start_from_digital: list[str] = field(default_factory=list)
    finetune_epochs: int | dict[str, int] | None = None
    digital_from: str | None = None
    target_acc: float | None = None
    reuse_results: bool = False
    accelerator: str = "cpu"
    devices: int | str = 1

    def __post_init__(self) -> None:
        for preset in self.presets:
            if preset != DIGITAL:  # unknown names and devices fail before any training
                get_preset(preset).check_device(self.accelerator)
        if self.target_acc is not None and not 0.0 < self.target_acc <= 1.0:
            raise ValueError(f"target_acc must be a fraction in (0, 1] (0.82 for 82 %), got {self.target_acc}")
        for preset in self.start_from_digital:
            if preset == DIGITAL or preset not in self.presets:
                raise ValueError(f"start_from_digital: {preset!r} is not one of the PCM presets compared "
                                 f"({', '.join(p for p in self.presets if p != DIGITAL) or 'none'})")
            if DIGITAL not in self.presets or self.presets.index(DIGITAL) > self.presets.index(preset):
                raise ValueError(f"start_from_digital: {preset!r} needs 'digital' earlier in presets, "
                                 f"got {self.presets}")
        if self.digital_from is not None:
            if DIGITAL not in self.presets:
                raise ValueError("digital_from: 'digital' is not among the presets compared")
            try:
                resolve_pretrained(self.digital_from)
            except FileNotFoundError as err:
                raise ValueError(f"digital_from: {err}") from None
        per_preset = self.finetune_epochs if isinstance(self.finetune_epochs, dict) else {"": self.finetune_epochs}
        for preset, epochs in per_preset.items():
            if epochs is not None and int(epochs) < 1:
                raise ValueError(f"finetune_epochs must be >= 1, got {epochs}" + (f" for {preset}" if preset else ""))
        if isinstance(self.finetune_epochs, dict):
            unknown = sorted(set(self.finetune_epochs) - set(self.start_from_digital))
            if unknown:
                raise ValueError(f"finetune_epochs names presets that do not start from digital: {unknown}")
        for name in ("epochs", "batch_size", "drift_repeats", "n_features"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.drift_compensation not in get_args(DriftCompensation):
            raise ValueError(f"drift_compensation must be one of {', '.join(map(repr, get_args(DriftCompensation)))}, "
                             f"got {self.drift_compensation!r}")
        if self.recalibration_batches < 0:
            raise ValueError(f"recalibration_batches must be >= 0, got {self.recalibration_batches}")
        if self.freq_masks < 0:
            raise ValueError(f"freq_masks must be >= 0, got {self.freq_masks}")
        for name in ("limit_train_batches", "limit_eval_batches"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (a fraction or a count), got {getattr(self, name)}")
        unknown = [t for t in self.drift_times if t not in DRIFT_TIMES_S]
        if unknown:
            raise ValueError(f"unknown drift time(s) {', '.join(map(repr, unknown))}; known: "
                             + ", ".join(repr(t) for t in DRIFT_TIMES_S))
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; known models: {', '.join(MODELS)}")
        if self.features not in ("mfcc", "logmel"):
            raise ValueError(f"features must be 'mfcc' or 'logmel', got {self.features!r}")


#: Default energy-to-accuracy target: the digital run's best validation accuracy minus this
#: (a fraction: 0.01 = 1 point).
TARGET_MARGIN = 0.01


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
                                   recalibration_batches=config.recalibration_batches)
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

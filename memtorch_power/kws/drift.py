"""Accuracy of a programmed PCM model as its conductances drift, and a callback that reports it."""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Callable, Iterable, Mapping

import lightning as L
import torch
from rich.console import Console
from rich.table import Table
from torch import Tensor, nn

from memtorch_power.io import save_figure, write_json, write_text
from memtorch_power.nn import (
    DRIFT_TIMES_S,
    ProgramVerify,
    analog_layers,
    check_conductance_pairs,
    drift,
    program,
    program_verified,
    recalibrate_batchnorm,
    set_conductance_pairs,
    set_drift_compensation,
)
from memtorch_power.nn.inference import DriftCompensation

Batch = tuple[Tensor, Tensor]


def is_programmable(model: nn.Module) -> bool:
    """True if ``model`` has analog layers whose preset models programming and drift."""
    layers = analog_layers(model)
    return bool(layers) and all(layer.preset.supports_programming for _, layer in layers)


@torch.no_grad()
def _accuracy(model: nn.Module, batches: Iterable[Batch], transform: Callable[[Batch], Batch]) -> float:
    correct = total = 0
    for batch in batches:
        x, y = transform(batch)
        correct += (model(x).argmax(dim=1) == y).sum().item()
        total += len(y)
    if total == 0:
        raise ValueError("accuracy_after_drift: the data loader yielded no examples")
    return correct / total


def accuracy_after_drift(
    model: nn.Module,
    batches: Iterable[Batch],
    times: Mapping[str, float] = DRIFT_TIMES_S,
    repeats: int = 3,
    transform: Callable[[Batch], Batch] = lambda batch: batch,
    seed: int = 0,
    compensation: DriftCompensation = "global",
    recalibration: Iterable[Batch] | None = None,
    verify: ProgramVerify | None = None,
    conductance_pairs: int | None = None,
) -> list[dict[str, float | str | int]]:
    """Program ``model`` ``repeats`` times (fresh programming noise each time) and measure the
    accuracy after each drift time.

    Args:
        model: a model whose analog layers use an inference preset (e.g. ``pcm_hwa``).
        batches: a re-iterable of ``(input, label)`` batches (e.g. a DataLoader).
        times: label -> seconds after programming.
        repeats: independent programming runs (the accuracy varies with the noise).
        transform: turns a loader batch into ``(model input, labels)``.
        seed: seeds torch's RNG before each programming run, for reproducible reports.
        compensation: drift compensation of the tiles (:func:`memtorch_power.nn.set_drift_compensation`).
        recalibration: batches (labels unused) on which the batch norms' statistics are
            re-estimated after each drift time (:func:`memtorch_power.nn.recalibrate_batchnorm`);
            the trained statistics are restored afterwards. None: no recalibration.
        verify: program with a verify loop (:func:`memtorch_power.nn.program_verified`);
            None: each device programmed once.
        conductance_pairs: differential PCM pairs per weight
            (:func:`memtorch_power.nn.set_conductance_pairs`; 2: the four-device unit cell the
            ``hermes`` energy profile prices; 1: aihwkit's single pair); None keeps the tiles'
            own conductance converter (the preset's: one pair).

    Returns:
        One row per repeat and time: ``{"time", "t_seconds", "repeat", "accuracy"}``, with
        ``"programming_pulses"`` (mean programming pulses per device) when ``verify`` is given.
    """
    if not is_programmable(model):
        raise ValueError("accuracy_after_drift needs analog layers of an inference preset such as 'pcm_hwa'")
    was_training = model.training
    model.eval()
    set_drift_compensation(model, compensation)
    if conductance_pairs is not None:
        set_conductance_pairs(model, conductance_pairs)
    trained_norms = _norm_statistics(model) if recalibration is not None else None
    rows: list[dict[str, float | str | int]] = []
    try:
        for repeat in range(repeats):
            torch.manual_seed(seed + repeat)
            if verify is None:
                program(model)
                pulses = {}
            else:
                pulses = {"programming_pulses": program_verified(model, verify)}
            for label, seconds in times.items():
                drift(model, seconds)
                if recalibration is not None:
                    recalibrate_batchnorm(model, (transform(batch)[0] for batch in recalibration))
                rows.append(
                    {"time": label, "t_seconds": seconds, "repeat": repeat,
                     "accuracy": _accuracy(model, batches, transform), **pulses}
                )
                if trained_norms is not None:
                    model.load_state_dict(trained_norms, strict=False)
    finally:
        model.train(was_training)
    return rows


def _norm_statistics(model: nn.Module) -> dict[str, torch.Tensor]:
    """Copies of every batch norm's running statistics, by state-dict key."""
    return {f"{name}.{buffer}": getattr(module, buffer).detach().clone()
            for name, module in model.named_modules()
            if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats
            for buffer in ("running_mean", "running_var", "num_batches_tracked")}


def summarize(rows: list[dict]) -> list[dict[str, float | str]]:
    """Mean and standard deviation of the accuracy per drift time, in time order."""
    by_time: dict[str, list[dict]] = {}
    for row in rows:
        by_time.setdefault(str(row["time"]), []).append(row)
    summary = []
    for label, group in by_time.items():
        values = [float(r["accuracy"]) for r in group]
        summary.append({
            "time": label,
            "t_seconds": float(group[0]["t_seconds"]),
            "accuracy_mean": statistics.fmean(values),
            "accuracy_std": statistics.stdev(values) if len(values) > 1 else 0.0,
            "repeats": len(values),
        })
    return sorted(summary, key=lambda r: r["t_seconds"])


def markdown_table(summary: list[dict], reference: float | None = None) -> str:
    """A markdown table of accuracy per drift time (and the drop from ``reference``)."""
    lines = ["| time after programming | test accuracy | std | drop vs. before programming |",
             "|---|---:|---:|---:|"]
    for row in summary:
        drop = "" if reference is None else f"{100 * (reference - row['accuracy_mean']):+.2f} pt"
        lines.append(f"| {row['time']} | {100 * row['accuracy_mean']:.2f} % | "
                     f"{100 * row['accuracy_std']:.2f} | {drop} |")
    return "\n".join(lines)


def plot_drift(summary: list[dict], reference: float | None = None, title: str = "") -> "object":
    """Accuracy against time after programming (log scale), with the digital/unprogrammed line."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6, 3.6))  # no pyplot: leaves the user's backend alone
    axis = figure.subplots()
    times = [r["t_seconds"] for r in summary]
    means = [100 * r["accuracy_mean"] for r in summary]
    stds = [100 * r["accuracy_std"] for r in summary]
    axis.errorbar(times, means, yerr=stds, marker="o", capsize=3, label="programmed PCM")
    for t, row in zip(times, summary):
        axis.annotate(row["time"], (t, 100 * row["accuracy_mean"]), textcoords="offset points",
                      xytext=(0, 7), ha="center", fontsize=8)
    if reference is not None:
        axis.axhline(100 * reference, color="grey", linestyle="--", label="before programming")
    axis.set_xscale("log")
    axis.set_xlabel("time after programming (s)")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title(title or "Accuracy under PCM drift")
    axis.grid(alpha=0.3)
    axis.legend(loc="lower left")
    figure.tight_layout()
    return figure


class FirstBatches:
    """A re-iterable view of the first ``limit`` batches of a loader (all if None)."""

    def __init__(self, loader: Iterable[Batch], limit: int | None) -> None:
        self.loader, self.limit = loader, limit

    def __iter__(self):  # noqa: ANN204
        for index, batch in enumerate(self.loader):
            if self.limit is not None and index >= self.limit:
                return
            yield batch


class DriftEvaluation(L.Callback):
    """After ``trainer.test``, program the model and report test accuracy under drift.

    Writes ``drift.json``, ``drift.md`` and ``drift.png`` into ``output_dir`` (default: the
    trainer's log directory) and prints a table. Does nothing for digital models or
    presets without a drift model.

    Args:
        times: drift time labels to evaluate, from :data:`memtorch_power.nn.DRIFT_TIMES_S`.
        repeats: independent programming runs per time.
        output_dir: where to write the report.
        compensation: ``"global"`` (default), ``"per_column"`` or ``"none"``
            (:func:`memtorch_power.nn.set_drift_compensation`).
        recalibration_batches: re-estimate the batch-norm statistics on this many training
            batches after each drift time (adaptive batch-norm statistics; 0: off).
        verify_tolerance_us: program with a verify loop that re-programs every device more than
            this many µS off its target, at most ``verify_iterations`` programmings per device
            (:mod:`memtorch_power.nn.program_verify`); None: each device programmed once.
        verify_iterations: programmings per device at most in the verify loop.
        conductance_pairs: differential PCM pairs per weight (1: aihwkit's single pair; 2: the
            four-device unit cell of the ``hermes`` profile; :func:`memtorch_power.nn.set_conductance_pairs`);
            None keeps the preset's conductance converter (one pair).
    """

    def __init__(self, times: list[str] | None = None, repeats: int = 3, output_dir: str | None = None,
                 compensation: DriftCompensation = "global", recalibration_batches: int = 0,
                 verify_tolerance_us: float | None = None, verify_iterations: int = 10,
                 conductance_pairs: int | None = None) -> None:
        if recalibration_batches < 0:
            raise ValueError(f"DriftEvaluation: recalibration_batches must be >= 0, got {recalibration_batches}")
        if conductance_pairs is not None:
            check_conductance_pairs(conductance_pairs, "DriftEvaluation: conductance_pairs")
        self.conductance_pairs = conductance_pairs
        self.verify = None if verify_tolerance_us is None else ProgramVerify(verify_tolerance_us, verify_iterations)
        self.compensation = compensation
        self.recalibration_batches = recalibration_batches
        unknown = sorted(set(times or []) - set(DRIFT_TIMES_S))
        if unknown:
            raise ValueError(f"DriftEvaluation: unknown drift times {unknown}; known: {list(DRIFT_TIMES_S)}")
        self.times = {label: DRIFT_TIMES_S[label] for label in (times or DRIFT_TIMES_S)}
        self.repeats = repeats
        self.output_dir = output_dir
        self.summary: list[dict] | None = None

    def on_test_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if not is_programmable(pl_module) or trainer.datamodule is None:
            return
        datamodule = trainer.datamodule
        reference = trainer.callback_metrics.get("test/acc")
        reference = None if reference is None else float(reference)
        # the same batches as the test loop (honours Trainer(limit_test_batches=...))
        counts = trainer.num_test_batches
        batch_limit = int(counts[0]) if counts and counts[0] != float("inf") else None
        loader = FirstBatches(datamodule.test_dataloader(), batch_limit)
        device = pl_module.device

        def transform(batch: Batch) -> Batch:
            x, y = batch
            return datamodule.transform_batch((x.to(device), y.to(device)))

        recalibration = None
        if self.recalibration_batches:
            datamodule.setup("fit")  # `test` alone (the CLI on a saved checkpoint) sets up only the test split
            recalibration = FirstBatches(datamodule.train_dataloader(), self.recalibration_batches)
        rows = accuracy_after_drift(pl_module, loader, self.times, self.repeats, transform,
                                    compensation=self.compensation, recalibration=recalibration,
                                    verify=self.verify, conductance_pairs=self.conductance_pairs)
        self.summary = summarize(rows)
        folder = Path(self.output_dir or trainer.log_dir or ".")
        write_json(folder / "drift.json", {"reference_accuracy": reference, "summary": self.summary, "runs": rows,
                                           "conductance_pairs": self.conductance_pairs})
        write_text(folder / "drift.md", markdown_table(self.summary, reference) + "\n")
        save_figure(plot_drift(self.summary, reference), folder / "drift.png")
        table = Table(title="Test accuracy after programming and drift")
        for column in ("time", "accuracy", "std"):
            table.add_column(column, justify="right")
        for row in self.summary:
            table.add_row(row["time"], f"{100 * row['accuracy_mean']:.2f} %", f"{100 * row['accuracy_std']:.2f}")
        Console().print(table)

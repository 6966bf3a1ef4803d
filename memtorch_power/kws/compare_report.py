"""Tables and plots of a keyword-spotting comparison (see :mod:`memtorch_power.kws.compare`)."""

from __future__ import annotations

import math
from typing import Any

from memtorch_power.energy.history import EpochEnergy, plot_accuracy_vs_energy
from memtorch_power.energy.history import format_joules as _fmt_j

#: Best measured keyword-spotting energy per inference in MLPerf Tiny v0.7 (closed division):
#: Syntiant NDP120 on its NDP9120 board, core at 0.9 V and 30.7 MHz, median 35.286 uJ per
#: inference of the DS-CNN (mlcommons/tiny_results_v0.7,
#: closed/syntiant/results/syntiant_9120_0v9_30mhz/kws/energy/results.txt; the measured 1.8 V rail
#: includes its DC/DC converter). Shown beside the modelled figures for scale. Unit: J.
MLPERF_TINY_BEST_KWS_J = 35.286e-6


def _pct(value: Any) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{100 * value:.2f} %"


def wilson_interval(accuracy: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval (fractions) of an accuracy measured on ``n`` clips."""
    if n <= 0:
        return (math.nan, math.nan)
    centre = (accuracy + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(accuracy * (1 - accuracy) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _acc_with_interval(row: dict[str, Any]) -> str:
    """``83.47 % [80.5, 86.1]`` (95 % Wilson interval over the test clips)."""
    n = row.get("test_clips")
    if not n:
        return _pct(row["test_acc"])
    low, high = wilson_interval(row["test_acc"], n)
    return f"{_pct(row['test_acc'])} [{100 * low:.1f}, {100 * high:.1f}]"


def _clips(rows: list[dict[str, Any]]) -> str:
    counts = sorted({r.get("test_clips") for r in rows if r.get("test_clips")})
    return " / ".join(f"{n:,}" for n in counts) or "an unknown number of"


def _masks(count: int) -> str:
    return f" with {count} frequency mask{'s' if count != 1 else ''}" if count else ""


def measured_energy_line(rows: list[dict[str, Any]]) -> str:
    """The host's measured training energy per run (RAPL/NVML), or why there is none."""
    measured = [r for r in rows if r.get("train_energy_measured_j") is not None]
    if not measured:
        reason = next((r.get("train_energy_meter") for r in rows if r.get("train_energy_meter")), "")
        return ("Measured energy of the host (this simulation machine, not the modelled hardware): "
                + (reason or "not measured") + ".")
    return ("Measured energy of the host running each training (this simulation machine, not the modelled "
            "hardware; whole package/GPU): " + ", ".join(
                f"`{r['preset']}` {_fmt_j(r['train_energy_measured_j'])} ({r['train_energy_meter']})" for r in measured) + ".")


def _compensation(config: Any) -> str:
    """How the drift columns were corrected, in words."""
    kind = {"global": "global drift compensation", "per_column": "per-column drift compensation",
            "none": "no drift compensation"}[getattr(config, "drift_compensation", "global")]
    pairs = getattr(config, "conductance_pairs", None) or 1
    if pairs > 1:
        kind += f", each weight in {pairs} differential pairs of PCM devices"
    batches = getattr(config, "recalibration_batches", 0)
    if batches:
        kind += (f", batch-norm statistics re-estimated on {batches} unlabelled training batches after each drift "
                 "time (Joshi et al., Nature Communications 11, 2473, 2020)")
    return kind


def _number(value: Any) -> bool:
    """True for a finite, non-zero number."""
    return isinstance(value, (int, float)) and math.isfinite(value) and value != 0


def comparison_markdown(rows: list[dict[str, Any]], config: Any) -> str:
    """A markdown report: accuracy (and after drift), energy, time, size per preset."""
    digital = next((r for r in rows if r["preset"] == "digital"), None)
    given = digital is not None and digital.get("started_from") == "given weights"
    budget = [f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"]
    finetune_epochs = getattr(config, "finetune_epochs", None)
    if getattr(config, "start_from_digital", None) and isinstance(finetune_epochs, dict):
        budget = ["fine-tuning " + ", ".join(f"{preset} {epochs}" for preset, epochs in finetune_epochs.items())
                  + " epochs"]
    elif getattr(config, "start_from_digital", None) and finetune_epochs:
        budget = [f"fine-tuning {finetune_epochs} epoch{'s' if finetune_epochs != 1 else ''}"]
    if given:
        budget.insert(0, "digital: given weights")
    lines = [
        f"# Keyword spotting: digital vs. PCM ({config.model} on {config.n_features} "
        f"{'MFCC' if getattr(config, 'features', 'mfcc') == 'mfcc' else 'log-mel bands'}"
        f"{_masks(getattr(config, 'freq_masks', 0))}, {', '.join(budget)}, "
        f"analog profile `{config.analog_profile}`, digital baseline `{config.digital_profile}`)",
        "",
        "| preset | update | test acc | after programming (1 s) | after 1 day | after 1 year | train energy (analog) | "
        "train energy (digital baseline) | energy / inference (analog) | energy / inference (digital) | "
        "fit wall time | train clips/s | vs digital | params | MACs |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        trained_here = r.get("started_from") != "given weights"
        speed = ""
        if (digital and r is not digital and _number(digital["train_clips_per_s"])
                and _number(r["train_clips_per_s"])):
            speed = f"{digital['train_clips_per_s'] / r['train_clips_per_s']:.1f}x slower"
        wall = f"{r['fit_wall_s']:.0f} s" if trained_here else "not trained here"
        clips = f"{r['train_clips_per_s']:.0f}" if trained_here and _number(r["train_clips_per_s"]) else "n/a"
        lines.append(
            f"| {r['preset']} | {r['update']} | {_acc_with_interval(r)} | {_pct(r.get('acc_after_1_s'))} | "
            f"{_pct(r.get('acc_after_1_day'))} | "
            f"{_pct(r.get('acc_after_1_year'))} | {_fmt_j(r['train_energy_analog_j'])} | "
            f"{_fmt_j(r['train_energy_digital_j'])} | {_fmt_j(r['inference_energy_analog_j'])} | "
            f"{_fmt_j(r['inference_energy_digital_j'])} | {wall} | "
            f"{clips} | {speed} | {r['parameters']:,} | {r['macs_per_inference']:,} |"
        )
    if given:
        lines += ["", f"`digital` was not trained in this run: its weights come from "
                      f"`{digital.get('weights_from') or 'the given file'}`; its test accuracy was measured here, and "
                      "its training energy is its recorded run's per-epoch steps priced on the digital baseline."]
    finetuned = [r for r in rows if r.get("started_from") == "digital"]
    if finetuned:
        source = "the given digital weights" if given else "the digital run's best weights"
        lines += [""] + [
            f"`{r['preset']}` started from {source} and was trained "
            f"{r['epochs']} more epoch{'s' if r['epochs'] != 1 else ''} on its preset (fine-tuning); "
            f"its training energy and wall time count only those epochs."
            for r in finetuned
        ]
    caveats = [r for r in rows if r.get("caveat")]
    lines += [""] + [f"`{r['preset']}`: {r['caveat']}" for r in caveats] if caveats else []
    lines += ["", energy_to_accuracy_markdown(rows)]
    lines += ["", measured_energy_line(rows)]
    lines += [
        "",
        f"For scale: the best measured keyword-spotting inference in MLPerf Tiny v0.7 (Syntiant NDP120 at 0.9 V) "
        f"used {_fmt_j(MLPERF_TINY_BEST_KWS_J)} per inference, for a whole system.",
        "",
        f"`test acc` is measured on {_clips(rows)} test clips, with its 95 % Wilson interval in brackets: "
        "differences inside the interval are noise. It is the trained network's accuracy (for `pcm_hwa`: the hardware-aware forward "
        "without programming noise); the drift columns program the weights onto PCM (programming "
        f"noise, read noise, drift, {_compensation(config)}) and average the test accuracy over "
        f"{getattr(config, 'drift_repeats', 'repeated')} programmings.",
        "",
        "Training energy counts every training batch the run processed (forward, backward, update); "
        "`digital baseline` prices the same workload on the digital profile. The digital row's "
        "energies come from the estimator applied to the same network and number of steps.",
    ]
    return "\n".join(lines)


def _target(rows: list[dict[str, Any]]) -> float | None:
    """The energy-to-accuracy target the rows were measured against (fraction), if any."""
    return next((r["target_acc"] for r in rows if r.get("target_acc") is not None), None)


def energy_to_accuracy_markdown(rows: list[dict[str, Any]]) -> str:
    """The training energy each preset spent to reach the target validation accuracy."""
    target = _target(rows)
    if target is None:
        return ("## Training energy at equal accuracy\n\nNo target accuracy: run the digital preset "
                "too, or give one (`--target-acc`).")
    lines = [
        "## Training energy at equal accuracy",
        "",
        f"Target: {100 * target:.2f} % validation accuracy"
        + (" (the digital run's best minus 1 point)." if any(r["preset"] == "digital" for r in rows) else "."),
        "A run that never reached it gets no energy figure: a cheap run that does not learn saves nothing.",
        "",
        "| preset | where training runs | best val acc | reached at epoch | training energy to target | "
        "same workload on digital baseline | total training energy | test acc per J |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        system_j = r["train_energy_digital_j"] if r["preset"] == "digital" else r["train_energy_analog_j"]
        reached = r.get("target_reached")
        epoch = "not reached" if reached is False else ("n/a" if reached is None else str(r["target_epoch"]))
        to_target = "not reached" if reached is False else _fmt_j(r.get("energy_to_target_j"))
        baseline = "not reached" if reached is False else _fmt_j(r.get("energy_to_target_digital_j"))
        per_j = r.get("test_acc_per_j")
        per_j_text = "n/a" if per_j is None or math.isnan(per_j) else f"{100 * per_j:.3g} %/J"
        lines.append(
            f"| {r['preset']} | {r.get('phases', '')} | {_pct(r.get('best_val_acc'))} | {epoch} | {to_target} | "
            f"{baseline} | {_fmt_j(system_j)} | {per_j_text} |"
        )
    lines += [
        "",
        "Energies are cumulative over the training epochs up to the first one whose validation "
        "accuracy reached the target: on the PCM system for PCM presets, on the digital baseline for "
        "`digital`. `test acc per J` is the final test accuracy over the whole run's training energy.",
    ]
    return "\n".join(lines)


def plot_accuracy_energy(rows: list[dict[str, Any]]) -> Any:
    """Validation accuracy against cumulative training energy (log x), one line per preset."""
    runs = {r["preset"]: [EpochEnergy.from_dict(e) for e in r.get("history", [])] for r in rows}
    return plot_accuracy_vs_energy(runs, target=_target(rows))


def plot_comparison(rows: list[dict[str, Any]]) -> Any:
    """Two panels: accuracy after drift per preset, and energy per inference / training."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11, 4))  # no pyplot: leaves the user's backend alone
    left, right = figure.subplots(1, 2)
    labels = ["1 s", "1 h", "1 day", "1 month", "1 year"]
    for r in rows:
        values = [r.get(f"acc_after_{label.replace(' ', '_')}") for label in labels]
        if any(v is not None for v in values):
            left.plot(labels, [100 * v if v is not None else math.nan for v in values], marker="o", label=r["preset"])
        else:
            left.axhline(100 * r["test_acc"], linestyle="--", label=f"{r['preset']} (no drift)", color="grey")
    left.set_ylabel("test accuracy (%)")
    left.set_xlabel("time after programming")
    left.set_title("Accuracy under drift")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)

    names = [r["preset"] for r in rows]
    x = range(len(rows))
    analog = [r["inference_energy_analog_j"] * 1e6 for r in rows]
    digital = [r["inference_energy_digital_j"] * 1e6 for r in rows]
    width = 0.38
    right.bar([i - width / 2 for i in x], analog, width, label="PCM (analog profile)")
    right.bar([i + width / 2 for i in x], digital, width, label="digital baseline")
    right.set_xticks(list(x), names, rotation=20)
    right.set_yscale("log")
    right.set_ylabel("energy per inference (µJ)")
    right.set_title("Energy per inference")
    right.legend(fontsize=8)
    figure.tight_layout()
    return figure

"""The system report: ablation table, stage breakdown, sensitivity, written atomically.

``system.json`` (everything), ``system.csv`` (the ablation rows), ``system.md`` (tables with the
assumptions and their sources), ``system_stages.png`` (energy per device-day by stage, per
configuration) and ``system_sensitivity.png`` (how far each assumption moves the combined factor).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any, Callable

from memtorch_power.io import save_figure, write_json, write_text
from memtorch_power.system.ablation import STAGES, Remedies, ablation, combination, device_day
from memtorch_power.system.parts import DetectorQuality, TrainingQuality, UnitCosts
from memtorch_power.system.scenario import SystemConfig

#: assumption -> how it is varied (a low and a high value from the scenario's one)
SENSITIVITY: dict[str, Callable[[float], tuple[float, float]]] = {
    "speech_hours_per_day": lambda v: (v / 4, min(24.0, v * 4)),
    "words_per_minute": lambda v: (v * 2 / 3, v * 4 / 3),
    "wake_events_per_day": lambda v: (v / 4, v * 4),
    "adc_j_per_sample": lambda v: (v / 4, v * 4),
    "federated_rounds_per_month": lambda v: (v / 4, v * 4),
    "training_clips_per_day": lambda v: (v / 4, v * 4),
}


def sensitivity(config: SystemConfig, costs: UnitCosts, detectors: dict[str, DetectorQuality | None]) -> list[dict[str, Any]]:
    """The combined configuration's factor (all three remedies against the baseline) when one
    assumption moves to a low and a high value, the others held; also the radio's energy per bit
    (x1/4, x4) and a digital detector instead of the PCM one."""
    def combined(cfg: SystemConfig, unit: UnitCosts, analog_detector: bool | None = None,
                 analog: DetectorQuality | None = None) -> float:
        base = sum(device_day(cfg, unit, Remedies(), detectors.get("digital")).values())
        together = sum(device_day(cfg, unit, Remedies(True, True, True), analog or detectors.get("analog"),
                                  analog_detector=analog_detector).values())
        return base / together

    reference = combined(config, costs)
    rows = []
    for name, vary in SENSITIVITY.items():
        value = getattr(config, name)
        low, high = vary(value)
        if name == "speech_hours_per_day":  # no more speech than listening
            high = min(high, config.listening_hours_per_day)
        rows.append({"assumption": name, "value": value, "low": low, "high": high,
                     "factor_low": combined(dataclasses.replace(config, **{name: low}), costs),
                     "factor_high": combined(dataclasses.replace(config, **{name: high}), costs)})
    radio = {f: getattr(costs, f) for f in ("tx_j_per_bit", "rx_j_per_bit")}
    rows.append({"assumption": "radio J/bit", "value": costs.tx_j_per_bit, "low": costs.tx_j_per_bit / 4,
                 "high": costs.tx_j_per_bit * 4,
                 "factor_low": combined(config, dataclasses.replace(costs, **{k: v / 4 for k, v in radio.items()})),
                 "factor_high": combined(config, dataclasses.replace(costs, **{k: v * 4 for k, v in radio.items()}))})
    analog = detectors.get("analog")
    if analog is not None:  # the measured false accepts per word, at the ends of their 95 % interval
        factors = [combined(config, costs, analog=dataclasses.replace(analog, false_accept_rate=rate))
                   for rate in analog.false_accept_interval]
        rows.append({"assumption": "detector false accepts per word (95 % interval)", "value": analog.false_accept_rate,
                     "low": analog.false_accept_interval[0], "high": analog.false_accept_interval[1],
                     "factor_low": factors[0], "factor_high": factors[1]})
    rows.append({"assumption": "detector PCM vs digital", "value": "PCM", "low": "digital", "high": "PCM",
                 "factor_low": combined(config, costs, analog_detector=False), "factor_high": reference})
    for row in rows:
        row["reference"] = reference
        row["swing"] = abs(math.log(row["factor_high"] / row["factor_low"]))
    return sorted(rows, key=lambda r: -r["swing"])


def _speech_rate(quality: DetectorQuality, config: SystemConfig) -> str:
    """``12 [0, 150]``: false alarms per hour of speech, and at the ends of the false-accept interval."""
    low, high = (quality.false_alarms_per_speech_hour(config.words_per_minute, rate) for rate in quality.false_accept_interval)
    return f"{quality.false_alarms_per_speech_hour(config.words_per_minute):.3g} [{low:.3g}, {high:.3g}]"


def _fmt(value: float | None, scale: float = 1.0, digits: str = ".3g", unit: str = "") -> str:
    return "not measured" if value is None else f"{value * scale:{digits}}{unit}"


def markdown(config: SystemConfig, costs: UnitCosts, rows: list[dict[str, Any]], summary: dict[str, Any],
             sensitivity_rows: list[dict[str, Any]], detectors: dict[str, DetectorQuality | None],
             training: dict[str, TrainingQuality | None]) -> str:
    """Every table of the report."""
    lines = [
        "# The three remedies together: energy of an always-listening fleet",
        "",
        f"{config.fleet_devices:,} devices, {config.listening_hours_per_day:g} h of listening a day. Energy per "
        "device-day (J) by stage for each combination of analog in-memory computing (A), wake-word gating (G) "
        "and federated learning (F); factor = baseline J / configuration J.",
        "",
        "| configuration | " + " | ".join(f"{s} (J)" for s in STAGES) + " | J/device-day | factor | J/fleet-year "
        "| raw audio out (MB/day) | hit rate | false alarms/day | KWS accuracy |",
        "|---|" + "---:|" * (len(STAGES) + 7),
    ]
    for row in rows:
        cells = [f"{row[f'{s}_j']:.3g}" for s in STAGES]
        lines.append(
            f"| {row['configuration']} | " + " | ".join(cells) + f" | {row['device_day_j']:.4g} | "
            f"{row['factor']:.3g}x | {row['fleet_year_j']:.3g} | {row['raw_audio_bytes_per_day'] / 1e6:.3g} | "
            f"{_fmt(row['hit_rate'], 100, '.1f', ' %')} | {_fmt(row['false_alarms_per_day'], 1, '.2g')} | "
            f"{_fmt(row['kws_accuracy'], 100, '.1f', ' %')} |")
    alone = summary["alone"]
    verdict = ("more than the product" if summary["synergy"] > 1.0 else "less than the product")
    lines += [
        "",
        f"Each remedy alone: analog {alone['analog']:.3g}x, gating {alone['gating']:.3g}x, federated "
        f"{alone['federated']:.3g}x; product {summary['product']:.3g}x; all three together "
        f"{summary['combined']:.3g}x: {verdict} (ratio {summary['synergy']:.3g}). All three leave "
        f"{100 * summary['dominant_share']:.0f} % of their energy in `{summary['dominant_stage']}`.",
        "",
        _why(rows, summary),
        "",
        "## Unit costs (energy estimator, radio and ADC models)",
        "",
        "| part | analog (PCM) | device digital | cloud digital |",
        "|---|---:|---:|---:|",
        f"| detector, J/window | {costs.window_j['analog']:.3g} | {costs.window_j['edge_digital']:.3g} | "
        f"{costs.window_j['cloud_digital']:.3g} |",
        f"| training, J/clip-epoch | {costs.training_clip_j['analog']:.3g} | {costs.training_clip_j['edge_digital']:.3g} | "
        f"{costs.training_clip_j['cloud_digital']:.3g} |",
        "",
        f"Re-programming the detector: {costs.reprogramming_j:.3g} J; a model transfer: {costs.model_bytes:,} bytes; "
        f"radio {costs.tx_j_per_bit * 1e9:.3g} nJ/bit sent, {costs.rx_j_per_bit * 1e9:.3g} nJ/bit received.",
        "",
        "## Measured parts",
        "",
        "A configuration whose detector was not measured is priced as sending every wake event and no false "
        "alarm, a lower bound on its energy.",
        "",
    ]
    for kind in ("analog", "digital"):
        quality = detectors.get(kind)
        lines.append(f"- {kind} detector: " + (
            "not measured" if quality is None else
            f"`{quality.preset}` at threshold {quality.threshold:g}: hit rate {100 * quality.hit_rate:.1f} % of "
            f"{quality.keywords} keywords; {100 * quality.false_accept_rate:.2g} % of {quality.distractors} spoken "
            f"other words set it off [95 %: {100 * quality.false_accept_interval[0]:.2g}, "
            f"{100 * quality.false_accept_interval[1]:.2g} %], so {_speech_rate(quality, config)} false alarms per "
            f"hour of speech at {config.words_per_minute:g} words/min; {quality.noise_false_alarms_per_hour:.2g} "
            f"false alarms/h on noise alone over {quality.stream_hours:.2g} h of stream ({quality.source})"))
    for kind in ("analog", "digital"):
        trained = training.get(kind)
        lines.append(f"- {kind} training: " + (
            "not measured" if trained is None else
            f"`{trained.preset}` nodes: federated {100 * trained.federated_acc:.1f} %, centralised "
            f"{_fmt(trained.centralised_acc, 100, '.1f', ' %')} test accuracy ({trained.source})"))
    lines += ["", "## Sensitivity of the combined factor", "",
              "| assumption | value | low | high | factor at low | factor at high |", "|---|---|---|---|---:|---:|"]
    for row in sensitivity_rows:
        values = " | ".join(f"{row[key]:.3g}" if isinstance(row[key], (int, float)) else str(row[key])
                            for key in ("value", "low", "high"))
        lines.append(f"| {row['assumption']} | {values} | {row['factor_low']:.3g}x | {row['factor_high']:.3g}x |")
    lines += ["", "## Assumptions", "", "| assumption | value | source |", "|---|---|---|"]
    for item in config.assumptions():
        lines.append(f"| {item['name']} | {item['value']} | {item['source']} |")
    return "\n".join(lines) + "\n"


def _why(rows: list[dict[str, Any]], summary: dict[str, Any]) -> str:
    """Where each single remedy leaves its energy, and so why the combination is or is not more
    than the product (computed from the rows)."""
    def dominant(row: dict[str, Any]) -> str:
        stage = max(STAGES, key=lambda s: row[f"{s}_j"])
        return f"{100 * row[f'{stage}_j'] / row['device_day_j']:.0f} % in `{stage}`"

    by_label = {row["configuration"]: row for row in rows}
    alone = "; ".join(f"{name} alone leaves {dominant(by_label[name])}" for name in ("analog", "gating", "federated"))
    if summary["synergy"] > 1.0:
        return (f"Why more than the product: {alone}. A remedy alone is held back by a stage that another "
                "remedy removes, so together each acts on what the others leave.")
    return (f"Why not more than the product: {alone}. Each remedy shrinks its own stages, so once one has "
            f"removed its share the others act on a smaller total; all three leave {dominant(by_label[' + '.join(('analog', 'gating', 'federated'))])}.")


def plot_stages(rows: list[dict[str, Any]]) -> Any:
    """Energy per device-day by stage (stacked, log scale) for each configuration."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 4.5))
    axis = figure.subplots()
    labels = [row["configuration"].replace(" + ", "+\n") for row in rows]
    bottom = [0.0] * len(rows)
    for stage in STAGES:
        values = [row[f"{stage}_j"] for row in rows]
        axis.bar(labels, values, bottom=bottom, label=stage)
        bottom = [b + v for b, v in zip(bottom, values)]
    axis.set_yscale("log")
    axis.set_ylabel("J per device-day")
    axis.set_title("Energy by stage, each combination of the remedies")
    axis.legend(fontsize=8)
    axis.tick_params(axis="x", labelsize=7)
    figure.tight_layout()
    return figure


def plot_sensitivity(rows: list[dict[str, Any]]) -> Any:
    """Tornado plot: the combined factor at each assumption's low and high value."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 0.5 * len(rows) + 1.5))
    axis = figure.subplots()
    reference = rows[0]["reference"] if rows else 1.0
    for index, row in enumerate(reversed(rows)):
        low, high = sorted((row["factor_low"], row["factor_high"]))
        axis.barh(index, high - low, left=low, color="tab:blue")
    axis.axvline(reference, color="black", linestyle="--", label=f"scenario: {reference:.3g}x")
    axis.set_yticks(range(len(rows)), [r["assumption"] for r in reversed(rows)], fontsize=8)
    axis.set_xscale("log")
    axis.set_xlabel("combined saving factor (all three remedies vs baseline)")
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def write_report(config: SystemConfig, costs: UnitCosts, detectors: dict[str, DetectorQuality | None],
                 training: dict[str, TrainingQuality | None], output_dir: str | Path) -> dict[str, Path]:
    """Compute the ablation and the sensitivity, write every file of the report (atomically)."""
    import csv
    import io

    rows = ablation(config, costs, detectors, training)
    summary = combination(rows)
    sensitive = sensitivity(config, costs, detectors)
    folder = Path(output_dir)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return {
        "json": write_json(folder / "system.json", {
            "config": dataclasses.asdict(config), "assumptions": config.assumptions(),
            "unit_costs": dataclasses.asdict(costs), "ablation": rows, "combination": summary,
            "sensitivity": sensitive,
            "measured": {"detectors": {k: dataclasses.asdict(v) for k, v in detectors.items() if v},
                         "training": {k: dataclasses.asdict(v) for k, v in training.items() if v}},
        }),
        "csv": write_text(folder / "system.csv", buffer.getvalue()),
        "markdown": write_text(folder / "system.md", markdown(config, costs, rows, summary, sensitive, detectors, training)),
        "stages": save_figure(plot_stages(rows), folder / "system_stages.png"),
        "sensitivity": save_figure(plot_sensitivity(sensitive), folder / "system_sensitivity.png"),
    }

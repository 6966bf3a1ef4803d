"""Threshold sweep of the gated pipeline as rows, a markdown table, a plot and JSON."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any


from matplotlib.figure import Figure

from memtorch_power.gating.detector import DetectionStats  # noqa: E402
from memtorch_power.gating.energy import PipelineCosts, always_on_energy, gated_energy  # noqa: E402
from memtorch_power.io import save_figure, write_json, write_text  # noqa: E402


def sweep_rows(stats: Sequence[DetectionStats], costs: PipelineCosts) -> list[dict[str, Any]]:
    """One row per threshold: detection quality, J per hour of both pipelines, savings
    (``always-on J / gated J``)."""
    rows = []
    for s in stats:
        always = always_on_energy(costs, s.duration_s, s.windows).per_hour(s.duration_s)
        gated = gated_energy(costs, s.duration_s, s.windows, s.flagged_windows, s.transmitted_s).per_hour(s.duration_s)
        rows.append({
            **s.as_dict(),
            "transmitted_fraction": s.transmitted_s / s.duration_s,
            "always_on_j_per_h": always.total_j,
            "gated_j_per_h": gated.total_j,
            "always_on": always.as_dict(),
            "gated": gated.as_dict(),
            "savings": always.total_j / gated.total_j if gated.total_j > 0 else math.inf,
        })
    return rows


def markdown(rows: Sequence[dict[str, Any]], meta: dict[str, Any]) -> str:
    """The sweep as a markdown table with the unit costs above it."""
    lines = [
        "# Wake-word gating: always-on vs gated",
        "",
        f"Stream: {meta['duration_s'] / 60:.1f} min{_chunks(meta)}, {meta['keywords']} keywords placed, "
        f"{meta['distractors']} distractor words; window {meta['window_s']} s, hop {meta['hop_s']} s, "
        f"refractory {meta['refractory_s']} s{_rule(meta)}. Detector `{meta['preset']}`.",
        f"Unit costs: ADC {meta['adc_j_per_sample'] * 1e12:.2f} pJ/sample, radio `{meta['link']}` "
        f"{meta['tx_j_per_bit'] * 1e9:.2f} nJ/bit, detector {meta['detector_j_per_window'] * 1e9:.2f} nJ/window, "
        f"server {meta['server_j_per_window'] * 1e9:.2f} nJ/window.",
        "",
        "| threshold | hit rate [95 % interval] | false alarms/h [95 % interval] | other words set off "
        "[95 % interval] | false alarms on noise | audio sent | always-on J/h | gated J/h | savings |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['threshold']:.2f} | {_hit_rate(r)} | {_false_alarms(r)} | {_false_accepts(r)} | "
            f"{r.get('false_alarms_on_noise', 0)} | {100 * r['transmitted_fraction']:.1f} % | "
            f"{r['always_on_j_per_h']:.3g} | {r['gated_j_per_h']:.3g} | {r['savings']:.1f}x |"
        )
    lines += ["", "Savings = always-on energy / gated energy per hour of audio; sources in docs/edge_to_cloud.md. "
              "Intervals: Wilson over the placed keywords (hit rate) and other words (other words set off: "
              "the detector's false accepts per spoken non-keyword), exact Poisson over the stream's hours "
              "(false alarms)."]
    return "\n".join(lines) + "\n"


def _rule(meta: dict[str, Any]) -> str:
    """``, posteriors averaged over 3 windows, 2 flagged windows per detection`` (empty: the defaults)."""
    smooth, windows = int(meta.get("smooth_windows", 1)), int(meta.get("min_windows", 1))
    return (f", posteriors averaged over {smooth} windows" if smooth > 1 else "") + \
        (f", {windows} flagged windows per detection" if windows > 1 else "")


def _chunks(meta: dict[str, Any]) -> str:
    chunks = int(meta.get("chunks", 1))
    return f" (built and scored in {chunks} chunks)" if chunks > 1 else ""


def _hit_rate(row: dict[str, Any]) -> str:
    """``0.912 (52/57) [0.81, 0.96]``; ``n/a`` for a stream without keywords."""
    if not row["keywords"]:
        return "n/a (no keywords)"
    low, high = row.get("hit_rate_interval", (math.nan, math.nan))
    return f"{row['hit_rate']:.3f} ({row['hits']}/{row['keywords']}) [{low:.2f}, {high:.2f}]"


def _false_alarms(row: dict[str, Any]) -> str:
    """``1.5 (3) [0.31, 4.4]``: per hour, the count, and the interval per hour."""
    low, high = row.get("false_alarms_per_hour_interval", (math.nan, math.nan))
    return f"{row['false_alarms_per_hour']:.2f} ({row['false_alarms']}) [{low:.2g}, {high:.2g}]"


def _false_accepts(row: dict[str, Any]) -> str:
    """``0.110 (20/182) [0.072, 0.16]``; ``n/a`` for a stream without other words."""
    if not row.get("distractors"):
        return "n/a (no other words)"
    low, high = row["false_accept_rate_interval"]
    return f"{row['false_accept_rate']:.3f} ({row['distractors_triggered']}/{row['distractors']}) [{low:.2g}, {high:.2g}]"


def plot(rows: Sequence[dict[str, Any]]) -> Figure:
    """Savings and hit rate against the threshold, and the savings/detection trade-off."""
    fig = Figure(figsize=(10, 4))
    ax_t, ax_tr = fig.subplots(1, 2)
    thresholds = [r["threshold"] for r in rows]
    ax_t.plot(thresholds, [r["savings"] for r in rows], "o-", color="tab:green", label="energy savings")
    ax_t.set(xlabel="threshold", ylabel="savings (always-on / gated)", yscale="log", title="savings and detection")
    ax_hit = ax_t.twinx()
    ax_hit.plot(thresholds, [r["hit_rate"] for r in rows], "s--", color="tab:blue", label="hit rate")
    ax_hit.set(ylabel="hit rate", ylim=(0, 1.05))
    ax_t.legend(loc="upper left")
    ax_hit.legend(loc="lower left")
    ax_tr.plot([r["hit_rate"] for r in rows], [r["savings"] for r in rows], "o-")
    for r in rows:
        ax_tr.annotate(f"{r['threshold']:.2f}", (r["hit_rate"], r["savings"]), fontsize=7)
    ax_tr.set(xlabel="hit rate", ylabel="savings", yscale="log", title="what the savings cost")
    for ax in (ax_t, ax_tr):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def write_gating_report(run_dir: str | os.PathLike[str], rows: Sequence[dict[str, Any]],
                        meta: dict[str, Any]) -> dict[str, Path]:
    """Write ``gating.json``, ``gating.md`` and ``gating.png`` into ``run_dir``."""
    run_dir = Path(run_dir)
    paths = {
        "json": write_json(run_dir / "gating.json", {"meta": meta, "sweep": list(rows)}),
        "markdown": write_text(run_dir / "gating.md", markdown(rows, meta)),
    }
    figure = plot(rows)
    paths["png"] = save_figure(figure, run_dir / "gating.png")
    return paths


__all__ = ["markdown", "plot", "sweep_rows", "write_gating_report"]

"""Stacked-bar plot of an :class:`~memtorch_power.energy.report.EnergyReport`."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from memtorch_power.energy.rows import PHASES

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from memtorch_power.energy.rows import ReportView

_PHASE_COLOURS = {"forward": "#4c72b0", "backward": "#dd8452", "update": "#55a868"}


def plot_report(report: "ReportView", path: str | os.PathLike[str] | None = None) -> "Figure":
    """Per layer, two stacked bars (analog system, digital baseline) split by phase, in J.

    Uses a log energy axis when the layers span more than three decades. Saved to ``path``
    (any matplotlib format) if given. Returns the Figure (no pyplot state is touched).
    """
    from matplotlib.figure import Figure  # matplotlib only when a plot is asked for

    layers = report.layers
    figure = Figure(figsize=(max(6.0, 0.9 * len(layers) + 2.0), 4.5), layout="constrained")
    axes = figure.add_subplot()
    width = 0.38
    positions = range(len(layers))
    for offset, side, hatch in ((-width / 2, "analog", ""), (width / 2, "digital", "//")):
        bottom = [0.0] * len(layers)
        for phase in PHASES:
            values = [getattr(layer, side + "_j")(phase) for layer in layers]
            if not any(values):
                continue
            axes.bar([p + offset for p in positions], values, width, bottom=bottom, hatch=hatch,
                     color=_PHASE_COLOURS[phase], edgecolor="black", linewidth=0.4,
                     label=f"{side} {phase}")
            bottom = [b + v for b, v in zip(bottom, values)]
    totals = [max(layer.analog_j(), layer.digital_j()) for layer in layers]
    positive = [t for t in totals if t > 0]
    if positive and max(positive) / min(positive) > 1e3:
        axes.set_yscale("log")
    axes.set_xticks(list(positions), [layer.name for layer in layers], rotation=45, ha="right")
    axes.set_ylabel("energy (J)")
    mode = "training" if report.training else "inference"
    axes.set_title(
        f"{mode}: '{report.analog_profile}' (plain) vs '{report.digital_profile}' (hatched), "
        f"savings {report.savings:.3g}x"
    )
    axes.legend(fontsize="small", ncols=2)
    if path is not None:
        figure.savefig(os.fspath(path), dpi=120)
    return figure

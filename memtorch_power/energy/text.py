"""Plain-text rendering of an :class:`~memtorch_power.energy.report.EnergyReport`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from memtorch_power.energy.rows import ReportView

_PREFIXES = ((1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ"), (1e-15, "fJ"))


def format_joules(joules: float) -> str:
    """``1.23e-9`` -> ``"1.23 nJ"`` (0 -> ``"0"``)."""
    if joules == 0:
        return "0"
    if not math.isfinite(joules):
        return str(joules)
    for scale, unit in _PREFIXES:
        if abs(joules) >= scale:
            return f"{joules / scale:.3g} {unit}"
    return f"{joules / 1e-15:.3g} fJ"


def format_count(count: float) -> str:
    """``1234567`` -> ``"1.23M"``."""
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(count) >= scale:
            return f"{count / scale:.3g}{suffix}"
    return f"{count:.3g}" if isinstance(count, float) and not float(count).is_integer() else str(int(count))


def format_savings(factor: float) -> str:
    """``12.345`` -> ``"12.3x"``."""
    return "inf" if math.isinf(factor) else f"{factor:.3g}x"


def render_text(report: "ReportView") -> str:
    """Fixed-width table: one line per layer, then totals and notes."""
    mode = "training" if report.training else "inference"
    size = f", batch size {report.batch_size}" if report.batch_size else ""
    header = (
        f"Energy ({mode}, {report.batches} batch(es){size}): analog '{report.analog_profile}' "
        f"vs digital '{report.digital_profile}' (analog system's digital layers on: "
        f"{report.digital_layers_on})"
    )
    columns = ("layer", "kind", "on", "shape", "tiles", "MACs", "MVMs f/b", "analog f/b/u", "analog",
               "digital", "savings")
    rows = [columns]
    for layer in report.layers:
        phases = "/".join(format_joules(layer.analog_j(p)) for p in ("forward", "backward", "update"))
        costs = layer.analog_j() > 0 or layer.digital_j() > 0
        rows.append((
            layer.name + ("" if layer.exact else " ~"), layer.kind, layer.runs_on or "-", layer.shape,
            str(layer.tiles) if layer.tiles else "-", format_count(layer.macs_forward),
            f"{format_count(layer.mvms_forward)}/{format_count(layer.mvms_backward)}",
            phases if report.training else format_joules(layer.analog_j("forward")),
            format_joules(layer.analog_j()), format_joules(layer.digital_j()),
            format_savings(layer.savings) if costs else "-",
        ))
    totals = report.totals()
    rows.append((
        "TOTAL", "", "", "", str(totals["tiles"]), format_count(totals["macs_forward"]),
        f"{format_count(totals['mvms_forward'])}/{format_count(totals['mvms_backward'])}",
        "/".join(format_joules(report.analog_j(p)) for p in ("forward", "backward", "update"))
        if report.training else format_joules(report.analog_j("forward")),
        format_joules(report.analog_j()), format_joules(report.digital_j()),
        format_savings(report.savings),
    ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(columns))]
    lines = [header]
    for index, row in enumerate(rows):
        if index in (1, len(rows) - 1):
            lines.append("  ".join("-" * w for w in widths))
        lines.append("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    lines.append(f"programming the analog weights once: {format_joules(report.programming_j)}")
    if any(not layer.exact for layer in report.layers):
        lines.append("~ no counting rule: one operation per output element assumed")
    lines.extend(f"note: {note}" for note in report.notes)
    return "\n".join(lines)

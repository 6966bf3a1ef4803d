"""``EnergyReport``: per-layer rows and totals, as a table, a DataFrame, CSV, JSON or a plot.

Energies are in joules (J); MACs, MVMs, operations and pulses are counts. The *savings
factor* of a row is ``digital_j / analog_j`` (how many times less energy the analog system
needs than the digital baseline for that layer).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from memtorch_power.energy.plotting import plot_report
from memtorch_power.energy.rows import PHASES, LayerEnergy, _ratio, _sum
from memtorch_power.energy.text import render_text
from memtorch_power.io import write_text

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

@dataclass
class EnergyReport:
    """Energy of a workload on an analog PCM system against a digital baseline.

    Attributes:
        layers: one :class:`LayerEnergy` per counted layer, in module order.
        analog_profile, digital_profile: names of the profiles used.
        training: whether backward and update phases are included.
        batches: batches (or optimizer steps) the report covers.
        batch_size: samples per batch, when known.
        programming_j: one-off energy to program the analog weights (not in the totals).
        notes: assumptions and caveats that apply to this report.
        digital_layers_on: where the analog system runs its layers that are not analog
            (``"periphery"``: the analog chip's digital periphery; ``"baseline"``: the digital profile).
    """

    layers: list[LayerEnergy]
    analog_profile: str
    digital_profile: str
    training: bool
    batches: int
    batch_size: int | None = None
    programming_j: float = 0.0
    notes: list[str] = field(default_factory=list)
    digital_layers_on: str = "periphery"

    # -- totals -------------------------------------------------------------------------------
    def analog_j(self, phase: str | None = None) -> float:
        """Total energy on the analog system in J (one phase, or all)."""
        return math.fsum(layer.analog_j(phase) for layer in self.layers)

    def digital_j(self, phase: str | None = None) -> float:
        """Total energy on the digital baseline in J (one phase, or all)."""
        return math.fsum(layer.digital_j(phase) for layer in self.layers)

    @property
    def savings(self) -> float:
        """``digital_j / analog_j`` over the whole workload."""
        return _ratio(self.digital_j(), self.analog_j())

    def layer(self, name: str) -> LayerEnergy:
        """The row of layer ``name``.

        Raises:
            KeyError: naming the known layers.
        """
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(f"no layer {name!r} in the report; layers: {[l.name for l in self.layers]}")

    def totals(self) -> dict[str, Any]:
        """Totals: J per phase for both systems, savings, MACs, MVMs, pulses, programming."""
        out: dict[str, Any] = {}
        for side in ("analog", "digital"):
            for phase in PHASES:
                out[f"{side}_{phase}_j"] = getattr(self, side + "_j")(phase)
            out[f"{side}_j"] = getattr(self, side + "_j")()
        out["savings"] = self.savings
        for key in ("macs_forward", "macs_backward", "ops", "mvms_forward", "mvms_backward", "tiles"):
            out[key] = sum(getattr(layer, key) for layer in self.layers)
        out["pcm_pulses"] = math.fsum(layer.pcm_pulses for layer in self.layers)
        out["programming_j"] = self.programming_j
        return out

    def meta(self) -> dict[str, Any]:
        """Profiles, mode, batches, batch size and notes."""
        return {
            "analog_profile": self.analog_profile, "digital_profile": self.digital_profile,
            "training": self.training, "batches": self.batches, "batch_size": self.batch_size,
            "digital_layers_on": self.digital_layers_on, "notes": list(self.notes),
        }

    # -- exports ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """``{"meta", "layers" (rows with per-phase components), "totals"}``, JSON-ready."""
        layers = []
        for layer in self.layers:
            row = layer.as_row()
            row["analog_components"] = {p: dict(v) for p, v in layer.analog.items()}
            row["digital_components"] = {p: dict(v) for p, v in layer.digital.items()}
            layers.append(row)
        return {"meta": self.meta(), "layers": layers, "totals": self.totals()}

    def to_dataframe(self) -> "pandas.DataFrame":
        """One row per layer (see :meth:`LayerEnergy.as_row`); missing components are 0 J."""
        import pandas as pd

        frame = pd.DataFrame([layer.as_row() for layer in self.layers])
        energy_cols = [c for c in frame.columns if c.endswith("_j")]
        frame[energy_cols] = frame[energy_cols].fillna(0.0)
        return frame

    def to_csv(self, path: str | os.PathLike[str]) -> Path:
        """Write the per-layer table as CSV (atomically) and return the path."""
        text = self.to_dataframe().to_csv(index=False)
        return write_text(path, text)

    def to_json(self, path: str | os.PathLike[str]) -> Path:
        """Write :meth:`to_dict` as JSON (atomically) and return the path."""
        text = json.dumps(_finite(self.to_dict()), indent=2)
        return write_text(path, text + "\n")

    def to_text(self) -> str:
        """A readable fixed-width table with totals."""
        return render_text(self)

    def __str__(self) -> str:
        return self.to_text()

    def plot(self, path: str | os.PathLike[str] | None = None) -> "Figure":
        """Stacked bars per layer (analog vs digital, by phase); saved to ``path`` if given."""
        return plot_report(self, path)


def _finite(value: Any) -> Any:
    """Replace inf/nan (not valid JSON) by strings."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value

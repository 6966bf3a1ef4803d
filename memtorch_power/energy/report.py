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

from memtorch_power.io import write_text

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

PHASES = ("forward", "backward", "update")


@dataclass(frozen=True)
class LayerEnergy:
    """One layer of an :class:`EnergyReport`.

    Attributes:
        name, kind, type_name: module name, ``"analog"``/``"digital"``, class name.
        preset, update: analog preset and its update mode (``None`` for digital layers).
        shape: matrix ``rows x cols`` (analog) or ``[in]->[out]`` shapes (digital).
        tiles: physical arrays used (0 for digital layers); utilisation: their filled fraction.
        adds_per_output: digital additions per output combining the partial sums of the tiles
            a column spans (``ceil(rows / array_rows) - 1``).
        macs_forward, macs_backward: MACs of the forward, and of input- plus weight-gradients.
        ops: elementwise (non-MAC) operations of the forward.
        mvms_forward: MVMs (per group) of the forward; mvms_backward: transposed MVMs run on
            the arrays (0 when the backward is digital).
        weight_updates: optimizer steps applied to the layer.
        pcm_pulses: PCM pulses of the updates; pulses_measured: measured (True) or expected.
        exact: False if the layer had no counting rule (one op per output element assumed).
        analog, digital: phase -> component -> J on the analog system / the digital baseline.
        runs_on: where the analog system runs the layer's forward: ``"pcm"`` (arrays),
            ``"periphery"`` (the analog chip's digital periphery), ``"baseline"`` (the digital
            profile), ``"folded"`` (a batch norm folded into the layer before it, 0 J at
            inference) or ``"free"`` (nothing to do: dropout at inference, views).
    """

    name: str
    kind: str
    type_name: str
    preset: str | None
    update: str | None
    shape: str
    tiles: int
    utilisation: float | None
    adds_per_output: int
    macs_forward: int
    macs_backward: int
    ops: int
    mvms_forward: int
    mvms_backward: int
    weight_updates: int
    pcm_pulses: float
    pulses_measured: bool
    exact: bool
    analog: Mapping[str, Mapping[str, float]]
    digital: Mapping[str, Mapping[str, float]]
    runs_on: str = ""
    transfer_reads: int = 0

    def analog_j(self, phase: str | None = None) -> float:
        """Energy on the analog system in J (one phase, or all)."""
        return _sum(self.analog, phase)

    def digital_j(self, phase: str | None = None) -> float:
        """Energy on the digital baseline in J (one phase, or all)."""
        return _sum(self.digital, phase)

    @property
    def savings(self) -> float:
        """``digital_j / analog_j`` (``inf`` if the analog energy is 0)."""
        return _ratio(self.digital_j(), self.analog_j())

    def components(self, side: str) -> dict[str, float]:
        """Component -> J summed over phases, for ``side`` ``"analog"`` or ``"digital"``."""
        out: dict[str, float] = {}
        for parts in getattr(self, side).values():
            for name, joules in parts.items():
                out[name] = out.get(name, 0.0) + joules
        return out

    def as_row(self) -> dict[str, Any]:
        """Flat dictionary: counts, J per phase and per component for both systems."""
        row: dict[str, Any] = {
            "name": self.name, "kind": self.kind, "type": self.type_name, "preset": self.preset,
            "update": self.update, "shape": self.shape, "tiles": self.tiles,
            "utilisation": self.utilisation, "adds_per_output": self.adds_per_output,
            "macs_forward": self.macs_forward,
            "macs_backward": self.macs_backward, "ops": self.ops,
            "mvms_forward": self.mvms_forward, "mvms_backward": self.mvms_backward,
            "weight_updates": self.weight_updates, "pcm_pulses": self.pcm_pulses,
            "pulses_measured": self.pulses_measured, "exact": self.exact, "runs_on": self.runs_on,
        }
        for side in ("analog", "digital"):
            for phase in PHASES:
                row[f"{side}_{phase}_j"] = getattr(self, side + "_j")(phase)
            row[f"{side}_j"] = getattr(self, side + "_j")()
        row["savings"] = self.savings
        for side in ("analog", "digital"):
            for name, joules in sorted(self.components(side).items()):
                row[f"{side}_{name}_j"] = joules
        return row


def _sum(energy: Mapping[str, Mapping[str, float]], phase: str | None) -> float:
    if phase is not None and phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r}; phases: {', '.join(PHASES)}")
    phases = PHASES if phase is None else (phase,)
    return math.fsum(j for p in phases for j in energy.get(p, {}).values())


def _ratio(num: float, den: float) -> float:
    return num / den if den > 0 else (math.inf if num > 0 else 1.0)


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
        from memtorch_power.energy.text import render_text

        return render_text(self)

    def __str__(self) -> str:
        return self.to_text()

    def plot(self, path: str | os.PathLike[str] | None = None) -> "Figure":
        """Stacked bars per layer (analog vs digital, by phase); saved to ``path`` if given."""
        from memtorch_power.energy.plotting import plot_report

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

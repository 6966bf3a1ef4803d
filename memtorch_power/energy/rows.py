"""``LayerEnergy``: one priced layer, the row that pricing hands to the report.

Also the :class:`ReportView` protocol, what the renderers (:mod:`~memtorch_power.energy.text`,
:mod:`~memtorch_power.energy.plotting`) read of a report, so they need not import it.
Energies in joules (J).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, Protocol, Sequence

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




class ReportView(Protocol):
    """What renderers read of an :class:`~memtorch_power.energy.report.EnergyReport`."""

    layers: Sequence[LayerEnergy]
    analog_profile: str
    digital_profile: str
    training: bool
    batches: int
    batch_size: int | None
    programming_j: float
    notes: list[str]
    digital_layers_on: str

    @property
    def savings(self) -> float: ...

    def analog_j(self, phase: str | None = None) -> float: ...

    def digital_j(self, phase: str | None = None) -> float: ...

    def totals(self) -> dict[str, Any]: ...

"""Training energy against accuracy: what a run spent to reach a given accuracy.

A training-energy figure means nothing without the accuracy it bought: a preset that trains on
a tenth of the energy but never learns has saved nothing. :class:`EpochEnergy` is one row of a
run's per-epoch log (written by :class:`~memtorch_power.energy.EnergyMonitor`), and
:func:`energy_to_accuracy` reads off the cumulative energy at the first epoch whose validation
accuracy reached a target, or says that the run never reached it.

Energies are in joules (J), accuracies are fractions (0.85 = 85 %).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass(frozen=True)
class EpochEnergy:
    """One training epoch: its energy, the energy so far, and the accuracy reached after it.

    Attributes:
        epoch: 0-based epoch index.
        step: optimizer steps taken so far (after this epoch).
        analog_j: training energy of this epoch on the analog system (J); ``None`` for a run
            that has no analog layer (a digital model).
        digital_j: the same workload on the digital baseline (J).
        cumulative_analog_j, cumulative_digital_j: energy of every epoch so far (J).
        accuracy: the monitored validation metric after this epoch (``None`` when no
            validation ran in this epoch).
    """

    epoch: int
    step: int
    analog_j: float | None
    digital_j: float
    cumulative_analog_j: float | None
    cumulative_digital_j: float
    accuracy: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: Mapping[str, Any]) -> "EpochEnergy":
        """Read a row written by :meth:`as_dict` (extra keys are ignored).

        Raises:
            ValueError: naming the first missing key.
        """
        missing = [name for name in cls.__dataclass_fields__ if name not in row]
        if missing:
            raise ValueError(f"epoch energy row lacks {missing[0]!r}: {dict(row)}")
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})


def next_epoch(previous: EpochEnergy | None, epoch: int, step: int, analog_j: float | None, digital_j: float,
               accuracy: float | None) -> EpochEnergy:
    """The log row of one more epoch: its energies (J) added to ``previous``'s cumulative ones
    (the analog column stays ``None`` once an epoch had none)."""
    analog_before = 0.0 if previous is None else previous.cumulative_analog_j
    digital_before = 0.0 if previous is None else previous.cumulative_digital_j
    cumulative_analog = None if analog_j is None or analog_before is None else analog_before + analog_j
    return EpochEnergy(epoch, step, analog_j, digital_j, cumulative_analog, digital_before + digital_j, accuracy)


def accumulate(epochs: Iterable[tuple[int, int, float | None, float, float | None]]) -> list[EpochEnergy]:
    """Build the per-epoch log from ``(epoch, step, analog_j, digital_j, accuracy)`` tuples,
    summing the energies into the cumulative columns (J)."""
    rows: list[EpochEnergy] = []
    for epoch, step, analog_j, digital_j, accuracy in epochs:
        rows.append(next_epoch(rows[-1] if rows else None, epoch, step, analog_j, digital_j, accuracy))
    return rows


@dataclass(frozen=True)
class EnergyToAccuracy:
    """The energy a run needed to reach a target accuracy.

    Attributes:
        target: the accuracy to reach (fraction).
        reached: whether any epoch reached it.
        epoch: first epoch (0-based) whose accuracy was >= target; ``None`` if not reached.
        analog_j, digital_j: cumulative training energy up to and including that epoch, on the
            analog system and on the digital baseline (J); ``None`` if not reached.
        best_accuracy: the best accuracy of the run (fraction).
    """

    target: float
    reached: bool
    epoch: int | None
    analog_j: float | None
    digital_j: float | None
    best_accuracy: float | None

    def text(self, energy: str = "analog") -> str:
        """``"2.1 J at epoch 7"`` or ``"not reached (best 79.1 %)"``."""
        if not self.reached:
            best = "n/a" if self.best_accuracy is None else f"{100 * self.best_accuracy:.1f} %"
            return f"not reached (best {best})"
        value = self.analog_j if energy == "analog" else self.digital_j
        return f"{format_joules(value)} at epoch {self.epoch}"


def energy_to_accuracy(history: Sequence[EpochEnergy], target: float) -> EnergyToAccuracy:
    """The cumulative energy at the first epoch whose accuracy reached ``target``.

    Args:
        history: the run's per-epoch log, in epoch order.
        target: accuracy to reach, as a fraction in (0, 1].

    Raises:
        ValueError: for a target outside (0, 1].
    """
    if not 0.0 < target <= 1.0:
        raise ValueError(f"target accuracy must be a fraction in (0, 1], got {target}")
    accuracies = [row.accuracy for row in history if row.accuracy is not None]
    best = max(accuracies) if accuracies else None
    for row in history:
        if row.accuracy is not None and row.accuracy >= target:
            return EnergyToAccuracy(target, True, row.epoch, row.cumulative_analog_j, row.cumulative_digital_j, best)
    return EnergyToAccuracy(target, False, None, None, None, best)


def history_csv(history: Sequence[EpochEnergy]) -> str:
    """The per-epoch log as CSV text (one row per epoch, empty cells for ``None``)."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(EpochEnergy.__dataclass_fields__), lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: "" if v is None else v for k, v in row.as_dict().items()})
    return buffer.getvalue()


def format_joules(value: float | None) -> str:
    """Energy with an SI prefix (J); ``"n/a"`` for None or NaN."""
    if value is None or math.isnan(value):
        return "n/a"
    for factor, unit in ((1, "J"), (1e-3, "mJ"), (1e-6, "µJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value:.3g} J"


def plot_accuracy_vs_energy(
    runs: Mapping[str, Sequence[EpochEnergy]], target: float | None = None, use: Mapping[str, str] | None = None
) -> "Figure":
    """Validation accuracy against cumulative training energy (log x), one line per run.

    Args:
        runs: label -> per-epoch log.
        target: accuracy drawn as a horizontal line (fraction), if given.
        use: label -> ``"analog"`` or ``"digital"``: which energy to plot for that run (default:
            analog where the run has it, else its digital baseline).
    """
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.5, 4.2))  # no pyplot: leaves the user's backend alone
    axes = figure.subplots()
    for label, history in runs.items():
        kind = (use or {}).get(label) or ("analog" if history and history[0].analog_j is not None else "digital")
        points = [(row.cumulative_analog_j if kind == "analog" else row.cumulative_digital_j, row.accuracy)
                  for row in history if row.accuracy is not None]
        points = [(x, y) for x, y in points if x is not None and x > 0]
        if points:
            axes.plot([x for x, _ in points], [100 * y for _, y in points], marker=".",
                      label=f"{label} ({'PCM system' if kind == 'analog' else 'digital baseline'})")
    if target is not None:
        axes.axhline(100 * target, color="grey", linestyle="--", linewidth=1,
                     label=f"target {100 * target:.1f} %")
    axes.set_xscale("log")
    axes.set_xlabel("cumulative training energy (J)")
    axes.set_ylabel("validation accuracy (%)")
    axes.set_title("Accuracy bought per joule of training")
    axes.grid(alpha=0.3, which="both")
    axes.legend(fontsize=8)
    figure.tight_layout()
    return figure


__all__ = [
    "EnergyToAccuracy",
    "EpochEnergy",
    "accumulate",
    "energy_to_accuracy",
    "format_joules",
    "history_csv",
    "next_epoch",
    "plot_accuracy_vs_energy",
]

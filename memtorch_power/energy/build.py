"""Assemble an :class:`EnergyReport` from counted workload (shared by ``estimate`` and the monitor)."""

from __future__ import annotations

from memtorch_power.energy.counting import LayerCounts, LayerInfo
from memtorch_power.energy.pricing import layer_energy, programming_energy_pj
from memtorch_power.energy.profiles import AnalogProfile, DigitalProfile
from memtorch_power.energy.report import EnergyReport


def build_report(
    infos: dict[str, LayerInfo],
    counts: dict[str, LayerCounts],
    analog: AnalogProfile,
    digital: DigitalProfile,
    training: bool,
    batches: int,
    batch_size: int | None,
    pulses_per_weight_step: float,
) -> EnergyReport:
    """Price every layer that ran at least once and collect the notes that apply."""
    rows = [
        layer_energy(infos[name], c, analog, digital, training, pulses_per_weight_step)
        for name, c in counts.items()
        if c.forward.calls > 0
    ]
    ran = {row.name for row in rows}
    programming_pj = sum(programming_energy_pj(infos[name], analog) for name in ran)
    notes = report_notes(infos, counts, analog, digital, training, pulses_per_weight_step)
    return EnergyReport(rows, analog.name, digital.name, training, batches, batch_size,
                        programming_pj * 1e-12, notes)


def report_notes(
    infos: dict[str, LayerInfo],
    counts: dict[str, LayerCounts],
    analog: AnalogProfile,
    digital: DigitalProfile,
    training: bool,
    pulses_per_weight_step: float,
) -> list[str]:
    """The assumptions that matter for this model, in words."""
    notes: list[str] = []
    ran = [infos[n] for n, c in counts.items() if c.forward.calls > 0]
    analog_infos = [i for i in ran if i.kind == "analog"]
    idle = [n for n, c in counts.items() if c.forward.calls == 0 and infos[n].kind == "analog"]
    if idle:
        notes.append(f"analog layers never called, not counted: {', '.join(idle)}")
    sizes = {(i.traits.array_rows, i.traits.array_cols) for i in analog_infos if i.traits}
    own = (analog.array_rows, analog.array_cols)
    if sizes - {own}:
        text = ", ".join(f"{r}x{c}" for r, c in sorted(sizes))
        notes.append(
            f"tiles are counted on the profile's {own[0]}x{own[1]} arrays; the presets simulate "
            f"{text} tiles (hardware governs energy)"
        )
    digital_update = sorted({i.preset or "" for i in analog_infos if i.update == "digital"})
    if training and digital_update:
        notes.append(
            f"preset(s) {', '.join(digital_update)} train digitally: backward and optimizer step "
            f"on '{digital.name}', forward on PCM; inference runs on PCM after programming the "
            "weights once (programming_j, not in the totals)"
        )
    pulsed = [i for i in analog_infos if i.update in ("in_memory", "mixed_precision")]
    if training and pulsed:
        measured = [i.name for i in pulsed if counts[i.name].pulses is not None]
        expected = [i.name for i in pulsed if counts[i.name].pulses is None]
        if measured:
            notes.append(
                "PCM pulses measured as sum |dW|/dw_min per optimizer step (net change: a lower "
                f"bound on pulses) for {', '.join(measured)}"
            )
        if expected:
            notes.append(
                f"PCM pulses assumed at {pulses_per_weight_step:g} per weight per optimizer step "
                f"for {', '.join(expected)} (measure them with EnergyMonitor)"
            )
    if any(i.kind == "digital" for i in ran):
        notes.append(
            f"layers that are not analog run on '{digital.name}' in both systems (savings 1x)"
        )
    rough = sorted({i.type_name for i in ran if not i.exact})
    if rough:
        notes.append(f"no counting rule for {', '.join(rough)}: one op per output element assumed")
    notes.append("functional operations inside forward() (F.relu, residual adds) are not counted")
    return notes

"""Assemble an :class:`EnergyReport` from counted workload (shared by ``estimate`` and the monitor)."""

from __future__ import annotations

from typing import Sequence

from memtorch_power.energy.counting import LayerCounts, LayerInfo
from memtorch_power.energy.pricing import DIGITAL_PLACEMENTS, layer_energy, programming_energy_pj
from memtorch_power.energy.profiles import AnalogProfile, DigitalProfile
from memtorch_power.energy.report import EnergyReport, LayerEnergy
from memtorch_power.presets import PHASE_PLACEMENT, PULSED_UPDATES


def check_placement(digital_layers_on: str, where: str) -> str:
    """Validate ``digital_layers_on`` (``"periphery"`` or ``"baseline"``).

    Raises:
        ValueError: naming the allowed values.
    """
    if digital_layers_on not in DIGITAL_PLACEMENTS:
        raise ValueError(
            f"{where}: digital_layers_on must be one of {', '.join(map(repr, DIGITAL_PLACEMENTS))}, "
            f"got {digital_layers_on!r}"
        )
    return digital_layers_on


def build_report(
    infos: dict[str, LayerInfo],
    counts: dict[str, LayerCounts],
    analog: AnalogProfile,
    digital: DigitalProfile,
    training: bool,
    batches: int,
    batch_size: int | None,
    pulses_per_weight_step: float,
    digital_layers_on: str = "periphery",
) -> EnergyReport:
    """Price every layer that ran at least once and collect the notes that apply."""
    rows = [
        layer_energy(infos[name], c, analog, digital, training, pulses_per_weight_step, digital_layers_on)
        for name, c in counts.items()
        if c.forward.calls > 0
    ]
    ran = {row.name for row in rows}
    programming_pj = sum(programming_energy_pj(infos[name], analog) for name in ran)
    notes = report_notes(infos, counts, analog, digital, training, pulses_per_weight_step)
    notes[-1:-1] = placement_notes(rows, infos, analog, digital, training, digital_layers_on)
    return EnergyReport(rows, analog.name, digital.name, training, batches, batch_size,
                        programming_pj * 1e-12, notes, digital_layers_on)


def _names(names: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown if len(names) <= limit else f"{shown}, ... ({len(names)} layers)"


def placement_notes(
    rows: list[LayerEnergy],
    infos: dict[str, LayerInfo],
    analog: AnalogProfile,
    digital: DigitalProfile,
    training: bool,
    digital_layers_on: str,
) -> list[str]:
    """Where the layers that are not analog ran, and which inference rules applied, in words."""
    notes: list[str] = []
    on = {place: [r.name for r in rows if r.runs_on == place]
          for place in ("periphery", "baseline", "folded", "free")}
    if on["periphery"]:
        notes.append(
            f"layers that are not analog run on the analog chip's on-chip digital periphery in the "
            f"analog system (digital_layers_on='periphery'; '{analog.name}': {analog.periphery_op_pj:g} "
            f"pJ/op, {analog.periphery_mac_pj:g} pJ/MAC, {analog.periphery_sram_pj_per_byte:g} pJ/byte "
            f"of local SRAM) and on '{digital.name}' in the digital baseline"
        )
    if on["baseline"] and digital_layers_on == "baseline":
        notes.append(
            f"layers that are not analog run on '{digital.name}' in both systems "
            "(digital_layers_on='baseline', savings 1x; transfers between the two chips not counted)"
        )
    elif on["baseline"] and not analog.has_periphery:
        notes.append(
            f"analog profile '{analog.name}' gives no periphery energies: layers that are not analog "
            f"run on '{digital.name}' in both systems (savings 1x)"
        )
    elif on["baseline"]:
        notes.append(
            f"dense digital layers {_names(on['baseline'])} run on '{digital.name}' in both systems: "
            "the periphery has no dense MAC array (analogize them to run them on PCM)"
        )
    if training and (on["periphery"] or on["baseline"]):
        notes.append(f"backward and update of the layers that are not analog run on '{digital.name}' "
                     "(the training host)")
    if training:
        return notes
    if on["folded"]:
        notes.append(f"inference: batch norm directly after a conv/linear folded into it (0 J): "
                     f"{_names(on['folded'])}")
    unfolded = [r.name for r in rows if r.runs_on not in ("folded", "free") and infos[r.name].inference.foldable]
    if unfolded:
        notes.append(f"inference: batch norm not directly after a conv/linear, priced as a per-channel "
                     f"scale and shift (2 ops/element): {_names(unfolded)}")
    dropped = [name for name in on["free"] if infos[name].inference.free]
    if dropped:
        notes.append(f"inference: dropout is the identity in eval mode (0 J): {_names(dropped)}")
    return notes


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
    pulsed = [i for i in analog_infos if i.update in PULSED_UPDATES]
    for mode in PULSED_UPDATES:
        presets = sorted({i.preset or "" for i in pulsed if i.update == mode})
        if training and presets:
            notes.append(f"preset(s) {', '.join(presets)} ({mode}): {PHASE_PLACEMENT[mode]}")
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
    rough = sorted({i.type_name for i in ran if not i.exact})
    if rough:
        notes.append(f"operators without a counting rule in {', '.join(rough)}: one op per output element "
                     "assumed (price them with memtorch_power.energy.register_operator)")
    return notes

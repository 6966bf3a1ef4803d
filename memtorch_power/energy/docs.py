"""Markdown tables of the profile catalogue (values, units and sources).

``docs/energy_profiles.md`` embeds :func:`catalogue_markdown`; a test checks they agree, so the
documentation cannot drift from the code. Regenerate with
``python -m memtorch_power.energy.docs``.
"""

from __future__ import annotations

from memtorch_power.energy import catalogue as _catalogue  # noqa: F401  (registers the profiles)
from memtorch_power.energy.mapping import full_tile_tops_per_watt
from memtorch_power.energy.profiles import (
    CITED_FIELDS,
    AnalogProfile,
    DigitalProfile,
    get_analog_profile,
    get_digital_profile,
    list_profiles,
)

_UNITS = {
    "array_rows": "rows", "array_cols": "columns", "input_bits": "bit", "adc_bits": "bit",
    "dac_pj": "pJ/row/MVM (per bit if bit-serial)", "cell_read_pj": "pJ/cell/MVM (per bit if bit-serial)",
    "adc_pj": "pJ/conversion", "shift_add_pj": "pJ/conversion", "periphery_pj": "pJ/output",
    "accumulate_pj": "pJ/add", "movement_pj_per_byte": "pJ/byte", "pulse_pj": "pJ/pulse",
    "program_iterations": "iterations/device", "devices_per_weight": "devices",
    "periphery_op_pj": "pJ/op", "periphery_mac_pj": "pJ/MAC", "periphery_sram_pj_per_byte": "pJ/byte",
    "mac_pj": "pJ/MAC", "op_pj": "pJ/op", "bytes_per_value": "bytes",
    "weight_pj_per_byte": "pJ/byte", "activation_pj_per_byte": "pJ/byte",
}


def _value(value: object, name: str = "") -> str:
    if value is None:
        return "preset's" if name == "devices_per_weight" else "not given"
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def profile_markdown(profile: AnalogProfile | DigitalProfile) -> str:
    """One table: field, value, unit, source."""
    fields = list(CITED_FIELDS[type(profile)])
    if isinstance(profile, AnalogProfile):
        fields.append("devices_per_weight")
    lines = [
        f"### `{profile.name}`",
        "",
        profile.description + ".",
        "",
        "| field | value | unit | source |",
        "| --- | --- | --- | --- |",
    ]
    for name in fields:
        lines.append(
            f"| `{name}` | {_value(getattr(profile, name), name)} | {_UNITS.get(name, '')} | "
            f"{_cell(profile.source_of(name))} |"
        )
    return "\n".join(lines)


def summary_markdown() -> str:
    """One line per profile: what it is and its resulting TOPS/W."""
    lines = [
        "| profile | kind | array / precision | TOPS/W | how |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name in list_profiles("analog"):
        p = get_analog_profile(name)
        lines.append(
            f"| `{name}` | analog | {p.array_rows}x{p.array_cols}, {p.input_encoding}, "
            f"{p.input_bits:g}-bit in / {p.adc_bits:g}-bit ADC | {full_tile_tops_per_watt(p):.3g} | "
            "one full-array MVM incl. on-chip movement |"
        )
    for name in list_profiles("digital"):
        d = get_digital_profile(name)
        lines.append(
            f"| `{name}` | digital | {d.bytes_per_value:g} byte(s)/value | {d.tops_per_watt:.3g} | "
            "2 ops / `mac_pj` (memory traffic extra) |"
        )
    return "\n".join(lines)


def catalogue_markdown() -> str:
    """The summary table followed by one table per profile."""
    parts = [summary_markdown()]
    parts += [profile_markdown(get_analog_profile(n)) for n in list_profiles("analog")]
    parts += [profile_markdown(get_digital_profile(n)) for n in list_profiles("digital")]
    return "\n\n".join(parts) + "\n"


BEGIN = "<!-- BEGIN GENERATED: python -m memtorch_power.energy.docs -->"
END = "<!-- END GENERATED -->"

if __name__ == "__main__":
    print(BEGIN)
    print(catalogue_markdown())
    print(END)

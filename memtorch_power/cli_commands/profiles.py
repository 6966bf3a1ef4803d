"""``memtorch-power profiles``: the energy profiles, their key figures and sources."""

from __future__ import annotations

from typing import Any

from memtorch_power.cli_commands.common import UserError, console

HELP = "list the analog and digital energy profiles with key figures and sources"
DESCRIPTION = """\
List the energy profiles that `compare`, `energy` and memtorch_power.energy.estimate price
workloads with: analog PCM systems (--analog) and digital baselines (--digital), with their key
figures and where they come from. Name one profile to see every constant with its unit and
source (the same tables as docs/energy_profiles.md).

examples:
  memtorch-power profiles
  memtorch-power profiles --kind analog
  memtorch-power profiles hermes
"""

#: Fields whose sources the summary shows, per kind.
_KEY_FIELDS = {"analog": ("array_rows", "adc_pj", "pulse_pj"), "digital": ("mac_pj", "weight_pj_per_byte")}


def configure(parser: Any) -> None:
    from typing import Literal, Optional

    parser.add_argument("name", nargs="?", type=Optional[str], default=None, help="show every constant of this profile")
    parser.add_argument("--kind", type=Optional[Literal["analog", "digital"]], default=None, help="only this kind")


def rows(kind: str | None = None) -> list[dict[str, str]]:
    """One row per registered profile: name, kind, hardware, key figures, sources of the key figures."""
    from memtorch_power.energy import full_tile_tops_per_watt, get_analog_profile, get_digital_profile, list_profiles

    out = []
    for name in list_profiles("analog") if kind in (None, "analog") else []:
        p = get_analog_profile(name)
        figures = (f"{p.array_rows}x{p.array_cols} arrays, {p.input_encoding}, {p.input_bits:g}-bit in / "
                   f"{p.adc_bits:g}-bit ADC; ADC {p.adc_pj:.3g} pJ/conversion, PCM pulse {p.pulse_pj:.3g} pJ; "
                   f"{full_tile_tops_per_watt(p):.3g} TOPS/W (full-array MVM)")
        out.append({"name": name, "kind": "analog", "hardware": p.description, "key figures": figures,
                    "sources": _sources(p, _KEY_FIELDS["analog"])})
    for name in list_profiles("digital") if kind in (None, "digital") else []:
        d = get_digital_profile(name)
        figures = (f"{d.mac_pj:.3g} pJ/MAC, {d.bytes_per_value:g} B/value, weights {d.weight_pj_per_byte:.3g} pJ/B, "
                   f"activations {d.activation_pj_per_byte:.3g} pJ/B; {d.tops_per_watt:.3g} TOPS/W (MACs only)")
        out.append({"name": name, "kind": "digital", "hardware": d.description, "key figures": figures,
                    "sources": _sources(d, _KEY_FIELDS["digital"])})
    return out


def _sources(profile: object, fields: tuple[str, ...]) -> str:
    seen: list[str] = []
    for field in fields:
        text = f"{field}: {profile.source_of(field)}"  # type: ignore[attr-defined]
        if text not in seen:
            seen.append(text)
    return "\n".join(seen)


def run(args: Any) -> int:
    from rich.markdown import Markdown
    from rich.table import Table

    from memtorch_power.energy import list_profiles

    out = console()
    if args.name:
        known = list_profiles(args.kind)
        if args.name not in known:
            raise UserError(f"unknown profile {args.name!r}; known profiles: {', '.join(known)}")
        from memtorch_power.energy import get_analog_profile, get_digital_profile
        from memtorch_power.energy.docs import profile_markdown

        analog = args.name in list_profiles("analog")
        profile = get_analog_profile(args.name) if analog else get_digital_profile(args.name)
        out.print(Markdown(profile_markdown(profile)))
        return 0
    table = Table(title="Energy profiles (pJ per operation; sources of the key figures)", show_lines=True)
    for column in ("name", "kind"):
        table.add_column(column, no_wrap=True)
    for column in ("hardware", "key figures", "sources"):
        table.add_column(column, overflow="fold")
    for row in rows(args.kind):
        table.add_row(*(row[c] for c in ("name", "kind", "hardware", "key figures", "sources")))
    out.print(table)
    out.print("Every constant and its source: `memtorch-power profiles NAME` or docs/energy_profiles.md.")
    return 0

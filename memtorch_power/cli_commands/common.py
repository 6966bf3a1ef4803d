"""Shared pieces of the ``memtorch-power`` subcommands: user errors, checks and output.

A :class:`UserError` is something the person at the terminal can fix (a wrong path, an
unknown name); ``memtorch-power`` prints its message on one line and exits with status 2.
Anything else is a bug and keeps its traceback. Heavy libraries are imported inside the
functions, so ``--help`` and the catalogue commands start fast.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

DATA_ENV_VAR = "MEMTORCH_POWER_SPEECH_COMMANDS"


class UserError(Exception):
    """An error the user can act on: printed as one line, exit status 2."""


def formatter(prog: str) -> argparse.HelpFormatter:
    """Help formatter that keeps the examples of descriptions and epilogs as written."""
    return argparse.RawDescriptionHelpFormatter(prog, max_help_position=32)


def console(**kwargs: Any) -> Any:
    """A rich Console on stdout: plain text when stdout is not a terminal, then 160 columns wide
    (unless ``$COLUMNS`` says otherwise) so that tables written to a file stay readable."""
    from rich.console import Console

    out = Console(**kwargs)
    if not out.is_terminal and "width" not in kwargs and not os.environ.get("COLUMNS"):
        out = Console(width=160, **kwargs)
    return out


# -- names ----------------------------------------------------------------------------------------
def check_presets(names: Iterable[str], allow_digital: bool = True) -> list[str]:
    """The names, if each is a known preset (or ``digital``); else a :class:`UserError` listing them."""
    from memtorch_power.presets import PRESETS

    known = (["digital"] if allow_digital else []) + sorted(PRESETS)
    names = list(names)
    for name in names:
        if name not in known:
            raise UserError(f"unknown preset {name!r}; known presets: {', '.join(known)} "
                            "(see `memtorch-power presets`)")
    return names


def check_profile(name: str, kind: str) -> str:
    """``name`` if it is a registered ``kind`` (``analog``/``digital``) energy profile."""
    from memtorch_power.energy import list_profiles

    known = list_profiles(kind)  # type: ignore[arg-type]
    if name not in known:
        raise UserError(f"unknown {kind} profile {name!r}; known {kind} profiles: {', '.join(known)} "
                        "(see `memtorch-power profiles`)")
    return name


def check_link(name: str) -> str:
    """``name`` if it is a known radio link (``ble``, ``wifi``)."""
    from memtorch_power.federated.radio import LINKS

    if name not in LINKS:
        raise UserError(f"unknown radio link {name!r}; known links: {', '.join(sorted(LINKS))}")
    return name


# -- files ----------------------------------------------------------------------------------------
def existing_file(path: str | os.PathLike[str], what: str) -> Path:
    """``path`` if it is a file; else a :class:`UserError` saying ``no <what> at <path>``."""
    p = Path(path).expanduser()
    if not p.is_file():
        hint = " (it is a folder)" if p.is_dir() else ""
        raise UserError(f"no {what} at {p}{hint}")
    return p


def default_data_root() -> str:
    """``$MEMTORCH_POWER_SPEECH_COMMANDS``, else the bundled mini set beside the repository."""
    from memtorch_power.federated.config import default_data_root as _default

    return _default()


def resolve_data_root(root: str | None, download: bool = False) -> str:
    """The Speech Commands folder to use: ``root`` or the default; downloads the official
    release into it if asked to. A :class:`UserError` says where it looked and what to pass."""
    from memtorch_power.kws.download import is_speech_commands_root

    chosen = root or default_data_root()
    if is_speech_commands_root(chosen):
        return chosen
    if download:
        from memtorch_power.kws.download import download_speech_commands

        try:
            return str(download_speech_commands(chosen))
        except (OSError, ValueError) as err:
            raise UserError(f"download into {chosen} failed: {err}") from err
    if root:
        where = f"--root {root}"
    elif os.environ.get(DATA_ENV_VAR):
        where = f"${DATA_ENV_VAR}={os.environ[DATA_ENV_VAR]}"
    else:
        where = f"the default {chosen} (${DATA_ENV_VAR} is not set)"
    raise UserError(
        f"no Speech Commands data at {where}: pass --root PATH (a folder holding yes/, no/, ..., "
        f"validation_list.txt), set {DATA_ENV_VAR}, or add --download to fetch the v0.02 release "
        f"(2.3 GB) into {Path(chosen).absolute()}"
    )


# -- --set KEY=VALUE ------------------------------------------------------------------------------
def parse_overrides(items: Iterable[str], known: Iterable[str] | None = None) -> dict[str, Any]:
    """``["rounds=2", "preset=digital"]`` -> ``{"rounds": 2, "preset": "digital"}`` (values parsed
    as YAML). Keys are checked against ``known`` (dashes and underscores alike)."""
    import yaml

    known_set = set(known) if known is not None else None
    out: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UserError(f"--set expects KEY=VALUE, got {item!r}")
        if known_set is not None and key not in known_set:
            raise UserError(f"unknown key {key!r} in --set; known keys: {', '.join(sorted(known_set))}")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError as err:
            raise UserError(f"--set {key}: cannot parse {value!r} as a YAML value ({err})") from err
    return out


def read_yaml_mapping(path: str, known: Iterable[str], section: str) -> dict[str, Any]:
    """The mapping of a YAML config (optionally under a top-level ``section:`` key), keys checked."""
    import yaml

    existing_file(path, "config file")
    try:
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
    except yaml.YAMLError as err:
        raise UserError(f"cannot read {path} as YAML: {err}") from err
    if not isinstance(values, Mapping):
        raise UserError(f"{path} must hold a YAML mapping of config fields, got {type(values).__name__}")
    values = values.get(section, values)
    known_set = set(known)
    out = {}
    for key, value in values.items():
        name = str(key).replace("-", "_")
        if name not in known_set:
            raise UserError(f"unknown key {key!r} in {path}; known keys: {', '.join(sorted(known_set))}")
        out[name] = value
    return out


def parse_number(text: str) -> int | float:
    """``"5"`` -> 5 (a count), ``"0.25"`` -> 0.25 (a fraction), as Lightning's ``limit_*`` take them."""
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None


def parse_shape(text: str) -> tuple[int, ...]:
    """``"1,1,40,98"`` (or ``1x1x40x98``) -> ``(1, 1, 40, 98)``."""
    parts = [p for p in text.replace("x", ",").replace(" ", "").split(",") if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(s < 1 for s in shape):
        raise argparse.ArgumentTypeError(
            f"expected positive integers separated by commas, such as 1,1,40,98; got {text!r}")
    return shape


def config_values(args: Any, config_cls: type, name: str) -> dict[str, Any]:
    """Field values of the dataclass ``config_cls`` from ``--config`` (YAML), ``--set KEY=VALUE``
    overrides and ``--root``, every key checked against the dataclass's fields."""
    import dataclasses

    known = [f.name for f in dataclasses.fields(config_cls)]
    values = read_yaml_mapping(args.config, known, name) if args.config else {}
    values.update(parse_overrides(args.set, known))
    if args.root:
        values["data_root"] = args.root
    return values


def add_config_options(parser: Any, config_name: str, run_dir_default: str) -> None:
    """The options :func:`config_values` reads (``--config``, ``--set``, ``--root``) plus
    ``--run-dir`` and ``--no-progress``, shared by the recipe-backed subcommands."""
    parser.add_argument("--config", default=None, metavar="YAML",
                        help=f"YAML file with {config_name} fields (default: the library defaults)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field (VALUE parsed as YAML), repeatable")
    parser.add_argument("--root", default=None,
                        help="Speech Commands folder (same as --set data_root=...; default: "
                             "$MEMTORCH_POWER_SPEECH_COMMANDS, else the bundled mini set)")
    parser.add_argument("--run-dir", default=None, help=f"report folder (default: {run_dir_default})")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bars")



def run_dir_of(args: Any, name: str) -> Path:
    """The report folder of a recipe-backed subcommand: ``--run-dir``, else
    ``runs/<name>/<YYYYmmdd-HHMMSS>``."""
    import time

    return Path(args.run_dir or Path("runs") / name / time.strftime("%Y%m%d-%H%M%S"))


def print_report(markdown: Path, run_dir: Path) -> None:
    """Render a run's markdown report on the terminal, then say where the run folder is."""
    from rich.markdown import Markdown

    out = console()
    out.print(Markdown(markdown.read_text(encoding="utf-8")))
    out.print(f"report: {run_dir}")

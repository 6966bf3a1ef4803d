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
from typing import Any, Iterable

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
    from memtorch_power.kws.data_root import default_data_root as _default

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


# -- one configuration system: jsonargparse ------------------------------------------------------
def command_parser(prog: str, description: str) -> Any:
    """The parser of one subcommand: a jsonargparse ``ArgumentParser`` (as LightningCLI's) with
    ``--config`` (a YAML file of the options, keys as the option names without ``--``; options
    after it override it) and ``--print_config``. Help shows each option's type and default, taken
    from the signature or dataclass it comes from; a value of the wrong type fails at parse time
    with an error that names the key."""
    from jsonargparse import ArgumentParser, DefaultHelpFormatter

    class _Formatter(DefaultHelpFormatter, argparse.RawDescriptionHelpFormatter):
        """jsonargparse's help (types and defaults) with descriptions kept as written."""

    parser = ArgumentParser(prog=prog, description=description, formatter_class=_Formatter,
                            exit_on_error=False, default_env=False)
    parser.add_argument("--config", action="config",
                        help="YAML file of this command's options (keys as the option names without "
                             "--); options after it override it")
    return parser


def add_flag(parser: Any, name: str, default: bool, help: str) -> None:
    """A boolean option ``--NAME`` / ``--no_NAME`` (``NAME: true|false`` in a YAML config)."""
    from jsonargparse import ActionYesNo

    parser.add_argument(f"--{name}", action=ActionYesNo, default=default, help=help)


def parse_options(parser: Any, argv: list[str]) -> Any:
    """Parse ``argv``; a bad option or value becomes a one-line :class:`UserError` naming it."""
    try:
        return parser.parse_args(argv)
    except argparse.ArgumentError as err:
        raise UserError(" ".join(str(err).split())) from None


def dataclass_options(args: Any, config_cls: type) -> dict[str, Any]:
    """The parsed values of the fields of the dataclass ``config_cls`` (added to the parser with
    ``parser.add_class_arguments(config_cls)``)."""
    import dataclasses

    names = {f.name for f in dataclasses.fields(config_cls)}
    return {name: value for name, value in vars(args).items() if name in names}


def build_config(config_cls: type, values: dict[str, Any], what: str) -> Any:
    """``config_cls(**values)``; the dataclass's own checks (``ValueError``, ``TypeError``,
    ``KeyError``) become a :class:`UserError` that says which config was invalid and why."""
    try:
        return config_cls(**values)
    except (ValueError, TypeError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise UserError(f"invalid {what} config: {message}") from err


def run_dir_of(run_dir: str | None, name: str) -> Path:
    """The report folder of a recipe-backed subcommand: ``run_dir``, else
    ``runs/<name>/<YYYYmmdd-HHMMSS>``."""
    import time

    return Path(run_dir or Path("runs") / name / time.strftime("%Y%m%d-%H%M%S"))


def print_report(markdown: Path, run_dir: Path) -> None:
    """Render a run's markdown report on the terminal, then say where the run folder is."""
    from rich.markdown import Markdown

    out = console()
    out.print(Markdown(markdown.read_text(encoding="utf-8")))
    out.print(f"report: {run_dir}")

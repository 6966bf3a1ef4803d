"""``memtorch-power``: one command for what users of memtorch_power do most.

Dispatch only: every subcommand lives in :mod:`memtorch_power.cli_commands` (options in
``configure``, work in ``run``, which calls the library). Every subcommand parses its options
with jsonargparse, as ``train`` does through LightningCLI: ``--config YAML``, ``--print_config``,
typed values checked at parse time with errors that name the key. A :class:`UserError` (wrong path,
unknown name ...) is printed on one line and exits with status 2; argparse's own usage errors
exit with 2 as well; Ctrl-C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import sys
from importlib import import_module
from types import ModuleType
from typing import Any, Callable

from memtorch_power.cli_commands import COMMANDS
from memtorch_power.cli_commands.common import UserError, formatter

PROG = "memtorch-power"

DESCRIPTION = """\
Train and run PyTorch models on simulated phase-change-memory (PCM) crossbars and see, layer by
layer, how much energy that saves against digital hardware.

examples:
  memtorch-power demo                                   # a small CNN on PCM, no data needed
  memtorch-power presets                                # what each PCM preset simulates
  memtorch-power profiles                               # energy profiles and their sources
  memtorch-power compare --presets "[digital, pcm_hwa]" --epochs 1 --limit_train_batches 0.1
  memtorch-power energy runs/compare/pcm_hwa/checkpoints/best.ckpt --training
  memtorch-power train fit --config recipes/configs/digital.yaml

Run `memtorch-power COMMAND --help` for the options of a command.
"""


def _module(name: str) -> ModuleType:
    return import_module(f"memtorch_power.cli_commands.{name}")


def _add_command(subparsers: argparse._SubParsersAction, name: str) -> None:
    """List ``name`` in the top-level help; its options live in its own parser (:func:`command_parser`)."""
    subparsers.add_parser(name, help=_module(name).HELP, add_help=False)


def command_parser(name: str, prog: str | None = None) -> Any:
    """The jsonargparse parser of subcommand ``name`` (``--config``, ``--print_config`` and the
    command's typed options)."""
    from memtorch_power.cli_commands.common import command_parser as new_parser

    module = _module(name)
    parser = new_parser(prog or f"{PROG} {name}", module.DESCRIPTION)
    module.configure(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser: ``--version``, ``--help`` and the list of commands."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        release = version("memtorch_power")
    except PackageNotFoundError:  # running from a source tree that is not installed
        release = "unknown"
    parser = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION, formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {release}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMANDS:
        _add_command(subparsers, name)
    return parser


def _fail(prog: str, message: str) -> int:
    print(f"{prog}: error: {message}", file=sys.stderr)
    return 2


def _guarded(prog: str, work: Callable[[], int]) -> int:
    """Run ``work``; a :class:`UserError` becomes one line on stderr and status 2, Ctrl-C status
    130, a closed pipe (``memtorch-power profiles | head``) a quiet status 141."""
    try:
        status = work()
        sys.stdout.flush()  # a closed pipe shows here, not at interpreter exit
        return status
    except UserError as err:
        return _fail(prog, str(err))
    except KeyboardInterrupt:
        _fail(prog, "interrupted")
        return 130
    except BrokenPipeError:
        try:  # no second error when Python flushes stdout at exit
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 141


def _run(name: str, argv: list[str], prog: str) -> int:
    module = _module(name)
    if getattr(module, "PASSTHROUGH", False):
        return module.run_passthrough(argv, command_parser(name, prog))
    from memtorch_power.cli_commands.common import parse_options

    return module.run(parse_options(command_parser(name, prog), argv))


def main(argv: list[str] | None = None) -> int:
    """Run ``memtorch-power`` with ``argv`` (None: ``sys.argv[1:]``); returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv:
        parser.print_help()
        return 2
    name = argv[0]
    if name not in COMMANDS:
        parser.parse_args(argv)  # --help, --version, or a usage error naming the choices
        return 2
    return _guarded(f"{PROG} {name}", lambda: _run(name, argv[1:], f"{PROG} {name}"))


def run_command(name: str, argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run one subcommand as a program of its own (the recipes' entry points): ``argv`` as
    after ``memtorch-power NAME`` (None: ``sys.argv[1:]``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    prog = prog or sys.argv[0]
    return _guarded(prog, lambda: _run(name, argv, prog))


if __name__ == "__main__":
    sys.exit(main())

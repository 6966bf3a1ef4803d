"""``memtorch-power train``: the keyword-spotting LightningCLI (``recipes/kws.py``)."""

from __future__ import annotations

import argparse

from memtorch_power.cli_commands.common import UserError

HELP = "train a keyword spotter (Lightning CLI: fit, validate, test, predict)"
DESCRIPTION = """\
Train, validate or test a keyword spotter on Speech Commands, digitally or on a PCM preset.
Every argument after `train` goes to the keyword-spotting LightningCLI (the same as
`python recipes/kws.py ...`): a subcommand (fit, validate, test, predict), --config YAML
files and dotted overrides such as --model.preset pcm_hwa or --trainer.max_epochs 5.

examples:
  memtorch-power train fit --config recipes/configs/digital.yaml
  memtorch-power train fit --config recipes/configs/pcm_hwa.yaml --trainer.max_epochs 5 \\
      --data.root /data/speech_commands_v0.02
  memtorch-power train fit --help          # every option of the LightningCLI
"""


#: ``memtorch-power train ARGS...`` hands ARGS to :func:`main` untouched (no argparse).
PASSTHROUGH = True


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("lightning_args", nargs=argparse.REMAINDER, metavar="ARGS",
                        help="arguments of the LightningCLI (fit/validate/test/predict, --config, ...)")


def run_passthrough(argv: list[str], parser: argparse.ArgumentParser) -> int:
    """``train --help`` prints this command's help, then the LightningCLI's; anything else goes
    to :func:`main`."""
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        raise UserError("train needs a LightningCLI subcommand, e.g. "
                        "`memtorch-power train fit --config recipes/configs/digital.yaml` "
                        "(see `memtorch-power train --help`)")
    if argv in (["-h"], ["--help"]):
        parser.print_help()
        print("\nThe LightningCLI's own help follows.\n", flush=True)
    return main(argv)


def main(argv: list[str]) -> int:
    """Run the keyword-spotting LightningCLI with ``argv``; a missing dataset or config file
    becomes a :class:`UserError`."""
    import sys

    from memtorch_power.kws.cli import main as kws_main

    saved = sys.argv
    sys.argv = ["memtorch-power train"]  # LightningCLI's usage line; it warns when sys.argv has args too
    try:
        kws_main(argv)
    except FileNotFoundError as err:
        raise UserError(f"{err} (pass --data.root PATH, or --data.download true to fetch the release)"
                        if "Speech Commands root" in str(err) else str(err)) from err
    finally:
        sys.argv = saved
    return 0

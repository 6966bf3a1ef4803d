"""``memtorch-power demo``: an ordinary PyTorch CNN on PCM crossbars (``recipes/swap_layers.py``)."""

from __future__ import annotations

import argparse

from memtorch_power.cli_commands.common import UserError, check_presets, check_profile, console

HELP = "swap a small CNN's layers for PCM crossbars, train it, program and drift it (no data needed)"
DESCRIPTION = """\
The quickest look at memtorch_power: a small torch CNN learns a synthetic 4-class pattern task
(no data needed). Its Linear/Conv layers are swapped for PCM crossbars with analogize(), it
trains --steps steps with optimizer_for(), and for inference presets it is programmed and its
accuracy measured after each drift time (1 s ... 1 year). Then the energy of one training batch
is priced per layer, analog against digital. The logic is memtorch_power.demo.run_demo.

examples:
  memtorch-power demo
  memtorch-power demo --preset pcm_mixed_precision --steps 300
  memtorch-power demo --steps 5 --no-energy
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--preset", default="pcm_hwa", help="PCM preset (default: %(default)s; see `memtorch-power presets`)")
    parser.add_argument("--steps", type=int, default=200, help="training steps (default: %(default)s)")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and initialisation (default: %(default)s)")
    parser.add_argument("--analog", default="hermes", help="analog energy profile (default: %(default)s)")
    parser.add_argument("--digital", default="a100_fp16", help="digital baseline profile (default: %(default)s)")
    parser.add_argument("--no-energy", action="store_true", help="skip the per-layer energy table")


def run(args: argparse.Namespace) -> int:
    check_presets([args.preset], allow_digital=False)
    if args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if not args.no_energy:
        check_profile(args.analog, "analog")
        check_profile(args.digital, "digital")
    from memtorch_power.demo import print_demo, run_demo

    result = run_demo(args.preset, steps=args.steps, lr=args.lr, seed=args.seed, progress=True)
    print_demo(result, console(), energy=not args.no_energy, analog=args.analog, digital=args.digital)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power demo`` and run the demo."""
    from memtorch_power.cli import run_command

    return run_command("demo", argv)

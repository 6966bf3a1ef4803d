"""``memtorch-power demo``: an ordinary PyTorch CNN on PCM crossbars (``recipes/swap_layers.py``)."""

from __future__ import annotations

from typing import Any

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
  memtorch-power demo --steps 5 --no_energy
"""


def configure(parser: Any) -> None:
    from memtorch_power.cli_commands.common import add_flag

    parser.add_argument("--preset", type=str, default="pcm_hwa", help="PCM preset (see `memtorch-power presets`)")
    parser.add_argument("--steps", type=int, default=200, help="training steps")
    parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
    parser.add_argument("--seed", type=int, default=0, help="seed of data and initialisation")
    parser.add_argument("--analog", type=str, default="hermes", help="analog energy profile")
    parser.add_argument("--digital", type=str, default="a100_fp16", help="digital baseline profile")
    add_flag(parser, "energy", True, "print the per-layer energy table (--no_energy skips it)")


def run(args: Any) -> int:
    check_presets([args.preset], allow_digital=False)
    if args.steps < 0:
        raise UserError(f"--steps must be >= 0, got {args.steps}")
    if args.energy:
        check_profile(args.analog, "analog")
        check_profile(args.digital, "digital")
    from memtorch_power.demo import print_demo, run_demo

    result = run_demo(args.preset, steps=args.steps, lr=args.lr, seed=args.seed, progress=True)
    print_demo(result, console(), energy=args.energy, analog=args.analog, digital=args.digital)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power demo`` and run the demo."""
    from memtorch_power.cli import run_command

    return run_command("demo", argv)

"""``memtorch-power gating``: wake-word gating, always-on against gated pipeline energy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Optional

from memtorch_power.cli_commands.common import (
    UserError,
    add_flag,
    build_config,
    check_link,
    check_presets,
    check_profile,
    dataclass_options,
    existing_file,
    print_report,
    resolve_data_root,
    run_dir_of,
)

if TYPE_CHECKING:
    from memtorch_power.gating import GatingConfig

HELP = "wake-word gating: energy saved against keywords missed, across detection thresholds"
DESCRIPTION = """\
Build a long noisy audio stream with keywords at known times, score it with a keyword spotter
on PCM (sliding windows), sweep the detection threshold, and price an always-on pipeline
(digitise and send everything) against a gated one (send only what the detector flags): savings
against hit rate and false alarms. Without --checkpoint a small DS-CNN spotter is trained first
(quick_preset, quick_epochs: 8-10 minutes on 2 cores) into the run folder. Writes
gating.{json,md,png} into --run_dir. The options are the fields of
memtorch_power.gating.GatingConfig (the same keys in a --config YAML).

examples:
  memtorch-power gating --config recipes/configs/gating_report.yaml \\
      --checkpoint runs/compare/pcm_hwa/checkpoints/best.ckpt
  memtorch-power gating --checkpoint best.ckpt --duration_s 120 --thresholds "[0.3, 0.5, 0.9]"
  memtorch-power gating --quick_epochs 2        # train a quick spotter first
"""


def configure(parser: Any) -> None:
    from memtorch_power.gating import GatingConfig

    parser.add_class_arguments(GatingConfig, fail_untyped=True)
    parser.add_argument("--run_dir", type=Optional[str], default=None,
                        help="report folder (null: runs/gating/<YYYYmmdd-HHMMSS>)")
    add_flag(parser, "progress", True, "show progress bars (--no_progress hides them)")


def build(args: Any) -> "GatingConfig":
    """The :class:`GatingConfig` of the parsed options, every name checked."""
    from memtorch_power.gating import GatingConfig

    cfg = build_config(GatingConfig, dataclass_options(args, GatingConfig), "gating")
    if cfg.checkpoint:
        existing_file(cfg.checkpoint, "checkpoint")
    else:
        check_presets([cfg.quick_preset])
    check_profile(cfg.analog_profile, "analog")
    check_profile(cfg.edge_digital_profile, "digital")
    check_profile(cfg.server_digital_profile, "digital")
    check_link(cfg.link)
    if not cfg.thresholds or any(not 0.0 <= float(t) <= 1.0 for t in cfg.thresholds):
        raise UserError(f"thresholds must be a non-empty list of numbers in [0, 1], got {cfg.thresholds!r}")
    if cfg.split not in ("training", "validation", "testing"):
        raise UserError(f"split must be training, validation or testing, got {cfg.split!r}")
    cfg.data_root = resolve_data_root(cfg.data_root)
    return cfg


def run(args: Any) -> int:
    cfg = build(args)
    from memtorch_power.gating import run_gating

    run_dir = run_dir_of(args.run_dir, "gating")
    result = run_gating(cfg, run_dir, progress=args.progress)
    print_report(result.paths["markdown"], run_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power gating`` and run it."""
    from memtorch_power.cli import run_command

    return run_command("gating", argv)

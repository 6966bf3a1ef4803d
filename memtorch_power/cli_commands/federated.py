"""``memtorch-power federated``: federated keyword spotting on simulated PCM edge nodes (Flower)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memtorch_power.cli_commands.common import (
    UserError,
    add_flag,
    build_config,
    check_link,
    check_presets,
    check_profile,
    dataclass_options,
    print_report,
    resolve_data_root,
    run_dir_of,
)

if TYPE_CHECKING:
    from memtorch_power.federated.config import FederatedConfig

HELP = "federated keyword spotting on simulated PCM edge nodes (Flower simulation)"
DESCRIPTION = """\
Simulate edge nodes that each hold some speakers' clips and train one keyword spotter with
Flower (FedAvg), on PCM or digitally; count the bytes on the radio and the energy of training,
re-programming and transmission; train the centralised baseline (raw audio sent to the cloud).
Writes federated.{json,md,png} into --run_dir and prints the table. The options are the fields
of memtorch_power.federated.FederatedConfig (the same keys in a --config YAML).

examples:
  memtorch-power federated --config recipes/configs/federated_kws_quick.yaml
  memtorch-power federated --config recipes/configs/federated_kws.yaml --preset digital \\
      --rounds 2 --run_dir runs/federated_kws/digital
  memtorch-power federated --num_nodes 2 --rounds 1 --max_clips_per_node 30
  memtorch-power federated --config recipes/configs/federated_kws.yaml --print_config
"""


def configure(parser: Any) -> None:
    from memtorch_power.federated.config import FederatedConfig

    parser.add_class_arguments(FederatedConfig, fail_untyped=True)
    add_flag(parser, "progress", True, "show progress bars (--no_progress hides them)")


def build(args: Any) -> "FederatedConfig":
    """The :class:`FederatedConfig` of the parsed options, every name checked."""
    from memtorch_power.federated.config import FederatedConfig

    cfg = build_config(FederatedConfig, dataclass_options(args, FederatedConfig), "federated")
    check_presets([cfg.preset])
    check_profile(cfg.analog_profile, "analog")
    check_profile(cfg.edge_digital_profile, "digital")
    check_profile(cfg.cloud_digital_profile, "digital")
    check_link(cfg.link)
    cfg.data_root = resolve_data_root(cfg.data_root)
    return cfg


def run(args: Any) -> int:
    cfg = build(args)
    from memtorch_power.federated import run_federated

    run_dir = run_dir_of(cfg.run_dir, "federated_kws")
    result = run_federated(cfg, run_dir=run_dir, progress=args.progress)
    print_report(result.paths["markdown"], run_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power federated`` and run it."""
    from memtorch_power.cli import run_command

    return run_command("federated", argv)

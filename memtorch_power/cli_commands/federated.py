"""``memtorch-power federated``: federated keyword spotting on simulated PCM edge nodes (Flower)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from memtorch_power.cli_commands.common import (
    add_config_options,
    print_report,
    run_dir_of,
    config_values,
    UserError,
    check_link,
    check_presets,
    check_profile,
    resolve_data_root,
)

if TYPE_CHECKING:
    from memtorch_power.federated.config import FederatedConfig

HELP = "federated keyword spotting on simulated PCM edge nodes (Flower simulation)"
DESCRIPTION = """\
Simulate edge nodes that each hold some speakers' clips and train one keyword spotter with
Flower (FedAvg), on PCM or digitally; count the bytes on the radio and the energy of training,
re-programming and transmission; train the centralised baseline (raw audio sent to the cloud).
Writes federated.{json,md,png} into --run-dir and prints the table. The fields of the run are
memtorch_power.federated.FederatedConfig (YAML keys, or --set KEY=VALUE).

examples:
  memtorch-power federated --config recipes/configs/federated_kws_quick.yaml
  memtorch-power federated --config recipes/configs/federated_kws.yaml --set preset=digital \\
      --set rounds=2 --run-dir runs/federated_kws/digital
  memtorch-power federated --set num_nodes=2 --set rounds=1 --set max_clips_per_node=30
"""


def configure(parser: argparse.ArgumentParser) -> None:
    add_config_options(parser, "FederatedConfig", "runs/federated_kws/<time>")

def build_config(args: argparse.Namespace) -> "FederatedConfig":
    """The :class:`FederatedConfig` of ``--config`` and ``--set``, every name checked."""
    from memtorch_power.federated.config import FederatedConfig

    values = config_values(args, FederatedConfig, "federated")
    try:
        cfg = FederatedConfig.from_dict(values)
    except (ValueError, TypeError) as err:
        raise UserError(f"invalid federated config: {err}") from err
    check_presets([cfg.preset])
    check_profile(cfg.analog_profile, "analog")
    check_profile(cfg.edge_digital_profile, "digital")
    check_profile(cfg.cloud_digital_profile, "digital")
    check_link(cfg.link)
    cfg.data_root = resolve_data_root(cfg.data_root)
    return cfg


def run(args: argparse.Namespace) -> int:
    cfg = build_config(args)
    from memtorch_power.federated import run_federated

    run_dir = run_dir_of(args, "federated_kws")
    result = run_federated(cfg, run_dir=run_dir, progress=not args.no_progress)
    print_report(result.paths["markdown"], run_dir)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power federated`` and run it."""
    from memtorch_power.cli import run_command

    return run_command("federated", argv)

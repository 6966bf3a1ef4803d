"""``memtorch-power system``: the three remedies together, one edge-to-cloud system report."""

from __future__ import annotations

from typing import Any

from memtorch_power.cli_commands.common import (
    build_config,
    check_link,
    check_presets,
    check_profile,
    dataclass_options,
    print_report,
)

HELP = "energy of an always-listening fleet for each combination of analog, gating and federated learning"
DESCRIPTION = """\
Combine the measured parts into the energy of a fleet of always-listening keyword-spotting
devices, per device-day and per fleet-year, for each combination of the three remedies: analog
in-memory computing, wake-word gating and federated learning, from the all-digital baseline
(stream all audio, detect and train in the cloud) to all three together. Energy by stage (ADC,
detector, radio, cloud inference, training, re-programming), raw audio that leaves the device,
the detector's hit rate and false alarms and the trained model's accuracy (from the measured
gating and federated runs named in the config), each remedy's factor and the combined one, and
the sensitivity of the combined factor to each assumption. Writes system.{json,csv,md} and two
plots into --output_dir. The options are the fields of memtorch_power.system.SystemConfig.

examples:
  memtorch-power system --config recipes/configs/system.yaml
  memtorch-power system --config recipes/configs/system.yaml --link wifi --speech_hours_per_day 8
  memtorch-power system --gating_results "{analog: runs/gating/pcm/gating.json}" --print_config
"""


def configure(parser: Any) -> None:
    from memtorch_power.system import SystemConfig

    parser.add_class_arguments(SystemConfig, fail_untyped=True)


def run(args: Any) -> int:
    from pathlib import Path

    from memtorch_power.cli_commands.common import UserError
    from memtorch_power.system import SystemConfig, run_system

    config = build_config(SystemConfig, dataclass_options(args, SystemConfig), "system")
    check_presets([config.inference_preset, config.training_preset], allow_digital=False)
    check_profile(config.analog_profile, "analog")
    check_profile(config.edge_digital_profile, "digital")
    check_profile(config.cloud_digital_profile, "digital")
    check_link(config.link)
    try:
        paths = run_system(config)
    except (FileNotFoundError, ValueError) as err:
        raise UserError(str(err)) from err
    print_report(paths["markdown"], Path(config.output_dir))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` (None: ``sys.argv``) like ``memtorch-power system`` and run it."""
    from memtorch_power.cli import run_command

    return run_command("system", argv)

"""``memtorch-power compare``: train the keyword spotter digitally and on each PCM preset."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from memtorch_power.cli_commands.common import check_presets, check_profile, console, resolve_data_root

HELP = "compare digital and PCM presets on keyword spotting (accuracy, drift, energy)"
DESCRIPTION = """\
Train the same keyword spotter (DS-CNN by default) digitally and on each PCM preset with one
budget, test it, program and drift the inference presets, and price the counted workload on an
analog energy profile against a digital baseline. Writes comparison.{csv,json,md,png} and one
folder per preset (checkpoints, metrics.csv, drift.json, energy reports, result.json) into
--output_dir and prints the comparison table.

The options are the fields of memtorch_power.kws.compare.ComparisonConfig (the same keys in a
--config YAML), plus --root and --download.

examples:
  memtorch-power compare --presets "[digital, pcm_hwa]" --epochs 1 --limit_train_batches 0.1 \\
      --limit_eval_batches 2 --drift_times "[1 s, 1 year]"
  memtorch-power compare --root /data/speech_commands_v0.02 --epochs 10 --output_dir runs/full
  memtorch-power compare --analog_profile ibm14nm --digital_profile h100_fp16
  memtorch-power compare --config my_comparison.yaml --print_config
"""


def configure(parser: Any) -> None:
    from memtorch_power.cli_commands.common import add_flag
    from memtorch_power.kws.compare import ComparisonConfig

    parser.add_argument("--root", type=Optional[str], default=None,
                        help="Speech Commands folder (null: $MEMTORCH_POWER_SPEECH_COMMANDS, else the "
                             "bundled mini set ../shared/data/speech_commands_mini)")
    add_flag(parser, "download", False, "download the official v0.02 release (2.3 GB) into --root if it is missing")
    parser.add_class_arguments(ComparisonConfig, skip={"root"}, fail_untyped=True)


def run(args: Any) -> int:
    from memtorch_power.cli_commands.common import build_config, dataclass_options
    from memtorch_power.kws.compare import ComparisonConfig, compare

    values = dataclass_options(args, ComparisonConfig)
    if values.get("presets"):
        check_presets(values["presets"])
    check_profile(values["analog_profile"], "analog")
    check_profile(values["digital_profile"], "digital")
    values["root"] = resolve_data_root(args.root, args.download)
    config = build_config(ComparisonConfig, values, "comparison")
    out = console()
    out.print(f"[bold]Comparing {', '.join(config.presets)}[/] on {config.root} "
              f"({config.epochs} epoch(s) each) -> {config.output_dir}")
    compare(config)
    print_report(config.output_dir, out)
    return 0


def print_report(output_dir: str, out: Any = None) -> None:
    """Print ``comparison.md`` of a run folder: rendered by rich on a terminal wide enough for its
    14 columns, else as the markdown text itself (readable, and pastes into a document)."""
    from rich.markdown import Markdown

    out = out or console()
    report = Path(output_dir) / "comparison.md"
    text = report.read_text(encoding="utf-8")
    if out.is_terminal and out.width >= 160:
        out.print(Markdown(text))
    else:
        out.print(text, markup=False, highlight=False, soft_wrap=True)
    out.print(f"report: {report.parent}")

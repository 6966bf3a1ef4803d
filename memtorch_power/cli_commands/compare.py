"""``memtorch-power compare``: train the keyword spotter digitally and on each PCM preset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from memtorch_power.cli_commands.common import (
    UserError,
    check_presets,
    check_profile,
    console,
    parse_number,
    resolve_data_root,
)

HELP = "compare digital and PCM presets on keyword spotting (accuracy, drift, energy)"
DESCRIPTION = """\
Train the same keyword spotter (DS-CNN by default) digitally and on each PCM preset with one
budget, test it, program and drift the inference presets, and price the counted workload on an
analog energy profile against a digital baseline. Writes comparison.{csv,json,md,png} and one
folder per preset (checkpoints, metrics.csv, drift.json, energy reports, result.json) into
--output-dir and prints the comparison table.

examples:
  memtorch-power compare --presets digital pcm_hwa --epochs 1 --limit-train-batches 0.1 \\
      --limit-eval-batches 2 --drift-times "1 s" "1 year"
  memtorch-power compare --root /data/speech_commands_v0.02 --epochs 10 --output-dir runs/full
  memtorch-power compare --analog ibm14nm --digital h100_fp16
"""


def configure(parser: argparse.ArgumentParser) -> None:
    data = parser.add_argument_group("data")
    data.add_argument("--root", default=None,
                      help="Speech Commands folder (default: $MEMTORCH_POWER_SPEECH_COMMANDS, else the "
                           "bundled mini set ../shared/data/speech_commands_mini)")
    data.add_argument("--download", action="store_true",
                      help="download the official v0.02 release (2.3 GB) into --root if it is missing")
    run = parser.add_argument_group("what to train (unset: ComparisonConfig's defaults)")
    run.add_argument("--presets", nargs="+", default=None, metavar="PRESET",
                     help="'digital' and/or preset names, in order (default: digital pcm_hwa "
                          "pcm_mixed_precision pcm_training)")
    run.add_argument("--model", default=None, help="architecture: dscnn, res8 or bcresnet (default: dscnn)")
    run.add_argument("--features", default=None, choices=["mfcc", "logmel"],
                     help="input features (default: mfcc; logmel with --n-features 40 is the most accurate, 4x slower)")
    run.add_argument("--n-features", type=int, default=None, metavar="N",
                     help="MFCC coefficients or mel bands per frame (default: 10)")
    run.add_argument("--freq-masks", type=int, default=None, metavar="N",
                     help="SpecAugment frequency masks per training example (default: 0; 2 with "
                          "--features logmel --n-features 40 is the most accurate recipe)")
    run.add_argument("--epochs", type=int, default=None, metavar="N", help="epochs per preset (default: 3)")
    run.add_argument("--batch-size", type=int, default=None, metavar="N", help="examples per batch (default: 64)")
    run.add_argument("--limit-train-batches", type=parse_number, default=None, metavar="X",
                     help="training batches per epoch: a fraction (0.1) or a count (20) (default: all)")
    run.add_argument("--limit-eval-batches", type=parse_number, default=None, metavar="X",
                     help="validation and test batches (also bounds the drift evaluation) (default: all)")
    run.add_argument("--drift-repeats", type=int, default=None, metavar="N", help="programming runs per drift time (default: 2)")
    run.add_argument("--drift-times", nargs="+", default=None, metavar="TIME",
                     help="drift times evaluated, from: '1 s' '1 h' '1 day' '1 month' '1 year' (default: all)")
    run.add_argument("--seed", type=int, default=None, metavar="N", help="global seed (default: 0)")
    run.add_argument("--start-from-digital", nargs="+", default=None, metavar="PRESET",
                     help="presets that start from the digital run's best weights (hardware-aware "
                          "fine-tuning) instead of from scratch; 'digital' must come first in --presets")
    run.add_argument("--finetune-epochs", type=int, default=None, metavar="N",
                     help="epochs of the presets in --start-from-digital (default: --epochs)")
    energy = parser.add_argument_group("energy")
    energy.add_argument("--target-acc", type=float, default=None, metavar="FRACTION",
                        help="validation accuracy at which training energy is compared, as a fraction "
                             "(0.82); default: the digital run's best minus 1 point")
    energy.add_argument("--analog", default="hermes", help="analog energy profile (default: %(default)s)")
    energy.add_argument("--digital", default="a100_fp16", help="digital baseline profile (default: %(default)s)")
    device = parser.add_argument_group("device (Lightning's names)")
    device.add_argument("--accelerator", default="cpu", choices=["cpu", "gpu", "cuda", "auto"],
                        help="where to train and evaluate (default: %(default)s; the pulsed presets need cpu)")
    device.add_argument("--devices", default="1", help="device count or ids, as Lightning's Trainer (default: 1)")
    out = parser.add_argument_group("output")
    out.add_argument("--output-dir", default="runs/compare", metavar="DIR", help="run folder (default: %(default)s)")
    out.add_argument("--no-progress", action="store_true", help="hide the training progress bars")


#: command-line option -> ComparisonConfig field, for the options that default to the config's value
_FIELDS = {"model": "model", "features": "features", "n_features": "n_features", "freq_masks": "freq_masks",
           "epochs": "epochs", "batch_size": "batch_size",
           "limit_train_batches": "limit_train_batches", "limit_eval_batches": "limit_eval_batches",
           "drift_repeats": "drift_repeats", "seed": "seed", "finetune_epochs": "finetune_epochs",
           "target_acc": "target_acc"}


def run(args: argparse.Namespace) -> int:
    from memtorch_power.nn import DRIFT_TIMES_S

    presets = check_presets(args.presets) if args.presets else None
    check_profile(args.analog, "analog")
    check_profile(args.digital, "digital")
    if args.drift_times:
        unknown = [t for t in args.drift_times if t not in DRIFT_TIMES_S]
        if unknown:
            raise UserError(f"unknown drift time(s) {', '.join(map(repr, unknown))}; known: "
                            + ", ".join(repr(t) for t in DRIFT_TIMES_S))
    for name in ("epochs", "batch_size", "drift_repeats", "n_features", "finetune_epochs"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be >= 1, got {value}")
    if args.freq_masks is not None and args.freq_masks < 0:
        raise UserError(f"--freq-masks must be >= 0, got {args.freq_masks}")
    if args.target_acc is not None and not 0.0 < args.target_acc <= 1.0:
        raise UserError(f"--target-acc is a fraction in (0, 1] (0.82 for 82 %), got {args.target_acc}")
    for name in ("limit_train_batches", "limit_eval_batches"):
        value = getattr(args, name)
        if value is not None and value <= 0:
            raise UserError(f"--{name.replace('_', '-')} must be > 0, got {value}")
    if args.model is not None:
        from memtorch_power.kws.models import MODELS

        if args.model not in MODELS:
            raise UserError(f"unknown model {args.model!r}; known models: {', '.join(MODELS)}")
    root = resolve_data_root(args.root, args.download)

    import dataclasses

    from memtorch_power.kws.compare import ComparisonConfig, compare

    known = {f.name for f in dataclasses.fields(ComparisonConfig)}
    devices = int(args.devices) if str(args.devices).isdigit() else args.devices
    values = dict(root=root, analog_profile=args.analog, digital_profile=args.digital,
                  output_dir=args.output_dir, progress=not args.no_progress,
                  accelerator=args.accelerator, devices=devices)
    for option, name in _FIELDS.items():
        value = getattr(args, option)
        if value is not None:
            if name not in known:
                raise UserError(f"--{option.replace('_', '-')} is not supported by this version of ComparisonConfig")
            values[name] = value
    if presets:
        values["presets"] = presets
    if args.drift_times:
        values["drift_times"] = list(args.drift_times)
    if args.start_from_digital:
        values["start_from_digital"] = list(args.start_from_digital)
    try:
        config = ComparisonConfig(**values)
    except ValueError as err:
        raise UserError(str(err)) from err
    out = console()
    out.print(f"[bold]Comparing {', '.join(config.presets)}[/] on {root} "
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

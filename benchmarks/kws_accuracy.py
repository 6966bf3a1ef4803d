"""Accuracy, drift, energy and throughput of the keyword spotter per preset (issue 4 targets).

Runs :func:`memtorch_power.kws.compare.compare` on the bundled speech_commands_mini data (or
``--root``) and writes ``benchmarks/results/kws_accuracy.json`` and a BENCHMARKS.md section.
Numbers are on speech_commands_mini's 12-class test split, not official v0.02 test numbers.

    .venv/bin/python benchmarks/kws_accuracy.py --epochs 40 [--presets digital pcm_hwa]
"""

from __future__ import annotations

import argparse
import os

from _common import save_results, update_summary
from memtorch_power.kws.compare import MLPERF_TINY_BEST_KWS_J, ComparisonConfig, compare
from memtorch_power.kws.compare_report import comparison_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS", "../shared/data/speech_commands_mini"))
    parser.add_argument("--presets", nargs="+", default=["digital", "pcm_hwa", "pcm_mixed_precision", "pcm_training"])
    parser.add_argument("--model", default="dscnn")
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--drift-repeats", type=int, default=3)
    parser.add_argument("--output-dir", default="runs/benchmark_kws")
    parser.add_argument("--section", default="kws_accuracy", help="BENCHMARKS.md section name")
    args = parser.parse_args()
    config = ComparisonConfig(
        root=args.root, presets=args.presets, model=args.model, epochs=args.epochs,
        drift_repeats=args.drift_repeats, output_dir=args.output_dir, progress=False,
    )
    rows = compare(config)
    save_results(args.section, {"config": vars(args), "rows": rows, "mlperf_tiny_best_kws_j": MLPERF_TINY_BEST_KWS_J})
    update_summary(
        args.section,
        f"## Keyword spotting per preset, {args.epochs} epochs (`benchmarks/kws_accuracy.py`)\n\n"
        f"speech_commands_mini, 12 classes, test split; results in `benchmarks/results/{args.section}.json`.\n\n"
        + comparison_markdown(rows, config).split("\n", 2)[2],
    )


if __name__ == "__main__":
    main()

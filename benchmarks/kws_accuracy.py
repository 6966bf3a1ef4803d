"""Accuracy, drift, energy and throughput of the keyword spotter per preset (issue 4 and 12 targets).

Runs :func:`memtorch_power.kws.compare.compare` on the bundled speech_commands_mini data (or
``--root``) and writes ``benchmarks/results/kws_accuracy.json`` and a BENCHMARKS.md section.
Numbers are on speech_commands_mini's 12-class test split, not official v0.02 test numbers.
Training energy is also reported at equal accuracy (the energy each preset needed to reach the
digital run's best validation accuracy minus 1 point, or ``--target-acc``), with the plot
``benchmarks/results/<section>_accuracy_energy.png``.

    .venv/bin/python benchmarks/kws_accuracy.py --epochs 40 [--presets digital pcm_hwa]
        [--start-from-digital pcm_hwa --finetune-epochs 20]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from pathlib import Path

from _common import RESULTS, save_results, update_summary
from memtorch_power.kws.compare import MLPERF_TINY_BEST_KWS_J, ComparisonConfig, compare
from memtorch_power.kws.compare_report import comparison_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS", "../shared/data/speech_commands_mini"))
    parser.add_argument("--presets", nargs="+", default=["digital", "pcm_hwa", "pcm_mixed_precision", "pcm_training"])
    parser.add_argument("--model", default="dscnn")
    parser.add_argument("--features", default="mfcc", choices=["mfcc", "logmel"])
    parser.add_argument("--n-features", type=int, default=10)
    parser.add_argument("--freq-masks", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of data order and initialisation (a second seed: its own --section and --output-dir)")
    parser.add_argument("--drift-repeats", type=int, default=3)
    parser.add_argument("--recalibration-batches", type=int, default=0,
                        help="re-estimate the batch norms on this many unlabelled batches after drift (0: off)")
    parser.add_argument("--start-from-digital", nargs="*", default=[], metavar="PRESET",
                        help="presets fine-tuned from the digital run's best weights")
    parser.add_argument("--finetune-epochs", type=int, default=None)
    parser.add_argument("--target-acc", type=float, default=None,
                        help="validation accuracy (fraction) for energy-to-accuracy; default digital best - 1 point")
    parser.add_argument("--training", type=json.loads, default={},
                        help='per-preset optimizer overrides as JSON, e.g. \'{"pcm_mixed_precision": {"analog_lr": 0.3}}\'')
    parser.add_argument("--output-dir", default="runs/benchmark_kws")
    parser.add_argument("--section", default="kws_accuracy", help="BENCHMARKS.md section name")
    parser.add_argument("--rerender", action="store_true",
                        help="rewrite the section from benchmarks/results/<section>.json without training")
    parser.add_argument("--reuse-results", action="store_true",
                        help="read presets already in --output-dir (result.json) instead of training them again")
    parser.add_argument("--note", default="", help="a sentence added under the section (e.g. machine load)")
    args = parser.parse_args()
    saved = None
    if args.rerender:
        saved = json.loads((RESULTS / f"{args.section}.json").read_text())
        args = argparse.Namespace(**{**saved["config"], "rerender": False, "note": args.note or saved["config"].get("note", "")})
    config = ComparisonConfig(
        root=args.root, presets=args.presets, model=args.model, epochs=args.epochs,
        features=args.features, n_features=args.n_features, freq_masks=args.freq_masks,
        drift_repeats=args.drift_repeats,
        recalibration_batches=getattr(args, "recalibration_batches", 0), output_dir=args.output_dir, progress=False,
        start_from_digital=args.start_from_digital, finetune_epochs=args.finetune_epochs,
        target_acc=args.target_acc, training=args.training, seed=getattr(args, "seed", 0), reuse_results=getattr(args, "reuse_results", False),
    )
    plot = RESULTS / f"{args.section}_accuracy_energy.png"
    if saved is not None:
        rows = saved["rows"]
    else:
        rows = compare(config)
        shutil.copyfile(Path(args.output_dir) / "accuracy_vs_training_energy.png", plot)
        save_results(args.section, {"config": vars(args), "rows": rows, "mlperf_tiny_best_kws_j": MLPERF_TINY_BEST_KWS_J})
    targets = target_lines(rows)
    tuned = ", ".join(f"`{name}`" for name in args.start_from_digital)
    print("\n".join(targets))
    update_summary(
        args.section,
        f"## Keyword spotting per preset, {args.epochs} epochs (`benchmarks/kws_accuracy.py`)\n\n"
        f"speech_commands_mini, 12 classes, test split, {args.model} on {args.n_features} "
        f"{'MFCC' if args.features == 'mfcc' else 'log-mel bands'} x 98 frames"
        f"{f', {args.freq_masks} SpecAugment frequency masks' if args.freq_masks else ''}"
        f"{f'; {tuned} fine-tuned from the digital run for {args.finetune_epochs or args.epochs} epochs' if tuned else ''}"
        + (f"; drift columns with the batch norms re-estimated on {args.recalibration_batches} unlabelled batches"
           if getattr(args, "recalibration_batches", 0) else "")
        + f", seed {getattr(args, 'seed', 0)}; results in `benchmarks/results/{args.section}.json`.\n\n"
        + (f"{args.note}\n\n" if args.note else "")
        + comparison_markdown(rows, config).split("\n", 2)[2]
        + f"\n\n![validation accuracy against training energy](benchmarks/results/{plot.name})"
        + ("\n\nThis is the main job's budget; the targets apply to 40 epochs." if args.epochs < 40 else
           "\n\nTargets, computed from the rows above:\n\n" + "\n".join(targets) if targets else
           "\n\nNo target applies to these presets alone (the targets compare with the digital row)."),
    )


def _points(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else 100 * (a - b)


def target_lines(rows: list[dict]) -> list[str]:
    """The issue-4 targets as markdown bullets, each with the measured value and ✓/✗."""
    by = {r["preset"]: r for r in rows}
    digital = by.get("digital")
    lines = []
    if digital:
        ok = digital["test_acc"] >= 0.90
        lines.append(f"- digital test accuracy ≥ 90 %: {100 * digital['test_acc']:.2f} % {'✓' if ok else '✗'}")
    hwa = by.get("pcm_hwa")
    if digital and hwa:
        for key, label, limit in (("acc_after_1_s", "after programming", 2.0), ("acc_after_1_day", "after 1 day", 4.0)):
            gap = _points(digital["test_acc"], hwa.get(key))
            if gap is not None:
                lines.append(f"- pcm_hwa {label} within {limit:.0f} points of digital: {abs(gap):.2f} points "
                             f"{'below' if gap >= 0 else 'above'} {'✓' if gap <= limit else '✗'}")
    mixed = by.get("pcm_mixed_precision")
    if digital and mixed:
        gap = _points(digital["test_acc"], mixed["test_acc"])
        lines.append(f"- pcm_mixed_precision within 2 points of digital (issue 12): {abs(gap):.2f} points "
                     f"{'below' if gap >= 0 else 'above'} {'✓' if gap <= 2.0 else '✗'}")
    for name in ("pcm_tiki_taka", "pcm_fast_weight", "pcm_tiki_taka_adapt"):  # in-array training (issue 13)
        if digital and name in by:
            row = by[name]
            gap = _points(digital["test_acc"], row["test_acc"])
            start = "fine-tuned in the array from the digital model" if row.get("started_from") == "digital" else "from scratch"
            lines.append(f"- in-array preset {name} ({start}, {row['epochs']} epochs) within 3 points of digital "
                         f"(issue 13): {abs(gap):.2f} points {'below' if gap >= 0 else 'above'} "
                         f"{'✓' if gap <= 3.0 else '✗'}")
    if digital and "pcm_training" in by:
        lines.append(f"- pcm_training trails digital by {_points(digital['test_acc'], by['pcm_training']['test_acc']):.2f} "
                     "points (reference only, no target)")
    for row in rows:
        if row.get("target_acc") is None:
            continue
        if row.get("target_reached"):
            energy = f"{row['energy_to_target_j']:.3g} J at epoch {row['target_epoch']}"
            if row["preset"] != "digital":
                energy += f" (same workload on the digital baseline: {row['energy_to_target_digital_j']:.3g} J)"
        else:
            energy = "not reached"
        lines.append(f"- {row['preset']}: training energy to reach {100 * row['target_acc']:.2f} % validation "
                     f"accuracy: {energy}")
    return lines


if __name__ == "__main__":
    main()

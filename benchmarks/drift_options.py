"""Accuracy of a programmed PCM keyword spotter over time, for each retention option (issue 15).

Loads a hardware-aware (``pcm_hwa``) KeywordSpotter checkpoint and its digital twin, programs
the analog model ``--repeats`` times (fresh programming noise each time) and measures the test
accuracy after each drift time, once per option:

- ``global``: one drift-compensation factor per tile (the presets' default);
- ``per_column``: one factor per output column (the periphery's per-column digital scales);
- ``+ BN``: the batch norms' statistics re-estimated on unlabelled training batches after drift
  (adaptive batch-norm statistics, Joshi et al., Nature Communications 11, 2473, 2020);
- ``+ verify`` (with ``--verify-tolerance-us``): the weights programmed with a verify loop that
  re-programs every device more than the tolerance off its target conductance
  (:mod:`memtorch_power.nn.program_verify`), with both compensations and the batch norms
  re-estimated; the mean programming pulses per device are reported beside them;
- ``+ 2 pairs``: every weight stored in two differential pairs of PCM devices, the four-device
  unit cell of the HERMES chip that the ``hermes`` energy profile prices (Le Gallo et al., Nature
  Electronics 6, 680, 2023; aihwkit ``NPairConductanceConverter``,
  :func:`memtorch_power.nn.set_conductance_pairs`); the other options use aihwkit's single pair.

Reports mean and spread over programmings, a 95 % Wilson interval over the test clips, the gap to
the digital model, the issue-15 targets and the energy per inference, and writes
``benchmarks/results/drift_options.{json,png}`` and the BENCHMARKS.md section ``drift_options``.

    .venv/bin/python benchmarks/drift_options.py \\
        --checkpoint runs/kws_pcm_hwa_logmel40_finetune/version_0/checkpoints/best-*.ckpt \\
        --digital dscnn_logmel40 --repeats 5
    # two options only, 10 programmings each, on the validation split (to choose between them):
    .venv/bin/python benchmarks/drift_options.py --checkpoint CKPT --digital DIGITAL --repeats 10 \\
        --options "global + BN" "global + BN + 2 pairs" --split validation --name NAME
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any


sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DRIFT_TARGETS, RESULTS, save_results, update_summary  # noqa: E402

from memtorch_power.io import save_figure  # noqa: E402
from memtorch_power.kws.compare_report import wilson_interval  # noqa: E402
from memtorch_power.kws.drift import FirstBatches, accuracy_after_drift  # noqa: E402
from memtorch_power.kws.module import KeywordSpotter  # noqa: E402
from memtorch_power.kws.results import accuracy, datamodule_for, load_keyword_spotter  # noqa: E402
from memtorch_power.nn import DRIFT_TIMES_S, ProgramVerify  # noqa: E402

#: option label -> (drift compensation, recalibrate the batch norms after drift, verify loop,
#: differential pairs per weight)
OPTIONS: dict[str, tuple[str, bool, bool, int]] = {
    "global": ("global", False, False, 1),
    "per_column": ("per_column", False, False, 1),
    "global + BN": ("global", True, False, 1),
    "per_column + BN": ("per_column", True, False, 1),
    "global + BN + verify": ("global", True, True, 1),
    "per_column + BN + verify": ("per_column", True, True, 1),
    "global + BN + 2 pairs": ("global", True, False, 2),
    "per_column + BN + 2 pairs": ("per_column", True, False, 2),
}

#: issue 15's targets: the most points below digital allowed at each time
TARGETS = DRIFT_TARGETS


def measure(checkpoint: str, digital: str, repeats: int, times: list[str], recalibration_batches: int,
            root: str | None, verify: ProgramVerify | None = None,
            options: list[str] | None = None, split: str = "testing") -> dict[str, Any]:
    """Every option's (or only ``options``') accuracy rows on ``split`` (``"testing"`` or
    ``"validation"``), the references and the energy per inference; the ``+ verify`` options only
    with ``verify``."""
    datamodule = datamodule_for(checkpoint, root, augment=False)
    datamodule.setup("fit")
    datamodule.setup("test")
    analog = load_keyword_spotter(checkpoint).eval()
    hp = analog.hparams
    twin = KeywordSpotter(model=hp.model, preset="digital", num_classes=hp.num_classes, n_features=hp.n_features,
                          n_frames=hp.n_frames, model_kwargs=hp.model_kwargs, init_from=digital).eval()
    digital_acc, clips = accuracy(twin, datamodule, split)
    hwa_acc, _ = accuracy(analog, datamodule, split)
    loader = datamodule.test_dataloader() if split == "testing" else datamodule.val_dataloader()
    selected = {label: DRIFT_TIMES_S[label] for label in times}
    recalibration = FirstBatches(datamodule.train_dataloader(), recalibration_batches)
    rows: list[dict[str, Any]] = []
    for option, (compensation, recalibrate, verified, pairs) in OPTIONS.items():
        if (verified and verify is None) or (options is not None and option not in options):
            continue
        started = time.perf_counter()
        for row in accuracy_after_drift(analog.network, loader, selected, repeats,
                                        transform=datamodule.transform_batch, compensation=compensation,
                                        recalibration=recalibration if recalibrate else None,
                                        verify=verify if verified else None, conductance_pairs=pairs):
            rows.append({"option": option, **row})
        print(f"{option}: {time.perf_counter() - started:.0f} s", flush=True)
    from memtorch_power.energy import energy_per_inference

    example = datamodule.example_input()
    per_inference = energy_per_inference(analog.network, example, "hermes", "a100_fp16")
    energy = {"analog_j": per_inference.analog_j, "digital_j": per_inference.digital_j}
    return {"checkpoint": checkpoint, "digital_checkpoint": digital, "split": split, "test_clips": clips,
            "digital_accuracy": digital_acc, "hwa_forward_accuracy": hwa_acc, "repeats": repeats,
            "recalibration_batches": recalibration_batches, "rows": rows, "energy_per_inference": energy,
            "verify": None if verify is None else dataclasses.asdict(verify)}


def summary(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Mean, spread over programmings and Wilson interval per option and time."""
    clips = result["test_clips"]
    out = []
    for option in OPTIONS:
        for label in dict.fromkeys(r["time"] for r in result["rows"]):
            values = [r["accuracy"] for r in result["rows"] if r["option"] == option and r["time"] == label]
            if not values:
                continue
            mean = statistics.fmean(values)
            low, high = wilson_interval(mean, clips)  # over the test clips (the programmings reuse them)
            pulses = [r["programming_pulses"] for r in result["rows"]
                      if r["option"] == option and r["time"] == label and "programming_pulses" in r]
            out.append({"option": option, "time": label, "mean": mean, "low": low, "high": high,
                        "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                        "gap_points": 100 * (result["digital_accuracy"] - mean), "programmings": len(values),
                        **({"programming_pulses": statistics.fmean(pulses)} if pulses else {})})
    return out


def markdown(result: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    digital, clips = result["digital_accuracy"], result["test_clips"]
    on_test = result.get("split", "testing") == "testing"
    items, acc = ("test clips", "test acc") if on_test else ("validation items", "validation acc")
    low, high = wilson_interval(digital, clips)
    energy = result["energy_per_inference"]
    lines = [
        "## PCM inference over time, per retention option (`benchmarks/drift_options.py`)",
        "",
        f"Checkpoint `{result['checkpoint']}` (pcm_hwa), its digital twin `{result['digital_checkpoint']}`; "
        f"{clips} {items}, {result['repeats']} programmings per option (fresh programming noise each), "
        f"batch-norm recalibration on {result['recalibration_batches']} unlabelled training batches. "
        f"Intervals are 95 % Wilson intervals over the {clips} {items} (every programming is tested on the same "
        f"clips, so they are not narrowed by the programmings); differences inside them are not improvements. "
        f"Digital: {100 * digital:.2f} % [{100 * low:.1f}, {100 * high:.1f}]; the HWA forward before "
        f"programming: {100 * result['hwa_forward_accuracy']:.2f} %. Energy per inference: "
        f"{1e6 * energy['analog_j']:.3g} µJ on PCM (hermes) against {1e6 * energy['digital_j']:.3g} µJ digital "
        f"(a100_fp16). Results in `benchmarks/results/drift_options.json`.",
        "",
        f"| option | time | {acc} (mean over programmings) | 95 % interval ({items}) | std over programmings | below digital (points) | target |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        target = TARGETS.get(row["time"])
        verdict = "" if target is None else f"≤ {target:g} {'✓' if row['gap_points'] <= target else '✗'}"
        lines.append(f"| {row['option']} | {row['time']} | {100 * row['mean']:.2f} % | "
                     f"[{100 * row['low']:.1f}, {100 * row['high']:.1f}] | {100 * row['std']:.2f} | "
                     f"{row['gap_points']:+.2f} | {verdict} |")
    verify = result.get("verify")
    if verify:
        pulses = statistics.fmean(r["programming_pulses"] for r in rows if "programming_pulses" in r)
        lines += ["", f"`+ verify`: every device more than {verify['tolerance_us']:g} µS off its target conductance "
                  f"(g_max 25 µS) is programmed again, at most {verify['max_iterations']} programmings per device; "
                  f"{pulses:.2f} programming pulses per device on the mean (1 without verify). The verify read is "
                  "taken as exact, and the measured error aihwkit's PCM model was fitted to may already include the "
                  "chip's own verify iterations: read these rows as the most more verify iterations could buy. The "
                  "energy profiles price programming at an assumed 10 program-and-verify iterations per device."]
    if any(OPTIONS[row["option"]][3] > 1 for row in rows):
        lines += ["", "`+ 2 pairs`: every weight in two differential pairs of PCM devices of equal significance that "
                  "fill in turn (aihwkit `NPairConductanceConverter`), the four-device unit cell of the HERMES chip "
                  "(Le Gallo et al., Nature Electronics 2023) that the `hermes` energy profile already prices: the "
                  "energy per inference above holds for it. The other options simulate aihwkit's single pair."]
    lines += ["", "Spread target (issue 15): standard deviation over programmings under 1 point at 1 day.",
              "", "![accuracy against time after programming, per option](benchmarks/results/drift_options.png)"]
    return "\n".join(lines)


def plot(result: dict[str, Any], rows: list[dict[str, Any]]) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4))
    axis = figure.subplots()
    for option in OPTIONS:
        points = [r for r in rows if r["option"] == option]
        if not points:
            continue
        seconds = [DRIFT_TIMES_S[r["time"]] for r in points]
        axis.errorbar(seconds, [100 * r["mean"] for r in points], yerr=[100 * r["std"] for r in points],
                      marker="o", capsize=3, label=option)
    axis.axhline(100 * result["digital_accuracy"], color="black", linestyle="--", label="digital")
    axis.set_xscale("log")
    axis.set_xlabel("time after programming (s)")
    axis.set_ylabel("test accuracy (%)")
    axis.set_title("PCM keyword spotter over time, per retention option")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    return figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", help="pcm_hwa KeywordSpotter checkpoint")
    parser.add_argument("--digital",
                        help="the digital reference: a shipped model's name (dscnn_logmel40) or a digital checkpoint")
    parser.add_argument("--repeats", type=int, default=5, help="programmings per option (default: %(default)s)")
    parser.add_argument("--times", nargs="+", default=["1 s", "1 h", "1 day", "1 month", "1 year"])
    parser.add_argument("--recalibration-batches", type=int, default=20)
    parser.add_argument("--root", default=None, help="Speech Commands folder (default: the checkpoint's)")
    parser.add_argument("--name", default="drift_options", help="results file and BENCHMARKS.md section")
    parser.add_argument("--verify-tolerance-us", type=float, default=None,
                        help="also measure programming with a verify loop at this tolerance (µS)")
    parser.add_argument("--verify-iterations", type=int, default=10,
                        help="programmings per device at most in the verify loop (default: %(default)s)")
    parser.add_argument("--split", default="testing", choices=["testing", "validation"],
                        help="the split measured (default: %(default)s; validation to choose between options)")
    parser.add_argument("--options", nargs="+", choices=list(OPTIONS), default=None,
                        help="measure only these options (default: all; the verify ones need --verify-tolerance-us)")
    parser.add_argument("--rerender", action="store_true",
                        help="rewrite the report from benchmarks/results/<name>.json without measuring again")
    args = parser.parse_args()
    if args.rerender:
        import json

        result = json.loads((RESULTS / f"{args.name}.json").read_text())
    else:
        if not args.checkpoint or not args.digital:
            parser.error("--checkpoint and --digital are needed to measure (or --rerender)")
        verify = None if args.verify_tolerance_us is None else ProgramVerify(args.verify_tolerance_us,
                                                                             args.verify_iterations)
        result = measure(args.checkpoint, args.digital, args.repeats, args.times, args.recalibration_batches, args.root,
                         verify, args.options, args.split)
    rows = summary(result)
    save_results(args.name, {**result, "summary": rows})
    save_figure(plot(result, rows), RESULTS / f"{args.name}.png")
    text = markdown(result, rows).replace("drift_options.png", f"{args.name}.png").replace(
        "drift_options.json", f"{args.name}.json")
    update_summary(args.name, text)
    print(text)


if __name__ == "__main__":
    main()

"""Training step time of the keyword-spotting model on each preset against digital (issue 5).

DS-CNN (64 channels, 4 blocks) on 10 MFCC x 98 frames, batch 64, forward + backward +
optimizer step, median of repeats after warm-up; depthwise convolutions stay digital
(``skip_grouped``) as in the recipe. All presets run in one process, so the ratios compare
like with like. Targets: pcm_hwa within 3x, pcm_mixed_precision, pcm_tiki_taka and
pcm_fast_weight (Ambrogio et al.'s cell with its closed-loop transfer) within 20x (issues 5 and
13), pcm_training within 50x of digital.

    .venv/bin/python benchmarks/kws_step.py [--repeats 10] [--threads 2]
"""

from __future__ import annotations

import argparse

import torch

from _common import median_seconds, save_results, update_summary
from memtorch_power.kws.compare import DEFAULT_TRAINING
from memtorch_power.kws.models import build_model
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for

BATCH = 64
TARGETS = {"pcm_hwa": 3.0, "pcm_mixed_precision": 20.0, "pcm_training": 50.0, "pcm_tiki_taka": 20.0,
           "pcm_fast_weight": 20.0}
#: the recipe's optimizer settings (the pulsed update's cost depends on the step size)
SETTINGS = {preset: DEFAULT_TRAINING[preset] for preset in ("digital", *TARGETS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=5, help="steps before timing (pcm_hwa initialises input ranges)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(BATCH, 1, 10, 98)
    y = torch.randint(0, 12, (BATCH,))
    rows = []
    digital_s = None
    for preset, settings in SETTINGS.items():
        network = build_model("dscnn", num_classes=12, n_features=10)
        if preset != "digital":
            network = analogize(network, preset, skip_grouped=True)
        optimizer = optimizer_for(network, **settings)

        def step() -> None:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(network(x), y).backward()
            optimizer.step()

        timing = median_seconds(step, args.repeats, warmup=args.warmup, budget_s=120)
        digital_s = digital_s or timing["median_s"]
        ratio = timing["median_s"] / digital_s
        rows.append({"preset": preset, **timing, "ratio": ratio, "target": TARGETS.get(preset),
                     "clips_per_s": BATCH / timing["median_s"]})
        print(f"{preset:20s} {timing['median_s'] * 1e3:8.1f} ms/step  {ratio:6.1f}x  {BATCH / timing['median_s']:7.0f} clips/s")
    save_results("kws_step", {"batch": BATCH, "model": "dscnn 10x98", "rows": rows})
    table = ["| preset | step (ms) | clips/s | vs digital | target |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        target = "" if r["target"] is None else f"≤ {r['target']:.0f}x {'✓' if r['ratio'] <= r['target'] else '✗'}"
        table.append(f"| {r['preset']} | {r['median_s'] * 1e3:.1f} | {r['clips_per_s']:.0f} | {r['ratio']:.1f}x | {target} |")
    update_summary(
        "kws_step",
        "## KWS training step by preset (`benchmarks/kws_step.py`)\n\n"
        "DS-CNN on 10 MFCC x 98 frames, batch 64, forward + backward + optimizer step, depthwise "
        f"convolutions digital, {args.threads} threads, median of {args.repeats} steps, one process "
        "(results in `benchmarks/results/kws_step.json`).\n\n" + "\n".join(table),
    )


if __name__ == "__main__":
    main()

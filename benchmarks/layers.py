"""Step time (forward + backward + optimizer step) of each preset against the digital layer.

Cases: a 512x512 ``Linear`` and a 64-channel 3x3 ``Conv2d`` (8x8 feature maps), batch 64.
All cases run in one process, so the ratios compare like with like.

    .venv/bin/python benchmarks/layers.py [--repeats 5] [--budget 60]
"""

from __future__ import annotations

import argparse

import torch
from torch import nn

from _common import median_seconds, save_results, update_summary
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import PRESETS

BATCH = 64


def cases() -> dict[str, tuple[callable, tuple[int, ...]]]:
    return {
        "Linear 512x512": (lambda: nn.Linear(512, 512), (BATCH, 512)),
        "Conv2d 64->64 3x3 on 8x8": (lambda: nn.Conv2d(64, 64, 3, padding=1), (BATCH, 64, 8, 8)),
    }


def step_fn(model: nn.Module, x: torch.Tensor) -> callable:
    optimizer = optimizer_for(model, lr=0.01)

    def step() -> None:
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per case at most")
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = []
    for case, (build, shape) in cases().items():
        x = torch.randn(*shape)
        digital = median_seconds(step_fn(build(), x), args.repeats, budget_s=args.budget)
        rows.append({"case": case, "preset": "digital", **digital, "ratio": 1.0})
        print(f"{case:28s} digital              {digital['median_s'] * 1e3:9.2f} ms")
        for preset in PRESETS:
            model = analogize(build(), preset)
            timing = median_seconds(step_fn(model, x), args.repeats, budget_s=args.budget)
            ratio = timing["median_s"] / digital["median_s"]
            rows.append({"case": case, "preset": preset, **timing, "ratio": ratio})
            print(f"{case:28s} {preset:20s} {timing['median_s'] * 1e3:9.2f} ms  {ratio:8.1f}x")
    save_results("layers", {"batch": BATCH, "rows": rows})
    table = ["| layer (batch 64) | preset | step time (ms) | vs digital |", "|---|---|---:|---:|"]
    table += [
        f"| {r['case']} | {r['preset']} | {r['median_s'] * 1e3:.2f} | {r['ratio']:.1f}x |" for r in rows
    ]
    update_summary(
        "layers",
        "## Layer step time by preset (`benchmarks/layers.py`)\n\n"
        "Forward + backward + optimizer step, median of repeats, one process "
        "(results in `benchmarks/results/layers.json`).\n\n" + "\n".join(table),
    )


if __name__ == "__main__":
    main()

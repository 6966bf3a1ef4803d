"""Overhead of ``EnergyMonitor`` on the training step of a small CNN (``pcm_hwa``, CPU).

Three measurements (medians), because the machine may be shared and step times drift:

* **direct** (the headline): the monitor's absolute cost per step, measured where it is
  paid: its forward hooks (a forward of one sample with and without them, 300 alternations)
  plus its per-batch callbacks, divided by the median training-step time;
* **loop_paired**: a plain PyTorch training loop whose consecutive steps alternate between
  hooks counting and no hooks (median over pairs of ``with / without - 1``);
* **lightning**: per-batch time of ``Trainer.fit`` with and without the monitor, alternated
  runs (informative only: the noise of a shared machine is larger than the effect).

Writes ``benchmarks/results/energy_monitor.json`` and prints one summary line. The target is an
overhead under 2 % of a step. No assertion: timings depend on the machine.

Usage: ``python benchmarks/energy_monitor.py [--repeats 3] [--batches 30] [--preset pcm_hwa]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import torch
from lightning.pytorch.callbacks import Callback
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from memtorch_power.energy import EnergyMonitor
from memtorch_power.energy.counting import WorkloadCounter
from memtorch_power.io import write_text
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for

RESULTS = Path(__file__).resolve().parent / "results" / "energy_monitor.json"


def small_cnn(preset: str) -> nn.Module:
    """A KWS-sized CNN: 3 convolutions, batch norm, pooling and a classifier (analog layers)."""
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1, groups=32), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(32, 12),
    )
    return analogize(model, preset)


class Module(pl.LightningModule):
    def __init__(self, preset: str) -> None:
        super().__init__()
        self.net = small_cnn(preset)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self):
        return optimizer_for(self, lr=0.01)


class StepTimer(Callback):
    """Wall time of each training batch (forward, backward, optimizer step, callbacks)."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self._start = 0.0

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
        self._start = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.times.append(time.perf_counter() - self._start)


def _data(batches: int, batch_size: int) -> DataLoader:
    n = batches * batch_size
    data = TensorDataset(torch.randn(n, 1, 32, 32), torch.randint(0, 12, (n,)))
    return DataLoader(data, batch_size=batch_size)


def lightning_step(preset: str, batches: int, batch_size: int, monitor: bool, warmup: int) -> float:
    """Median per-batch time (s) of one fit, warm-up batches excluded."""
    torch.manual_seed(0)
    timer = StepTimer()
    callbacks: list[Callback] = [timer]
    if monitor:
        callbacks.append(EnergyMonitor(log=True, dirpath=tempfile.mkdtemp(prefix="energy_monitor_")))
    trainer = pl.Trainer(max_epochs=1, callbacks=callbacks, logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(Module(preset), _data(batches, batch_size))
    return statistics.median(timer.times[warmup:])


def loop_paired(preset: str, batches: int, batch_size: int, warmup: int) -> dict[str, Any]:
    """A plain training loop whose steps alternate between hooks counting and no hooks at all.

    Pairing neighbouring steps cancels the slow drifts of a shared machine; the overhead is the
    median over pairs of ``with / without - 1``.
    """
    torch.manual_seed(0)
    model = small_cnn(preset).train()
    optimizer = optimizer_for(model, lr=0.01)
    without: list[float] = []
    with_hooks: list[float] = []
    for index, (x, y) in enumerate(_data(2 * batches, batch_size)):
        counting = index % 2 == 1
        counter = WorkloadCounter(model) if counting else None
        if counter is not None:
            counter.start("train", track_backward=True)
        start = time.perf_counter()
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
        elapsed = time.perf_counter() - start
        if counter is not None:
            counter.remove()
        (with_hooks if counting else without).append(elapsed)
    pairs = list(zip(without, with_hooks))[warmup:]
    base = statistics.median(w for w, _ in pairs)
    return {
        "step_s_without": base,
        "step_s_fastest": min(w for w, _ in pairs),
        "step_s_with": statistics.median(m for _, m in pairs),
        "overhead_pct": 100.0 * statistics.median(m / w - 1.0 for w, m in pairs),
        "pairs": len(pairs),
    }


def direct_cost(preset: str, batch_size: int, step_s: float, repeats: int = 300) -> dict[str, float]:
    """Absolute cost of the monitor per training step, measured where it is paid.

    * hooks: one forward of a batch of 1 under ``no_grad`` with hooks counting minus without
      hooks (median of ``repeats`` alternations; compute is tiny, so the hooks dominate);
    * callbacks: the monitor's per-batch callbacks (batch start, optimizer step, batch end).
    """
    torch.manual_seed(0)
    model = small_cnn(preset).eval()
    x = torch.randn(1, 1, 32, 32)
    diffs = []
    with torch.no_grad():
        for _ in range(repeats):
            start = time.perf_counter()
            model(x)
            plain = time.perf_counter() - start
            counter = WorkloadCounter(model)
            counter.start("train", track_backward=True)
            start = time.perf_counter()
            model(x)
            hooked = time.perf_counter() - start
            counter.remove()
            diffs.append(hooked - plain)
    hooks_s = max(0.0, statistics.median(diffs))
    monitor = EnergyMonitor(measure_pulses=False)
    batch = (torch.randn(batch_size, 1, 32, 32), torch.zeros(batch_size, dtype=torch.long))
    calls = 2000
    none: Any = None  # the per-batch callbacks do not use trainer, module or optimizer
    start = time.perf_counter()
    for index in range(calls):
        monitor.on_train_batch_start(none, none, batch, index)
        monitor.on_before_optimizer_step(none, none, none)
        monitor.on_train_batch_end(none, none, None, batch, index)
    callbacks_s = (time.perf_counter() - start) / calls
    per_step = hooks_s + callbacks_s
    return {
        "hooks_us_per_step": hooks_s * 1e6,
        "callbacks_us_per_step": callbacks_s * 1e6,
        "overhead_pct": 100.0 * per_step / step_s,
    }


def lightning_runs(repeats: int, **kwargs: Any) -> dict[str, Any]:
    without, with_monitor = [], []
    for _ in range(repeats):  # alternate runs to share slow drifts of the machine
        without.append(lightning_step(monitor=False, **kwargs))
        with_monitor.append(lightning_step(monitor=True, **kwargs))
    base, mon = statistics.median(without), statistics.median(with_monitor)
    return {
        "step_s_without": base,
        "step_s_with": mon,
        "overhead_pct": 100.0 * (mon / base - 1.0),
        "runs_without_s": without,
        "runs_with_s": with_monitor,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batches", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--preset", default="pcm_hwa")
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    common = dict(preset=args.preset, batches=args.batches, batch_size=args.batch_size, warmup=args.warmup)
    lightning = lightning_runs(args.repeats, **common)
    loop = loop_paired(args.preset, args.batches, args.batch_size, args.warmup)
    # the fastest step seen (plain loop or Lightning, without the monitor) is the least
    # disturbed by other load: dividing by it gives the largest, most conservative percentage
    fastest = min(loop["step_s_fastest"], min(lightning["runs_without_s"]))
    results = {
        "benchmark": "EnergyMonitor overhead on a small CNN training step (medians)",
        "preset": args.preset,
        "batch_size": args.batch_size,
        "batches_per_run": args.batches,
        "repeats": args.repeats,
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "torch": torch.__version__, "threads": torch.get_num_threads(),
                    "cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "direct": direct_cost(args.preset, args.batch_size, fastest),
        "fastest_step_s": fastest,
        "loop_paired": loop,
        "lightning": lightning,
        "target_pct": 2.0,
    }
    write_text(RESULTS, json.dumps(results, indent=2) + "\n")
    direct, lit = results["direct"], results["lightning"]
    print(
        f"EnergyMonitor overhead: {direct['overhead_pct']:.2f}% of a "
        f"{fastest * 1e3:.1f} ms step (hooks {direct['hooks_us_per_step']:.0f} us + "
        f"callbacks {direct['callbacks_us_per_step']:.1f} us); paired loop {loop['overhead_pct']:+.2f}%, "
        f"Lightning runs {lit['overhead_pct']:+.2f}% (noisy); target < 2% -> {RESULTS}"
    )
    from _common import update_summary

    update_summary(
        "energy_monitor",
        "## EnergyMonitor overhead (`benchmarks/energy_monitor.py`)\n\n"
        f"Small CNN, preset `{args.preset}`, batch {args.batch_size}; target < 2 % of a training step "
        "(results in `benchmarks/results/energy_monitor.json`).\n\n"
        "| measurement | result |\n|---|---:|\n"
        f"| hooks + callbacks per step | {direct['hooks_us_per_step'] + direct['callbacks_us_per_step']:.0f} µs |\n"
        f"| fastest training step | {fastest * 1e3:.1f} ms |\n"
        f"| monitor cost / step | {direct['overhead_pct']:.2f} % |\n"
        f"| paired plain-loop difference | {loop['overhead_pct']:+.2f} % (noise) |\n"
        f"| load average while measured | {results['machine']['load_average'][0]:.1f} |",
    )


if __name__ == "__main__":
    main()

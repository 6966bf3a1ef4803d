"""Every in-array training algorithm aihwkit offers, on PCM, with a learning-rate sweep (issue 13).

A small task that runs in seconds per setting, so that no candidate is called unworkable
without a sweep: an 8-16-3 classifier of 600 Gaussian points labelled by a random linear map
(the task of ``tests/nn/test_tiki_taka.py``), 20 epochs of mini-batches of 20, accuracy on 600
held-out points. Candidates, each on aihwkit 1.1.0's PCM models:

* ``sgd``: plain parallel pulsed SGD on a PCM pair (``pcm_training``; aihwkit's ``PCMPreset``);
* ``mp``: mixed precision (``pcm_mixed_precision``);
* ``tt``: Tiki-Taka with a capacitor fast array and a PCM pair (``pcm_tiki_taka``);
* ``ttv2``, ``c-ttv2``, ``agad``: aihwkit's ``build_config`` with a PCM pair
  (``PCMPresetUnitCell``) as *every* array of the compound (it builds all arrays from one device),
  and aihwkit's default I/O and update parameters: TTv2 (Gokmen, Frontiers in AI 2021), chopped
  TTv2 and AGAD (Rasch et al., Nature Communications 2024);
* ``ttv2+cap``, ``c-ttv2+cap``, ``agad+cap``: the same with a capacitor-like fast array and the PCM
  pair as the long-term store, as ``pcm_tiki_taka``.

Results: ``benchmarks/results/transfer_algorithms.json`` and a BENCHMARKS.md section.

    .venv/bin/python benchmarks/transfer_algorithms.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Callable

import torch
from aihwkit.simulator.configs.helpers import build_config
from aihwkit.simulator.presets.compounds import PCMPresetUnitCell
from aihwkit.simulator.presets.devices import CapacitorPresetDevice
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save_results, update_summary  # noqa: E402

from memtorch_power.nn import analogize  # noqa: E402
from memtorch_power.optim import optimizer_for  # noqa: E402
from memtorch_power.presets import PresetLike  # noqa: E402

LEARNING_RATES = (0.01, 0.03, 0.1, 0.3, 1.0)


def _pcm_pair(**_: object) -> PCMPresetUnitCell:
    """A fresh PCM pair per array (build_config calls its device factory once per array)."""
    return PCMPresetUnitCell()


def _capacitor_then_pcm() -> Callable[..., object]:
    """A device factory for build_config whose first array (the fast one: ``[device(), device()]``)
    is a capacitor-like device and every later one a PCM pair, as in ``pcm_tiki_taka``."""
    calls = iter(range(1_000))

    def factory(**_: object) -> object:
        return CapacitorPresetDevice() if next(calls) == 0 else PCMPresetUnitCell()
    return factory
EPOCHS, BATCH = 20, 20

#: name -> (what it is, how to build its preset)
CANDIDATES: dict[str, tuple[str, Callable[[], PresetLike]]] = {
    "sgd": ("plain pulsed SGD on a PCM pair (pcm_training)", lambda: "pcm_training"),
    "mp": ("mixed precision: digital chi, PCM pulses (pcm_mixed_precision)", lambda: "pcm_mixed_precision"),
    "tt": ("Tiki-Taka, capacitor fast array + PCM pair (pcm_tiki_taka)", lambda: "pcm_tiki_taka"),
    "ttv2": ("TTv2, PCM pairs for every array (build_config)", lambda: build_config("ttv2", _pcm_pair)),
    "c-ttv2": ("chopped TTv2, PCM pairs for every array (build_config)",
               lambda: build_config("c-ttv2", _pcm_pair)),
    "agad": ("AGAD, PCM pairs for every array (build_config)", lambda: build_config("agad", _pcm_pair)),
    "ttv2+cap": ("TTv2, capacitor fast array + PCM pair (build_config)",
                 lambda: build_config("ttv2", _capacitor_then_pcm())),
    "c-ttv2+cap": ("chopped TTv2, capacitor fast array + PCM pair (build_config)",
                   lambda: build_config("c-ttv2", _capacitor_then_pcm())),
    "agad+cap": ("AGAD, capacitor fast array + PCM pair (build_config)",
                 lambda: build_config("agad", _capacitor_then_pcm())),
}


def _data(seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    mapping = torch.randn(8, 3, generator=generator)
    x = torch.randn(600, 8, generator=torch.Generator().manual_seed(seed))
    return x, (x @ mapping).argmax(1)


def run(preset: PresetLike, lr: float, seed: int = 1) -> float:
    """Held-out accuracy after training the toy classifier on ``preset`` at step ``lr``."""
    x, y = _data(seed=1)
    x_test, y_test = _data(seed=2)
    torch.manual_seed(seed)
    model = analogize(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), preset)
    optimizer = optimizer_for(model, lr=lr)
    for _ in range(EPOCHS):
        for i in range(0, len(x), BATCH):
            optimizer.zero_grad()
            nn.functional.cross_entropy(model(x[i:i + BATCH]), y[i:i + BATCH]).backward()
            optimizer.step()
    with torch.no_grad():
        return (model(x_test).argmax(1) == y_test).float().mean().item()


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for name, (what, build) in CANDIDATES.items():
        for lr in LEARNING_RATES:
            started = time.perf_counter()
            try:
                accuracy: float | None = run(build(), lr)
                error = ""
            except Exception as err:  # noqa: BLE001 - a candidate aihwkit cannot build or run is a result too
                accuracy, error = None, f"{type(err).__name__}: {str(err)[:160]}"
            rows.append({"algorithm": name, "what": what, "lr": lr, "test_acc": accuracy, "error": error,
                         "wall_s": time.perf_counter() - started})
            shown = "failed: " + error if accuracy is None else f"{100 * accuracy:.1f} %"
            print(f"{name:7s} lr {lr:<5g} {shown}", flush=True)
    save_results("transfer_algorithms", {"epochs": EPOCHS, "batch": BATCH, "test_points": 600, "rows": rows})
    best = {}
    for row in rows:
        if row["test_acc"] is not None and row["test_acc"] > best.get(row["algorithm"], (-1, 0))[0]:
            best[row["algorithm"]] = (row["test_acc"], row["lr"])
    lines = ["| algorithm | what | " + " | ".join(f"lr {lr:g}" for lr in LEARNING_RATES) + " | best |",
             "|---|---|" + "---:|" * (len(LEARNING_RATES) + 1)]
    for name, (what, _) in CANDIDATES.items():
        cells = []
        for lr in LEARNING_RATES:
            row = next(r for r in rows if r["algorithm"] == name and r["lr"] == lr)
            cells.append("error" if row["test_acc"] is None else f"{100 * row['test_acc']:.1f} %")
        top = best.get(name)
        lines.append(f"| `{name}` | {what} | " + " | ".join(cells) + " | "
                     + ("-" if top is None else f"{100 * top[0]:.1f} % at {top[1]:g}") + " |")
    errors = sorted({f"`{r['algorithm']}`: {r['error']}" for r in rows if r["error"]})
    update_summary(
        "transfer_algorithms",
        "## In-array training algorithms on PCM, learning-rate sweep (`benchmarks/transfer_algorithms.py`)\n\n"
        f"Toy task: an 8-16-3 classifier of Gaussian points labelled by a random linear map, {EPOCHS} epochs "
        f"of {BATCH}-point batches of 600 points, accuracy on 600 held-out points (95 % interval about "
        "±3 points at 85 %; chance 33 %); one seed (aihwkit's C++ tiles draw from their own random "
        "generator, so a re-run moves each cell by a few points). The step is the optimizer's learning rate of the "
        "tiles (for Tiki-Taka it scales the transfer; its fast array steps at its own fast lr).\n\n"
        + "\n".join(lines)
        + ("\n\nErrors:\n\n" + "\n".join(f"- {e}" for e in errors) if errors else ""),
    )
    print("\n".join(lines))


if __name__ == "__main__":
    main()

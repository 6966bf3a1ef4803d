"""What each simulator choice costs and buys: step time *and* accuracy per choice (issue 5).

For every variant (a preset with one aihwkit setting changed, or a thread count) this
measures the KWS training step (DS-CNN, 10 MFCC x 98 frames, batch 64, median of repeats)
and trains the same network for ``--epochs`` epochs on speech_commands_mini, reporting
the 12-class test accuracy, so that no speed-up is bought with accuracy unknowingly.
Every variant starts from the same seed, data order and initial weights; the pulsed
presets' C++ tiles draw from their own random generator, so their accuracies carry run-to-run
noise of a few points (see BENCHMARKS.md).

    .venv/bin/python benchmarks/speed_choices.py [--epochs 4] [--repeats 10] [--only pcm_training]
"""

from __future__ import annotations

import argparse
import copy
import os
import time
from dataclasses import dataclass
from typing import Any, Callable

import lightning as L
import torch
from aihwkit.simulator.configs import InferenceRPUConfig
from aihwkit.simulator.parameters.enums import PulseType
from aihwkit.simulator.parameters.base import RPUConfigBase
from aihwkit.simulator.presets import GokmenVlasovPreset
from tqdm import tqdm

from _common import median_seconds, save_results, update_summary
from memtorch_power.kws.compare import DEFAULT_TRAINING
from memtorch_power.kws.datamodule import SpeechCommandsDataModule
from memtorch_power.kws.models import build_model
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import get_preset

BATCH = 64


@dataclass(frozen=True)
class Variant:
    """One measured configuration: a preset, optionally with one setting changed."""

    preset: str
    choice: str
    change: Callable[[RPUConfigBase], RPUConfigBase] | None = None
    threads: int = 2

    def rpu_config(self) -> RPUConfigBase | None:
        if self.preset == "digital":
            return None
        config = get_preset(self.preset).rpu_config()
        return config if self.change is None else self.change(config)


def _pulse_type(kind: PulseType) -> Callable[[RPUConfigBase], RPUConfigBase]:
    def change(config: RPUConfigBase) -> RPUConfigBase:
        config.update.pulse_type = kind
        return config
    return change


def _desired_bl(bl: int) -> Callable[[RPUConfigBase], RPUConfigBase]:
    def change(config: RPUConfigBase) -> RPUConfigBase:
        config.update.desired_bl = bl
        return config
    return change


def _no_update_management(config: RPUConfigBase) -> RPUConfigBase:
    config.update.update_management = False
    config.update.update_bl_management = False
    return config


def _cpp_inference_tile(config: RPUConfigBase) -> RPUConfigBase:
    """The same pcm_hwa settings on aihwkit's C++ ``InferenceRPUConfig`` tile."""
    cpp = InferenceRPUConfig()
    for name in ("mapping", "forward", "backward", "pre_post", "clip", "remap", "modifier",
                 "noise_model", "drift_compensation"):
        setattr(cpp, name, copy.deepcopy(getattr(config, name)))
    return cpp


def _symmetric_device_control(config: RPUConfigBase) -> RPUConfigBase:
    """Not PCM: the same mapping on aihwkit's GokmenVlasovPreset (symmetric constant-step
    device), to tell the PCM device's part in pcm_training's accuracy from the method's."""
    control = GokmenVlasovPreset()
    control.mapping = copy.deepcopy(config.mapping)
    return control


VARIANTS: list[Variant] = [
    Variant("digital", "2 threads (reference)"),
    Variant("digital", "1 thread", threads=1),
    Variant("pcm_hwa", "pure-PyTorch tile (preset)"),
    Variant("pcm_hwa", "C++ InferenceRPUConfig tile", _cpp_inference_tile),
    Variant("pcm_hwa", "1 thread", threads=1),
    Variant("pcm_mixed_precision", "preset"),
    Variant("pcm_mixed_precision", "1 thread", threads=1),
    Variant("pcm_training", "stochastic compressed pulses, BL 31 (preset)"),
    Variant("pcm_training", "deterministic implicit pulses", _pulse_type(PulseType.DETERMINISTIC_IMPLICIT)),
    Variant("pcm_training", "BL 10", _desired_bl(10)),
    Variant("pcm_training", "no update management", _no_update_management),
    Variant("pcm_training", "1 thread", threads=1),
    Variant("pcm_training", "control, not PCM: symmetric constant-step device", _symmetric_device_control),
]


def _network(variant: Variant) -> torch.nn.Module:
    torch.manual_seed(0)
    network = build_model("dscnn", num_classes=12, n_features=10)
    config = variant.rpu_config()
    return network if config is None else analogize(network, config, skip_grouped=True)


def _optimizer(variant: Variant, network: torch.nn.Module) -> torch.optim.Optimizer:
    settings = dict(DEFAULT_TRAINING.get(variant.preset, DEFAULT_TRAINING["digital"]))
    return optimizer_for(network, **settings)


def step_time(variant: Variant, repeats: int) -> dict[str, float]:
    """Median forward + backward + optimizer step on a random batch, seconds."""
    network = _network(variant)
    optimizer = _optimizer(variant, network)
    x, y = torch.randn(BATCH, 1, 10, 98), torch.randint(0, 12, (BATCH,))

    def step() -> None:
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(network(x), y).backward()
        optimizer.step()

    return median_seconds(step, repeats, warmup=5, budget_s=120)


def accuracy(variant: Variant, datamodule: SpeechCommandsDataModule, epochs: int) -> dict[str, float]:
    """Test accuracy (fraction) after ``epochs`` epochs of training, and the fit time (s)."""
    L.seed_everything(0, verbose=False)
    network = _network(variant)
    optimizer = _optimizer(variant, network)
    loader = datamodule.train_dataloader()
    total = epochs * len(loader)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    started = time.perf_counter()
    network.train()
    with tqdm(total=total, desc=f"{variant.preset}: {variant.choice}", leave=False) as bar:
        for _ in range(epochs):
            for batch in loader:
                x, y = datamodule.transform_batch(batch, train=True)
                optimizer.zero_grad()
                loss = torch.nn.functional.cross_entropy(network(x), y)
                loss.backward()
                optimizer.step()
                schedule.step()
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.3f}")
    fit_s = time.perf_counter() - started
    network.eval()
    correct = seen = 0
    with torch.no_grad():
        for batch in datamodule.test_dataloader():
            x, y = datamodule.transform_batch(batch)
            correct += int((network(x).argmax(1) == y).sum())
            seen += len(y)
    return {"test_acc": correct / seen, "fit_s": fit_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=4, help="training epochs per variant for the accuracy")
    parser.add_argument("--repeats", type=int, default=10, help="timed steps per variant")
    parser.add_argument("--only", default=None, help="run only the variants of this preset")
    parser.add_argument("--root", default=os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS", "../shared/data/speech_commands_mini"),
                        help="Speech Commands folder (default: $MEMTORCH_POWER_SPEECH_COMMANDS, else the bundled mini set)")
    args = parser.parse_args()
    datamodule = SpeechCommandsDataModule(args.root, n_features=10,
                                          batch_size=BATCH)
    datamodule.setup("fit")
    datamodule.setup("test")
    # the digital reference always runs first: every ratio is against it
    variants = [v for v in VARIANTS if args.only in (None, v.preset) or v == VARIANTS[0]]
    reference: dict[str, float] = {}
    rows: list[dict[str, Any]] = []
    for variant in variants:
        torch.set_num_threads(variant.threads)
        timing = step_time(variant, args.repeats)
        reference.setdefault("digital", timing["median_s"])
        result = accuracy(variant, datamodule, args.epochs)
        row = {"preset": variant.preset, "choice": variant.choice, "threads": variant.threads,
               "step_ms": timing["median_s"] * 1e3, "vs_digital": timing["median_s"] / reference["digital"],
               **result}
        rows.append(row)
        print(f"{variant.preset:20s} {variant.choice:45s} {row['step_ms']:8.1f} ms {row['vs_digital']:5.1f}x "
              f"test {100 * row['test_acc']:5.1f} %", flush=True)
    torch.set_num_threads(2)
    save_results("speed_choices", {"batch": BATCH, "epochs": args.epochs, "rows": rows})
    table = ["| preset | choice | threads | step (ms) | vs digital | test acc after "
             f"{args.epochs} epochs | fit time |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        table.append(f"| {r['preset']} | {r['choice']} | {r['threads']} | {r['step_ms']:.1f} | "
                     f"{r['vs_digital']:.1f}x | {100 * r['test_acc']:.1f} % | {r['fit_s']:.0f} s |")
    update_summary(
        "speed_choices",
        "## Speed choices and their accuracy (`benchmarks/speed_choices.py`)\n\n"
        f"KWS DS-CNN step (batch {BATCH}, median of {args.repeats}) and 12-class test accuracy after "
        f"{args.epochs} epochs on speech_commands_mini for each simulator choice, one process, "
        "same seed and initial weights (results in `benchmarks/results/speed_choices.json`).\n\n"
        + "\n".join(table),
    )


if __name__ == "__main__":
    main()

"""Tune ``pcm_mixed_precision`` on keyword spotting: one KWS run per named variant (issue 12).

Each variant changes what the issue names as tunable (learning rates of the tiles and of the
digital parameters, the accumulator threshold, weight scaling, refresh, batch size), never the
device or the periphery model. Variants are chosen on **validation** accuracy; the test
accuracy of the chosen one is reported once, by ``benchmarks/kws_accuracy.py``. Every run
appends its row to ``benchmarks/results/mixed_precision_sweep.json`` (atomic write), and
``--table`` prints the table that ``docs/kws_accuracy_notes.md`` keeps.

    .venv/bin/python benchmarks/mixed_precision_sweep.py --epochs 15 --variants preset adam_digital
    .venv/bin/python benchmarks/mixed_precision_sweep.py --table
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any

from _common import RESULTS, machine, write_atomic
from aihwkit.simulator.presets import MixedPrecisionPCMPreset
from memtorch_power.presets import PRESETS, Preset, _pulsed_mapping, register_preset

RESULTS_FILE = RESULTS / "mixed_precision_sweep.json"


@dataclass(frozen=True)
class Variant:
    """One try: what it changes against the shipped ``pcm_mixed_precision``.

    Attributes:
        name: short key.
        why: the reasoning behind the try, one sentence.
        training: optimizer overrides (``optimizer``, ``lr``, ``analog_lr``, ``momentum``).
        omega: weight scaling omega (largest weight of a tile, PCM-pair units; preset 0.6).
        granularity: accumulator threshold of the chi matrix (0: the device's dw_min).
        refresh_every: refresh check of the PCM pair every N updates (preset 1).
        batch_size: examples per batch (preset 64).
    """

    name: str
    why: str
    training: dict[str, Any] = field(default_factory=dict)
    omega: float = 0.6
    granularity: float = 0.0
    refresh_every: int = 1
    batch_size: int = 64


VARIANTS = {v.name: v for v in (
    Variant("preset", "the shipped settings: SGD lr 1.0 for tiles and digital parameters",
            {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}),
    Variant("tile_lr_0.3", "smaller tile step: fewer, less noisy pulses",
            {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.3, "momentum": 0.0}),
    Variant("tile_lr_3", "larger tile step: more of the gradient crosses the threshold",
            {"optimizer": "sgd", "lr": 1.0, "analog_lr": 3.0, "momentum": 0.0}),
    Variant("adam_digital", "digital parameters on the digital run's Adam 3e-3, tiles SGD 1.0",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 1.0}),
    Variant("adam_digital_tile_0.3", "Adam 3e-3 for digital parameters, tiles SGD 0.3",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 0.3}),
    Variant("adam_digital_tile_3", "Adam 3e-3 for digital parameters, tiles SGD 3.0",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 3.0}),
    Variant("momentum_digital", "SGD momentum 0.9 (lr 0.1) for the digital parameters, tiles SGD 1.0",
            {"optimizer": "sgd", "lr": 0.1, "analog_lr": 1.0, "momentum": 0.9}),
    Variant("omega_1.0", "weight scaling 1.0: more signal above the output noise, less headroom",
            {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}, omega=1.0),
    Variant("omega_0.3", "weight scaling 0.3: more headroom, finer steps relative to the weights",
            {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}, omega=0.3),
    Variant("granularity_half", "threshold at half a device step: updates reach the array sooner",
            {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.5, "momentum": 0.0}, granularity=0.005),
    Variant("batch_32", "batch 32: twice the updates per epoch",
            {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}, batch_size=32),
    Variant("refresh_10", "refresh check every 10 updates instead of every update",
            {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}, refresh_every=10),
)}


def variant_preset(variant: Variant) -> Preset:
    """The ``pcm_mixed_precision`` preset with the variant's device-side settings, registered."""

    def factory() -> MixedPrecisionPCMPreset:
        config = MixedPrecisionPCMPreset()
        config.mapping = dataclasses.replace(_pulsed_mapping(), weight_scaling_omega=variant.omega)
        config.device.granularity = variant.granularity
        config.device.device.refresh_every = variant.refresh_every
        return config

    base = PRESETS["pcm_mixed_precision"]
    return register_preset(Preset(name=f"pcm_mixed_precision[{variant.name}]", models=base.models,
                                  source=base.source, update=base.update, factory=factory), overwrite=True)


def load() -> dict[str, Any]:
    return json.loads(RESULTS_FILE.read_text()) if RESULTS_FILE.exists() else {"benchmark": "mixed_precision_sweep", "runs": []}


def table(payload: dict[str, Any]) -> str:
    lines = ["| variant | what it changes | epochs | best val acc | fit wall time |", "|---|---|---:|---:|---:|"]
    for run in payload["runs"]:
        lines.append(f"| `{run['variant']}` | {run['why']} | {run['epochs']} | {100 * run['best_val_acc']:.2f} % "
                     f"| {run['fit_wall_s']:.0f} s |")
    return "\n".join(lines)


def main() -> None:
    from memtorch_power.kws.compare import ComparisonConfig, run_preset
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS", "../shared/data/speech_commands_mini"))
    parser.add_argument("--variants", nargs="+", default=[], choices=sorted(VARIANTS))
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output-dir", default="runs/mixed_precision_sweep")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (two 1-thread sweeps use 2 cores best)")
    parser.add_argument("--table", action="store_true", help="print the table of every run so far and exit")
    args = parser.parse_args()
    if args.table:
        print(table(load()))
        return
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not args.variants:
        sys.exit("--variants: name at least one of " + ", ".join(VARIANTS))
    for name in args.variants:
        variant = VARIANTS[name]
        preset = variant_preset(variant)
        config = ComparisonConfig(root=args.root, presets=[preset.name], epochs=args.epochs,
                                  batch_size=variant.batch_size, output_dir=f"{args.output_dir}/e{args.epochs}_s{args.seed}",
                                  progress=False, seed=args.seed, drift_times=[],
                                  training={preset.name: variant.training})
        datamodule = SpeechCommandsDataModule(config.root, batch_size=config.batch_size, features=config.features,
                                              n_features=config.n_features, seed=config.seed)
        row = run_preset(preset.name, config, datamodule)
        payload = load()
        payload["machine"] = machine()
        payload["runs"].append({"variant": name, "why": variant.why, "epochs": args.epochs, "seed": args.seed,
                                "settings": {**dataclasses.asdict(variant)}, **{k: row[k] for k in (
                                    "best_val_acc", "fit_wall_s", "train_energy_analog_j",
                                    "train_energy_digital_j", "train_steps")}})
        write_atomic(RESULTS_FILE, json.dumps(payload, indent=2) + "\n")
        print(f"{name}: best val acc {100 * row['best_val_acc']:.2f} %", flush=True)


if __name__ == "__main__":
    main()

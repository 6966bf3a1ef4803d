"""The 40-log-mel recipes trained on the training and validation clips together, over seeds (issue 15).

``digital_logmel40_trainval.yaml`` trains the digital DS-CNN with ``digital_logmel40.yaml``'s
settings (chosen on validation) on the training and validation clips, keeping the last epoch;
``pcm_hwa_logmel40_trainval_finetune.yaml`` fine-tunes ``pcm_hwa`` from it on the same clips and
its ``DriftEvaluation`` programs it 5 times and drifts it (global compensation, batch norms
re-estimated after drift, each weight in two PCM pairs). This script reads what the two recipe runs of one seed logged (the
digital run's ``test/acc`` in ``metrics.csv``; the fine-tuned run's ``drift.json``), records them
in ``benchmarks/results/kws_logmel40_trainval.json`` (one entry per seed, a seed measured again
replaces its entry), and writes the BENCHMARKS.md section ``kws_logmel40_trainval`` with issue 15's
targets judged on the mean over the recorded seeds, beside the same recipes trained on the training
clips alone (``seed_summary.py --logmel40``'s seeds).

    python recipes/kws.py fit --config recipes/configs/digital_logmel40_trainval.yaml --seed_everything N --data.seed N
    python recipes/kws.py fit --config recipes/configs/pcm_hwa_logmel40_trainval_finetune.yaml --seed_everything N --data.seed N
    .venv/bin/python benchmarks/trainval_seeds.py --seed N \\
        --digital-run runs/kws_digital_logmel40_trainval/version_K \\
        --pcm-run runs/kws_pcm_hwa_logmel40_trainval_finetune/version_K
    .venv/bin/python benchmarks/trainval_seeds.py          # the section from the recorded seeds
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DRIFT_TARGETS, RESULTS, save_results, update_summary  # noqa: E402
from seed_summary import (  # noqa: E402
    DRIFT_TABLE_HEADER, KWS_ACCURACY_OPTION, drift_options_run, drift_row, drift_verdicts, logmel40_seeds,
    mean_std_short,
)

NAME = "kws_logmel40_trainval"
#: ``benchmarks/drift_options.py --name <prefix><N>`` on seed N's two checkpoints -> what that set of
#: measurements compares (each set is judged once every recorded seed has it)
OPTION_SETS = {
    "drift_options_trainval_seed": "Every retention option",
    "drift_pairs_trainval_seed": "One differential pair of PCM devices per weight against two (`+ 2 pairs`)",
}


def _test_accuracy(run: Path) -> float:
    """The ``test/acc`` a recipe run logged (its last one)."""
    path = run / "metrics.csv"
    if not path.is_file():
        raise SystemExit(f"{run}: no metrics.csv (is this a recipe run folder, runs/<name>/version_<k>?)")
    values = [float(row["test/acc"]) for row in csv.DictReader(path.open()) if row.get("test/acc")]
    if not values:
        raise SystemExit(f"{path}: no test/acc row (the run was not tested)")
    return values[-1]


def _data_config(run: Path) -> dict[str, Any]:
    """The ``data`` block of the run's ``config.yaml`` (LightningCLI writes it)."""
    path = run / "config.yaml"
    if not path.is_file():
        raise SystemExit(f"{run}: no config.yaml (is this a recipe run folder, runs/<name>/version_<k>?)")
    return yaml.safe_load(path.read_text()).get("data") or {}


def _test_items(data: dict[str, Any]) -> int:
    """Items of the test split the run was tested on (its data settings; items are counted, no
    clip is read and no feature computed)."""
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    module = SpeechCommandsDataModule(**{**data, "cache_audio": False, "max_cache_mb": 0})
    module.setup("test")
    return len(module.datasets["testing"])


def _drift_settings(run: Path) -> dict[str, int]:
    """The ``DriftEvaluation`` settings the fine-tuned run was tested with (its ``config.yaml``)."""
    callbacks = (yaml.safe_load((run / "config.yaml").read_text()).get("trainer") or {}).get("callbacks") or []
    for callback in callbacks:
        if str(callback.get("class_path", "")).endswith("DriftEvaluation"):
            init = callback.get("init_args") or {}
            return {"recalibration_batches": int(init.get("recalibration_batches", 0)),
                    "conductance_pairs": int(init.get("conductance_pairs") or 1)}  # None: the preset's one pair
    raise SystemExit(f"{run}: config.yaml has no DriftEvaluation callback")


def _option(record: dict[str, Any]) -> str:
    """The retention option (``drift_options.OPTIONS``' label) a record's programmings measured."""
    pairs = record.get("conductance_pairs", 1)
    return KWS_ACCURACY_OPTION + (f" + {pairs} pairs" if pairs > 1 else "")


def read_seed(seed: int, digital_run: Path, pcm_run: Path) -> dict[str, Any]:
    """One seed's record from its two recipe runs.

    Raises:
        SystemExit: a run folder lacks what the recipes write, or was not trained on validation too.
    """
    for run in (digital_run, pcm_run):
        if not _data_config(run).get("train_on_validation"):
            raise SystemExit(f"{run}: config.yaml does not set data.train_on_validation: true")
    drift_path = pcm_run / "drift.json"
    if not drift_path.is_file():
        raise SystemExit(f"{pcm_run}: no drift.json (the fine-tuning config's DriftEvaluation writes it)")
    drift = json.loads(drift_path.read_text())
    summary = {s["time"]: (s["accuracy_mean"], s["accuracy_std"]) for s in drift["summary"]}
    missing = [t for t in DRIFT_TARGETS if t not in summary]
    if missing:
        raise SystemExit(f"{drift_path}: no drift time(s) {missing}")
    repeats = {s["repeats"] for s in drift["summary"]}
    settings = _drift_settings(pcm_run)
    if settings["recalibration_batches"] < 1:
        raise SystemExit(f"{pcm_run}: its DriftEvaluation did not re-estimate the batch norms (recalibration_batches)")
    return {"seed": seed, "digital": _test_accuracy(digital_run), "hwa_forward": drift["reference_accuracy"],
            "programmings": min(repeats), "clips": _test_items(_data_config(digital_run)), "digital_run": str(digital_run),
            "pcm_run": str(pcm_run), "drift": {t: list(summary[t]) for t in DRIFT_TARGETS}, **settings}


def _as_seed_run(record: dict[str, Any]) -> dict[str, Any]:
    """A record in ``seed_summary``'s run shape (one option: global + BN)."""
    return {"seed": record["seed"], "digital": record["digital"], "clips": record["clips"],
            "programmings": record["programmings"], "source": f"`{Path(record['pcm_run']).parent.name}`",
            "options": {_option(record): {t: tuple(v) for t, v in record["drift"].items()}}}


def section(records: list[dict[str, Any]]) -> str:
    """The ``kws_logmel40_trainval`` section."""
    from memtorch_power.kws.compare_report import wilson_interval

    options = {_option(r) for r in records}
    if len(options) != 1:
        raise SystemExit(f"the recorded seeds were programmed with different options ({sorted(options)}): "
                         "record every seed again with the same DriftEvaluation settings")
    option = options.pop()
    batches = {r["recalibration_batches"] for r in records}
    runs = [_as_seed_run(r) for r in records]
    rows = [drift_row(run, option) for run in runs]
    digital = [100 * r["digital"] for r in records]
    interval = {r["seed"]: wilson_interval(r["digital"], r["clips"]) for r in records}
    alone = {run["seed"]: 100 * run["digital"] for run in logmel40_seeds()[0]}
    compared = [r for r in records if r["seed"] in alone]
    intervals = "; ".join(f"seed {r['seed']} {100 * r['digital']:.2f} % [{100 * interval[r['seed']][0]:.1f}, "
                          f"{100 * interval[r['seed']][1]:.1f}]" for r in records)
    lines = [f"- digital ≥ 91 %: {mean_std_short(digital)} % over {len(records)} seed(s) "
             f"{'✓' if statistics.fmean(digital) >= 91.0 else '✗'} ({intervals})"]
    if compared:
        gains = [100 * r["digital"] - alone[r["seed"]] for r in compared]
        half_widths = [100 * (interval[r["seed"]][1] - interval[r["seed"]][0]) / 2 for r in compared]
        lines.append(f"- against the same seeds trained on the training clips alone (`kws_logmel40_seeds`): "
                     + ", ".join(f"seed {r['seed']} {100 * r['digital']:.2f} % vs {alone[r['seed']]:.2f} %"
                                 for r in compared)
                     + f"; {mean_std_short(gains)} points, {sum(g > 0 for g in gains)} of {len(gains)} seeds higher; "
                     f"differences larger than the half-width of one run's 95 % interval: "
                     f"{sum(abs(g) > h for g, h in zip(gains, half_widths))} of {len(gains)}")
    lines.append(f"- `{option}` ({len(runs)} seed(s)):")
    lines += drift_verdicts(runs, option)
    options_text = "".join(_options_text(records, prefix, title) for prefix, title in OPTION_SETS.items())
    hwa = ", ".join(f"seed {r['seed']} {100 * r['hwa_forward']:.2f} %" for r in records)
    return ("## 40 log-mel bands trained on training + validation clips, over seeds (`benchmarks/trainval_seeds.py`)\n\n"
            "`digital_logmel40_trainval.yaml` and `pcm_hwa_logmel40_trainval_finetune.yaml`: the settings of "
            "`digital_logmel40.yaml` / `pcm_hwa_logmel40_finetune.yaml` (all chosen on the validation split), trained "
            "on the training and validation clips together, keeping the last epoch; "
            "the test split is never trained on. `pcm_hwa` programmed "
            f"{' / '.join(str(n) for n in sorted({r['programmings'] for r in records}))} times per seed by the fine-tuning "
            "config's `DriftEvaluation` (global drift compensation, batch norms re-estimated on "
            f"{' / '.join(str(n) for n in sorted(batches))} unlabelled training batches after drift"
            + (f"; each weight in {records[0]['conductance_pairs']} differential pairs of PCM devices, "
               "`memtorch_power.nn.set_conductance_pairs`" if "pairs" in option else "")
            + "). Accuracies are means over the programmings; spread: their standard deviation (points); "
            f"each accuracy has a 95 % interval of about ±2.3 points over the {records[0]['clips']} test clips. `pcm_hwa` with its "
            f"training forward: {hwa}.\n\n" + "\n".join(DRIFT_TABLE_HEADER + rows)
            + "\n\nTargets (issue 15), on the mean over seeds (± standard deviation over seeds):\n\n"
            + "\n".join(lines) + "\n" + options_text)


def _options_text(records: list[dict[str, Any]], prefix: str, title: str) -> str:
    """The retention options ``drift_options.py`` measured on all recorded seeds' checkpoints
    (``<prefix><N>.json``), judged over seeds; empty until every recorded seed has its file."""
    paths = {r["seed"]: RESULTS / f"{prefix}{r['seed']}.json" for r in records}
    if not all(path.is_file() for path in paths.values()):
        return ""
    from drift_options import OPTIONS  # imports the package (aihwkit)

    runs = [drift_options_run(path, seed) for seed, path in sorted(paths.items())]
    batches = sorted({run["recalibration_batches"] for run in runs}, key=str)
    programmings = sorted({run["programmings"] for run in runs})
    rows = [drift_row(run, option) for option in OPTIONS for run in runs if option in run["options"]]
    verdicts = []
    for option in OPTIONS:
        measured = [run for run in runs if option in run["options"]]
        if len(measured) == len(runs):
            verdicts.append(f"- `{option}` ({len(measured)} seed(s)):")
            verdicts += drift_verdicts(measured, option)
    return (f"\n{title} on the same checkpoints (`benchmarks/drift_options.py --name {prefix}<N>`, "
            f"{' / '.join(map(str, programmings))} programmings per option and seed, a separate set per option; "
            f"`+ BN`: batch norms re-estimated after drift on {' / '.join(map(str, batches))} unlabelled training "
            "batches):\n\n" + "\n".join(DRIFT_TABLE_HEADER + rows) + "\n\n" + "\n".join(verdicts) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, help="the seed both runs were made with (record it)")
    parser.add_argument("--digital-run", type=Path, help="digital_logmel40_trainval.yaml's run folder (version_<k>)")
    parser.add_argument("--pcm-run", type=Path, help="pcm_hwa_logmel40_trainval_finetune.yaml's run folder")
    args = parser.parse_args()
    path = RESULTS / f"{NAME}.json"
    records = json.loads(path.read_text())["seeds"] if path.is_file() else []
    if args.seed is not None:
        if args.digital_run is None or args.pcm_run is None:
            parser.error("--seed needs --digital-run and --pcm-run")
        records = [r for r in records if r["seed"] != args.seed] + [read_seed(args.seed, args.digital_run, args.pcm_run)]
        save_results(NAME, {"seeds": sorted(records, key=lambda r: r["seed"])})
    if not records:
        raise SystemExit(f"no seed recorded in {path}: give --seed, --digital-run and --pcm-run")
    text = section(sorted(records, key=lambda r: r["seed"]))
    update_summary(NAME, text)
    print(text)


if __name__ == "__main__":
    main()

"""The three remedies together (issue 17): the system report from measured parts, into BENCHMARKS.md.

    .venv/bin/python benchmarks/system_report.py --config recipes/configs/system.yaml \\
        --gating-analog runs/gating_streams/combined/gating.json \\
        --federated runs/federated_scale/federated_kws_logmel40_pcm/federated.json \\
        --threshold-from benchmarks/results/gating_rules.json

Runs ``memtorch_power.system.run_system`` on the scenario of ``--config`` with the measured runs
given here, copies the report into ``benchmarks/results/system_report.{json,md}`` and its plots,
and rewrites the BENCHMARKS.md section ``system_report``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, save_results, update_summary  # noqa: E402

from memtorch_power.system import SystemConfig, run_system  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="recipes/configs/system.yaml", help="the scenario (default: %(default)s)")
    parser.add_argument("--gating-analog", default=None, help="gating.json of a PCM detector")
    parser.add_argument("--gating-digital", default=None, help="gating.json of a digital detector")
    parser.add_argument("--federated", nargs="*", default=[], help="federated.json files")
    parser.add_argument("--threshold-from", default=None,
                        help="benchmarks/gating_rules.py's results JSON: the detector threshold chosen there on "
                             "validation streams for the scenario's false-alarm budget (instead of picking one "
                             "on the gating report itself, which is the test streams')")
    args = parser.parse_args()
    values = yaml.safe_load(Path(args.config).read_text(encoding="utf-8")) or {}
    if args.threshold_from:
        values["threshold"] = json.loads(Path(args.threshold_from).read_text(encoding="utf-8"))["chosen"][
            "speech_threshold"]
    values["gating_results"] = {kind: path for kind, path in (("analog", args.gating_analog),
                                                              ("digital", args.gating_digital)) if path}
    values["federated_results"] = list(args.federated)
    values["output_dir"] = str(RESULTS / "system_report")
    paths = run_system(SystemConfig(**values))
    report = json.loads(paths["json"].read_text(encoding="utf-8"))
    save_results("system_report", {"config_file": args.config, **report})
    for key, name in (("stages", "system_report_stages.png"), ("sensitivity", "system_report_sensitivity.png")):
        shutil.copyfile(paths[key], RESULTS / name)
    shutil.rmtree(RESULTS / "system_report")
    text = report_markdown(report, args.threshold_from)
    update_summary("system_report", text)
    print(text)


def report_markdown(report: dict, threshold_from: str | None = None) -> str:
    """The BENCHMARKS.md section: the ablation table and the combination line (``threshold_from``:
    the file whose validation-chosen threshold the detector was read at)."""
    rows, summary = report["ablation"], report["combination"]
    detectors = report["measured"]["detectors"]
    streams = "; ".join(f"the {kind} detector's stream is {d['stream_hours']:.2g} h long with {d['keywords']} keywords, "
                        f"operating point threshold {d['threshold']:g}"
                        + (f", chosen on validation streams (`{threshold_from}`)" if threshold_from else
                           ", picked on this report")
                        for kind, d in detectors.items())
    lines = ["## The three remedies together (`benchmarks/system_report.py`)", "",
             "Scenario `recipes/configs/system.yaml` (assumptions and sources in `benchmarks/results/system_report.json`); "
             "hardware from the energy estimator; quality from the measured runs listed below. J per device-day. "
             "A configuration whose detector was not measured sends every wake event and no false alarm (its "
             "energy is then a lower bound)" + (f"; {streams}." if streams else "."), "",
             "| configuration | J/device-day | factor | raw audio out (MB/day) | hit rate | false alarms/day | "
             "KWS accuracy of the trained model |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        hit = "not measured" if row["hit_rate"] is None else f"{100 * row['hit_rate']:.1f} %"
        alarms = "not measured" if row["false_alarms_per_day"] is None else f"{row['false_alarms_per_day']:.2g}"
        accuracy = "not measured" if row.get("kws_accuracy") is None else f"{100 * row['kws_accuracy']:.1f} %"
        lines.append(f"| {row['configuration']} | {row['device_day_j']:.4g} | {row['factor']:.3g}x | "
                     f"{row['raw_audio_bytes_per_day'] / 1e6:.3g} | {hit} | {alarms} | {accuracy} |")
    alone = summary["alone"]
    lines += ["", f"Alone: analog {alone['analog']:.3g}x, gating {alone['gating']:.3g}x, federated "
                  f"{alone['federated']:.3g}x (product {summary['product']:.3g}x); all three {summary['combined']:.3g}x; "
                  f"{100 * summary['dominant_share']:.0f} % of what remains is `{summary['dominant_stage']}`.",
              "", "Measured parts: " + (", ".join(
                  [f"{k} detector {v['preset']} ({v['source']})" for k, v in detectors.items()]
                  + [f"{k} training {v['preset']}: federated {100 * v['federated_acc']:.1f} %, centralised "
                     + ("not run" if v["centralised_acc"] is None else f"{100 * v['centralised_acc']:.1f} %")
                     + f" ({v['source']})" for k, v in report["measured"].get("training", {}).items()]) or "none"),
              "", "![energy by stage](benchmarks/results/system_report_stages.png)",
              "![sensitivity](benchmarks/results/system_report_sensitivity.png)"]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

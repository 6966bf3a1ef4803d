"""Wake-word gating on long streams, dense and sparse in keywords (issue 17 §1), into BENCHMARKS.md.

Runs ``memtorch_power.gating.run_gating`` with a trained detector checkpoint on streams built
from the test split (clips and the test region of the noise recordings), one per scenario:

- ``dense``: 6 clips a minute, 20 % of them other words (the report's default stream), 20 min:
  many keywords, so the hit rate has a narrow interval;
- ``sparse``: 1 clip a minute, 90 % of them other words (6 keywords an hour), for hours: long
  enough to count false alarms per hour with an interval.

Both streams are built and scored in 10-minute chunks (each chunk its own clips, positions and
noise). Their counts are also added up into one report, ``<run-root>/combined/gating.json``
(the dense stream's keywords and both streams' hours: the report ``benchmarks/system_report.py``
reads). Writes ``benchmarks/results/gating_streams.{json,png}``, keeps each run's report under
``--run-root`` (``<scenario>/gating.json``, the file ``benchmarks/system_report.py`` reads) and
rewrites the BENCHMARKS.md section ``gating_streams``.

    .venv/bin/python benchmarks/gating_streams.py \\
        --checkpoint runs/kws_pcm_hwa_logmel40_finetune/version_0/checkpoints/best-epoch=12.ckpt \\
        --sparse-hours 3
    # the rule and threshold chosen on validation streams (benchmarks/gating_rules.py), measured once:
    .venv/bin/python benchmarks/gating_streams.py --checkpoint CKPT --rule-from benchmarks/results/gating_rules.json \\
        --fresh
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, save_results, update_summary  # noqa: E402

from memtorch_power.gating import GatingConfig, load_spotter, run_gating, sweep_rows, write_gating_report  # noqa: E402
from memtorch_power.gating.detector import DetectionStats, combine_stats  # noqa: E402
from memtorch_power.gating.energy import pipeline_costs  # noqa: E402
from memtorch_power.system.scenario import SystemConfig  # noqa: E402

THRESHOLDS = [0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995, 0.998, 0.999]
#: issue 17's operating-point target
TARGET_HIT_RATE, TARGET_FALSE_ALARMS_PER_HOUR = 0.90, 1.0


def scenarios(dense_minutes: float, sparse_hours: float) -> dict[str, dict[str, float]]:
    """Stream settings per scenario (``GatingConfig`` fields)."""
    return {
        "dense": {"duration_s": 60.0 * dense_minutes, "events_per_minute": 6.0, "distractor_share": 0.2},
        "sparse": {"duration_s": 3600.0 * sparse_hours, "events_per_minute": 1.0, "distractor_share": 0.9},
    }


def suffix(min_windows: int, smooth_windows: int = 1) -> str:
    """Run-name suffix of a detector setting (none for the default: no smoothing, one window)."""
    return ("" if smooth_windows == 1 else f"_s{smooth_windows}") + ("" if min_windows == 1 else f"_mw{min_windows}")


def setting_suffix(meta: dict[str, Any]) -> str:
    """:func:`suffix` of a run from its metadata (runs saved before smoothing existed: none)."""
    return suffix(meta.get("min_windows", 1), meta.get("smooth_windows", 1))


def measure(checkpoint: str, run_root: Path, dense_minutes: float, sparse_hours: float,
            min_windows: int = 1, smooth_windows: int = 1, extra_thresholds: tuple[float, ...] = ()) -> dict[str, Any]:
    """Run every scenario; returns the runs' metadata and sweep rows (names suffixed by
    :func:`suffix`)."""
    spotter = load_spotter(checkpoint)
    runs: dict[str, Any] = {}
    for scenario, settings in scenarios(dense_minutes, sparse_hours).items():
        name = scenario + suffix(min_windows, smooth_windows)
        started = time.perf_counter()
        cfg = GatingConfig(checkpoint=checkpoint, thresholds=sorted(set(THRESHOLDS) | set(extra_thresholds)),
                           chunk_s=600.0, min_windows=min_windows, smooth_windows=smooth_windows, **settings)
        result = run_gating(cfg, run_root / name, spotter=spotter, progress=True)
        runs[name] = {"meta": result.meta, "sweep": result.rows, "wall_s": time.perf_counter() - started,
                      "report": str(result.paths["json"])}
        print(f"{name}: {result.meta['duration_s'] / 3600:.2f} h in {runs[name]['wall_s']:.0f} s", flush=True)
    return runs


def _stats(row: dict[str, Any]) -> DetectionStats:
    """A saved sweep row as counts again (rows saved before a count existed leave it at 0)."""
    return DetectionStats(**{f.name: row[f.name] for f in fields(DetectionStats) if f.name in row})


def combine_runs(runs: dict[str, Any], checkpoint: str, out_dir: Path) -> Path:
    """Add up the two streams' counts (one detector setting) threshold by threshold, price them as
    one stream and write the report into ``out_dir``; returns its ``gating.json``."""
    combined = combine_stats([[_stats(row) for row in run["sweep"]] for run in runs.values()])
    spotter = load_spotter(checkpoint)
    config = next(iter(runs.values()))["meta"]["config"]
    costs = pipeline_costs(spotter.network, spotter.input_shape, config["link"], config["analog_profile"],
                           config["edge_digital_profile"], config["server_digital_profile"],
                           adc_j_per_sample=config["adc_j_per_sample"], gated_digitizes_all=config["gated_digitizes_all"])
    metas = [run["meta"] for run in runs.values()]
    meta = dict(metas[0], duration_s=combined[0].duration_s, windows=combined[0].windows,
                keywords=sum(m["keywords"] for m in metas), distractors=sum(m["distractors"] for m in metas),
                chunks=sum(m["chunks"] for m in metas), combined_from=[run["report"] for run in runs.values()])
    return write_gating_report(out_dir, sweep_rows(combined, costs), meta)["json"]


def most_hits_within_budget(dense: dict[float, dict[str, Any]], sparse: dict[float, dict[str, Any]]) -> tuple[float, bool]:
    """``(threshold, within budget)``: the threshold with the highest hit rate on the dense stream
    among those with at most the target false alarms per hour on the sparse one (ties: the higher
    threshold); the highest threshold and False if none qualifies. Rows by threshold."""
    allowed = [t for t, r in sparse.items() if r["false_alarms_per_hour"] <= TARGET_FALSE_ALARMS_PER_HOUR]
    if not allowed:
        return max(sparse), False
    return max(allowed, key=lambda t: (dense[t]["hit_rate"], t)), True


def operating_point(runs: dict[str, Any], tail: str = "", chosen: dict[str, Any] | None = None) -> dict[str, Any]:
    """The operating point of one detector setting (``tail``: the runs' name suffix, :func:`suffix`).

    With ``chosen`` (``benchmarks/gating_rules.py``'s choice on validation streams, for this
    setting), its threshold, as measured on the test streams. Without, the highest-hit-rate
    threshold whose false alarms per hour on the long (sparse) test stream are at most the target
    (the highest threshold if none qualifies): picked on the test streams themselves, so optimistic.
    """
    sparse = {r["threshold"]: r for r in runs["sparse" + tail]["sweep"]}
    dense = {r["threshold"]: r for r in runs["dense" + tail]["sweep"]}
    if chosen is not None:
        threshold = min(sparse, key=lambda t: abs(t - chosen["threshold"]))
        allowed = [threshold] if sparse[threshold]["false_alarms_per_hour"] <= TARGET_FALSE_ALARMS_PER_HOUR else []
    else:
        threshold, met = most_hits_within_budget(dense, sparse)
        allowed = [threshold] if met else []
    meta = runs["dense" + tail]["meta"]
    return {"min_windows": meta.get("min_windows", 1), "smooth_windows": meta.get("smooth_windows", 1),
            "threshold": threshold, "chosen_on": "validation" if chosen is not None else "test",
            "false_alarms_per_hour_target_met": bool(allowed),
            "hit_rate": dense[threshold]["hit_rate"], "hit_rate_interval": dense[threshold]["hit_rate_interval"],
            "false_alarms_per_hour": sparse[threshold]["false_alarms_per_hour"],
            "false_alarms_per_hour_interval": sparse[threshold]["false_alarms_per_hour_interval"],
            "hit_rate_target_met": dense[threshold]["hit_rate"] >= TARGET_HIT_RATE,
            "savings_sparse": sparse[threshold]["savings"], "savings_dense": dense[threshold]["savings"],
            **_false_accepts([sparse[threshold], dense[threshold]])}


def _false_accepts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """False accepts per spoken other word over both streams at one threshold, and what they make
    of an hour of continuous speech at the system scenario's words per minute."""
    both = combine_stats([[_stats(row)] for row in rows])[0]
    if not both.distractors:
        return {}
    per_hour = 60.0 * SystemConfig.words_per_minute
    low, high = both.false_accept_rate_interval
    return {"false_accepts": both.distractors_triggered, "other_words": both.distractors,
            "false_accept_rate": both.false_accept_rate, "false_accept_rate_interval": [low, high],
            "speech_words_per_hour": per_hour, "false_alarms_per_speech_hour": both.false_accept_rate * per_hour,
            "false_alarms_per_speech_hour_interval": [low * per_hour, high * per_hour],
            "false_alarms_on_noise": both.false_alarms_on_noise}


def report_markdown(runs: dict[str, Any], points: list[dict[str, Any]], checkpoint: str, combined: Path,
                    combined_tail: str = "") -> str:
    """The BENCHMARKS.md section."""
    lines = ["## Wake-word gating on long streams (`benchmarks/gating_streams.py`)", "",
             f"Detector `{next(iter(runs.values()))['meta']['preset']}` (checkpoint `{checkpoint}`), streams from the test split's "
             "clips over the test region of the noise recordings, window 1 s, hop 0.25 s. Hit rate: Wilson 95 % "
             "interval over the placed keywords; false alarms per hour: exact Poisson 95 % interval over the "
             "stream's hours. Savings: always-on energy / gated energy per hour of that stream.", ""]
    for name, run in runs.items():
        meta = run["meta"]
        lines += [f"**{name}** ({_setting(meta)}): "
                  f"{meta['duration_s'] / 3600:.2f} h, {meta['keywords']} keywords and "
                  f"{meta['distractors']} other words placed ({meta['config']['events_per_minute']:g} clips/min, "
                  f"{100 * meta['config']['distractor_share']:.0f} % other words), {meta['chunks']} chunks, "
                  f"{run['wall_s'] / 60:.1f} min to score.", "",
                  "| threshold | hit rate [95 %] | false alarms/h [95 %] | other words set off [95 %] "
                  "| false alarms on noise | audio sent | savings |",
                  "|---:|---|---|---|---:|---:|---:|"]
        for r in run["sweep"]:
            hit = "n/a" if not r["keywords"] else (f"{100 * r['hit_rate']:.1f} % ({r['hits']}/{r['keywords']}) "
                                                   f"[{100 * r['hit_rate_interval'][0]:.1f}, "
                                                   f"{100 * r['hit_rate_interval'][1]:.1f}]")
            low, high = r["false_alarms_per_hour_interval"]
            accepts = "n/a" if not r.get("distractors") else (
                f"{100 * r['false_accept_rate']:.1f} % ({r['distractors_triggered']}/{r['distractors']}) "
                f"[{100 * r['false_accept_rate_interval'][0]:.1f}, {100 * r['false_accept_rate_interval'][1]:.1f}]")
            lines.append(f"| {r['threshold']:.3f} | {hit} | {r['false_alarms_per_hour']:.2f} ({r['false_alarms']}) "
                         f"[{low:.2f}, {high:.2f}] | {accepts} | {r.get('false_alarms_on_noise', 'n/a')} | "
                         f"{100 * r['transmitted_fraction']:.2f} % | {r['savings']:.1f}x |")
        lines.append("")
    for point in points:
        met = point["false_alarms_per_hour_target_met"] and point["hit_rate_target_met"]
        picked = ("chosen on the validation streams (`benchmarks/gating_rules.py`), measured here once"
                  if point.get("chosen_on") == "validation" else "picked on these test streams (optimistic)")
        lines += [f"Operating point, {_setting(point)} (issue 17 target: "
                  f"≥ {100 * TARGET_HIT_RATE:.0f} % hits at ≤ "
              f"{TARGET_FALSE_ALARMS_PER_HOUR:g} false alarm per hour): threshold {point['threshold']:.3f} {picked}, "
              f"{100 * point['hit_rate']:.1f} % hits [{100 * point['hit_rate_interval'][0]:.1f}, "
              f"{100 * point['hit_rate_interval'][1]:.1f}] on the dense stream, "
              f"{point['false_alarms_per_hour']:.2f} false alarms per hour [{point['false_alarms_per_hour_interval'][0]:.2f}, "
              f"{point['false_alarms_per_hour_interval'][1]:.2f}] on the sparse stream; savings "
              f"{point['savings_sparse']:.1f}x (sparse) and {point['savings_dense']:.1f}x (dense). "
              f"Target {'met' if met else 'not met'}."
              + ("" if "false_accept_rate" not in point else
                 f" Other words that set it off: {point['false_accepts']} of {point['other_words']} "
                 f"({100 * point['false_accept_rate']:.2f} % [{100 * point['false_accept_rate_interval'][0]:.2f}, "
                 f"{100 * point['false_accept_rate_interval'][1]:.2f}]); false alarms on noise alone: "
                 f"{point['false_alarms_on_noise']}. In an hour of continuous speech "
                 f"({point['speech_words_per_hour']:,.0f} words) that is {point['false_alarms_per_speech_hour']:.3g} "
                 f"false alarms [{point['false_alarms_per_speech_hour_interval'][0]:.3g}, "
                 f"{point['false_alarms_per_speech_hour_interval'][1]:.3g}]: the streams hold far fewer words an "
                 "hour than speech does, so their false alarms per hour flatter the detector."), ""]
    lines += ["Both streams added up into one report (what `benchmarks/system_report.py` reads): "
              f"`{combined}`.", "",
              f"![gating: sparse stream](benchmarks/results/gating_streams_sparse{combined_tail}.png)"]
    return "\n".join(lines)


def _setting(meta: dict[str, Any]) -> str:
    """``posteriors averaged over 3 windows, a detection needs 2 flagged window(s)``."""
    smooth = int(meta.get("smooth_windows", 1))
    return (f"posteriors averaged over {smooth} windows, " if smooth > 1 else "") + \
        f"a detection needs {meta.get('min_windows', 1)} flagged window(s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="KeywordSpotter checkpoint of the detector")
    parser.add_argument("--dense-minutes", type=float, default=20.0, help="length of the dense stream (min)")
    parser.add_argument("--sparse-hours", type=float, default=3.0, help="length of the sparse stream (h)")
    parser.add_argument("--run-root", default="runs/gating_streams", help="where the runs' reports go")
    parser.add_argument("--reuse", action="store_true",
                        help="read benchmarks/results/gating_streams.json instead of scoring the streams again")
    parser.add_argument("--min-windows", type=int, default=1,
                        help="flagged windows a detection needs (runs with another value than 1 are added "
                             "beside the default ones, named <scenario>_mw<N>)")
    parser.add_argument("--smooth-windows", type=int, default=1,
                        help="average each keyword's posterior over this many windows (runs named <scenario>_s<N>)")
    parser.add_argument("--rule-from", default=None,
                        help="benchmarks/gating_rules.py's results JSON: run its rule (smoothing, windows) and "
                             "report the test streams at its validation-chosen threshold")
    parser.add_argument("--fresh", action="store_true",
                        help="drop the runs kept in the results file (a new detector checkpoint)")
    args = parser.parse_args()
    run_root = Path(args.run_root)
    previous = RESULTS / "gating_streams.json"
    stored = json.loads(previous.read_text(encoding="utf-8")) if previous.is_file() and not args.fresh else {}
    runs, choice = stored.get("runs", {}), stored.get("validation_choice")
    min_windows, smooth_windows, extra = args.min_windows, args.smooth_windows, ()
    if args.rule_from:
        rules = json.loads(Path(args.rule_from).read_text(encoding="utf-8"))
        if rules.get("checkpoint") != args.checkpoint:
            raise SystemExit(f"--rule-from was chosen for {rules.get('checkpoint')!r}, not {args.checkpoint!r}")
        choice = dict(rules["chosen"], split=rules["split"])
        min_windows, smooth_windows = choice["min_windows"], choice["smooth_windows"]
        extra = tuple(choice[k] for k in ("threshold", "speech_threshold") if k in choice)
    if not args.reuse:
        runs.update(measure(args.checkpoint, run_root, args.dense_minutes, args.sparse_hours, min_windows,
                            smooth_windows, extra))
    settings = sorted({setting_suffix(run["meta"]) for run in runs.values()})
    tail = None if choice is None else suffix(choice["min_windows"], choice["smooth_windows"])
    points = [operating_point(runs, name, choice if name == tail else None) for name in settings]
    # the report the system report reads: the validation-chosen rule's streams, else the default ones
    combined_tail = tail if tail is not None and "dense" + tail in runs else ""
    defaults = {name: runs[name + combined_tail] for name in ("dense", "sparse")}
    combined = combine_runs(defaults, args.checkpoint, run_root / "combined")
    save_results("gating_streams", {"checkpoint": args.checkpoint, "runs": runs, "operating_points": points,
                                    "validation_choice": choice, "combined_report": str(combined)})
    for name in runs:
        shutil.copyfile(run_root / name / "gating.png", RESULTS / f"gating_streams_{name}.png")
    text = report_markdown(runs, points, args.checkpoint, combined, combined_tail)
    update_summary("gating_streams", text)
    print(text)


if __name__ == "__main__":
    main()

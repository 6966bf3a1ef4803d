"""Choose the wake-word decision rule on *validation* streams (issue 17 §1), into BENCHMARKS.md.

The detector's window score can be thresholded as it is, averaged over the last few windows
first (posterior smoothing, Chen, Parada & Heigold, ICASSP 2014) and/or required to flag several
windows per detection. Which combination, and which threshold, is chosen here on streams built
from the **validation** split (its clips and its region of the noise recordings), never on the
test streams: ``benchmarks/gating_streams.py --rule-from benchmarks/results/gating_rules.json``
then reports the test streams once at the chosen rule and threshold.

Each validation stream is scored once (every keyword's posterior per window, cached under
``--run-root``); every rule is then evaluated on the cached posteriors. Per rule, the operating
point is the threshold with the highest hit rate on the dense stream among those with at most
1 false alarm per hour on the sparse stream; the chosen rule is the one with the highest such hit
rate (ties: fewer false alarms, then the simpler rule).

With ``--second-checkpoint`` a two-pass detector is evaluated as well (a second, independently
trained model checks the windows the first one flags, as in two-pass wake-word detectors such as
Apple's "Hey Siri", Apple Machine Learning Journal 2017): a window counts when both models score
it above the threshold. These rows are measured for the record; the chosen rule is always a
single-model one (the pipeline prices one detector).

    .venv/bin/python benchmarks/gating_rules.py \\
        --checkpoint runs/kws_pcm_hwa_logmel40_finetune/version_0/checkpoints/best-epoch=12.ckpt \\
        --second-checkpoint runs/kws_digital_logmel40/checkpoints/best.ckpt
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from tqdm.auto import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save_results, update_summary  # noqa: E402
from gating_streams import (  # noqa: E402
    TARGET_FALSE_ALARMS_PER_HOUR,
    TARGET_HIT_RATE,
    most_hits_within_budget,
    scenarios,
)

from memtorch_power.kws.data_root import default_data_root  # noqa: E402
from memtorch_power.gating import GatingConfig, KeywordScorer, load_spotter  # noqa: E402
from memtorch_power.gating.detector import (  # noqa: E402
    DetectionStats,
    combine_stats,
    scores_from_outputs,
    sweep,
    window_outputs,
)
from memtorch_power.gating.pipeline import chunk_lengths, chunk_stream  # noqa: E402
from memtorch_power.gating.stream import PlacedClip  # noqa: E402
from memtorch_power.system.parts import detector_qualities  # noqa: E402
from memtorch_power.system.parts import operating_point as system_operating_point  # noqa: E402
from memtorch_power.system.scenario import SystemConfig  # noqa: E402

#: the system report's scenario (its words per minute and false-alarm budget per hour of speech)
SYSTEM_CONFIG = Path(__file__).resolve().parent.parent / "recipes" / "configs" / "system.yaml"

#: thresholds swept per rule (softmax probability of a keyword)
THRESHOLDS = sorted({round(float(t), 3) for t in np.concatenate([np.arange(0.3, 0.9, 0.05),
                                                                np.arange(0.9, 0.99, 0.01),
                                                                [0.99, 0.995, 0.998, 0.999]])})
SMOOTH_WINDOWS = (1, 2, 3, 4, 6)
#: what identifies a rule and its operating point
RULE_KEYS = ("smooth_windows", "min_windows", "threshold")
MIN_WINDOWS = (1, 2, 3)


def cached_outputs(checkpoint: str, split: str, scenario: str, settings: dict[str, float],
                   run_root: Path) -> list[dict[str, Any]]:
    """Every chunk of one scenario's stream: window starts, per-keyword posteriors and placed
    clips, scored once and cached in ``run_root/<split>_<scenario>.npz`` (rescored when the
    checkpoint or the settings differ)."""
    cfg = GatingConfig(checkpoint=checkpoint, split=split, chunk_s=600.0, **settings)
    cache = run_root / f"{split}_{scenario}.npz"
    key = json.dumps({"checkpoint": checkpoint, "config": asdict(cfg)}, sort_keys=True)
    if cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        if str(stored["key"]) == key:
            events = json.loads(str(stored["events"]))
            seconds = stored["scoring_s"] if "scoring_s" in stored else np.full(len(events), np.nan)
            return [{"starts_s": stored[f"starts_{i}"], "outputs": stored[f"outputs_{i}"],
                     "duration_s": float(stored["durations"][i]), "events": [PlacedClip(**e) for e in chunk],
                     "scoring_s": float(seconds[i])}
                    for i, chunk in enumerate(events)]
    root = cfg.data_root or default_data_root()
    scorer = KeywordScorer(load_spotter(checkpoint))
    chunks = []
    for index, length in enumerate(tqdm(chunk_lengths(cfg.duration_s, cfg.chunk_s), desc=f"{split} {scenario}")):
        started = time.perf_counter()
        stream = chunk_stream(cfg, root, index, length)
        starts_s, outputs = window_outputs(stream, scorer.posteriors, cfg.window_s, cfg.hop_s)
        chunks.append({"starts_s": starts_s, "outputs": outputs, "duration_s": stream.duration_s,
                       "events": stream.events, "scoring_s": time.perf_counter() - started})
    arrays = {f"starts_{i}": c["starts_s"] for i, c in enumerate(chunks)}
    arrays.update({f"outputs_{i}": c["outputs"] for i, c in enumerate(chunks)})
    run_root.mkdir(parents=True, exist_ok=True)
    temporary = cache.with_name(cache.stem + ".partial.npz")
    np.savez(temporary, key=np.array(key), durations=np.array([c["duration_s"] for c in chunks]),
             scoring_s=np.array([c["scoring_s"] for c in chunks]),
             events=np.array(json.dumps([[asdict(e) for e in c["events"]] for c in chunks])), **arrays)
    temporary.replace(cache)
    return chunks


def evaluate_rule(chunks: list[dict[str, Any]], smooth_windows: int, min_windows: int,
                  thresholds: list[float], window_s: float, hop_s: float) -> list[DetectionStats]:
    """The threshold sweep of one rule over every chunk, added up."""
    return combine_stats([
        sweep(scores_from_outputs(c["starts_s"], c["outputs"], window_s, hop_s, smooth_windows), c["events"],
              c["duration_s"], thresholds, min_windows=min_windows)
        for c in chunks])


def operating_point(dense: list[DetectionStats], sparse: list[DetectionStats]) -> dict[str, Any]:
    """The threshold ``gating_streams.most_hits_within_budget`` picks, with both streams' counts there."""
    rows = [{s.threshold: s.as_dict() for s in stream} for stream in (dense, sparse)]
    threshold, met = most_hits_within_budget(*rows)
    return {"threshold": threshold, "false_alarm_target_met": met, "dense": rows[0][threshold],
            "sparse": rows[1][threshold]}


def two_pass(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Chunks whose outputs are ``min(first model's score, second model's score)`` per window (both
    must flag it); the two models scored the same streams."""
    return [dict(a, outputs=np.minimum(a["outputs"].max(axis=1), b["outputs"].max(axis=1)))
            for a, b in zip(first, second, strict=True)]


def speech_threshold(dense: list[DetectionStats], sparse: list[DetectionStats], words_per_minute: float,
                     max_false_alarms_per_hour: float) -> dict[str, Any]:
    """The system report's operating point on these streams, chosen as the report chooses it
    (``memtorch_power.system.parts.operating_point`` over both streams added up): the most hits
    among thresholds with at most ``max_false_alarms_per_hour`` false alarms per hour of *speech*
    (false accepts per spoken other word x ``words_per_minute`` x 60, plus false alarms on noise
    per hour of stream)."""
    both = combine_stats([dense, sparse])
    qualities = detector_qualities([s.as_dict() for s in both], {"duration_s": both[0].duration_s},
                                   "validation streams")
    best = system_operating_point(qualities, None, max_false_alarms_per_hour, words_per_minute)
    per_speech_hour = best.false_alarms_per_speech_hour(words_per_minute)
    stats = next(s for s in both if s.threshold == best.threshold)
    return {"threshold": best.threshold, "target_met": per_speech_hour <= max_false_alarms_per_hour,
            "hit_rate": best.hit_rate, "hits": stats.hits, "keywords": stats.keywords,
            "false_accepts": stats.distractors_triggered, "other_words": stats.distractors,
            "false_alarms_per_speech_hour": per_speech_hour}


def measure(checkpoint: str, run_root: Path, split: str, dense_minutes: float, sparse_hours: float,
            second_checkpoint: str | None = None) -> dict[str, Any]:
    """Score the split's streams once and evaluate every rule; returns the rules' operating points."""
    settings = scenarios(dense_minutes, sparse_hours)
    streams = {name: cached_outputs(checkpoint, split, name, s, run_root) for name, s in settings.items()}
    scored_s = sum(c["scoring_s"] for chunks in streams.values() for c in chunks)  # nan: a cache without times
    window_s, hop_s = GatingConfig.window_s, GatingConfig.hop_s

    sweeps: dict[tuple[int, int], list[list[DetectionStats]]] = {}

    def rule(chunks: dict[str, list[dict[str, Any]]], smooth: int, windows: int, **extra: Any) -> dict[str, Any]:
        dense, sparse = (evaluate_rule(chunks[name], smooth, windows, THRESHOLDS, window_s, hop_s)
                         for name in ("dense", "sparse"))
        if chunks is streams:
            sweeps[smooth, windows] = [dense, sparse]
        return {"smooth_windows": smooth, "min_windows": windows, **extra, **operating_point(dense, sparse)}

    rules = [rule(streams, smooth, windows) for smooth, windows in itertools.product(SMOOTH_WINDOWS, MIN_WINDOWS)]
    chosen = max(rules, key=lambda r: (r["false_alarm_target_met"], r["dense"]["hit_rate"],
                                       -r["sparse"]["false_alarms"], -r["smooth_windows"] - r["min_windows"]))
    scenario = yaml.safe_load(SYSTEM_CONFIG.read_text(encoding="utf-8")) or {}
    words = float(scenario.get("words_per_minute", SystemConfig.words_per_minute))
    budget = float(scenario.get("max_false_alarms_per_hour", SystemConfig.max_false_alarms_per_hour))
    speech = speech_threshold(*sweeps[chosen["smooth_windows"], chosen["min_windows"]], words, budget)
    result = {"checkpoint": checkpoint, "split": split, "dense_minutes": dense_minutes, "sparse_hours": sparse_hours,
              "scoring_s": scored_s, "rules": rules, "speech_operating_point": speech,
              "chosen": {**{k: chosen[k] for k in RULE_KEYS},
                         "speech_threshold": speech["threshold"]}}
    if second_checkpoint:
        second = {name: cached_outputs(second_checkpoint, split, name, s, run_root / "second")
                  for name, s in settings.items()}
        both = {name: two_pass(streams[name], second[name]) for name in settings}
        result["second_checkpoint"] = second_checkpoint
        result["second_rules"] = [rule(second, 1, w, model="second") for w in (1, 2)]
        result["two_pass_rules"] = [rule(both, 1, w, model="two-pass") for w in (1, 2)]
    return result


def report_markdown(result: dict[str, Any], name: str = "gating_rules") -> str:
    """The BENCHMARKS.md section (``name``: its results file, named in the heading unless the default)."""
    chosen = result["chosen"]
    suffix = "" if name == "gating_rules" else f": `{name}`"
    lines = [f"## Wake-word decision rule, chosen on validation streams (`benchmarks/gating_rules.py`){suffix}", "",
             f"Detector checkpoint `{result['checkpoint']}`; streams from the **{result['split']}** split (its clips, "
             f"its region of the noise recordings): dense {result['dense_minutes']:g} min (6 clips/min, 20 % other "
             f"words), sparse {result['sparse_hours']:g} h (1 clip/min, 90 % other words). Per rule: the threshold "
             f"with the most dense-stream hits among those with ≤ {TARGET_FALSE_ALARMS_PER_HOUR:g} false alarm per "
             "hour on the sparse stream. *smooth*: each keyword's posterior averaged over that many windows "
             "(hop 0.25 s; Chen et al., ICASSP 2014); *windows*: flagged windows a detection needs.", "",
             "| smooth | windows | threshold | hits (dense) [95 %] | false alarms/h (sparse) [95 %] | "
             "other words set off (sparse) |",
             "|---:|---:|---:|---|---|---|"]
    for rule in result["rules"]:
        dense, sparse = rule["dense"], rule["sparse"]
        low, high = dense["hit_rate_interval"]
        fa_low, fa_high = sparse["false_alarms_per_hour_interval"]
        mark = " **(chosen)**" if all(rule[k] == chosen[k] for k in RULE_KEYS) else ""
        lines.append(f"| {rule['smooth_windows']} | {rule['min_windows']} | {rule['threshold']:.3f}{mark} | "
                     f"{100 * dense['hit_rate']:.1f} % ({dense['hits']}/{dense['keywords']}) [{100 * low:.1f}, "
                     f"{100 * high:.1f}] | {sparse['false_alarms_per_hour']:.2f} ({sparse['false_alarms']}) "
                     f"[{fa_low:.2f}, {fa_high:.2f}]"
                     f"{'' if rule['false_alarm_target_met'] else ' (none ≤ target)'} | "
                     f"{sparse['distractors_triggered']}/{sparse['distractors']} |")
    if result.get("second_checkpoint"):
        lines += ["", f"Second model `{result['second_checkpoint']}` alone, and both as a two-pass detector (a window "
                      "counts when both score it above the threshold; no smoothing):", "",
                  "| detector | windows | threshold | hits (dense) [95 %] | false alarms/h (sparse) [95 %] | "
                  "other words set off (sparse) |", "|---|---:|---:|---|---|---|"]
        for rule in result["second_rules"] + result["two_pass_rules"]:
            dense, sparse = rule["dense"], rule["sparse"]
            low, high = dense["hit_rate_interval"]
            fa_low, fa_high = sparse["false_alarms_per_hour_interval"]
            lines.append(f"| {rule['model']} | {rule['min_windows']} | {rule['threshold']:.3f} | "
                         f"{100 * dense['hit_rate']:.1f} % ({dense['hits']}/{dense['keywords']}) [{100 * low:.1f}, "
                         f"{100 * high:.1f}] | {sparse['false_alarms_per_hour']:.2f} ({sparse['false_alarms']}) "
                         f"[{fa_low:.2f}, {fa_high:.2f}] | {sparse['distractors_triggered']}/{sparse['distractors']} |")
    speech = result["speech_operating_point"]
    lines += ["", f"The system report's operating point (at most 1 false alarm per hour of *speech*: false accepts "
                  f"per spoken other word x words per hour), chosen here too, with the chosen rule: threshold "
                  f"{speech['threshold']:.3f}, {speech['false_accepts']} of {speech['other_words']} other words set it "
                  f"off, {100 * speech['hit_rate']:.1f} % hits ({speech['hits']}/{speech['keywords']}, both streams)"
                  + ("" if speech["target_met"] else " (no threshold within the budget: the highest)") + "."]
    best = next(r for r in result["rules"] if all(r[k] == chosen[k] for k in RULE_KEYS))
    lines += ["", f"Chosen: smooth {chosen['smooth_windows']}, {chosen['min_windows']} window(s), threshold "
                  f"{chosen['threshold']:.3f} ({100 * best['dense']['hit_rate']:.1f} % hits on validation, target "
                  f"{100 * TARGET_HIT_RATE:.0f} %). {_scoring_time(result['scoring_s'])}; every rule is evaluated "
                  "on the cached posteriors. The test streams are reported once "
                  "with this rule in the next section."]
    return "\n".join(lines)


def _scoring_time(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "The validation streams were scored once by an earlier run (its cache holds no times)"
    return f"The validation streams took {seconds / 60:.1f} min to build and score once"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="KeywordSpotter checkpoint of the detector")
    parser.add_argument("--split", default="validation", choices=["training", "validation"],
                        help="split the streams are built from (never the test split: that is for reporting)")
    parser.add_argument("--dense-minutes", type=float, default=40.0, help="length of the dense stream (min)")
    parser.add_argument("--sparse-hours", type=float, default=4.0, help="length of the sparse stream (h)")
    parser.add_argument("--run-root", default="runs/gating_rules", help="where the scored posteriors are cached")
    parser.add_argument("--second-checkpoint", default=None,
                        help="an independently trained KeywordSpotter: also evaluate it alone and as a two-pass check")
    parser.add_argument("--name", default="gating_rules",
                        help="results file and BENCHMARKS.md section (gating_streams.py --rule-from reads "
                             "benchmarks/results/gating_rules.json: give other detectors' comparisons their own name)")
    args = parser.parse_args()
    result = measure(args.checkpoint, Path(args.run_root), args.split, args.dense_minutes, args.sparse_hours,
                     args.second_checkpoint)
    save_results(args.name, result)
    text = report_markdown(result, args.name)
    update_summary(args.name, text)
    print(text)


if __name__ == "__main__":
    main()

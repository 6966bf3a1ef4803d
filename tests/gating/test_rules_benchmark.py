"""benchmarks/gating_rules.py and gating_streams.py: the rule and threshold are chosen on one set of
streams (validation) by the most hits within the false-alarm budget, and the test streams are then
read at that threshold, not re-picked."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import gating_rules  # noqa: E402
import gating_streams  # noqa: E402

from memtorch_power.gating.stream import PlacedClip  # noqa: E402

HOP = 0.25


def _chunk(keyword_peaks: list[float], distractor_peaks: list[float], hours: float = 1.0) -> dict:
    """One stream chunk: each placed clip 1 s long at its own 10 s slot, its windows scoring its peak."""
    duration = 3600.0 * hours
    starts = np.arange(0.0, duration - 1.0 + 1e-9, HOP)
    scores = np.zeros((len(starts), 2))
    events = []
    for slot, (peak, is_keyword) in enumerate([(p, True) for p in keyword_peaks] + [(p, False) for p in distractor_peaks]):
        begin = 10.0 * (slot + 1)
        events.append(PlacedClip(begin, begin + 1.0, "yes" if is_keyword else "bed", is_keyword))
        inside = (starts >= begin - 0.5) & (starts <= begin + 0.5)  # the windows overlapping most of it
        scores[inside, slot % 2] = peak
    return {"starts_s": starts, "outputs": scores, "duration_s": duration, "events": events}


def test_operating_point_takes_the_most_hits_within_the_false_alarm_budget() -> None:
    dense = [_chunk([0.99, 0.97, 0.93, 0.85], [])]
    sparse = [_chunk([], [0.96, 0.90, 0.90], hours=2.0)]  # 2 h: 2 false alarms allowed
    thresholds = [0.8, 0.89, 0.92, 0.95, 0.98]
    rows = {name: gating_rules.evaluate_rule(chunks, 1, 1, thresholds, 1.0, HOP)
            for name, chunks in (("dense", dense), ("sparse", sparse))}
    assert [s.hits for s in rows["dense"]] == [4, 3, 3, 2, 1]
    assert [s.false_alarms for s in rows["sparse"]] == [3, 3, 1, 1, 0]
    point = gating_rules.operating_point(rows["dense"], rows["sparse"])
    # 0.92 and 0.95 are within 1 false alarm per hour; 0.92 finds more keywords
    assert point["threshold"] == 0.92 and point["false_alarm_target_met"]
    assert point["dense"]["hits"] == 3 and point["sparse"]["false_alarms"] == 1
    none = gating_rules.operating_point(rows["dense"][:2], rows["sparse"][:2])
    assert not none["false_alarm_target_met"] and none["threshold"] == 0.89  # the highest one swept


def test_two_pass_needs_both_models() -> None:
    first = [_chunk([0.99], [0.97])]
    second = [dict(first[0], outputs=first[0]["outputs"] * np.array([[1.0, 0.5]]))]
    both = gating_rules.two_pass(first, second)
    assert both[0]["outputs"].ndim == 1
    np.testing.assert_allclose(both[0]["outputs"], np.minimum(first[0]["outputs"].max(1), second[0]["outputs"].max(1)))
    # the keyword (keyword 0 in both) still counts, the distractor (keyword 1, halved by the second) no longer
    (stats,) = gating_rules.evaluate_rule(both, 1, 1, [0.9], 1.0, HOP)
    assert (stats.hits, stats.false_alarms) == (1, 0)


def test_test_streams_are_read_at_the_validation_threshold() -> None:
    def row(threshold: float, hit_rate: float, per_hour: float) -> dict:
        counts = {"keywords": 20, "hits": round(20 * hit_rate), "misses": 20 - round(20 * hit_rate),
                  "false_alarms": round(per_hour), "detections": 0, "duration_s": 3600.0, "windows": 14397,
                  "flagged_windows": 0, "transmitted_s": 0.0}
        return {"threshold": threshold, "hit_rate": hit_rate, "hit_rate_interval": [0.0, 1.0],
                "false_alarms_per_hour": per_hour, "false_alarms_per_hour_interval": [0.0, 2.0], "savings": 10.0,
                **counts}

    meta = {"min_windows": 2, "smooth_windows": 1}
    runs = {"dense_mw2": {"meta": meta, "sweep": [row(0.9, 0.92, 3.0), row(0.96, 0.85, 3.0)]},
            "sparse_mw2": {"meta": meta, "sweep": [row(0.9, 1.0, 0.9), row(0.96, 1.0, 0.5)]}}
    picked_on_test = gating_streams.operating_point(runs, "_mw2")
    assert picked_on_test["threshold"] == 0.9 and picked_on_test["chosen_on"] == "test"
    chosen = gating_streams.operating_point(runs, "_mw2", {"threshold": 0.96, "min_windows": 2, "smooth_windows": 1})
    assert chosen["threshold"] == 0.96 and chosen["chosen_on"] == "validation" and chosen["hit_rate"] == 0.85
    assert chosen["false_alarms_per_hour_target_met"] and not chosen["hit_rate_target_met"]
    assert gating_streams.suffix(2, 3) == "_s3_mw2" and gating_streams.setting_suffix({}) == ""


def test_speech_threshold_allows_no_false_accept_at_speech_rates() -> None:
    dense = [_chunk([0.99, 0.97, 0.93], [0.91])]
    sparse = [_chunk([0.96], [0.94, 0.5, 0.5], hours=2.0)]
    thresholds = [0.9, 0.92, 0.95, 0.98]
    rows = [gating_rules.evaluate_rule(chunks, 1, 1, thresholds, 1.0, HOP) for chunks in (dense, sparse)]
    point = gating_rules.speech_threshold(*rows, words_per_minute=150.0, max_false_alarms_per_hour=1.0)
    # one false accept in 4 other words is 2,250 an hour of speech: only 0.95 and 0.98 set none off
    assert point["threshold"] == 0.95 and point["target_met"] and point["false_accepts"] == 0
    assert (point["hits"], point["keywords"]) == (3, 4)  # 0.99, 0.97 and 0.96 of both streams
    generous = gating_rules.speech_threshold(*rows, words_per_minute=150.0, max_false_alarms_per_hour=5000.0)
    # within a generous budget every keyword counts from 0.92 down; of the tied ones the higher threshold
    assert generous["threshold"] == 0.92 and generous["false_accepts"] == 1 and generous["hits"] == 4

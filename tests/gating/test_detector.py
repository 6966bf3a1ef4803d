"""Detections, hits and false alarms against known keyword positions (fake scorers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from memtorch_power.gating.detector import WindowScores, detect, evaluate_detections, score_stream, sweep
from memtorch_power.gating.stream import PlacedClip, Stream, build_stream

HOP, WIN = 0.5, 1.0


def _scores(values: list[float]) -> WindowScores:
    return WindowScores(np.arange(len(values)) * HOP, np.asarray(values, float), WIN, HOP)


def test_known_scores_give_known_counts() -> None:
    # windows start every 0.5 s; keywords at [2, 3) s and [10, 11) s, a distractor at [6, 7) s
    events = [PlacedClip(2.0, 3.0, "yes", True), PlacedClip(6.0, 7.0, "bed", False), PlacedClip(10.0, 11.0, "no", True)]
    values = [0.0] * 30
    values[3:6] = [0.6, 0.95, 0.7]  # windows at 1.5-2.5 s: one merged detection on "yes"
    values[12] = 0.9  # 6.0 s: fires on the distractor -> false alarm
    values[26] = 0.8  # 13.0 s: fires on noise -> false alarm
    scores = _scores(values)
    detections = detect(scores, threshold=0.5, refractory_s=1.0)
    assert [(d.start_s, d.end_s, d.windows) for d in detections] == [(1.5, 3.5, 3), (6.0, 7.0, 1), (13.0, 14.0, 1)]
    stats = evaluate_detections(detections, events, duration_s=15.0, scores=scores, threshold=0.5)
    assert (stats.keywords, stats.hits, stats.misses, stats.false_alarms) == (2, 1, 1, 2)
    assert stats.hit_rate == 0.5 and stats.false_alarms_per_hour == pytest.approx(2 / (15 / 3600))
    assert stats.flagged_windows == 5 and stats.transmitted_s == pytest.approx(2.0 + 1.0 + 1.0)
    high = evaluate_detections(detect(scores, 0.92), events, 15.0, scores, 0.92)
    assert (high.hits, high.false_alarms, high.flagged_windows) == (1, 0, 1)


def test_refractory_period_merges_or_splits() -> None:
    scores = _scores([0.9, 0.0, 0.0, 0.9, 0.0])  # flagged windows 1.5 s apart
    assert len(detect(scores, 0.5, refractory_s=1.0)) == 2
    assert len(detect(scores, 0.5, refractory_s=2.0)) == 1


def test_sweep_flags_fewer_windows_as_the_threshold_rises() -> None:
    rng = np.random.default_rng(0)
    scores = _scores(list(rng.random(200)))
    stats = sweep(scores, [PlacedClip(5.0, 6.0, "yes", True)], 100.0, [0.1, 0.5, 0.9])
    flagged = [s.flagged_windows for s in stats]
    assert flagged == sorted(flagged, reverse=True) and flagged[0] > flagged[-1]


def test_synthetic_stream_with_a_fake_scorer() -> None:
    """Tone bursts as keywords, quiet bursts as distractors, an RMS 'scorer'."""
    sr = 1000
    t = np.arange(sr) / sr
    loud = (0.8 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    quiet = (0.05 * np.sin(2 * np.pi * 50 * t)).astype(np.float32)
    stream = build_stream([loud, quiet], ["yes", "bed"], duration_s=120, sample_rate=sr, events_per_minute=10,
                          min_gap_s=2.0, noise_volume=0.0, seed=3)
    assert stream.keyword_events and len(stream.events) == 20
    for a, b in zip(stream.events, stream.events[1:]):
        assert b.start_s - a.end_s >= 2.0 - 1e-9  # non-overlapping, gap respected
    first = stream.events[0]
    start = int(round(first.start_s * sr))
    np.testing.assert_allclose(stream.audio[start : start + sr], loud if first.is_keyword else quiet, atol=1e-6)

    def rms_scorer(windows: torch.Tensor) -> torch.Tensor:
        return windows.pow(2).mean(dim=1).sqrt() / 0.8 * 2  # a full loud burst -> ~1.4, quiet -> ~0.09

    scores = score_stream(stream, rms_scorer, window_s=1.0, hop_s=0.25)
    stats = evaluate_detections(detect(scores, 0.5), stream.events, stream.duration_s, scores, 0.5)
    assert stats.hits == stats.keywords == len(stream.keyword_events)
    assert stats.false_alarms == 0
    assert stats.detections == stats.keywords


def test_stream_is_deterministic_and_validates() -> None:
    clip = np.ones(100, np.int16) * 1000
    a = build_stream([clip], ["yes"], 10, sample_rate=100, seed=1)
    b = build_stream([clip], ["yes"], 10, sample_rate=100, seed=1)
    assert a.events == b.events and np.array_equal(a.audio, b.audio)
    with pytest.raises(ValueError):
        build_stream([], [], 10)
    assert isinstance(a, Stream) and a.duration_s == 10

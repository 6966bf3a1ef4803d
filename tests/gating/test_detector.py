"""Detections, hits and false alarms against known keyword positions (fake scorers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from memtorch_power.gating.detector import (
    WindowScores,
    detect,
    evaluate_detections,
    score_stream,
    scores_from_outputs,
    smooth_posteriors,
    sweep,
)
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
    # one false alarm on the distractor "bed", one on noise alone
    assert (stats.distractors, stats.distractors_triggered, stats.false_alarms_on_noise) == (1, 1, 1)
    assert stats.false_accept_rate == 1.0 and stats.false_accept_rate_interval[1] == pytest.approx(1.0)
    assert stats.hit_rate == 0.5 and stats.false_alarms_per_hour == pytest.approx(2 / (15 / 3600))
    assert stats.flagged_windows == 5 and stats.transmitted_s == pytest.approx(2.0 + 1.0 + 1.0)
    high = evaluate_detections(detect(scores, 0.92), events, 15.0, scores, 0.92)
    assert (high.hits, high.false_alarms, high.flagged_windows) == (1, 0, 1)
    assert (high.distractors, high.distractors_triggered, high.false_accept_rate) == (1, 0, 0.0)


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


def test_distractor_share_holds_when_the_pool_has_few_distractors() -> None:
    clip = np.ones(100, np.int16) * 1000
    words = ["yes"] * 18 + ["bed"] * 2  # 10 % distractors in the pool
    pooled = build_stream([clip] * 20, words, 2000, sample_rate=100, events_per_minute=30, min_gap_s=0.5, seed=3)
    shared = build_stream([clip] * 20, words, 2000, sample_rate=100, events_per_minute=30, min_gap_s=0.5, seed=3,
                          distractor_share=0.9)
    def share(stream: Stream) -> float:
        return 1 - len(stream.keyword_events) / len(stream.events)
    assert len(shared.events) > 500
    assert share(pooled) < 0.2 and 0.85 < share(shared) < 0.95
    assert share(build_stream([clip] * 20, words, 500, sample_rate=100, seed=3, distractor_share=0.0)) == 0.0
    with pytest.raises(ValueError, match="distractor_share"):
        build_stream([clip], ["yes"], 10, sample_rate=100, distractor_share=2.0)


def test_poisson_interval_matches_tabulated_values() -> None:
    from memtorch_power.gating.detector import poisson_interval

    # Garwood 95 % limits (e.g. Gehrels 1986, Table 1/3): 0 -> [0, 3.689], 1 -> [0.0253, 5.572], 10 -> [4.795, 18.39]
    assert poisson_interval(0) == pytest.approx((0.0, 3.6889), abs=1e-4)
    assert poisson_interval(1) == pytest.approx((0.02532, 5.5716), abs=1e-4)
    assert poisson_interval(10) == pytest.approx((4.7954, 18.390), abs=1e-3)
    with pytest.raises(ValueError, match="count"):
        poisson_interval(-1)


def test_combined_chunks_count_like_one_stream_and_carry_intervals() -> None:
    from memtorch_power.gating.detector import combine_stats

    events = [PlacedClip(2.0, 3.0, "yes", True), PlacedClip(10.0, 11.0, "no", True)]
    first = _scores([0.0] * 3 + [0.9] + [0.0] * 10 + [0.8] + [0.0] * 15)  # a hit and a false alarm
    second = _scores([0.0] * 30)  # nothing fires
    parts = [sweep(first, events, 15.0, [0.5, 0.95]), sweep(second, events, 15.0, [0.5, 0.95])]
    low, high = combine_stats(parts)
    assert (low.keywords, low.hits, low.false_alarms, low.duration_s, low.windows) == (4, 1, 1, 30.0, 60)
    assert low.false_alarms_per_hour == pytest.approx(1 / (30 / 3600))
    assert (high.hits, high.false_alarms) == (0, 0)
    hits_low, hits_high = low.hit_rate_interval
    assert 0 < hits_low < 0.25 < hits_high < 1
    fa_low, fa_high = high.false_alarms_per_hour_interval
    assert fa_low == 0 and fa_high == pytest.approx(3.6889 * 120, rel=1e-3)  # 0 in 30 s = 1/120 h
    assert "hit_rate_interval" in low.as_dict() and "false_alarms_per_hour_interval" in low.as_dict()
    with pytest.raises(ValueError, match="different thresholds"):
        combine_stats([parts[0], sweep(second, events, 15.0, [0.5])])


def test_chunk_lengths_cover_the_duration() -> None:
    from memtorch_power.gating.pipeline import GatingConfig, chunk_lengths

    assert chunk_lengths(1500, 600) == [600.0, 600.0, 300.0]
    assert chunk_lengths(600, 600) == [600.0] and chunk_lengths(30, 600) == [30.0]
    with pytest.raises(ValueError, match="chunk_s"):
        chunk_lengths(60, 0)
    with pytest.raises(ValueError, match="chunk_s must be > 0"):
        GatingConfig(chunk_s=-1)
    with pytest.raises(ValueError, match="distractor_share"):
        GatingConfig(distractor_share=1.5)


def test_min_windows_drops_single_window_spikes_and_their_audio() -> None:
    events = [PlacedClip(2.0, 3.0, "yes", True)]
    values = [0.0] * 30
    values[3:6] = [0.95, 0.95, 0.95]  # the keyword lights up three windows
    values[20] = 0.99  # a lone spike at 10 s
    scores = _scores(values)
    loose = sweep(scores, events, 15.0, [0.9])[0]
    strict = sweep(scores, events, 15.0, [0.9], min_windows=2)[0]
    assert (loose.hits, loose.false_alarms, loose.flagged_windows) == (1, 1, 4)
    assert (strict.hits, strict.false_alarms, strict.flagged_windows) == (1, 0, 3)
    assert strict.transmitted_s == pytest.approx(2.0) and loose.transmitted_s == pytest.approx(3.0)
    with pytest.raises(ValueError, match="min_windows"):
        detect(scores, 0.9, min_windows=0)


def test_posterior_smoothing_is_a_causal_moving_average_per_keyword() -> None:
    posteriors = np.array([[0.0, 1.0], [0.6, 0.0], [0.9, 0.0], [0.3, 0.0]])
    smoothed = smooth_posteriors(posteriors, 2)
    # window i averages windows i-1 and i of the same keyword (only window 0 at the start)
    np.testing.assert_allclose(smoothed, [[0.0, 1.0], [0.3, 0.5], [0.75, 0.0], [0.6, 0.0]])
    np.testing.assert_allclose(smooth_posteriors(posteriors, 3)[:, 0], [0.0, 0.3, 0.5, 0.6])
    np.testing.assert_array_equal(smooth_posteriors(posteriors, 1), posteriors)
    np.testing.assert_allclose(smooth_posteriors(posteriors[:, 0], 2), smoothed[:, 0])
    with pytest.raises(ValueError, match="smooth_windows"):
        smooth_posteriors(posteriors, 0)


def test_smoothing_drops_a_one_window_spike_and_keeps_a_sustained_keyword() -> None:
    # keyword 0 high over three windows (a spoken keyword), keyword 1 spikes in one window
    posteriors = np.zeros((20, 2))
    posteriors[4:7, 0] = [0.9, 0.95, 0.9]
    posteriors[14, 1] = 0.95
    starts = np.arange(20) * HOP
    raw = scores_from_outputs(starts, posteriors, WIN, HOP)
    np.testing.assert_allclose(raw.scores, posteriors.max(axis=1))
    assert len(detect(raw, 0.8)) == 2
    smooth = scores_from_outputs(starts, posteriors, WIN, HOP, smooth_windows=2)
    assert [(d.start_s, d.windows) for d in detect(smooth, 0.8)] == [(2.5, 2)]
    # a spike split between two keywords does not add up: each keyword is smoothed on its own
    mixed = np.zeros((6, 2))
    mixed[2, 0], mixed[3, 1] = 0.9, 0.9
    assert scores_from_outputs(np.arange(6) * HOP, mixed, WIN, HOP, smooth_windows=2).scores.max() == 0.45


def test_score_stream_smooths_per_keyword_posteriors() -> None:
    stream = Stream(np.zeros(16000 * 4, dtype=np.float32), 16000)
    calls = iter(range(100))

    def two_keywords(windows: torch.Tensor) -> np.ndarray:
        out = np.zeros((len(windows), 2))
        for row in range(len(windows)):
            out[row, next(calls) % 2] = 1.0  # alternates between the keywords
        return out

    scores = score_stream(stream, two_keywords, window_s=1.0, hop_s=0.5, batch_size=3, smooth_windows=2)
    assert len(scores.scores) == 7
    # each keyword is high in every other window: averaged over two windows it is 0.5 (1.0 at the start)
    np.testing.assert_allclose(scores.scores, [1.0] + [0.5] * 6)


def test_touching_intervals_do_not_overlap_and_overlapping_detections_count_once() -> None:
    # a keyword [2, 3) and a distractor [5, 6); windows of 1 s every 0.5 s, refractory 0.25 s:
    # flagged windows at 3.0 s (touches the keyword's end only) and 4.5/5.5 s (two detections, both on "bed")
    events = [PlacedClip(2.0, 3.0, "yes", True), PlacedClip(5.0, 6.0, "bed", False)]
    values = [0.0] * 20
    values[6], values[9], values[11] = 0.9, 0.9, 0.9
    scores = _scores(values)
    detections = detect(scores, 0.5, refractory_s=0.25)
    assert [(d.start_s, d.end_s) for d in detections] == [(3.0, 4.0), (4.5, 5.5), (5.5, 6.5)]
    stats = evaluate_detections(detections, events, 10.0, scores, 0.5)
    assert (stats.hits, stats.false_alarms) == (0, 3)  # [3, 4) only touches the keyword's end
    assert (stats.distractors_triggered, stats.false_alarms_on_noise) == (1, 1)
    assert stats.flagged_windows == 3 and stats.transmitted_s == pytest.approx(3.0)

"""Sliding-window wake-word detection and its hit rate / false alarms per hour.

* :func:`score_stream`: a scorer (waveform windows -> keyword score in [0, 1], or every keyword's
  posterior) over windows of ``window_s`` every ``hop_s``, optionally smoothed over several windows
  (:func:`smooth_posteriors`).
* :func:`detect`: windows whose score exceeds the threshold are *flagged*; flagged windows
  starting within ``refractory_s`` of the previous flagged one merge into one detection.
* :func:`evaluate_detections`: a *hit* is a placed keyword overlapped by a detection; a
  *false alarm* is a detection that overlaps no placed keyword. False alarms are split by what set
  them off: another spoken word (a placed distractor) or noise alone; the share of distractor
  words that set off a false alarm is the detector's false-accept rate per spoken word, which,
  unlike false alarms per hour, does not depend on how much speech a stream holds.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
import torch
from scipy.stats import chi2
from tqdm.auto import tqdm

from memtorch_power.gating.stream import PlacedClip, Stream
from memtorch_power.kws.compare_report import wilson_interval

#: ``windows float32 [N, samples] in [-1, 1] -> scores [N]`` (max keyword posterior) or
#: ``[N, K]`` (every keyword's posterior).
Scorer = Callable[[torch.Tensor], "np.ndarray | torch.Tensor"]


@dataclass(frozen=True)
class WindowScores:
    """Score of every window: ``starts_s[i]`` is where window ``i`` begins (s)."""

    starts_s: np.ndarray
    scores: np.ndarray
    window_s: float
    hop_s: float


def window_starts(num_samples: int, sample_rate: int, window_s: float, hop_s: float) -> np.ndarray:
    """Start sample of every full window (``window_s`` long, every ``hop_s``)."""
    if window_s <= 0 or hop_s <= 0:
        raise ValueError(f"window_s and hop_s must be > 0, got {window_s}, {hop_s}")
    window, hop = int(round(window_s * sample_rate)), int(round(hop_s * sample_rate))
    if num_samples < window:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, num_samples - window + 1, hop, dtype=np.int64)


def window_outputs(stream: Stream, scorer: Scorer, window_s: float = 1.0, hop_s: float = 0.25,
                   batch_size: int = 256, progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Run ``scorer`` on every window of ``stream`` (in batches of ``batch_size``).

    Returns:
        ``(starts_s [N], outputs)``: where each window begins (s) and what the scorer gave for it,
        ``[N]`` scores or ``[N, K]`` per-keyword posteriors.
    """
    starts = window_starts(len(stream.audio), stream.sample_rate, window_s, hop_s)
    window = int(round(window_s * stream.sample_rate))
    audio = torch.from_numpy(np.ascontiguousarray(stream.audio, dtype=np.float32))
    outputs: list[np.ndarray] = []
    for begin in tqdm(range(0, len(starts), batch_size), desc="scoring windows", disable=not progress):
        windows = torch.stack([audio[s : s + window] for s in starts[begin : begin + batch_size]])
        out = scorer(windows)
        outputs.append(np.asarray(out.detach().cpu() if isinstance(out, torch.Tensor) else out, dtype=np.float64))
    return starts / stream.sample_rate, (np.concatenate(outputs) if outputs else np.zeros(0))


def smooth_posteriors(posteriors: np.ndarray, windows: int) -> np.ndarray:
    """Causal moving average of each keyword's posterior over the last ``windows`` windows (fewer
    at the start), the posterior smoothing of Chen, Parada & Heigold (ICASSP 2014, "Small-footprint
    keyword spotting using deep neural networks", eq. 1): a keyword must score high over several
    overlapping windows, a spurious spike is diluted. ``posteriors`` is ``[N]`` or ``[N, K]``;
    ``windows=1`` returns it unchanged.

    Raises:
        ValueError: ``windows < 1``.
    """
    if windows < 1:
        raise ValueError(f"smooth_windows must be >= 1, got {windows}")
    values = np.asarray(posteriors, dtype=np.float64)
    if windows == 1 or len(values) == 0:
        return values
    totals = np.cumsum(values, axis=0)
    lagged = np.concatenate([np.zeros((windows,) + values.shape[1:]), totals[:-windows]])[: len(values)]
    counts = np.minimum(np.arange(1, len(values) + 1), windows).reshape((-1,) + (1,) * (values.ndim - 1))
    return (totals - lagged) / counts


def scores_from_outputs(starts_s: np.ndarray, outputs: np.ndarray, window_s: float, hop_s: float,
                        smooth_windows: int = 1) -> WindowScores:
    """Window scores from a scorer's outputs: smoothed (:func:`smooth_posteriors`), then the
    highest keyword posterior of each window when ``outputs`` is ``[N, K]``."""
    smoothed = smooth_posteriors(outputs, smooth_windows)
    scores = smoothed.max(axis=1, initial=0.0) if smoothed.ndim == 2 else smoothed.reshape(-1)
    return WindowScores(np.asarray(starts_s, dtype=np.float64), scores, window_s, hop_s)


def score_stream(stream: Stream, scorer: Scorer, window_s: float = 1.0, hop_s: float = 0.25,
                 batch_size: int = 256, progress: bool = False, smooth_windows: int = 1) -> WindowScores:
    """Score every window of ``stream`` (:func:`window_outputs`, then :func:`scores_from_outputs`).

    ``scorer`` returns one score per window or every keyword's posterior (``KeywordScorer.posteriors``);
    with ``smooth_windows > 1`` the outputs are averaged over that many windows first.
    """
    starts_s, outputs = window_outputs(stream, scorer, window_s, hop_s, batch_size, progress)
    return scores_from_outputs(starts_s, outputs, window_s, hop_s, smooth_windows)


@dataclass(frozen=True)
class Detection:
    """A merged detection ``[start_s, end_s)`` with its highest window score."""

    start_s: float
    end_s: float
    peak_score: float
    windows: int


def detect(scores: WindowScores, threshold: float, refractory_s: float = 1.0, min_windows: int = 1) -> list[Detection]:
    """Flag windows with ``score > threshold`` and merge them (see the module docstring); a merged
    detection of fewer than ``min_windows`` flagged windows is dropped (a keyword usually lights up
    several overlapping windows, a spurious score often one).

    Raises:
        ValueError: ``min_windows < 1``.
    """
    if min_windows < 1:
        raise ValueError(f"min_windows must be >= 1, got {min_windows}")
    flagged = np.flatnonzero(scores.scores > threshold)
    detections: list[Detection] = []
    current: list[int] = []

    def close() -> None:
        if len(current) >= min_windows:
            detections.append(Detection(
                float(scores.starts_s[current[0]]), float(scores.starts_s[current[-1]] + scores.window_s),
                float(scores.scores[current].max()), len(current)))

    for index in flagged:
        if current and scores.starts_s[index] - scores.starts_s[current[-1]] > refractory_s:
            close()
            current = []
        current.append(int(index))
    close()
    return detections


def _intervals(items: Sequence[Detection] | Sequence[PlacedClip]) -> tuple[np.ndarray, np.ndarray]:
    """Starts and ends (s) of detections or placed clips."""
    return (np.array([i.start_s for i in items], dtype=np.float64).reshape(-1),
            np.array([i.end_s for i in items], dtype=np.float64).reshape(-1))


def _furthest_end(other_starts: np.ndarray, other_ends: np.ndarray, points: np.ndarray, side: str) -> np.ndarray:
    """For each point: the latest end (s) among the other intervals that start before it
    (``side="left"``) or at or before it (``side="right"``); -inf where none does. Sorting plus a
    running maximum of the ends, so ``O((n + m) log m)``."""
    if len(other_starts) == 0:
        return np.full(len(points), -np.inf)
    order = np.argsort(other_starts, kind="stable")
    running_end = np.maximum.accumulate(other_ends[order])
    before = np.searchsorted(other_starts[order], points, side=side)
    return np.where(before > 0, running_end[np.maximum(before - 1, 0)], -np.inf)


def _any_overlap(starts: np.ndarray, ends: np.ndarray, other_starts: np.ndarray, other_ends: np.ndarray) -> np.ndarray:
    """For each interval ``[starts, ends)``: does any other interval overlap it by more than 0 s
    (``other_start < end`` and ``start < other_end``)?"""
    return _furthest_end(other_starts, other_ends, ends, "left") > starts


def _inside_any(starts: np.ndarray, ends: np.ndarray, other_starts: np.ndarray, other_ends: np.ndarray) -> np.ndarray:
    """For each interval ``[starts, ends)``: does it lie inside one of the others
    (``other_start <= start`` and ``end <= other_end``)?"""
    return _furthest_end(other_starts, other_ends, starts, "right") >= ends


def _union_length(intervals: Sequence[tuple[float, float]]) -> float:
    total, end = 0.0, -np.inf
    for start, stop in sorted(intervals):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


@dataclass(frozen=True)
class DetectionStats:
    """Detection quality at one threshold.

    Attributes:
        threshold; keywords: placed keywords; hits, misses; false_alarms: detections on no
        keyword; detections; duration_s: stream length (s); windows: windows scored;
        flagged_windows: windows over the threshold; transmitted_s: seconds of audio covered
        by flagged windows (what the gated pipeline digitises and sends); distractors: other
        (non-keyword) words placed; distractors_triggered: of those, the ones a false alarm
        overlaps; false_alarms_on_noise: false alarms that overlap no placed word at all.
    """

    threshold: float
    keywords: int
    hits: int
    misses: int
    false_alarms: int
    detections: int
    duration_s: float
    windows: int
    flagged_windows: int
    transmitted_s: float
    distractors: int = 0
    distractors_triggered: int = 0
    false_alarms_on_noise: int = 0

    @property
    def hit_rate(self) -> float:
        return self.hits / self.keywords if self.keywords else float("nan")

    @property
    def false_alarms_per_hour(self) -> float:
        return self.false_alarms / (self.duration_s / 3600.0)

    @property
    def hit_rate_interval(self) -> tuple[float, float]:
        """95 % Wilson interval of the hit rate over the placed keywords (nan without any)."""
        return wilson_interval(self.hit_rate, self.keywords) if self.keywords else (float("nan"), float("nan"))

    @property
    def false_alarms_per_hour_interval(self) -> tuple[float, float]:
        """Exact 95 % Poisson (Garwood) interval of the false alarms per hour of stream."""
        hours = self.duration_s / 3600.0
        low, high = poisson_interval(self.false_alarms)
        return (low / hours, high / hours)

    @property
    def false_accept_rate(self) -> float:
        """Share of the placed other words that set off a false alarm (nan without any)."""
        return self.distractors_triggered / self.distractors if self.distractors else float("nan")

    @property
    def false_accept_rate_interval(self) -> tuple[float, float]:
        """95 % Wilson interval of :attr:`false_accept_rate` over the placed other words."""
        if not self.distractors:
            return (float("nan"), float("nan"))
        return wilson_interval(self.false_accept_rate, self.distractors)

    def as_dict(self) -> dict:
        return dict(asdict(self), hit_rate=self.hit_rate, false_alarms_per_hour=self.false_alarms_per_hour,
                    hit_rate_interval=list(self.hit_rate_interval),
                    false_alarms_per_hour_interval=list(self.false_alarms_per_hour_interval),
                    false_accept_rate=self.false_accept_rate,
                    false_accept_rate_interval=list(self.false_accept_rate_interval))


def poisson_interval(count: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) two-sided interval of a Poisson mean from one observed ``count`` (events).

    Raises:
        ValueError: a negative count or a confidence outside (0, 1).
    """
    if count < 0:
        raise ValueError(f"count must be >= 0, got {count}")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    alpha = 1.0 - confidence
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return (low, high)


def combine_stats(parts: Sequence[Sequence[DetectionStats]]) -> list[DetectionStats]:
    """Add up the sweeps of several streams (e.g. the chunks of a long one), threshold by threshold.

    Raises:
        ValueError: no sweeps, or sweeps over different thresholds.
    """
    if not parts:
        raise ValueError("combine_stats: no sweeps to combine")
    thresholds = [s.threshold for s in parts[0]]
    for part in parts[1:]:
        if [s.threshold for s in part] != thresholds:
            raise ValueError(f"combine_stats: sweeps over different thresholds {thresholds} and "
                             f"{[s.threshold for s in part]}")
    counts = [f.name for f in fields(DetectionStats) if f.name != "threshold"]
    return [DetectionStats(column[0].threshold, **{name: sum(getattr(s, name) for s in column) for name in counts})
            for column in zip(*parts)]


def evaluate_detections(detections: Sequence[Detection], events: Sequence[PlacedClip], duration_s: float,
                        scores: WindowScores, threshold: float) -> DetectionStats:
    """Count hits, misses and false alarms of ``detections`` against the placed ``events``; the
    audio transmitted is that of the flagged windows inside a detection (all flagged windows unless
    :func:`detect` dropped short detections)."""
    keywords = _intervals([e for e in events if e.is_keyword])
    others = _intervals([e for e in events if not e.is_keyword])
    found = _intervals(detections)
    hits = int(_any_overlap(*keywords, *found).sum())
    on_keyword = _any_overlap(*found, *keywords)
    false = (found[0][~on_keyword], found[1][~on_keyword])
    triggered = int(_any_overlap(*others, *false).sum())
    on_noise = int((~_any_overlap(*false, *others)).sum())
    flagged = np.flatnonzero(scores.scores > threshold)
    window_starts_s = scores.starts_s[flagged]
    flagged = flagged[_inside_any(window_starts_s, window_starts_s + scores.window_s, *found)]
    transmitted = _union_length([(float(scores.starts_s[i]), float(scores.starts_s[i] + scores.window_s))
                                 for i in flagged])
    return DetectionStats(threshold, len(keywords[0]), hits, len(keywords[0]) - hits, len(false[0]), len(detections),
                          duration_s, len(scores.scores), len(flagged), transmitted,
                          distractors=len(others[0]), distractors_triggered=triggered, false_alarms_on_noise=on_noise)


def sweep(scores: WindowScores, events: Sequence[PlacedClip], duration_s: float,
          thresholds: Sequence[float], refractory_s: float = 1.0, min_windows: int = 1) -> list[DetectionStats]:
    """:func:`detect` and :func:`evaluate_detections` at every threshold."""
    return [
        evaluate_detections(detect(scores, t, refractory_s, min_windows), events, duration_s, scores, t)
        for t in thresholds
    ]


__all__ = [
    "Detection", "DetectionStats", "Scorer", "WindowScores", "combine_stats", "detect", "evaluate_detections",
    "poisson_interval", "score_stream", "scores_from_outputs", "smooth_posteriors", "sweep", "window_outputs",
    "window_starts",
]

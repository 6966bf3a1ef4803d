"""Long audio streams with keywords at known times, in background noise.

Keyword clips (and optionally other words as distractors) are added to background noise at
random, non-overlapping positions at least ``min_gap_s`` apart; the stream remembers where
each one is (:class:`PlacedClip`). Deterministic for a seed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from memtorch_power.kws.audio import PCM16_SCALE, load_clip_pcm16
from memtorch_power.kws.labels import KEYWORDS
from memtorch_power.kws.noise import load_background_noise, noise_for_split
from memtorch_power.kws.splits import scan_clips, split_clips


@dataclass(frozen=True)
class PlacedClip:
    """A clip placed in a stream: ``[start_s, end_s)``, its word, and whether it is a keyword."""

    start_s: float
    end_s: float
    word: str
    is_keyword: bool


@dataclass
class Stream:
    """Float audio in [-1, 1] at ``sample_rate`` Hz and the clips placed in it."""

    audio: np.ndarray
    sample_rate: int
    events: list[PlacedClip] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def keyword_events(self) -> list[PlacedClip]:
        return [e for e in self.events if e.is_keyword]


def _noise_bed(noise: Sequence[np.ndarray], num_samples: int, volume: float, rng: np.random.Generator) -> np.ndarray:
    bed = np.zeros(num_samples, dtype=np.float32)
    if not noise or volume == 0:
        return bed
    filled = 0
    while filled < num_samples:
        recording = noise[int(rng.integers(len(noise)))].astype(np.float32) / PCM16_SCALE
        offset = int(rng.integers(len(recording)))
        piece = np.concatenate([recording[offset:], recording[:offset]])[: num_samples - filled]
        bed[filled : filled + len(piece)] = piece * volume
        filled += len(piece)
    return bed


def build_stream(
    clips: Sequence[np.ndarray],
    words: Sequence[str],
    duration_s: float,
    noise: Sequence[np.ndarray] = (),
    sample_rate: int = 16000,
    events_per_minute: float = 6.0,
    min_gap_s: float = 2.0,
    noise_volume: float = 0.1,
    keywords: Sequence[str] = KEYWORDS,
    seed: int = 0,
    distractor_share: float | None = None,
) -> Stream:
    """Place clips into ``duration_s`` seconds of background noise.

    Args:
        clips: int16 (or float in [-1, 1]) waveforms to draw from; words: their words.
        duration_s: stream length, s.
        noise: int16 background recordings (looped from random offsets); empty: silence.
        sample_rate: Hz.
        events_per_minute: clips placed per minute (capped by what fits with ``min_gap_s``).
        min_gap_s: minimum silence between two placed clips, s.
        noise_volume: gain of the noise bed (1 = as recorded).
        keywords: words that count as keywords (the others are distractors).
        seed: seed of the choice of clips, positions and noise.
        distractor_share: probability that a placed clip is a distractor (drawn from the clips
            whose word is not a keyword; a keyword clip otherwise). None: every placed clip is
            drawn uniformly from ``clips``, so the share is that of the pool.

    Raises:
        ValueError: no clips, mismatched lengths, a non-positive duration, or a share outside [0, 1].
    """
    if not clips or len(clips) != len(words):
        raise ValueError("build_stream needs as many words as clips, and at least one clip")
    if duration_s <= 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    if distractor_share is not None and not 0.0 <= distractor_share <= 1.0:
        raise ValueError(f"distractor_share must be in [0, 1], got {distractor_share}")
    rng = np.random.default_rng(seed)
    num_samples = int(round(duration_s * sample_rate))
    audio = _noise_bed(noise, num_samples, noise_volume, rng)
    clip_len = max(len(c) for c in clips)
    gap = int(round(min_gap_s * sample_rate))
    slot = clip_len + 2 * gap  # a clip starts in the first `gap` samples of its slot: gaps >= min_gap_s
    slots = max(0, (num_samples - clip_len) // slot)
    wanted = min(slots, int(round(events_per_minute * duration_s / 60.0)))
    chosen_slots = np.sort(rng.choice(slots, size=wanted, replace=False)) if wanted else np.array([], int)
    keyword_set = set(keywords)
    keyword_clips = [i for i, word in enumerate(words) if word in keyword_set]
    other_clips = [i for i, word in enumerate(words) if word not in keyword_set]
    events = []
    for slot_index in chosen_slots:
        if distractor_share is None:
            index = int(rng.integers(len(clips)))
        else:
            pool = other_clips if (rng.random() < distractor_share and other_clips) or not keyword_clips else keyword_clips
            index = pool[int(rng.integers(len(pool)))]
        clip = np.asarray(clips[index])
        wave = clip.astype(np.float32) / PCM16_SCALE if clip.dtype.kind in "iu" else clip.astype(np.float32)
        jitter = int(rng.integers(0, gap + 1))
        start = int(slot_index) * slot + jitter
        audio[start : start + len(wave)] += wave
        events.append(PlacedClip(start / sample_rate, (start + len(wave)) / sample_rate, words[index],
                                 words[index] in keyword_set))
    np.clip(audio, -1.0, 1.0, out=audio)
    return Stream(audio, sample_rate, events)


def build_stream_from_folder(
    root: str | os.PathLike[str],
    duration_s: float,
    split: str = "testing",
    distractor_share: float = 0.2,
    keywords: Sequence[str] = KEYWORDS,
    max_clips: int | None = 400,
    seed: int = 0,
    **kwargs: object,
) -> Stream:
    """A stream from the clips of one split of a Speech Commands folder and the split's
    region of ``_background_noise_`` (:func:`~memtorch_power.kws.noise.noise_for_split`).

    ``distractor_share`` of the placed clips are other words (never counted as keywords),
    drawn from at most ``max_clips * distractor_share`` of the split's other-word clips; the
    keywords from at most the rest of ``max_clips``. A split with few clips of a kind (the
    bundled test split has 68 other-word clips) repeats them in a long stream, each time at
    another position over other noise. Other arguments as :func:`build_stream`.
    """
    rng = np.random.default_rng(seed)
    clips = split_clips(root, scan_clips(root))[split]
    keyword_set = set(keywords)
    kw = [c for c in clips if c.split("/", 1)[0] in keyword_set]
    other = [c for c in clips if c.split("/", 1)[0] not in keyword_set]
    budget = len(kw) + len(other) if max_clips is None else max_clips
    wanted_other = int(round(budget * distractor_share))  # at least one clip of each kind the share asks for
    n_other = min(len(other), max(int(distractor_share > 0), wanted_other))
    n_kw = min(len(kw), max(int(distractor_share < 1), budget - wanted_other))
    picked = [kw[i] for i in rng.permutation(len(kw))[:n_kw]] + [other[i] for i in rng.permutation(len(other))[:n_other]]
    if not picked:
        raise ValueError(f"no clips in the {split} split of {root}")
    waves = [load_clip_pcm16(os.path.join(root, c)) for c in picked]
    words = [c.split("/", 1)[0] for c in picked]
    noise = noise_for_split(load_background_noise(root), split)
    return build_stream(waves, words, duration_s, noise, keywords=keywords, seed=seed + 1,  # type: ignore[arg-type]
                        distractor_share=distractor_share, **kwargs)


__all__ = ["PlacedClip", "Stream", "build_stream", "build_stream_from_folder"]

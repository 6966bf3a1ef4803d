"""Speech Commands split as a map-style dataset of raw int16 waveforms.

Items are ``(waveform int16 [num_samples], label int64)``; turning them into float
features (and augmenting) is left to batched code on the training device (see
:mod:`memtorch_power.kws.datamodule`). Under the 12-class protocol a split holds
every keyword clip, plus, as in TensorFlow's recipe, ``ceil(silence_share * K)``
silence items and ``ceil(unknown_share * K)`` (at most all available) other-word
clips, ``K`` being the number of keyword clips of the split.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from memtorch_power.kws.audio import load_clip_pcm16
from memtorch_power.kws.labels import KEYWORDS, SILENCE_LABEL, class_names, label_index, normalize_protocol
from memtorch_power.kws.noise import noise_for_split, random_silence_window, silence_windows
from memtorch_power.kws.splits import SPLITS

__all__ = [
    "EVAL_SEED",
    "SplitItems",
    "select_items",
    "collate_batch",
    "SpeechCommandsDataset",
    "TensorPairDataset",
]

log = logging.getLogger(__name__)

#: Seed of the unknown-word subset and silence windows of the validation and
#: testing splits, fixed so that those sets do not change with the training seed
#: (TensorFlow's ``RANDOM_SEED``).
EVAL_SEED: Final[int] = 59185


@dataclass(frozen=True)
class SplitItems:
    """Which items make up a split.

    Attributes:
        clips: relative clip paths (``word/name.wav``) of the non-silence items.
        labels: ``int64 [len(clips) + n_silence]``; clip items first, then silence.
        n_silence: number of silence items (at the end).
        n_keyword: keyword clips (``"12"``/``"36"``; all clips under ``"35"``).
        n_unknown: other-word clips kept.
        n_unknown_available: other-word clips in the split before sub-sampling.
    """

    clips: tuple[str, ...]
    labels: np.ndarray
    n_silence: int
    n_keyword: int
    n_unknown: int
    n_unknown_available: int

    def __len__(self) -> int:
        return len(self.labels)


def _share_count(n: int, share: float) -> int:
    # round() first so that e.g. 2450 * 0.1 = 245.00000000000003 gives 245, not 246.
    return int(math.ceil(round(n * share, 9)))


def select_items(
    clips: Sequence[str],
    protocol: str = "12",
    silence_share: float = 0.1,
    unknown_share: float = 0.1,
    rng: np.random.Generator | None = None,
) -> SplitItems:
    """Choose the items of one split from its clip paths.

    Under ``"12"``: all keyword clips; ``ceil(unknown_share * K)`` other-word clips
    (a random subset drawn with ``rng``, or all of them if fewer are available);
    ``ceil(silence_share * K)`` silence items. Under ``"35"``: every clip, no
    silence, and the shares are ignored. Under ``"36"``: every clip, each word its
    own class (``unknown_share`` ignored), and ``ceil(silence_share * K)`` silence
    items, as many as under ``"12"``.

    Args:
        clips: relative paths ``word/name.wav``.
        protocol: ``"12"``, ``"35"`` or ``"36"``.
        silence_share, unknown_share: fractions of the number of keyword clips ``K``
            (TensorFlow's ``silence_percentage`` / ``unknown_percentage`` over 100).
        rng: draws the unknown subset (default: seed 0).
    """
    proto = normalize_protocol(protocol)
    for name, share in (("silence_share", silence_share), ("unknown_share", unknown_share)):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"{name} must be in [0, 1], got {share}")
    words = [c.split("/", 1)[0] for c in clips]
    if proto == "35":
        labels = np.array([label_index(w, proto) for w in words], dtype=np.int64)
        return SplitItems(tuple(clips), labels, 0, len(clips), 0, 0)
    keyword_set = set(KEYWORDS)
    keyword = [c for c, w in zip(clips, words) if w in keyword_set]
    other = [c for c, w in zip(clips, words) if w not in keyword_set]
    rng = np.random.default_rng(0) if rng is None else rng
    # under "36" every other word has its own class: all of them are kept
    n_unknown = len(other) if proto == "36" else min(_share_count(len(keyword), unknown_share), len(other))
    chosen = sorted(other[i] for i in rng.permutation(len(other))[:n_unknown])
    n_silence = _share_count(len(keyword), silence_share)
    kept = keyword + chosen
    labels = np.array(
        [label_index(c.split("/", 1)[0], proto) for c in kept]
        + [label_index(SILENCE_LABEL, proto)] * n_silence,
        dtype=np.int64,
    )
    return SplitItems(tuple(kept), labels, n_silence, len(keyword), n_unknown, len(other))


def collate_batch(data: object) -> tuple[Tensor, Tensor]:
    """Collate for the datasets here: passes through an already batched
    ``(x, y)`` tuple from ``__getitems__``, else stacks a list of ``(x, y)`` items."""
    if isinstance(data, tuple):
        return data  # type: ignore[return-value]
    items: list[tuple[Tensor, Tensor]] = list(data)  # type: ignore[call-overload]
    return torch.stack([x for x, _ in items]), torch.stack([torch.as_tensor(y) for _, y in items]).long()


class SpeechCommandsDataset(Dataset):
    """One split of a Speech Commands folder; items ``(int16 [num_samples], int64)``.

    Args:
        root: dataset folder.
        split: ``"training"``, ``"validation"`` or ``"testing"``.
        clips: relative clip paths of this split (see
            :func:`~memtorch_power.kws.splits.split_clips`).
        protocol: ``"12"``, ``"35"`` or ``"36"``.
        silence_share: see :func:`select_items`.
        unknown_share: see :func:`select_items`.
        noise: background recordings (int16) by name; the split's region of each is
            used for silence (see :mod:`memtorch_power.kws.noise`).
        seed: seed of the unknown subset (training only; validation and testing use
            :data:`EVAL_SEED`).
        random_silence: draw a fresh silence window at every access (torch global
            RNG) instead of fixed windows; default: True for training only.
        cache_audio: read all clips into one int16 array at construction if it
            takes at most ``max_cache_mb`` MiB; else read each clip when accessed.
        max_cache_mb: memory bound of the audio cache, MiB.
        sample_rate: Hz; num_samples: clip length, samples.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        split: str,
        clips: Sequence[str],
        protocol: str = "12",
        silence_share: float = 0.1,
        unknown_share: float = 0.1,
        noise: dict[str, np.ndarray] | None = None,
        seed: int = 0,
        random_silence: bool | None = None,
        cache_audio: bool = True,
        max_cache_mb: float = 4096,
        sample_rate: int = 16000,
        num_samples: int = 16000,
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
        self.root, self.split = os.fspath(root), split
        self.protocol = normalize_protocol(protocol)
        self.class_names = class_names(self.protocol)
        self.sample_rate, self.num_samples = sample_rate, num_samples
        item_seed = [seed, 0] if split == "training" else [EVAL_SEED, SPLITS.index(split)]
        rng = np.random.default_rng(item_seed)
        self.items = select_items(clips, self.protocol, silence_share, unknown_share, rng)
        self.labels = torch.from_numpy(self.items.labels)
        self.n_clips = len(self.items.clips)
        self.noise = noise_for_split(noise or {}, split, num_samples)
        if self.items.n_silence and not self.noise:
            log.warning("no background noise for %s silence items: they are all zeros", split)
        self.random_silence = split == "training" if random_silence is None else random_silence
        self._silence: np.ndarray | None = None
        if not self.random_silence:
            self._silence = silence_windows(self.noise, self.items.n_silence, num_samples, rng)
        self._cache: np.ndarray | None = None
        if cache_audio and self.n_clips * num_samples * 2 <= max_cache_mb * 2**20:
            self._cache = np.empty((self.n_clips, num_samples), dtype=np.int16)
            for i, clip in enumerate(self.items.clips):
                self._cache[i] = self._read(clip)
        self.n_silence = self.items.n_silence
        self.n_unknown = self.items.n_unknown

    @property
    def cached(self) -> bool:
        """Whether the clips are held in memory."""
        return self._cache is not None

    def _read(self, clip: str) -> np.ndarray:
        return load_clip_pcm16(os.path.join(self.root, clip), self.sample_rate, self.num_samples)

    def _wave(self, index: int) -> np.ndarray:
        if index < self.n_clips:
            if self._cache is not None:
                return self._cache[index]
            return self._read(self.items.clips[index])
        if self._silence is not None:
            return self._silence[index - self.n_clips]
        return random_silence_window(self.noise, self.num_samples)

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        index = index % len(self)
        return torch.from_numpy(np.array(self._wave(index))), self.labels[index]

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        """A whole batch at once: ``(int16 [B, num_samples], int64 [B])``."""
        idx = np.asarray(indices, dtype=np.int64)
        if self._cache is not None and idx.size and idx.max() < self.n_clips:
            x = torch.from_numpy(self._cache[idx])
        else:
            x = torch.from_numpy(np.stack([self._wave(int(i)) for i in idx]))
        return x, self.labels[torch.from_numpy(idx)]

    def item_word(self, index: int) -> str:
        """Folder name of item ``index`` (``_silence_`` for silence items)."""
        return self.items.clips[index].split("/", 1)[0] if index < self.n_clips else SILENCE_LABEL


class TensorPairDataset(Dataset):
    """``(x[i], y[i])`` items over two tensors, with batched ``__getitems__``
    (used for cached features)."""

    def __init__(self, x: Tensor, y: Tensor) -> None:
        if len(x) != len(y):
            raise ValueError(f"x and y differ in length: {len(x)} != {len(y)}")
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, index: int) -> tuple[Tensor, Tensor]:
        return self.x[index], self.y[index]

    def __getitems__(self, indices: Sequence[int]) -> tuple[Tensor, Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.long)
        return self.x[idx], self.y[idx]

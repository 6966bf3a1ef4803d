"""The ``_background_noise_`` recordings: loading, per-split regions, silence windows.

To keep validation/test silence from being cut from the very samples that training
saw, each recording is divided in time: its first 80 % serves training (silence
items and noise augmentation), the next 10 % validation and the last 10 % testing.
With the six official recordings (60-95 s each) every region is longer than 6 s.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import numpy as np
import torch

from memtorch_power.kws.audio import read_wav
from memtorch_power.kws.splits import BACKGROUND_NOISE_DIR, SPLITS

__all__ = [
    "NOISE_REGIONS",
    "load_background_noise",
    "noise_for_split",
    "silence_windows",
    "random_silence_window",
]

#: Fraction ``[start, end)`` of every background recording that each split may use.
NOISE_REGIONS: Final[dict[str, tuple[float, float]]] = {
    "training": (0.0, 0.8),
    "validation": (0.8, 0.9),
    "testing": (0.9, 1.0),
}


def load_background_noise(
    root: str | os.PathLike[str], sample_rate: int = 16000
) -> dict[str, np.ndarray]:
    """All ``root/_background_noise_/*.wav`` recordings as int16 arrays, by file
    name (sorted). Empty dict if the folder does not exist.

    Raises:
        ValueError/FileNotFoundError: from :func:`~memtorch_power.kws.audio.read_wav`
            for an unreadable recording (wrong rate, not mono, corrupt).
    """
    folder = Path(root) / BACKGROUND_NOISE_DIR
    if not folder.is_dir():
        return {}
    names = sorted(e.name for e in os.scandir(folder) if e.name.endswith(".wav") and e.is_file())
    return {name: read_wav(folder / name, sample_rate) for name in names}


def noise_for_split(
    recordings: dict[str, np.ndarray] | list[np.ndarray], split: str, min_samples: int = 16000
) -> list[np.ndarray]:
    """The part of each recording reserved for ``split`` (see :data:`NOISE_REGIONS`);
    parts shorter than ``min_samples`` samples are dropped."""
    if split not in NOISE_REGIONS:
        raise ValueError(f"unknown split {split!r}; expected one of {list(SPLITS)}")
    lo, hi = NOISE_REGIONS[split]
    arrays = list(recordings.values()) if isinstance(recordings, dict) else list(recordings)
    parts = [a[int(lo * len(a)) : int(hi * len(a))] for a in arrays]
    return [p for p in parts if len(p) >= min_samples]


def _scaled(segment: np.ndarray, volume: float) -> np.ndarray:
    out = np.rint(segment.astype(np.float32) * volume)
    return np.clip(out, -32768, 32767).astype(np.int16)


def silence_windows(
    noise: list[np.ndarray],
    count: int,
    num_samples: int = 16000,
    rng: np.random.Generator | None = None,
    volume_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """``count`` silence clips ``[count, num_samples]`` int16: windows of
    ``num_samples`` samples at uniformly random recordings and offsets, scaled by a
    volume drawn uniformly from ``volume_range`` (as TensorFlow's recipe, which draws
    the silence volume from U(0, 1)). Deterministic for a seeded ``rng``. With no
    noise recordings the clips are all zeros (digital silence).
    """
    rng = np.random.default_rng() if rng is None else rng
    out = np.zeros((count, num_samples), dtype=np.int16)
    if not noise:
        return out
    for i in range(count):
        rec = noise[int(rng.integers(len(noise)))]
        offset = int(rng.integers(len(rec) - num_samples + 1))
        volume = float(rng.uniform(*volume_range))
        out[i] = _scaled(rec[offset : offset + num_samples], volume)
    return out


def random_silence_window(
    noise: list[np.ndarray],
    num_samples: int = 16000,
    volume_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """One silence clip drawn with torch's global RNG (which DataLoader workers seed
    per worker and per epoch, and ``lightning.seed_everything`` seeds in the main
    process); otherwise as :func:`silence_windows`."""
    if not noise:
        return np.zeros(num_samples, dtype=np.int16)
    rec = noise[int(torch.randint(len(noise), ()).item())]
    offset = int(torch.randint(len(rec) - num_samples + 1, ()).item())
    lo, hi = volume_range
    volume = lo + (hi - lo) * float(torch.rand(()).item())
    return _scaled(rec[offset : offset + num_samples], volume)

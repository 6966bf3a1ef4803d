"""Reading Speech Commands clips with soundfile, with errors that name the file.

Clips are 16 kHz mono 16-bit PCM, nominally 1 s (16000 samples); some clips of the
release are shorter and are zero-padded at the end, like TensorFlow's
``decode_wav(desired_samples=16000)``.
"""

from __future__ import annotations

import os

import numpy as np
import soundfile as sf
import torch

__all__ = ["PCM16_SCALE", "read_wav", "fit_length", "load_clip_pcm16", "load_clip"]

#: Full scale of 16-bit PCM: float sample = int16 sample / 32768.
PCM16_SCALE: float = 32768.0


def read_wav(path: str | os.PathLike[str], sample_rate: int = 16000) -> np.ndarray:
    """Whole mono recording as int16 samples (shape ``[samples]``).

    Args:
        path: audio file.
        sample_rate: required sample rate, Hz.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file cannot be decoded (corrupt, not audio), has another
            sample rate, has more than one channel, or holds no samples. The message
            names the file and the problem.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"audio file {path!r} does not exist")
    try:
        with sf.SoundFile(path) as f:
            rate, channels = f.samplerate, f.channels
            if rate != sample_rate:
                raise ValueError(
                    f"audio file {path!r} has sample rate {rate} Hz, expected {sample_rate} Hz"
                )
            if channels != 1:
                raise ValueError(f"audio file {path!r} has {channels} channels, expected mono")
            data = f.read(dtype="int16", always_2d=False)
    except (sf.LibsndfileError, RuntimeError, EOFError) as err:
        raise ValueError(f"audio file {path!r} cannot be decoded (corrupt or not audio): {err}") from err
    if data.size == 0:
        raise ValueError(f"audio file {path!r} holds no samples")
    return np.ascontiguousarray(data.reshape(-1))


def fit_length(samples: np.ndarray, num_samples: int) -> np.ndarray:
    """Trim ``samples`` to ``num_samples`` or zero-pad it at the end."""
    n = samples.shape[-1]
    if n == num_samples:
        return samples
    if n > num_samples:
        return samples[..., :num_samples]
    pad = [(0, 0)] * (samples.ndim - 1) + [(0, num_samples - n)]
    return np.pad(samples, pad)


def load_clip_pcm16(
    path: str | os.PathLike[str], sample_rate: int = 16000, num_samples: int | None = 16000
) -> np.ndarray:
    """One clip as int16 samples, padded/trimmed to ``num_samples`` (None: as is).

    This is the compact form the datasets keep in memory (2 bytes per sample).
    Errors as :func:`read_wav`.
    """
    data = read_wav(path, sample_rate)
    return data if num_samples is None else fit_length(data, num_samples)


def load_clip(
    path: str | os.PathLike[str], sample_rate: int = 16000, num_samples: int | None = 16000
) -> torch.Tensor:
    """One clip as a float32 tensor ``[num_samples]`` in [-1, 1).

    Args:
        path: ``.wav`` file.
        sample_rate: required sample rate, Hz (no resampling is done).
        num_samples: output length in samples (16000 = 1 s at 16 kHz); shorter clips
            are zero-padded at the end, longer ones trimmed. None keeps the length.

    Raises:
        FileNotFoundError: missing file.
        ValueError: corrupt file, wrong sample rate, not mono, or empty; the message
            names the file and the problem.
    """
    pcm = load_clip_pcm16(path, sample_rate, num_samples)
    return torch.from_numpy(pcm.astype(np.float32) / PCM16_SCALE)

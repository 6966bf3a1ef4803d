"""Batched log-mel and MFCC features for keyword spotting, from torchaudio.

:class:`LogMel` and :class:`MFCC` are thin modules over ``torchaudio.transforms.MelSpectrogram``
(and torchaudio's DCT matrix), configured as the TensorFlow speech_commands recipe; their
buffers move with ``.to(device)`` and a whole batch is one call on any device.

Conventions (TensorFlow speech_commands recipe): 30 ms Hann window (480 samples
at 16 kHz), 10 ms hop (160 samples), 512-point FFT, no centre padding, so a
1 s clip gives ``1 + (16000 - 480) // 160 = 98`` frames. Power spectrogram,
HTK mel filterbank without area normalisation, natural log with an additive
offset, and for MFCC an orthonormal DCT-II of the log-mel bands. Each frame covers
exactly 480 samples: the clip is zero-padded by ``(n_fft - win_length) / 2`` = 16 samples
on each side before torchaudio's frames of ``n_fft`` samples.

Input: float waveforms ``[batch, samples]`` in [-1, 1]; output
``[batch, 1, n_features, frames]`` float32.
"""

from __future__ import annotations

from typing import Final

import torch
import torchaudio
import torchaudio.functional as AF
from torch import Tensor, nn

__all__ = [
    "FEATURE_TYPES",
    "frame_count",
    "mel_filterbank",
    "log_mel_spectrogram",
    "mfcc",
    "LogMel",
    "MFCC",
    "build_feature_extractor",
]

#: Feature names accepted by :func:`build_feature_extractor`.
FEATURE_TYPES: Final[tuple[str, ...]] = ("mfcc", "logmel")

SAMPLE_RATE: Final[int] = 16000
WIN_LENGTH: Final[int] = 480  # 30 ms at 16 kHz
HOP_LENGTH: Final[int] = 160  # 10 ms at 16 kHz
N_FFT: Final[int] = 512
LOG_OFFSET: Final[float] = 1e-6


def frame_count(num_samples: int, win_length: int = WIN_LENGTH, hop_length: int = HOP_LENGTH) -> int:
    """Number of frames for a clip of ``num_samples`` samples (no centre padding);
    98 for 1 s at 16 kHz with a 30 ms window and 10 ms hop."""
    if num_samples < win_length:
        raise ValueError(f"clip of {num_samples} samples is shorter than the {win_length}-sample window")
    return 1 + (num_samples - win_length) // hop_length


def mel_filterbank(
    n_mels: int = 40,
    sample_rate: int = SAMPLE_RATE,
    n_fft: int = N_FFT,
    f_min: float = 20.0,
    f_max: float | None = None,
) -> Tensor:
    """HTK mel filterbank ``[n_fft // 2 + 1, n_mels]`` (triangles with peak 1).

    Args:
        n_mels: number of mel bands.
        sample_rate: Hz.
        n_fft: FFT size, samples.
        f_min: lowest band edge, Hz.
        f_max: highest band edge, Hz (None: ``sample_rate / 2``).
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0.0 <= f_min < f_max <= sample_rate / 2:
        raise ValueError(f"need 0 <= f_min < f_max <= {sample_rate / 2} Hz, got {f_min}, {f_max}")
    return AF.melscale_fbanks(
        n_fft // 2 + 1, f_min, f_max, n_mels, sample_rate, norm=None, mel_scale="htk"
    )


def _check_waveform(waveform: Tensor) -> None:
    if waveform.dim() != 2:
        raise ValueError(f"expected waveforms [batch, samples], got shape {tuple(waveform.shape)}")
    if not waveform.is_floating_point():
        raise ValueError(
            f"expected float waveforms in [-1, 1], got dtype {waveform.dtype} "
            "(divide int16 PCM by 32768 first)"
        )


class _Features(nn.Module):
    """torchaudio's ``MelSpectrogram`` (power, HTK mel scale, no area normalisation, no centre
    padding) on the clip padded by ``(n_fft - win_length) / 2`` on each side, so that frame ``i``
    covers exactly the samples ``[i * hop, i * hop + win_length)``, then ``log(mel + offset)``."""

    n_features: int

    def __init__(
        self, n_mels: int, sample_rate: int, win_length: int, hop_length: int, n_fft: int,
        f_min: float, f_max: float | None, log_offset: float,
    ) -> None:
        super().__init__()
        if win_length > n_fft:
            raise ValueError(f"win_length {win_length} exceeds n_fft {n_fft}")
        nyquist = sample_rate / 2
        if not 0.0 <= f_min < (nyquist if f_max is None else f_max) <= nyquist:
            raise ValueError(f"need 0 <= f_min < f_max <= {nyquist} Hz, got {f_min}, {f_max}")
        self.n_mels, self.sample_rate = n_mels, sample_rate
        self.win_length, self.hop_length, self.n_fft = win_length, hop_length, n_fft
        self.f_min, self.f_max, self.log_offset = f_min, f_max, log_offset
        self._pad = ((n_fft - win_length) // 2, n_fft - win_length - (n_fft - win_length) // 2)
        self.melspec = torchaudio.transforms.MelSpectrogram(
            sample_rate, n_fft=n_fft, win_length=win_length, hop_length=hop_length, f_min=f_min, f_max=f_max,
            n_mels=n_mels, power=2.0, center=False, norm=None, mel_scale="htk",
        )

    def log_mel(self, waveform: Tensor) -> Tensor:
        """``log(mel power + log_offset)``, ``[batch, n_mels, frames]``."""
        _check_waveform(waveform)
        frame_count(waveform.shape[-1], self.win_length, self.hop_length)  # validates the length
        padded = torch.nn.functional.pad(waveform, self._pad)
        return torch.log(self.melspec(padded) + self.log_offset)

    def n_frames(self, num_samples: int = 16000) -> int:
        """Frames produced for a clip of ``num_samples`` samples."""
        return frame_count(num_samples, self.win_length, self.hop_length)

    def output_shape(self, num_samples: int = 16000) -> tuple[int, int, int]:
        """Per-example output shape ``(1, n_features, frames)``."""
        return (1, self.n_features, self.n_frames(num_samples))


class LogMel(_Features):
    """Log-mel spectrogram module: ``[batch, samples]`` -> ``[batch, 1, n_mels, frames]``.

    Args:
        n_mels: mel bands (the feature dimension).
        sample_rate: Hz.
        win_length: samples (480 = 30 ms at 16 kHz).
        hop_length: samples (160 = 10 ms at 16 kHz).
        n_fft: FFT size, samples.
        f_min: lowest mel band edge, Hz.
        f_max: highest mel band edge, Hz (None: Nyquist).
        log_offset: added to the mel power before the natural log.
    """

    def __init__(
        self, n_mels: int = 40, sample_rate: int = SAMPLE_RATE, win_length: int = WIN_LENGTH,
        hop_length: int = HOP_LENGTH, n_fft: int = N_FFT, f_min: float = 20.0,
        f_max: float | None = None, log_offset: float = LOG_OFFSET,
    ) -> None:
        super().__init__(n_mels, sample_rate, win_length, hop_length, n_fft, f_min, f_max, log_offset)
        self.n_features = n_mels

    def forward(self, waveform: Tensor) -> Tensor:
        return self.log_mel(waveform).unsqueeze(1)


class MFCC(_Features):
    """MFCC module: ``[batch, samples]`` -> ``[batch, 1, n_mfcc, frames]``: the orthonormal DCT-II
    (torchaudio's ``create_dct``, as ``torchaudio.transforms.MFCC(log_mels=True)``) of the log-mel bands.

    Args:
        n_mfcc: coefficients kept (the feature dimension), at most ``n_mels``.
        n_mels: mel bands before the DCT (None: ``max(40, n_mfcc)``).
        sample_rate: Hz.
        win_length: samples (480 = 30 ms at 16 kHz).
        hop_length: samples (160 = 10 ms at 16 kHz).
        n_fft: FFT size, samples.
        f_min: lowest mel band edge, Hz (20 Hz).
        f_max: highest mel band edge, Hz (4000 Hz, TensorFlow's ``audio_ops.mfcc``; None: Nyquist).
        log_offset: added to the mel power before the natural log.
    """

    dct: Tensor

    def __init__(
        self, n_mfcc: int = 40, n_mels: int | None = None, sample_rate: int = SAMPLE_RATE,
        win_length: int = WIN_LENGTH, hop_length: int = HOP_LENGTH, n_fft: int = N_FFT,
        f_min: float = 20.0, f_max: float | None = 4000.0, log_offset: float = LOG_OFFSET,
    ) -> None:
        n_mels = max(40, n_mfcc) if n_mels is None else n_mels
        if not 0 < n_mfcc <= n_mels:
            raise ValueError(f"need 0 < n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
        super().__init__(n_mels, sample_rate, win_length, hop_length, n_fft, f_min, f_max, log_offset)
        self.n_mfcc = self.n_features = n_mfcc
        self.register_buffer("dct", AF.create_dct(n_mfcc, n_mels, norm="ortho"), persistent=False)

    def forward(self, waveform: Tensor) -> Tensor:
        logmel = self.log_mel(waveform)  # [B, M, T]
        return torch.matmul(logmel.transpose(-1, -2), self.dct).transpose(-1, -2).unsqueeze(1)


def log_mel_spectrogram(waveform: Tensor, n_mels: int = 40, **kwargs: float | int | None) -> Tensor:
    """Functional form of :class:`LogMel` (builds the module; use the module in loops)."""
    return LogMel(n_mels, **kwargs).to(waveform.device)(waveform)  # type: ignore[arg-type]


def mfcc(waveform: Tensor, n_mfcc: int = 40, **kwargs: float | int | None) -> Tensor:
    """Functional form of :class:`MFCC` (builds the module; use the module in loops)."""
    return MFCC(n_mfcc, **kwargs).to(waveform.device)(waveform)  # type: ignore[arg-type]


def build_feature_extractor(
    name: str, n_features: int = 40, sample_rate: int = SAMPLE_RATE
) -> LogMel | MFCC:
    """``"mfcc"`` -> :class:`MFCC` with ``n_mfcc=n_features``; ``"logmel"`` (or
    ``"log_mel"``) -> :class:`LogMel` with ``n_mels=n_features``.

    Raises:
        ValueError: unknown name (the message lists the known ones).
    """
    key = name.strip().lower().replace("_", "").replace("-", "")
    if key == "mfcc":
        return MFCC(n_mfcc=n_features, sample_rate=sample_rate)
    if key == "logmel":
        return LogMel(n_mels=n_features, sample_rate=sample_rate)
    raise ValueError(f"unknown features {name!r}; expected one of {list(FEATURE_TYPES)}")

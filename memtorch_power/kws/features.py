"""Batched log-mel and MFCC features for keyword spotting.

Functional core (:func:`log_mel_spectrogram`, :func:`mfcc`) plus thin
:class:`torch.nn.Module` wrappers (:class:`LogMel`, :class:`MFCC`) that keep the
window, mel filterbank and DCT matrix as buffers, so ``.to(device)`` moves them
and a whole batch is processed in one ``torch.stft`` call on any device.

Conventions (TensorFlow speech_commands recipe): 30 ms Hann window (480 samples
at 16 kHz), 10 ms hop (160 samples), 512-point FFT, no centre padding, so a
1 s clip gives ``1 + (16000 - 480) // 160 = 98`` frames. Power spectrogram,
HTK mel filterbank without area normalisation, natural log with an additive
offset, and for MFCC an orthonormal DCT-II of the log-mel bands. Each frame covers
exactly 480 samples; the results equal
``torchaudio.transforms.MelSpectrogram(center=False, mel_scale="htk")`` followed by
``log(x + offset)`` (and ``torchaudio.transforms.MFCC(log_mels=True)``) applied to
the clip zero-padded by ``(n_fft - win_length) / 2`` = 16 samples on each side.

Input: float waveforms ``[batch, samples]`` in [-1, 1]; output
``[batch, 1, n_features, frames]`` float32.
"""

from __future__ import annotations

from typing import Final

import torch
import torchaudio.functional as AF
from torch import Tensor, nn

__all__ = [
    "FEATURE_TYPES",
    "frame_count",
    "mel_filterbank",
    "dct_matrix",
    "power_spectrogram",
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


def dct_matrix(n_mfcc: int = 40, n_mels: int = 40) -> Tensor:
    """Orthonormal DCT-II matrix ``[n_mels, n_mfcc]`` (keeps the first ``n_mfcc``
    coefficients)."""
    if not 0 < n_mfcc <= n_mels:
        raise ValueError(f"need 0 < n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
    return AF.create_dct(n_mfcc, n_mels, norm="ortho")


def _check_waveform(waveform: Tensor) -> None:
    if waveform.dim() != 2:
        raise ValueError(f"expected waveforms [batch, samples], got shape {tuple(waveform.shape)}")
    if not waveform.is_floating_point():
        raise ValueError(
            f"expected float waveforms in [-1, 1], got dtype {waveform.dtype} "
            "(divide int16 PCM by 32768 first)"
        )


def power_spectrogram(
    waveform: Tensor,
    window: Tensor | None = None,
    n_fft: int = N_FFT,
    hop_length: int = HOP_LENGTH,
) -> Tensor:
    """Power spectrogram ``[batch, n_fft // 2 + 1, frames]`` of float waveforms
    ``[batch, samples]``; frame ``i`` covers samples ``[i * hop, i * hop + win)``,
    so ``frames = frame_count(samples, win, hop)`` (98 for 1 s).

    Args:
        waveform: float samples in [-1, 1].
        window: analysis window (default: periodic Hann of 480 samples); its length
            is the window length and it is centred in the ``n_fft`` frame.
        n_fft: FFT size, samples.
        hop_length: hop between frames, samples.
    """
    _check_waveform(waveform)
    if window is None:
        window = torch.hann_window(WIN_LENGTH, device=waveform.device, dtype=waveform.dtype)
    win_length = window.shape[0]
    frame_count(waveform.shape[-1], win_length, hop_length)  # validates the length
    # torch.stft centres the window in each n_fft-sample frame; padding the clip by
    # (n_fft - win_length) / 2 on each side makes frame i cover exactly the samples
    # [i * hop, i * hop + win_length), as TensorFlow's audio_spectrogram does.
    left = (n_fft - win_length) // 2
    padded = torch.nn.functional.pad(waveform, (left, n_fft - win_length - left))
    spec = torch.stft(
        padded, n_fft=n_fft, hop_length=hop_length, win_length=win_length,
        window=window, center=False, return_complex=True,
    )
    return spec.real.square() + spec.imag.square()


def log_mel_spectrogram(
    waveform: Tensor,
    n_mels: int = 40,
    sample_rate: int = SAMPLE_RATE,
    win_length: int = WIN_LENGTH,
    hop_length: int = HOP_LENGTH,
    n_fft: int = N_FFT,
    f_min: float = 20.0,
    f_max: float | None = None,
    log_offset: float = LOG_OFFSET,
    *,
    window: Tensor | None = None,
    filterbank: Tensor | None = None,
) -> Tensor:
    """Log-mel spectrogram ``[batch, 1, n_mels, frames]`` = ``log(mel power + log_offset)``.

    Args:
        waveform: float waveforms ``[batch, samples]`` in [-1, 1].
        n_mels: mel bands.
        sample_rate: Hz.
        win_length: window, samples (480 = 30 ms at 16 kHz).
        hop_length: hop, samples (160 = 10 ms at 16 kHz).
        n_fft: FFT size, samples.
        f_min, f_max: mel range, Hz (f_max None: Nyquist).
        log_offset: added to the mel power before the log (dimensionless, on
            power of full-scale-1 samples).
        window, filterbank: precomputed Hann window ``[win_length]`` and
            filterbank ``[n_fft // 2 + 1, n_mels]`` (built here when None).
    """
    _check_waveform(waveform)
    dev, dt = waveform.device, waveform.dtype
    if window is None:
        window = torch.hann_window(win_length, device=dev, dtype=dt)
    if filterbank is None:
        filterbank = mel_filterbank(n_mels, sample_rate, n_fft, f_min, f_max).to(dev, dt)
    power = power_spectrogram(waveform, window, n_fft, hop_length)  # [B, K, T]
    mel = torch.matmul(power.transpose(1, 2), filterbank).transpose(1, 2)  # [B, M, T]
    return torch.log(mel + log_offset).unsqueeze(1)


def mfcc(
    waveform: Tensor,
    n_mfcc: int = 40,
    n_mels: int = 40,
    sample_rate: int = SAMPLE_RATE,
    win_length: int = WIN_LENGTH,
    hop_length: int = HOP_LENGTH,
    n_fft: int = N_FFT,
    f_min: float = 20.0,
    f_max: float | None = 4000.0,
    log_offset: float = LOG_OFFSET,
    *,
    window: Tensor | None = None,
    filterbank: Tensor | None = None,
    dct: Tensor | None = None,
) -> Tensor:
    """MFCC ``[batch, 1, n_mfcc, frames]``: orthonormal DCT-II of the log-mel bands.

    Arguments as :func:`log_mel_spectrogram`, plus ``n_mfcc`` (coefficients kept,
    at most ``n_mels``) and a precomputed ``dct`` ``[n_mels, n_mfcc]``. The default
    mel range 20-4000 Hz is TensorFlow's ``audio_ops.mfcc`` default.
    """
    if dct is None:
        dct = dct_matrix(n_mfcc, n_mels).to(waveform.device, waveform.dtype)
    logmel = log_mel_spectrogram(
        waveform, n_mels, sample_rate, win_length, hop_length, n_fft, f_min, f_max,
        log_offset, window=window, filterbank=filterbank,
    )  # [B, 1, M, T]
    return torch.matmul(logmel.transpose(-1, -2), dct).transpose(-1, -2)


class _Features(nn.Module):
    n_features: int
    window: Tensor
    filterbank: Tensor

    def __init__(
        self, n_mels: int, sample_rate: int, win_length: int, hop_length: int, n_fft: int,
        f_min: float, f_max: float | None, log_offset: float,
    ) -> None:
        super().__init__()
        if win_length > n_fft:
            raise ValueError(f"win_length {win_length} exceeds n_fft {n_fft}")
        self.n_mels, self.sample_rate = n_mels, sample_rate
        self.win_length, self.hop_length, self.n_fft = win_length, hop_length, n_fft
        self.f_min, self.f_max, self.log_offset = f_min, f_max, log_offset
        self.register_buffer("window", torch.hann_window(win_length), persistent=False)
        self.register_buffer(
            "filterbank", mel_filterbank(n_mels, sample_rate, n_fft, f_min, f_max), persistent=False
        )

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
        f_min, f_max: mel range, Hz (f_max None: Nyquist).
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
        return log_mel_spectrogram(
            waveform, self.n_mels, self.sample_rate, self.win_length, self.hop_length,
            self.n_fft, self.f_min, self.f_max, self.log_offset,
            window=self.window.to(waveform.device, waveform.dtype),
            filterbank=self.filterbank.to(waveform.device, waveform.dtype),
        )


class MFCC(_Features):
    """MFCC module: ``[batch, samples]`` -> ``[batch, 1, n_mfcc, frames]``.

    Args:
        n_mfcc: coefficients kept (the feature dimension), at most ``n_mels``.
        n_mels: mel bands before the DCT (None: ``max(40, n_mfcc)``).
        sample_rate, win_length, hop_length, n_fft, f_min, f_max, log_offset: as
            :class:`LogMel`; the mel range defaults to 20-4000 Hz.
    """

    dct: Tensor

    def __init__(
        self, n_mfcc: int = 40, n_mels: int | None = None, sample_rate: int = SAMPLE_RATE,
        win_length: int = WIN_LENGTH, hop_length: int = HOP_LENGTH, n_fft: int = N_FFT,
        f_min: float = 20.0, f_max: float | None = 4000.0, log_offset: float = LOG_OFFSET,
    ) -> None:
        n_mels = max(40, n_mfcc) if n_mels is None else n_mels
        super().__init__(n_mels, sample_rate, win_length, hop_length, n_fft, f_min, f_max, log_offset)
        self.n_mfcc = self.n_features = n_mfcc
        self.register_buffer("dct", dct_matrix(n_mfcc, n_mels), persistent=False)

    def forward(self, waveform: Tensor) -> Tensor:
        dev, dt = waveform.device, waveform.dtype
        return mfcc(
            waveform, self.n_mfcc, self.n_mels, self.sample_rate, self.win_length,
            self.hop_length, self.n_fft, self.f_min, self.f_max, self.log_offset,
            window=self.window.to(dev, dt), filterbank=self.filterbank.to(dev, dt),
            dct=self.dct.to(dev, dt),
        )


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

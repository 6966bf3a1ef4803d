"""Batched waveform augmentation: random time shift, speed perturbation, background-noise
mixing, and time-reversed words as extra negatives.

The waveform modules act on float waveform batches ``[batch, samples]`` (values in
[-1, 1]) on any device, draw their random numbers from their own CPU
:class:`torch.Generator` (so a seed makes them reproducible regardless of the
global RNG and of the device), and always augment when called: the caller decides
when (the data module only calls them on training batches).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor, nn

__all__ = ["TimeShift", "SpeedPerturb", "BackgroundNoise", "ReversedNegatives"]


def _generator(seed: int | None) -> torch.Generator:
    gen = torch.Generator()
    if seed is None:
        gen.seed()
    else:
        gen.manual_seed(seed)
    return gen


def _check_batch(x: Tensor) -> None:
    if x.dim() != 2 or not x.is_floating_point():
        raise ValueError(
            f"expected float waveforms [batch, samples], got {tuple(x.shape)} {x.dtype}"
        )


class TimeShift(nn.Module):
    """Shift each waveform by a random whole number of samples, uniform in
    ``[-max_shift, +max_shift]``, filling with zeros (TensorFlow recipe:
    ``time_shift_ms = 100``). A positive shift delays the signal.

    Args:
        max_shift_ms: largest shift, milliseconds.
        sample_rate: Hz.
        seed: seed of the module's generator (None: random).
    """

    def __init__(self, max_shift_ms: float = 100.0, sample_rate: int = 16000, seed: int | None = None) -> None:
        super().__init__()
        if max_shift_ms < 0:
            raise ValueError(f"max_shift_ms must be >= 0, got {max_shift_ms}")
        self.max_shift = int(round(max_shift_ms * sample_rate / 1000.0))
        self.generator = _generator(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from ``seed``."""
        self.generator.manual_seed(seed)

    def sample_shifts(self, batch: int) -> Tensor:
        """Draw ``batch`` shifts (samples, int64, on CPU); advances the generator."""
        m = self.max_shift
        return torch.randint(-m, m + 1, (batch,), generator=self.generator)

    def forward(self, x: Tensor) -> Tensor:
        _check_batch(x)
        batch, n = x.shape
        shifts = self.sample_shifts(batch).to(x.device)
        if self.max_shift == 0:
            return x
        src = torch.arange(n, device=x.device).unsqueeze(0) - shifts.unsqueeze(1)  # [B, N]
        valid = (src >= 0) & (src < n)
        out = torch.gather(x, 1, src.clamp(0, n - 1))
        return out * valid.to(x.dtype)


class SpeedPerturb(nn.Module):
    """Play each waveform faster or slower by a factor drawn uniformly from ``factors``
    (Ko et al., "Audio augmentation for speech recognition", Interspeech 2015: 0.9, 1.0,
    1.1), which shifts pitch and tempo together, then centre-crop or zero-pad it back to
    its length. Examples sharing a factor are resampled together with
    :func:`torchaudio.functional.resample` (windowed-sinc, polyphase).

    Args:
        factors: speed factors (> 0; 1.0 leaves an example unchanged).
        sample_rate: Hz.
        seed: seed of the module's generator (None: random).
    """

    def __init__(self, factors: Sequence[float] = (0.9, 1.0, 1.1), sample_rate: int = 16000,
                 seed: int | None = None) -> None:
        super().__init__()
        if not factors or any(not f > 0 for f in factors):
            raise ValueError(f"speed factors must be a non-empty list of numbers > 0, got {list(factors)}")
        self.factors = tuple(float(f) for f in factors)
        self.sample_rate = sample_rate
        self.generator = _generator(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from ``seed``."""
        self.generator.manual_seed(seed)

    def forward(self, x: Tensor) -> Tensor:
        import torchaudio.functional as AF

        _check_batch(x)
        batch, n = x.shape
        choice = torch.randint(len(self.factors), (batch,), generator=self.generator)
        out = x.clone()
        for index, factor in enumerate(self.factors):
            rows = (choice == index).nonzero().flatten().to(x.device)
            if factor == 1.0 or rows.numel() == 0:
                continue
            # read the clip as if sampled at factor * rate, write it at rate: factor > 1 is faster
            played = AF.resample(x[rows], int(round(self.sample_rate * factor)), self.sample_rate)
            length = played.shape[1]
            if length >= n:
                start = (length - n) // 2
                out[rows] = played[:, start : start + n]
            else:
                left = (n - length) // 2
                out[rows] = torch.nn.functional.pad(played, (left, n - length - left))
        return out


class BackgroundNoise(nn.Module):
    """Mix a random segment of a background recording into each waveform.

    For each example: with probability ``prob``, pick a recording uniformly, a
    uniformly random offset in it, and add that segment scaled by a volume drawn
    uniformly from ``volume_range`` (fraction of full scale: TensorFlow's recipe uses
    ``background_frequency = 0.8``, ``background_volume = 0.1``), or, if
    ``snr_db_range`` is given, scaled so that the signal-to-noise ratio is drawn
    uniformly from that range in dB. The sum is clipped to [-1, 1].

    Args:
        noise: recordings as 1-D tensors/arrays; int16 PCM is divided by 32768,
            floats are taken as they are. Each must hold at least ``num_samples``.
        prob: probability that an example gets noise.
        volume_range: ``(low, high)`` noise gain (used when ``snr_db_range`` is None).
        snr_db_range: ``(low, high)`` SNR in dB, or None.
        num_samples: longest waveform to be augmented, samples.
        seed: seed of the module's generator (None: random).
    """

    noise: Tensor
    starts: Tensor
    lengths: Tensor

    def __init__(
        self,
        noise: Sequence[Tensor | np.ndarray],
        prob: float = 0.8,
        volume_range: tuple[float, float] = (0.0, 0.1),
        snr_db_range: tuple[float, float] | None = None,
        num_samples: int = 16000,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be in [0, 1], got {prob}")
        if volume_range[0] > volume_range[1] or volume_range[0] < 0:
            raise ValueError(f"volume_range must be (low, high) with 0 <= low <= high, got {volume_range}")
        if snr_db_range is not None and snr_db_range[0] > snr_db_range[1]:
            raise ValueError(f"snr_db_range must be (low, high), got {snr_db_range}")
        tensors = [self._as_float(n) for n in noise]
        if not tensors:
            raise ValueError("BackgroundNoise needs at least one noise recording")
        short = [i for i, t in enumerate(tensors) if t.numel() < num_samples]
        if short:
            raise ValueError(
                f"noise recordings {short} are shorter than num_samples={num_samples} samples"
            )
        lengths = torch.tensor([t.numel() for t in tensors], dtype=torch.long)
        self.register_buffer("noise", torch.cat(tensors), persistent=False)
        self.register_buffer("starts", torch.cumsum(lengths, 0) - lengths, persistent=False)
        self.register_buffer("lengths", lengths, persistent=False)
        # CPU copies for drawing offsets without a device round trip
        self._lengths_cpu, self._starts_cpu = lengths.clone(), (torch.cumsum(lengths, 0) - lengths)
        self.prob = prob
        self.volume_range = (float(volume_range[0]), float(volume_range[1]))
        self.snr_db_range = None if snr_db_range is None else (float(snr_db_range[0]), float(snr_db_range[1]))
        self.num_samples = num_samples
        self.generator = _generator(seed)

    @staticmethod
    def _as_float(n: Tensor | np.ndarray) -> Tensor:
        t = torch.as_tensor(n).reshape(-1)
        if t.dtype == torch.int16:
            return t.to(torch.float32) / 32768.0
        if not t.is_floating_point():
            raise ValueError(f"noise must be int16 PCM or float, got {t.dtype}")
        return t.to(torch.float32)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from ``seed``."""
        self.generator.manual_seed(seed)

    def forward(self, x: Tensor) -> Tensor:
        _check_batch(x)
        batch, n = x.shape
        if n > self.num_samples:
            raise ValueError(f"waveforms of {n} samples exceed num_samples={self.num_samples}")
        g = self.generator
        # All draws on CPU in a fixed order, whatever the device and prob.
        rec = torch.randint(len(self._lengths_cpu), (batch,), generator=g)
        span = (self._lengths_cpu[rec] - n + 1).to(torch.float64)
        offset = (torch.rand(batch, generator=g, dtype=torch.float64) * span).long()
        apply = torch.rand(batch, generator=g) < self.prob
        level = torch.rand(batch, generator=g)
        pos = (self._starts_cpu[rec] + offset).to(x.device)
        idx = pos.unsqueeze(1) + torch.arange(n, device=x.device).unsqueeze(0)
        segment = self.noise[idx].to(x.dtype)  # [B, N]
        if self.snr_db_range is None:
            lo, hi = self.volume_range
            gain = (lo + (hi - lo) * level).to(x.device, x.dtype)
        else:
            lo, hi = self.snr_db_range
            snr_db = (lo + (hi - lo) * level).to(x.device, x.dtype)
            p_signal = x.square().mean(1)
            p_noise = segment.square().mean(1).clamp_min(1e-12)
            gain = torch.sqrt(p_signal / (p_noise * 10.0 ** (snr_db / 10.0)))
        gain = gain * apply.to(x.device, x.dtype)
        return (x + gain.unsqueeze(1) * segment).clamp(-1.0, 1.0)


class ReversedNegatives(nn.Module):
    """Time-reversed words as extra negatives for a keyword spotter's ``_unknown_`` class.

    Each example whose label is in ``source_labels`` is, with probability ``prob``,
    played backwards and relabelled ``target_label``. Speech Commands' 12-class
    protocol has few other-word clips (238 in the training split of
    ``speech_commands_mini``); a reversed word keeps the spectrum and loudness of
    speech but is no word of the vocabulary, so it widens what the model learns to
    reject (a heuristic of this project, measured in ``docs/kws_accuracy_notes.md``,
    not a published recipe). Leave out of ``source_labels`` the words whose
    reversal sounds like a keyword (``no`` backwards is close to "own"/"on", ``on``
    backwards to "no").

    Args:
        prob: probability that an eligible example is reversed, in [0, 1].
        source_labels: labels of the examples that may be reversed (may include
            ``target_label``: a reversed other word stays an other word).
        target_label: label of a reversed example.
        seed: seed of the module's generator (None: random).
    """

    def __init__(self, prob: float, source_labels: Sequence[int], target_label: int,
                 seed: int | None = None) -> None:
        super().__init__()
        if not 0.0 <= prob <= 1.0:
            raise ValueError(f"prob must be in [0, 1], got {prob}")
        self.prob = float(prob)
        self.register_buffer("source_labels", torch.tensor(sorted(set(source_labels)), dtype=torch.long),
                             persistent=False)
        self.target_label = int(target_label)
        self.generator = _generator(seed)

    def reseed(self, seed: int) -> None:
        """Restart the random sequence from ``seed``."""
        self.generator.manual_seed(seed)

    def forward(self, x: Tensor, labels: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(waveforms, labels)`` with the drawn examples reversed and relabelled
        (new tensors; the inputs are left alone)."""
        _check_batch(x)
        if labels.shape != x.shape[:1]:
            raise ValueError(f"expected one label per waveform, got {tuple(labels.shape)} for {tuple(x.shape)}")
        draw = torch.rand(x.shape[0], generator=self.generator).to(x.device) < self.prob
        flip = draw & torch.isin(labels, self.source_labels.to(labels.device))
        out = torch.where(flip.unsqueeze(1), x.flip(1), x)
        return out, torch.where(flip, torch.full_like(labels, self.target_label), labels)

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
import torchaudio

from memtorch_power.kws.audio import load_clip
from memtorch_power.kws.features import (
    MFCC, LogMel, build_feature_extractor, frame_count, log_mel_spectrogram, mel_filterbank, mfcc,
)


def _waves(batch: int = 4, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn(batch, 16000, generator=g)


def test_frame_count_for_one_second() -> None:
    # 30 ms window, 10 ms hop, no centre padding: 1 + (16000 - 480) // 160
    assert frame_count(16000) == 98
    assert frame_count(480) == 1
    with pytest.raises(ValueError, match="shorter"):
        frame_count(100)


@pytest.mark.parametrize(("module", "n"), [(MFCC(), 40), (LogMel(), 40), (MFCC(n_mfcc=13), 13), (LogMel(n_mels=64), 64)])
def test_output_shape(module: torch.nn.Module, n: int) -> None:
    out = module(_waves(3))
    assert out.shape == (3, 1, n, 98) and out.dtype == torch.float32
    assert module.output_shape() == (1, n, 98)
    assert torch.isfinite(out).all()


def _reference_kwargs() -> dict:
    return dict(n_fft=512, win_length=480, hop_length=160, center=False, mel_scale="htk")


def test_logmel_matches_torchaudio() -> None:
    x = _waves()
    ref = torchaudio.transforms.MelSpectrogram(16000, f_min=20.0, n_mels=40, power=2.0, **_reference_kwargs())
    # our frames cover exactly 480 samples: torchaudio sees the clip padded by 16 per side
    expected = torch.log(ref(F.pad(x, (16, 16))) + 1e-6).unsqueeze(1)
    torch.testing.assert_close(LogMel()(x), expected, atol=1e-4, rtol=1e-4)


def test_mfcc_matches_torchaudio() -> None:
    x = _waves()
    ref = torchaudio.transforms.MFCC(
        16000, n_mfcc=40, log_mels=True,
        melkwargs=dict(f_min=20.0, f_max=4000.0, n_mels=40, **_reference_kwargs()),
    )
    torch.testing.assert_close(MFCC()(x), ref(F.pad(x, (16, 16))).unsqueeze(1), atol=1e-4, rtol=1e-4)


def test_functional_equals_module() -> None:
    x = _waves()
    torch.testing.assert_close(mfcc(x), MFCC()(x))
    torch.testing.assert_close(log_mel_spectrogram(x), LogMel()(x))


def _previous_implementation(waveform: torch.Tensor, n_mels: int, f_max: float | None, n_mfcc: int | None) -> torch.Tensor:
    """The features as the package computed them by hand before issue 16 (stft of the clip padded by
    16 samples, HTK filterbank, log(x + 1e-6), orthonormal DCT-II), kept here as the reference."""
    padded = F.pad(waveform, (16, 16))
    spec = torch.stft(padded, n_fft=512, hop_length=160, win_length=480, window=torch.hann_window(480),
                      center=False, return_complex=True)
    power = spec.real.square() + spec.imag.square()
    bank = torchaudio.functional.melscale_fbanks(257, 20.0, f_max or 8000.0, n_mels, 16000, norm=None, mel_scale="htk")
    logmel = torch.log(torch.matmul(power.transpose(1, 2), bank).transpose(1, 2) + 1e-6).unsqueeze(1)
    if n_mfcc is None:
        return logmel
    dct = torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho")
    return torch.matmul(logmel.transpose(-1, -2), dct).transpose(-1, -2)


def test_features_equal_the_previous_implementation_on_bundled_clips(speech_commands_root) -> None:  # type: ignore[no-untyped-def]
    clips = sorted((speech_commands_root / "yes").glob("*.wav"))[:4] + sorted((speech_commands_root / "no").glob("*.wav"))[:4]
    assert clips
    x = torch.stack([torch.as_tensor(load_clip(path)) for path in clips]).float()
    torch.testing.assert_close(MFCC(n_mfcc=10)(x), _previous_implementation(x, 40, 4000.0, 10), atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(LogMel(n_mels=40)(x), _previous_implementation(x, 40, None, None), atol=1e-4, rtol=1e-4)


def test_tone_peaks_in_its_mel_band() -> None:
    t = torch.arange(16000) / 16000
    tone = 0.5 * torch.sin(2 * torch.pi * 1000.0 * t).unsqueeze(0)
    out = LogMel()(tone)[0, 0].mean(-1)  # [n_mels]
    fb = mel_filterbank(40)  # [257, 40]; FFT bin 32 is 1000 Hz (512-point FFT at 16 kHz)
    assert out.argmax().item() == fb[32].argmax().item()


def test_batch_equals_per_example() -> None:
    x = _waves(5)
    m = MFCC()
    together = m(x)
    alone = torch.cat([m(x[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(together, alone, atol=1e-4, rtol=1e-5)


def test_frame_uses_its_own_samples() -> None:
    # an impulse at sample 1000 only shows in frames whose 480-sample window holds it
    x = torch.zeros(1, 16000)
    x[0, 1000] = 1.0
    energy = LogMel()(x)[0, 0].amax(0)
    hit = (energy > -13).nonzero().flatten().tolist()
    assert hit == [i for i in range(98) if i * 160 <= 1000 < i * 160 + 480]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"\[batch, samples\]"):
        MFCC()(torch.zeros(16000))
    with pytest.raises(ValueError, match="int16"):
        MFCC()(torch.zeros(2, 16000, dtype=torch.int16))
    with pytest.raises(ValueError, match="n_mfcc <= n_mels"):
        MFCC(n_mfcc=50, n_mels=40)


def test_build_feature_extractor() -> None:
    assert isinstance(build_feature_extractor("mfcc", 20), MFCC)
    assert build_feature_extractor("log_mel", 32).n_features == 32
    with pytest.raises(ValueError, match=r"unknown features 'spectrogram'.*mfcc.*logmel"):
        build_feature_extractor("spectrogram")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu() -> None:
    x = _waves()
    m = MFCC()
    torch.testing.assert_close(m.cuda()(x.cuda()).cpu(), MFCC()(x), atol=1e-3, rtol=1e-3)

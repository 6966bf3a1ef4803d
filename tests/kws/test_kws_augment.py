from __future__ import annotations

import numpy as np
import pytest
import torch

from memtorch_power.kws.augment import BackgroundNoise, ReversedNegatives, SpeedPerturb, TimeShift


def _waves(batch: int = 8) -> torch.Tensor:
    g = torch.Generator().manual_seed(1)
    return 0.3 * torch.rand(batch, 16000, generator=g) + 0.05  # no zeros inside


def _ramps() -> list[np.ndarray]:
    # recordings whose segments are recognisable: noise[i] = +-(offset + i) / 2**20
    return [np.arange(40000, dtype=np.float32) / 2**20, -np.arange(30000, dtype=np.float32) / 2**20]


def test_time_shift_is_a_zero_filled_shift_within_range() -> None:
    x = _waves()
    out = TimeShift(100.0, seed=0)(x)
    assert not torch.equal(out, x)
    for row, orig in zip(out, x):
        zeros = (row == 0).nonzero().flatten()
        if len(zeros) == 0:
            assert torch.equal(row, orig)
            continue
        n = len(zeros)
        assert n <= 1600  # 100 ms at 16 kHz
        if zeros[0] == 0:  # delayed: leading zeros
            assert torch.equal(row[n:], orig[:-n])
        else:  # advanced: trailing zeros
            assert zeros[0] == 16000 - n and torch.equal(row[:-n], orig[n:])


def test_time_shift_reproducible() -> None:
    x = _waves()
    a, b, c = TimeShift(seed=3)(x), TimeShift(seed=3)(x), TimeShift(seed=4)(x)
    assert torch.equal(a, b) and not torch.equal(a, c)
    m = TimeShift(seed=3)
    first = m(x)
    assert not torch.equal(m(x), first)  # the generator advances
    m.reseed(3)
    assert torch.equal(m(x), first)


def test_background_noise_adds_a_scaled_contiguous_segment() -> None:
    x = torch.zeros(16, 16000)  # zeros keep the float32 sum exact enough
    out = BackgroundNoise(_ramps(), prob=1.0, volume_range=(0.1, 0.1), seed=0)(x)
    added = out / 0.1 * 2**20  # back to sample indices of a ramp
    starts = set()
    for row in added:
        steps = row[1:] - row[:-1]
        assert torch.allclose(steps, steps[0].expand_as(steps), atol=0.01)
        assert abs(abs(steps[0].item()) - 1.0) < 0.01  # +1 (first) or -1 (second recording)
        first = abs(row[0].item())
        limit = 40000 - 16000 if steps[0] > 0 else 30000 - 16000
        assert -0.5 <= first <= limit + 0.5  # whole segment inside the recording
        starts.add(round(row[0].item()))
    assert len(starts) > 8  # random offsets (and both recordings' signs)
    assert any(s > 0 for s in starts) and any(s < 0 for s in starts)


def test_background_noise_probability_and_volume() -> None:
    x = _waves(400)
    noise = [np.random.default_rng(0).standard_normal(50000).astype(np.float32) * 0.5]
    out = BackgroundNoise(noise, prob=0.8, volume_range=(0.0, 0.1), seed=0)(x)
    changed = (out != x).any(1).float().mean().item()
    assert 0.7 < changed < 0.9
    assert (out - x).abs().max() <= 0.1 * 0.5 * 6  # volume <= 0.1 of the recording
    assert torch.equal(BackgroundNoise(noise, prob=0.0, seed=0)(x), x)


def test_background_noise_reproducible_and_clipped() -> None:
    x = _waves()
    noise = [np.random.default_rng(0).integers(-32768, 32767, 30000).astype(np.int16)]
    a = BackgroundNoise(noise, volume_range=(0.5, 1.0), prob=1.0, seed=7)(x)
    b = BackgroundNoise(noise, volume_range=(0.5, 1.0), prob=1.0, seed=7)(x)
    c = BackgroundNoise(noise, volume_range=(0.5, 1.0), prob=1.0, seed=8)(x)
    assert torch.equal(a, b) and not torch.equal(a, c) and not torch.equal(a, x)
    assert a.abs().max() <= 1.0


def test_background_noise_snr() -> None:
    x = torch.sin(torch.linspace(0, 2000, 16000)).repeat(4, 1) * 0.5
    noise = [np.random.default_rng(0).standard_normal(40000).astype(np.float32) * 0.1]
    out = BackgroundNoise(noise, prob=1.0, snr_db_range=(10.0, 10.0), seed=0)(x)
    snr = 10 * torch.log10(x.square().mean(1) / (out - x).square().mean(1))
    torch.testing.assert_close(snr, torch.full((4,), 10.0), atol=0.05, rtol=0)


def test_background_noise_rejects_short_recordings() -> None:
    with pytest.raises(ValueError, match="shorter than num_samples"):
        BackgroundNoise([np.zeros(1000, dtype=np.float32)])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_augment_on_cuda_matches_cpu() -> None:
    x = _waves()
    cpu = BackgroundNoise(_ramps(), prob=1.0, seed=0)(TimeShift(seed=0)(x))
    gpu = BackgroundNoise(_ramps(), prob=1.0, seed=0).cuda()(TimeShift(seed=0)(x.cuda()))
    torch.testing.assert_close(gpu.cpu(), cpu)


def _dominant_hz(wave: torch.Tensor, sample_rate: int = 16000) -> float:
    spectrum = np.abs(np.fft.rfft(wave.numpy()))
    return float(np.fft.rfftfreq(wave.numel(), 1.0 / sample_rate)[spectrum.argmax()])


def test_speed_perturb_scales_pitch_and_keeps_length() -> None:
    t = torch.arange(16000) / 16000.0
    tone = torch.sin(2 * torch.pi * 440.0 * t).repeat(32, 1)
    out = SpeedPerturb((0.9, 1.0, 1.1), seed=0)(tone)
    assert out.shape == tone.shape
    seen = {round(_dominant_hz(row)) for row in out}
    assert seen == {396, 440, 484}  # 440 Hz played at 0.9x, 1x, 1.1x


def test_speed_perturb_pads_faster_and_crops_slower_clips_around_the_centre() -> None:
    burst = torch.zeros(1, 16000)
    burst[0, 7000:9000] = 0.5  # a centred event
    faster = SpeedPerturb((2.0,), seed=0)(burst)
    slower = SpeedPerturb((0.5,), seed=0)(burst)
    assert faster[0, :3500].abs().max() < 1e-3 and faster[0, -3500:].abs().max() < 1e-3  # zero padding
    assert (faster[0].abs() > 0.25).sum() == pytest.approx(1000, abs=60)  # half as long
    assert (slower[0].abs() > 0.25).sum() == pytest.approx(4000, abs=60)  # twice as long, still centred
    assert slower[0, 5000:11000].abs().max() > 0.4


def test_speed_perturb_reproducible_and_validated() -> None:
    x = torch.randn(8, 4000)
    torch.testing.assert_close(SpeedPerturb(seed=3)(x), SpeedPerturb(seed=3)(x))
    with pytest.raises(ValueError, match="speed factors must be"):
        SpeedPerturb((0.9, 0.0))


def test_reversed_negatives_flip_and_relabel_only_source_examples() -> None:
    x = torch.arange(6 * 5, dtype=torch.float32).reshape(6, 5) / 30
    labels = torch.tensor([0, 1, 2, 10, 11, 1])
    out, new = ReversedNegatives(1.0, source_labels=[0, 2, 11], target_label=11, seed=0)(x, labels)
    flipped = torch.tensor([True, False, True, False, True, False])
    torch.testing.assert_close(out[flipped], x[flipped].flip(1))
    torch.testing.assert_close(out[~flipped], x[~flipped])
    assert new.tolist() == [11, 1, 11, 10, 11, 1]
    assert labels.tolist() == [0, 1, 2, 10, 11, 1]  # inputs left alone


def test_reversed_negatives_probability_reproducible_and_validated() -> None:
    x = torch.rand(4000, 3)
    labels = torch.zeros(4000, dtype=torch.long)
    module = ReversedNegatives(0.25, source_labels=[0], target_label=11, seed=3)
    _, new = module(x, labels)
    assert 0.22 < (new == 11).float().mean().item() < 0.28
    module.reseed(3)
    assert torch.equal(module(x, labels)[1], new)
    assert torch.equal(ReversedNegatives(0.0, [0], 11)(x, labels)[1], labels)
    with pytest.raises(ValueError, match="prob"):
        ReversedNegatives(1.5, [0], 11)
    with pytest.raises(ValueError, match="one label per waveform"):
        module(x, labels[:10])

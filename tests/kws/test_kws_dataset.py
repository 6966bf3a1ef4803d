from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from memtorch_power.kws.dataset import SpeechCommandsDataset, select_items
from memtorch_power.kws.labels import class_names
from memtorch_power.kws.noise import NOISE_REGIONS, load_background_noise, silence_windows
from memtorch_power.kws.splits import split_clips

SILENCE = class_names("12").index("_silence_")
UNKNOWN = class_names("12").index("_unknown_")


def _fake_clips(n_keyword: int, n_other: int) -> list[str]:
    return [f"yes/k{i}_nohash_0.wav" for i in range(n_keyword)] + [f"bed/o{i}_nohash_0.wav" for i in range(n_other)]


def test_select_items_counts_follow_tf_recipe() -> None:
    items = select_items(_fake_clips(2451, 500), "12", 0.1, 0.1, np.random.default_rng(0))
    assert items.n_keyword == 2451
    assert items.n_silence == math.ceil(245.1) == 246
    assert items.n_unknown == 246
    assert len(items) == 2451 + 246 + 246
    labels = items.labels
    assert (labels == SILENCE).sum() == 246 and (labels[-246:] == SILENCE).all()
    assert (labels == UNKNOWN).sum() == 246
    # float edge: 2450 * 0.1 = 245.00000000000003 must not round up to 246
    assert select_items(_fake_clips(2450, 500), "12", 0.1, 0.1).n_silence == 245


def test_select_items_unknown_capped_and_seeded() -> None:
    capped = select_items(_fake_clips(1000, 30), "12", 0.0, 0.5)
    assert capped.n_unknown == 30 and capped.n_unknown_available == 30 and capped.n_silence == 0
    a = select_items(_fake_clips(100, 400), "12", 0.1, 0.5, np.random.default_rng(1))
    b = select_items(_fake_clips(100, 400), "12", 0.1, 0.5, np.random.default_rng(1))
    c = select_items(_fake_clips(100, 400), "12", 0.1, 0.5, np.random.default_rng(2))
    assert a.clips == b.clips and a.clips != c.clips and a.n_unknown == 50


def test_select_items_35_classes_keeps_everything() -> None:
    items = select_items(_fake_clips(10, 5), "35", 0.5, 0.5)
    assert len(items) == 15 and items.n_silence == 0
    names = class_names("35")
    assert set(items.labels.tolist()) == {names.index("yes"), names.index("bed")}


def test_select_items_36_classes_keeps_every_word_apart_plus_silence() -> None:
    items = select_items(_fake_clips(2451, 500), "36", 0.1, 0.1)
    # every other word kept (unknown_share ignored), silence as under "12"
    assert (items.n_keyword, items.n_unknown, items.n_unknown_available, items.n_silence) == (2451, 500, 500, 246)
    names = class_names("36")
    assert len(items) == 2451 + 500 + 246
    assert (items.labels == names.index("bed")).sum() == 500
    assert (items.labels[-246:] == names.index("_silence_")).all() and names.index("_silence_") == 35
    many_others = select_items(_fake_clips(10, 40), "36", 0.1, 0.1)
    assert many_others.n_unknown == 40  # not capped at a share of the keyword clips


def test_select_items_bad_share() -> None:
    with pytest.raises(ValueError, match="silence_share"):
        select_items(_fake_clips(2, 2), "12", 1.5, 0.1)


def test_silence_windows_are_scaled_noise_segments() -> None:
    ramp = (2 * np.arange(30000) - 30000).astype(np.int16)  # even values: exact at volume 0.5
    out = silence_windows([ramp], 20, 1000, np.random.default_rng(0), volume_range=(0.5, 0.5))
    for row in out:
        start = (int(row[0]) * 2 + 30000) // 2
        assert np.array_equal(row, ramp[start : start + 1000] // 2)
    assert len({int(r[0]) for r in out}) > 10


@pytest.fixture(scope="module")
def real_splits(speech_commands_root: Path) -> dict[str, list[str]]:
    return split_clips(speech_commands_root)


@pytest.fixture(scope="module")
def noise(speech_commands_root: Path) -> dict[str, np.ndarray]:
    return load_background_noise(speech_commands_root)


def _find_in_noise(window: np.ndarray, recordings: list[np.ndarray]) -> tuple[int, int, float] | None:
    """Locate a scaled copy of a noise segment by cross-correlation; returns
    (recording, offset, volume) if the window is exactly round(volume * segment)."""
    w = window.astype(np.float64)
    for r, rec in enumerate(recordings):
        rec = rec.astype(np.float64)
        n = 1 << int(np.ceil(np.log2(len(rec) + len(w))))
        corr = np.fft.irfft(np.fft.rfft(rec, n) * np.conj(np.fft.rfft(w, n)), n)[: len(rec) - len(w) + 1]
        csum = np.concatenate([[0.0], np.cumsum(rec**2)])
        energy = csum[len(w) :] - csum[: len(rec) - len(w) + 1]
        offset = int(np.argmax(corr / np.sqrt(np.maximum(energy, 1e-9))))
        seg = rec[offset : offset + len(w)]
        volume = float(np.dot(w, seg) / max(np.dot(seg, seg), 1e-9))
        if np.abs(np.rint(seg * volume) - w).max() <= 1:
            return r, offset, volume
    return None


def test_validation_silence_from_its_noise_region(speech_commands_root: Path, real_splits, noise) -> None:
    ds = SpeechCommandsDataset(speech_commands_root, "validation", real_splits["validation"], noise=noise)
    k = ds.items.n_keyword
    assert k == 486
    assert ds.n_silence == math.ceil(0.1 * k) == 49
    silence_idx = [i for i in range(len(ds)) if ds.item_word(i) == "_silence_"]
    assert len(silence_idx) == 49
    assert all(int(ds[i][1]) == SILENCE for i in silence_idx)
    lo, hi = 0.8, 0.9  # validation's share of each recording (training: 0-0.8, testing: 0.9-1)
    assert NOISE_REGIONS["validation"] == (lo, hi)
    names = list(noise)
    for i in silence_idx[:4]:
        wave = ds[i][0].numpy()
        if np.abs(wave).max() == 0:
            continue  # volume 0 drawn (possible, not for these seeds)
        found = _find_in_noise(wave, list(noise.values()))
        assert found is not None, f"silence item {i} is not a background-noise segment"
        r, offset, volume = found
        rec_len = len(noise[names[r]])
        assert int(lo * rec_len) <= offset and offset + 16000 <= int(hi * rec_len) + 1
        assert 0.0 <= volume <= 1.0
    # deterministic: a fresh dataset (another training seed) has the same validation silence
    again = SpeechCommandsDataset(speech_commands_root, "validation", real_splits["validation"], noise=noise, seed=99)
    assert all(torch.equal(ds[i][0], again[i][0]) for i in silence_idx)
    assert ds.items.clips == again.items.clips


def test_unknown_share_on_real_splits(speech_commands_root: Path, real_splits, noise) -> None:
    test = SpeechCommandsDataset(speech_commands_root, "testing", real_splits["testing"], noise=noise)
    assert test.items.n_keyword == 594 and test.items.n_unknown_available == 68
    assert test.n_unknown == math.ceil(59.4) == 60  # sub-sampled
    assert int((test.labels == UNKNOWN).sum()) == 60
    train_a = SpeechCommandsDataset(speech_commands_root, "training", real_splits["training"],
                                    unknown_share=0.05, noise=noise, seed=0, cache_audio=False)
    train_b = SpeechCommandsDataset(speech_commands_root, "training", real_splits["training"],
                                    unknown_share=0.05, noise=noise, seed=1, cache_audio=False)
    assert train_a.n_unknown == math.ceil(0.05 * 2451) == 123
    assert train_a.items.clips != train_b.items.clips  # training subset follows the seed
    share = train_a.n_silence / len(train_a)
    assert abs(share - 246 / (2451 + 123 + 246)) < 1e-9


def test_training_silence_is_random_noise(speech_commands_root: Path, real_splits, noise) -> None:
    ds = SpeechCommandsDataset(speech_commands_root, "training", real_splits["training"], noise=noise, cache_audio=False)
    i = len(ds) - 1
    assert ds.item_word(i) == "_silence_" and int(ds[i][1]) == SILENCE
    torch.manual_seed(0)
    draws = [ds[i][0] for _ in range(3)]
    assert not torch.equal(draws[0], draws[1])
    assert any(d.abs().max() > 0 for d in draws)


def test_cached_equals_lazy_and_getitems(speech_commands_root: Path, real_splits, noise) -> None:
    clips = real_splits["validation"]
    cached = SpeechCommandsDataset(speech_commands_root, "validation", clips, noise=noise, cache_audio=True)
    lazy = SpeechCommandsDataset(speech_commands_root, "validation", clips, noise=noise, cache_audio=False)
    small = SpeechCommandsDataset(speech_commands_root, "validation", clips, noise=noise, max_cache_mb=1)
    assert cached.cached and not lazy.cached and not small.cached
    idx = [0, 5, 100, len(cached) - 1]
    x1, y1 = cached.__getitems__(idx)
    x2, y2 = lazy.__getitems__(idx)
    assert x1.dtype == torch.int16 and x1.shape == (4, 16000) and y1.dtype == torch.int64
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert torch.equal(cached[5][0], x1[1])

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from memtorch_power.kws.audio import load_clip, load_clip_pcm16


def test_load_real_clip(speech_commands_root: Path) -> None:
    path = sorted((speech_commands_root / "yes").glob("*.wav"))[0]
    x = load_clip(path)
    raw, rate = sf.read(path, dtype="int16")
    assert rate == 16000
    assert x.dtype == torch.float32 and x.shape == (16000,)
    assert torch.equal(x, torch.from_numpy(raw.astype(np.float32) / 32768.0))
    assert 0 < x.abs().max() <= 1.0


def _write(path: Path, data: np.ndarray, rate: int = 16000) -> Path:
    sf.write(path, data, rate, subtype="PCM_16")
    return path


def test_short_clip_zero_padded_at_end(tmp_path: Path) -> None:
    data = np.full(8000, 1000, dtype=np.int16)
    x = load_clip(_write(tmp_path / "short.wav", data))
    assert x.shape == (16000,)
    assert torch.all(x[:8000] == 1000 / 32768) and torch.all(x[8000:] == 0)


def test_long_clip_trimmed_and_num_samples(tmp_path: Path) -> None:
    data = np.arange(20000, dtype=np.int16)
    path = _write(tmp_path / "long.wav", data)
    assert np.array_equal(load_clip_pcm16(path), data[:16000])
    assert load_clip(path, num_samples=None).shape == (20000,)
    assert load_clip(path, num_samples=4000).shape == (4000,)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nope.wav"):
        load_clip(tmp_path / "nope.wav")


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(b"RIFF\x00\x00not really a wave file" * 10)
    with pytest.raises(ValueError, match=r"garbage\.wav.*corrupt"):
        load_clip(path)


def test_wrong_rate(tmp_path: Path) -> None:
    path = _write(tmp_path / "slow.wav", np.zeros(8000, dtype=np.int16), rate=8000)
    with pytest.raises(ValueError, match=r"slow\.wav.*8000 Hz.*16000 Hz"):
        load_clip(path)


def test_not_mono(tmp_path: Path) -> None:
    path = _write(tmp_path / "stereo.wav", np.zeros((16000, 2), dtype=np.int16))
    with pytest.raises(ValueError, match=r"stereo\.wav.*2 channels"):
        load_clip(path)


def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.wav", np.zeros(0, dtype=np.int16))
    with pytest.raises(ValueError, match=r"empty\.wav.*no samples"):
        load_clip(path)

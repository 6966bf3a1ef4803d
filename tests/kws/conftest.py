"""Shared fixtures of the keyword-spotting tests.

The bundled real clips are found through ``MEMTORCH_POWER_SPEECH_COMMANDS`` or, by
default, ``<repo>/../shared/data/speech_commands_mini``; tests that need them are
skipped (with the reason) when neither exists.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import soundfile as sf

ENV_VAR = "MEMTORCH_POWER_SPEECH_COMMANDS"
REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "speech_commands_mini"

TINY_WORDS = ("yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "bed", "bird")


def _data_root() -> Path | None:
    configured = os.environ.get(ENV_VAR)
    root = Path(configured) if configured else DEFAULT_ROOT
    return root if (root / "yes").is_dir() else None


@pytest.fixture(scope="session")
def speech_commands_root() -> Path:
    """Folder of real Speech Commands clips in the release layout."""
    root = _data_root()
    if root is None:
        where = os.environ.get(ENV_VAR) or str(DEFAULT_ROOT)
        pytest.skip(f"no Speech Commands data at {where} (set {ENV_VAR} to a release folder)")
    return root


def _read_list(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def make_tiny_layout(src: Path, dst: Path, per_split: tuple[int, int, int] = (4, 1, 1),
                     noise_seconds: float = 12.0, noise_files: int = 2) -> Path:
    """Copy a few clips per word of TINY_WORDS (train/val/test counts per word taken
    from the source split lists) plus shortened noise recordings into ``dst``."""
    val, test = set(_read_list(src / "validation_list.txt")), set(_read_list(src / "testing_list.txt"))
    new_val: list[str] = []
    new_test: list[str] = []
    for word in TINY_WORDS:
        names = sorted(f"{word}/{p.name}" for p in (src / word).glob("*.wav"))
        buckets = {
            "training": [n for n in names if n not in val and n not in test],
            "validation": [n for n in names if n in val],
            "testing": [n for n in names if n in test],
        }
        (dst / word).mkdir(parents=True)
        for (split, chosen), k in zip(buckets.items(), per_split):
            for name in chosen[:k]:
                shutil.copyfile(src / name, dst / name)
                if split == "validation":
                    new_val.append(name)
                elif split == "testing":
                    new_test.append(name)
    (dst / "validation_list.txt").write_text("\n".join(new_val) + "\n")
    (dst / "testing_list.txt").write_text("\n".join(new_test) + "\n")
    noise_src = sorted((src / "_background_noise_").glob("*.wav"))[:noise_files]
    (dst / "_background_noise_").mkdir()
    for path in noise_src:
        data, rate = sf.read(path, dtype="int16", frames=int(noise_seconds * 16000))
        sf.write(dst / "_background_noise_" / path.name, data, rate, subtype="PCM_16")
    return dst


@pytest.fixture
def tiny_root(speech_commands_root: Path, tmp_path: Path) -> Path:
    """A small copy of the release layout in tmp_path (12 words x 6 clips, 2 noise files)."""
    return make_tiny_layout(speech_commands_root, tmp_path / "sc")

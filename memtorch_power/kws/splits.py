"""Training/validation/testing partition of a Speech Commands folder.

The release ships ``validation_list.txt`` and ``testing_list.txt`` (paths relative
to the dataset root, e.g. ``yes/0a7c2a8d_nohash_0.wav``); training is every clip
in neither list. When both lists are absent, clips are assigned with the official
speaker hash (:func:`which_set`), which the lists were generated with.
"""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from pathlib import Path
from typing import Final

__all__ = [
    "SPLITS",
    "BACKGROUND_NOISE_DIR",
    "VALIDATION_LIST",
    "TESTING_LIST",
    "MAX_NUM_WAVS_PER_CLASS",
    "speaker_id",
    "which_set",
    "scan_clips",
    "read_split_list",
    "split_clips",
]

#: Split names, in the spelling of TensorFlow's ``input_data.py`` and torchaudio.
SPLITS: Final[tuple[str, ...]] = ("training", "validation", "testing")
BACKGROUND_NOISE_DIR: Final[str] = "_background_noise_"
VALIDATION_LIST: Final[str] = "validation_list.txt"
TESTING_LIST: Final[str] = "testing_list.txt"
#: From TensorFlow ``tensorflow/examples/speech_commands/input_data.py``.
MAX_NUM_WAVS_PER_CLASS: Final[int] = 2**27 - 1

_NOHASH: Final[re.Pattern[str]] = re.compile(r"_nohash_.*$")


def speaker_id(filename: str | os.PathLike[str]) -> str:
    """Speaker of a clip: the base name up to ``_nohash_`` (``"0a7c2a8d"`` for
    ``yes/0a7c2a8d_nohash_0.wav``)."""
    return _NOHASH.sub("", os.path.basename(os.fspath(filename)))


def which_set(
    filename: str | os.PathLike[str],
    validation_percentage: float = 10.0,
    testing_percentage: float = 10.0,
) -> str:
    """Official hash partition of one clip (``"training"``, ``"validation"`` or
    ``"testing"``).

    Same algorithm as ``which_set`` in TensorFlow's speech_commands
    ``input_data.py`` and the dataset README: the SHA-1 of the speaker part of the
    name (before ``_nohash_``) as an integer, modulo ``MAX_NUM_WAVS_PER_CLASS + 1``,
    scaled by ``100 / MAX_NUM_WAVS_PER_CLASS`` to a percentage; below
    ``validation_percentage`` is validation, below ``validation + testing`` is
    testing, the rest training. All clips of a speaker land in the same split.

    Args:
        filename: clip path or base name.
        validation_percentage: share of validation, in percent (0-100).
        testing_percentage: share of testing, in percent (0-100).
    """
    hash_name = speaker_id(filename)
    digest = hashlib.sha1(hash_name.encode("utf-8")).hexdigest()
    percentage_hash = (int(digest, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (
        100.0 / MAX_NUM_WAVS_PER_CLASS
    )
    if percentage_hash < validation_percentage:
        return "validation"
    if percentage_hash < testing_percentage + validation_percentage:
        return "testing"
    return "training"


def scan_clips(root: str | os.PathLike[str]) -> list[str]:
    """All clips under ``root`` as sorted POSIX paths relative to it (``word/name.wav``).

    Only ``<word>/*.wav`` one level deep is read, like the release layout; the
    ``_background_noise_`` folder and hidden folders are skipped. Uses
    :func:`os.scandir` (about 0.1 s for the 105k clips of the full release).

    Raises:
        FileNotFoundError: if ``root`` is not a directory.
    """
    root = os.fspath(root)
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Speech Commands root {root!r} is not a directory")
    clips: list[str] = []
    with os.scandir(root) as top:
        words = sorted(
            e.name for e in top
            if e.is_dir() and e.name != BACKGROUND_NOISE_DIR and not e.name.startswith(".")
        )
    for word in words:
        with os.scandir(os.path.join(root, word)) as entries:
            clips.extend(
                f"{word}/{e.name}" for e in entries
                if e.name.endswith(".wav") and e.is_file()
            )
    clips.sort()
    return clips


def read_split_list(path: str | os.PathLike[str]) -> list[str]:
    """Entries of a ``validation_list.txt``/``testing_list.txt`` file (blank lines
    dropped, backslashes turned into ``/``)."""
    with open(path, encoding="utf-8") as f:
        return [line.strip().replace("\\", "/") for line in f if line.strip()]


def split_clips(
    root: str | os.PathLike[str],
    clips: list[str] | None = None,
    validation_percentage: float = 10.0,
    testing_percentage: float = 10.0,
) -> dict[str, list[str]]:
    """Partition the clips of ``root`` into ``training``/``validation``/``testing``.

    Uses ``validation_list.txt`` and ``testing_list.txt`` when both exist (training =
    every clip in neither), else the official hash (:func:`which_set`) with the given
    percentages. List entries with no file on disk are ignored with a warning.

    Args:
        root: dataset folder.
        clips: relative clip paths as returned by :func:`scan_clips` (scanned if None).
        validation_percentage: hash fallback only, percent.
        testing_percentage: hash fallback only, percent.

    Returns:
        Mapping split name -> sorted relative clip paths.

    Raises:
        FileNotFoundError: if exactly one of the two list files exists.
        ValueError: if a clip is in both lists.
    """
    root_path = Path(root)
    if clips is None:
        clips = scan_clips(root_path)
    val_file, test_file = root_path / VALIDATION_LIST, root_path / TESTING_LIST
    have_val, have_test = val_file.is_file(), test_file.is_file()
    out: dict[str, list[str]] = {s: [] for s in SPLITS}
    if have_val and have_test:
        val = set(read_split_list(val_file))
        test = set(read_split_list(test_file))
        both = val & test
        if both:
            raise ValueError(
                f"{len(both)} clips are in both {val_file} and {test_file}, e.g. {sorted(both)[0]}"
            )
        on_disk = set(clips)
        missing = (val | test) - on_disk
        if missing:
            warnings.warn(
                f"{len(missing)} entries of the split lists in {root_path} have no file, "
                f"e.g. {sorted(missing)[0]}; they are ignored",
                stacklevel=2,
            )
        for clip in clips:
            split = "validation" if clip in val else "testing" if clip in test else "training"
            out[split].append(clip)
    elif have_val or have_test:
        present, absent = (val_file, test_file) if have_val else (test_file, val_file)
        raise FileNotFoundError(
            f"{present} exists but {absent} does not; provide both split lists or neither "
            "(then the official speaker hash is used)"
        )
    else:
        for clip in clips:
            out[which_set(clip, validation_percentage, testing_percentage)].append(clip)
    for split in SPLITS:
        out[split].sort()
    return out

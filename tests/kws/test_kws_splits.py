from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from memtorch_power.kws.splits import read_split_list, scan_clips, speaker_id, split_clips, which_set

# Hand-verified official hash assignments. For each speaker name, the SHA-1 was
# computed once with the `sha1sum` command-line tool (`printf '%s' NAME | sha1sum`).
# The official rule (TensorFlow speech_commands input_data.py, which_set):
#   value = int(sha1_hex, 16) % (2**27)            -> the low 27 bits, i.e. the last
#                                                     7 hex digits with the top bit cleared
#   percentage = value * 100 / (2**27 - 1)
#   < 10 validation, < 20 testing, else training.
#  name      sha1 (last 7 hex digits)      low 27 bits    percentage   split
#  spk_y     ...18764905 -> 8764905 & 7FFFFFF = 7751941    5.7756      validation
#  spk_k     ...a8c817b1 -> 8c817b1 & 7FFFFFF = 13113265   9.7701      validation
#  heidi     ...a0cebecf -> 0cebecf             = 13549263  10.0950      testing
#  8fe67225  ...b8f9941c -> 8f9941c & 7FFFFFF = 16356380  12.1865      testing
#  0a7c2a8d  ...fc8c025b -> c8c025b & 7FFFFFF = 76284507  56.8364      training
#  bobby     ...3f88b31b -> f88b31b & 7FFFFFF = 126399259 94.1748      training
HAND_VERIFIED = [
    ("spk_y", 5.7756, "validation"),
    ("spk_k", 9.7701, "validation"),
    ("heidi", 10.0950, "testing"),
    ("8fe67225", 12.1865, "testing"),
    ("0a7c2a8d", 56.8364, "training"),
    ("bobby", 94.1748, "training"),
]


@pytest.mark.parametrize(("speaker", "percentage", "expected"), HAND_VERIFIED)
def test_which_set_hand_verified(speaker: str, percentage: float, expected: str) -> None:
    assert which_set(f"yes/{speaker}_nohash_0.wav") == expected
    # the part after _nohash_ and the folder do not matter
    assert which_set(f"/x/marvin/{speaker}_nohash_7.wav") == expected
    # moving the thresholds around the hand-computed percentage flips the result
    assert which_set(f"{speaker}_nohash_0.wav", percentage + 0.001, 0.0) == "validation"
    assert which_set(f"{speaker}_nohash_0.wav", percentage - 0.001, 0.0) == "training"


def test_speaker_id() -> None:
    assert speaker_id("yes/0a7c2a8d_nohash_12.wav") == "0a7c2a8d"


def test_bundled_clips_all_hash_to_testing(speech_commands_root: Path) -> None:
    # The bundled clips are the official v0.02 *test* partition (see its README),
    # which the release's testing_list.txt assigned with this hash: all must map there.
    clips = scan_clips(speech_commands_root)
    assert len(clips) > 1000
    assert {which_set(c) for c in clips} == {"testing"}


def test_scan_clips_layout(speech_commands_root: Path) -> None:
    clips = scan_clips(speech_commands_root)
    assert clips == sorted(clips)
    assert not any(c.startswith("_background_noise_/") for c in clips)
    assert all(c.count("/") == 1 and c.endswith(".wav") for c in clips)
    assert len({c.split("/")[0] for c in clips}) == 35


def test_split_lists_honoured_and_speakers_disjoint(speech_commands_root: Path) -> None:
    splits = split_clips(speech_commands_root)
    val = read_split_list(speech_commands_root / "validation_list.txt")
    test = read_split_list(speech_commands_root / "testing_list.txt")
    assert sorted(splits["validation"]) == sorted(val)
    assert sorted(splits["testing"]) == sorted(test)
    everything = scan_clips(speech_commands_root)
    assert sorted(splits["training"]) == sorted(set(everything) - set(val) - set(test))
    # README numbers: 2451 + 238 training, 486 + 43 validation, 594 + 68 testing
    assert [len(splits[s]) for s in ("training", "validation", "testing")] == [2689, 529, 662]
    speakers = {s: {speaker_id(c) for c in clips} for s, clips in splits.items()}
    assert not speakers["training"] & speakers["validation"]
    assert not speakers["training"] & speakers["testing"]
    assert not speakers["validation"] & speakers["testing"]


def test_hash_fallback_without_lists(tiny_root: Path) -> None:
    (tiny_root / "validation_list.txt").unlink()
    (tiny_root / "testing_list.txt").unlink()
    # add clips of hand-verified speakers so that every split is populated
    src = next((tiny_root / "yes").glob("*.wav"))
    for speaker, _, _ in HAND_VERIFIED:
        shutil.copyfile(src, tiny_root / "no" / f"{speaker}_nohash_0.wav")
    splits = split_clips(tiny_root)
    for speaker, _, expected in HAND_VERIFIED:
        assert f"no/{speaker}_nohash_0.wav" in splits[expected]
    # the bundled clips are all official test-partition speakers
    others = [c for s in splits.values() for c in s if speaker_id(c) not in dict((h[0], 0) for h in HAND_VERIFIED)]
    assert others and all(c in splits["testing"] for c in others)


def test_one_list_missing_is_an_error(tiny_root: Path) -> None:
    (tiny_root / "testing_list.txt").unlink()
    with pytest.raises(FileNotFoundError, match="testing_list.txt"):
        split_clips(tiny_root)


def test_scan_missing_root(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="nowhere"):
        scan_clips(tmp_path / "nowhere")

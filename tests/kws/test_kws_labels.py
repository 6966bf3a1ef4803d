from __future__ import annotations

import pytest

from memtorch_power.kws.labels import KEYWORDS, V2_WORDS, class_names, label_index


def test_12_class_names_fixed_order() -> None:
    assert class_names("12") == (
        "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
        "_silence_", "_unknown_",
    )
    assert class_names(12) == class_names("12")  # YAML reads an unquoted 12 as an int


@pytest.mark.parametrize(
    ("word", "index"),
    [("yes", 0), ("no", 1), ("up", 2), ("down", 3), ("left", 4), ("right", 5), ("on", 6),
     ("off", 7), ("stop", 8), ("go", 9), ("_silence_", 10), ("_unknown_", 11),
     ("bed", 11), ("marvin", 11), ("zero", 11), ("visual", 11)],
)
def test_12_class_label_index(word: str, index: int) -> None:
    assert label_index(word, "12") == index


def test_35_class_protocol() -> None:
    names = class_names("35")
    assert len(names) == 35 and len(set(names)) == 35
    assert list(names) == sorted(names)
    assert set(KEYWORDS) <= set(names)
    assert label_index("backward", "35") == 0
    assert label_index("zero", "35") == 34
    assert label_index("yes", "35") == names.index("yes")
    assert V2_WORDS == names


def test_36_class_protocol_adds_silence_after_the_35_words() -> None:
    names = class_names("36")
    assert names[:35] == V2_WORDS and names[35] == "_silence_"
    assert label_index("_silence_", "36") == 35 and label_index("yes", "36") == label_index("yes", "35")
    assert class_names(36) == names
    with pytest.raises(ValueError, match="_unknown_"):
        label_index("_unknown_", "36")


@pytest.mark.parametrize("word", ["_silence_", "_unknown_", "hello"])
def test_35_class_rejects_non_words(word: str) -> None:
    with pytest.raises(ValueError, match=word):
        label_index(word, "35")


def test_unknown_protocol() -> None:
    with pytest.raises(ValueError, match="protocol '10'"):
        class_names("10")
    with pytest.raises(ValueError, match="expected one of"):
        label_index("yes", "twelve")

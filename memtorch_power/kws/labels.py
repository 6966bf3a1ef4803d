"""Class vocabularies of the Speech Commands v0.02 keyword-spotting protocols.

Two protocols are supported:

* ``"12"``: the 10 keywords (yes no up down left right on off stop go), then
  ``_silence_`` and ``_unknown_``, in that fixed order (indices 0-9, 10, 11).
  Every other word maps to ``_unknown_``; ``_silence_`` items are cut from
  the ``_background_noise_`` recordings.
* ``"35"``: the 35 words of the v0.02 release, sorted alphabetically, with no
  silence or unknown class.
* ``"36"``: the 35 words (indices 0-34, as under ``"35"``), then ``_silence_``
  (35). Every other word keeps a class of its own instead of sharing
  ``_unknown_``; a wake-word detector still scores the 10 keywords' posteriors,
  and noise has a class, which a detector scanning a stream needs.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "KEYWORDS",
    "SILENCE_LABEL",
    "UNKNOWN_LABEL",
    "V2_WORDS",
    "PROTOCOLS",
    "normalize_protocol",
    "class_names",
    "label_index",
]

#: The 10 keywords of the 12-class protocol, in label order.
KEYWORDS: Final[tuple[str, ...]] = (
    "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
)
#: Label of clips cut from background noise (no speech).
SILENCE_LABEL: Final[str] = "_silence_"
#: Label of every word that is not one of :data:`KEYWORDS` (12-class protocol).
UNKNOWN_LABEL: Final[str] = "_unknown_"

#: The 35 words of Speech Commands v0.02, sorted.
V2_WORDS: Final[tuple[str, ...]] = tuple(sorted((
    "backward", "bed", "bird", "cat", "dog", "down", "eight", "five", "follow",
    "forward", "four", "go", "happy", "house", "learn", "left", "marvin", "nine",
    "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop", "three",
    "tree", "two", "up", "visual", "wow", "yes", "zero",
)))

#: Supported protocol names.
PROTOCOLS: Final[tuple[str, ...]] = ("12", "35", "36")

_CLASS_NAMES: Final[dict[str, tuple[str, ...]]] = {
    "12": KEYWORDS + (SILENCE_LABEL, UNKNOWN_LABEL),
    "35": V2_WORDS,
    "36": V2_WORDS + (SILENCE_LABEL,),
}
_INDEX: Final[dict[str, dict[str, int]]] = {
    p: {name: i for i, name in enumerate(names)} for p, names in _CLASS_NAMES.items()
}


def normalize_protocol(protocol: str | int) -> str:
    """Return the canonical protocol name (``"12"`` or ``"35"``).

    Accepts the integers 12/35/36 too, since YAML reads an unquoted ``12`` as an int.

    Raises:
        ValueError: if the protocol is not one of :data:`PROTOCOLS`.
    """
    name = str(protocol).strip()
    if name not in _CLASS_NAMES:
        raise ValueError(
            f"unknown keyword-spotting protocol {protocol!r}; expected one of {list(PROTOCOLS)}"
        )
    return name


def class_names(protocol: str | int = "12") -> tuple[str, ...]:
    """Class names of ``protocol`` in label-index order."""
    return _CLASS_NAMES[normalize_protocol(protocol)]


def label_index(word: str, protocol: str | int = "12") -> int:
    """Integer label of a folder name ``word`` under ``protocol``.

    Under ``"12"``, the keywords map to 0-9, ``_silence_`` to 10, and ``_unknown_``
    as well as every other word to 11 (as TensorFlow's recipe, which treats any
    non-keyword folder as unknown). Under ``"35"``, the index of the word in the
    sorted :data:`V2_WORDS`; under ``"36"`` the same, and ``_silence_`` 35.

    Raises:
        ValueError: under ``"35"``/``"36"``, for a word outside the v0.02 vocabulary
            (``_unknown_`` included, and ``_silence_`` under ``"35"``); an unknown protocol.
    """
    proto = normalize_protocol(protocol)
    index = _INDEX[proto]
    if word in index:
        return index[word]
    if proto == "12":
        return index[UNKNOWN_LABEL]
    raise ValueError(
        f"word {word!r} is not a class of protocol {proto!r}; its classes are: "
        f"{', '.join(_CLASS_NAMES[proto])}"
    )

"""Which training clips each edge node holds: by speaker (natural non-IID) or IID.

The speaker of a clip is the part of its file name before ``_nohash_``
(:func:`memtorch_power.kws.splits.speaker_id`). Partitions are deterministic for a seed.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from memtorch_power.kws.splits import speaker_id


def partition_by_speaker(clips: Sequence[str], num_nodes: int, seed: int = 0) -> list[list[str]]:
    """Split ``clips`` over ``num_nodes`` nodes so that every speaker lives on one node.

    Speakers are shuffled with ``seed``, then assigned, largest first, to the node that
    holds the fewest clips so far (balanced clip counts, disjoint speakers).

    Raises:
        ValueError: ``num_nodes < 1`` or fewer speakers than nodes.
    """
    if num_nodes < 1:
        raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
    by_speaker: dict[str, list[str]] = defaultdict(list)
    for clip in clips:
        by_speaker[speaker_id(clip)].append(clip)
    if len(by_speaker) < num_nodes:
        raise ValueError(f"{len(by_speaker)} speakers cannot fill {num_nodes} nodes")
    speakers = sorted(by_speaker)
    order = np.random.default_rng(seed).permutation(len(speakers))
    shuffled = [speakers[i] for i in order]
    shuffled.sort(key=lambda s: -len(by_speaker[s]))  # stable: ties keep the shuffled order
    nodes: list[list[str]] = [[] for _ in range(num_nodes)]
    for speaker in shuffled:
        target = min(range(num_nodes), key=lambda n: (len(nodes[n]), n))
        nodes[target].extend(by_speaker[speaker])
    return [sorted(node) for node in nodes]


def partition_iid(clips: Sequence[str], num_nodes: int, seed: int = 0) -> list[list[str]]:
    """Shuffle ``clips`` with ``seed`` and deal them round-robin to ``num_nodes`` nodes.

    Raises:
        ValueError: ``num_nodes < 1`` or fewer clips than nodes.
    """
    if num_nodes < 1:
        raise ValueError(f"num_nodes must be >= 1, got {num_nodes}")
    if len(clips) < num_nodes:
        raise ValueError(f"{len(clips)} clips cannot fill {num_nodes} nodes")
    order = np.random.default_rng(seed).permutation(len(clips))
    nodes: list[list[str]] = [[] for _ in range(num_nodes)]
    for rank, index in enumerate(order):
        nodes[rank % num_nodes].append(clips[index])
    return [sorted(node) for node in nodes]


def partition_clips(clips: Sequence[str], num_nodes: int, scheme: str = "speaker", seed: int = 0) -> list[list[str]]:
    """Dispatch to :func:`partition_by_speaker` (``"speaker"``) or :func:`partition_iid` (``"iid"``)."""
    if scheme == "speaker":
        return partition_by_speaker(clips, num_nodes, seed)
    if scheme == "iid":
        return partition_iid(clips, num_nodes, seed)
    raise ValueError(f"unknown partition scheme {scheme!r}; use 'speaker' or 'iid'")


def cap_clips(clips: Sequence[str], limit: int | None, seed: int = 0) -> list[str]:
    """A random subset of at most ``limit`` clips (all of them for ``None``), sorted."""
    if limit is None or len(clips) <= limit:
        return sorted(clips)
    keep = np.random.default_rng(seed).permutation(len(clips))[:limit]
    return sorted(clips[i] for i in keep)


def raw_audio_bytes(root: str | os.PathLike[str], clips: Sequence[str]) -> int:
    """Bytes of the ``.wav`` files of ``clips`` under ``root`` (what uploading them costs)."""
    return sum(os.path.getsize(os.path.join(root, clip)) for clip in clips)


__all__ = ["cap_clips", "partition_by_speaker", "partition_clips", "partition_iid", "raw_audio_bytes"]

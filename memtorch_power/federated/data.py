"""The features a node trains on and the server evaluates on, cached per process.

A node's items are built as in the keyword-spotting recipe (all keyword clips of its
speakers, an ``unknown_share`` of other words, ``silence_share`` silence windows cut from
the training region of ``_background_noise_``) and turned into features once; Ray actors
keep them between rounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import Tensor

from memtorch_power.federated.config import FederatedConfig
from memtorch_power.federated.partition import cap_clips, partition_clips, raw_audio_bytes
from memtorch_power.kws.audio import PCM16_SCALE
from memtorch_power.kws.dataset import SpeechCommandsDataset
from memtorch_power.kws.features import build_feature_extractor
from memtorch_power.kws.noise import load_background_noise
from memtorch_power.kws.splits import scan_clips, speaker_id, split_clips


@dataclass(frozen=True)
class NodeData:
    """Features and labels of one node (or of the test split).

    Attributes:
        x: features ``float32 [N, 1, n_features, frames]``; y: labels ``int64 [N]``.
        clips: the ``.wav`` clips the node holds (relative to the data root).
        raw_audio_bytes: bytes of those files (uploading them is the centralised cost).
        speakers: distinct speakers among them.
    """

    x: Tensor
    y: Tensor
    clips: tuple[str, ...]
    raw_audio_bytes: int
    speakers: int

    def __len__(self) -> int:
        return len(self.y)


@lru_cache(maxsize=4)
def _splits(root: str) -> dict[str, list[str]]:
    return split_clips(root, scan_clips(root))


@lru_cache(maxsize=4)
def _noise(root: str) -> dict:
    return load_background_noise(root)


@torch.no_grad()
def _features(dataset: SpeechCommandsDataset, features: str, n_features: int, chunk: int = 256) -> Tensor:
    extractor = build_feature_extractor(features, n_features)
    parts = []
    for start in range(0, len(dataset), chunk):
        wave, _ = dataset.__getitems__(range(start, min(start + chunk, len(dataset))))
        parts.append(extractor(wave.float() / PCM16_SCALE))
    return torch.cat(parts) if parts else torch.empty(0, 1, n_features, 0)


def _build(root: str, split: str, clips: list[str], cfg: FederatedConfig, seed: int) -> NodeData:
    dataset = SpeechCommandsDataset(
        root, split, clips, cfg.protocol,
        silence_share=cfg.silence_share, unknown_share=cfg.unknown_share,
        noise=_noise(root), seed=seed, random_silence=False,
    )
    x = _features(dataset, cfg.features, cfg.n_features)
    return NodeData(
        x=x, y=dataset.labels.clone(), clips=tuple(clips),
        raw_audio_bytes=raw_audio_bytes(root, clips),
        speakers=len({speaker_id(c) for c in clips}),
    )


def node_clips(cfg: FederatedConfig, partition_id: int, num_partitions: int, root: str | None = None) -> list[str]:
    """The training clips of node ``partition_id`` out of ``num_partitions``.

    Raises:
        ValueError: ``partition_id`` outside ``[0, num_partitions)``.
    """
    if not 0 <= partition_id < num_partitions:
        raise ValueError(f"partition_id must be in [0, {num_partitions}), got {partition_id}")
    root = root or cfg.resolved_data_root
    parts = partition_clips(_splits(root)["training"], num_partitions, cfg.partition, cfg.seed)
    return cap_clips(parts[partition_id], cfg.max_clips_per_node, cfg.seed + partition_id)


_CACHE: dict[tuple, NodeData] = {}


def load_node_data(cfg: FederatedConfig, partition_id: int, num_partitions: int, root: str | None = None) -> NodeData:
    """Features of node ``partition_id`` (cached per process for the same settings)."""
    root = root or cfg.resolved_data_root
    key = ("train", root, partition_id, num_partitions, cfg.partition, cfg.max_clips_per_node, cfg.seed,
           cfg.protocol, cfg.features, cfg.n_features, cfg.silence_share, cfg.unknown_share)
    if key not in _CACHE:
        clips = node_clips(cfg, partition_id, num_partitions, root)
        _CACHE[key] = _build(root, "training", clips, cfg, cfg.seed + partition_id)
    return _CACHE[key]


def load_test_data(cfg: FederatedConfig, root: str | None = None) -> NodeData:
    """Features of the test split (capped at ``max_test_clips``), cached per process."""
    root = root or cfg.resolved_data_root
    key = ("test", root, cfg.max_test_clips, cfg.seed, cfg.protocol, cfg.features, cfg.n_features,
           cfg.silence_share, cfg.unknown_share)
    if key not in _CACHE:
        clips = cap_clips(_splits(root)["testing"], cfg.max_test_clips, cfg.seed)
        _CACHE[key] = _build(root, "testing", clips, cfg, cfg.seed)
    return _CACHE[key]


def clear_cache() -> None:
    """Forget cached features (tests use it to measure cold starts)."""
    _CACHE.clear()
    _splits.cache_clear()
    _noise.cache_clear()


__all__ = ["NodeData", "clear_cache", "load_node_data", "load_test_data", "node_clips"]

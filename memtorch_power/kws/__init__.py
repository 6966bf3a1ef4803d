"""Keyword spotting on Speech Commands: labels, splits, audio, features,
augmentation, datasets, a Lightning data module and small CNNs.

``SpeechCommandsDataModule`` is imported lazily (it pulls in Lightning).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from memtorch_power.kws.audio import load_clip, read_wav
from memtorch_power.kws.augment import BackgroundNoise, TimeShift
from memtorch_power.kws.dataset import SpeechCommandsDataset
from memtorch_power.kws.download import OFFICIAL_SHA256, OFFICIAL_URL, download_speech_commands
from memtorch_power.kws.features import MFCC, LogMel, build_feature_extractor
from memtorch_power.kws.labels import KEYWORDS, SILENCE_LABEL, UNKNOWN_LABEL, class_names, label_index
from memtorch_power.kws.models import DSCNN, Res8, build_model, count_macs, count_parameters
from memtorch_power.kws.splits import scan_clips, split_clips, which_set

if TYPE_CHECKING:
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

__all__ = [
    "KEYWORDS", "SILENCE_LABEL", "UNKNOWN_LABEL", "class_names", "label_index",
    "which_set", "scan_clips", "split_clips",
    "load_clip", "read_wav",
    "OFFICIAL_URL", "OFFICIAL_SHA256", "download_speech_commands",
    "LogMel", "MFCC", "build_feature_extractor",
    "TimeShift", "BackgroundNoise",
    "SpeechCommandsDataset", "SpeechCommandsDataModule",
    "DSCNN", "Res8", "build_model", "count_parameters", "count_macs",
]


def __getattr__(name: str) -> Any:
    if name == "SpeechCommandsDataModule":
        from memtorch_power.kws.datamodule import SpeechCommandsDataModule

        return SpeechCommandsDataModule
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

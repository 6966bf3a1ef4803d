"""Lightning data module for Speech Commands keyword spotting.

Designed for few CPU cores: the datasets only hand out int16 waveforms (from an
in-memory cache when it fits), and augmentation plus feature extraction run
batched on the training device in :meth:`SpeechCommandsDataModule.on_after_batch_transfer`.
Validation and test features (never augmented) are computed once in ``setup``
and kept as a tensor, so every later epoch is a tensor lookup; the same holds for
the training split when ``augment=False``.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch import Tensor, nn
from torch.utils.data import DataLoader, Dataset

from memtorch_power.kws.augment import BackgroundNoise, ReversedNegatives, SpeedPerturb, TimeShift
from memtorch_power.kws.audio import PCM16_SCALE
from memtorch_power.kws.dataset import SpeechCommandsDataset, TensorPairDataset, collate_batch
from memtorch_power.kws.download import download_speech_commands, is_speech_commands_root
from memtorch_power.kws.features import build_feature_extractor
from memtorch_power.kws.labels import KEYWORDS, SILENCE_LABEL, UNKNOWN_LABEL, class_names, normalize_protocol
from memtorch_power.kws.noise import load_background_noise, noise_for_split
from memtorch_power.kws.splits import scan_clips, split_clips

__all__ = ["SpeechCommandsDataModule"]

log = logging.getLogger(__name__)

_STAGE_SPLITS = {
    "fit": ("training", "validation"),
    "validate": ("validation",),
    "test": ("testing",),
    "predict": ("testing",),
}


class SpeechCommandsDataModule(L.LightningDataModule):
    """Speech Commands v0.02 (or a folder in the same layout) for keyword spotting.

    Batches are ``(features float32 [B, 1, n_features, n_frames], labels int64 [B])``
    once :meth:`on_after_batch_transfer` has run (Lightning calls it; outside a
    Trainer call :meth:`transform_batch`).

    Args:
        root: dataset folder (holding ``yes/``, ``no/``, ..., ``validation_list.txt``).
        protocol: ``"12"`` (10 keywords + silence + unknown), ``"35"`` (all words) or
            ``"36"`` (all words + silence); quote it in YAML (``protocol: "35"``), as
            LightningCLI checks it is a string.
        batch_size: examples per batch.
        num_workers: DataLoader worker processes (0 is fastest when the audio is
            cached).
        features: ``"mfcc"`` or ``"logmel"``.
        n_features: MFCC coefficients or mel bands.
        augment: time shift and background noise on training batches.
        noise_prob: probability that a training example gets background noise
            (volume uniform in 0-0.1 of full scale).
        max_shift_ms: largest random time shift, milliseconds.
        silence_share: silence items per keyword clip in every split (``"12"``, ``"36"``).
        unknown_share: other-word clips per keyword clip in every split (``"12"``; ``"36"`` keeps them all).
        download: download the official release into ``root`` if it is missing.
        seed: seed of the augmentation, the training shuffle and the training
            unknown subset (validation/test content does not depend on it).
        cache_audio: keep each split's int16 waveforms in memory when they fit in
            ``max_cache_mb``, else read clips lazily.
        time_masks: SpecAugment-style time masks per training example (Park et al.,
            Interspeech 2019), applied to the features; 0 disables them. Masked values are
            set to the example's mean feature value.
        time_mask_frames: widest time mask, frames.
        freq_masks: SpecAugment frequency masks per training example (mel bands or
            coefficients set to the example's mean); 0 disables them.
        freq_mask_bins: widest frequency mask, feature rows.
        speed_factors: speed perturbation of training clips (:class:`SpeedPerturb`): each
            clip plays at a factor drawn from this list, e.g. ``[0.9, 1.0, 1.1]``; None or
            an empty list disables it.
        max_cache_mb: memory bound for each split's waveform cache and feature
            cache, MiB.
        reversed_negatives: probability that a training keyword or other-word clip is
            played backwards and labelled ``_unknown_`` (:class:`ReversedNegatives`;
            12-class protocol and ``augment=True`` only); 0 disables it.
        reversed_exclude: keywords never reversed (their reversal sounds like a keyword).
        train_on_validation: train on the training and validation clips together, for a
            final model once every setting has been chosen on validation (the validation
            metrics then score training data: keep the last epoch, not the best-validation
            one). The test split is never trained on.
    """

    def __init__(
        self,
        root: str,
        protocol: str = "12",
        batch_size: int = 64,
        num_workers: int = 0,
        features: str = "mfcc",
        n_features: int = 40,
        augment: bool = True,
        noise_prob: float = 0.8,
        max_shift_ms: float = 100.0,
        silence_share: float = 0.1,
        unknown_share: float = 0.1,
        download: bool = False,
        seed: int = 0,
        cache_audio: bool = True,
        max_cache_mb: int = 4096,
        time_masks: int = 0,
        time_mask_frames: int = 10,
        freq_masks: int = 0,
        freq_mask_bins: int = 8,
        speed_factors: list[float] | None = None,
        reversed_negatives: float = 0.0,
        reversed_exclude: tuple[str, ...] = ("no", "on"),
        train_on_validation: bool = False,
    ) -> None:
        super().__init__()
        self.protocol = normalize_protocol(protocol)
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if num_workers < 0:
            raise ValueError(f"num_workers must be >= 0, got {num_workers}")
        for name, value in (
            ("noise_prob", noise_prob), ("silence_share", silence_share), ("unknown_share", unknown_share),
            ("reversed_negatives", reversed_negatives),
        ):
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        if max_shift_ms < 0:
            raise ValueError(f"max_shift_ms must be >= 0, got {max_shift_ms}")
        self.feature_extractor = build_feature_extractor(features, n_features)
        self.save_hyperparameters()
        self.root = root
        self.batch_size, self.num_workers = batch_size, num_workers
        self.features, self.augment, self.seed = features, augment, seed
        self.noise_prob, self.max_shift_ms = noise_prob, max_shift_ms
        if time_masks < 0 or time_mask_frames < 0:
            raise ValueError(f"time_masks and time_mask_frames must be >= 0, got {time_masks}, {time_mask_frames}")
        self.time_masks, self.time_mask_frames = time_masks, time_mask_frames
        if freq_masks < 0 or freq_mask_bins < 0:
            raise ValueError(f"freq_masks and freq_mask_bins must be >= 0, got {freq_masks}, {freq_mask_bins}")
        self.freq_masks, self.freq_mask_bins = freq_masks, freq_mask_bins
        if speed_factors and any(not f > 0 for f in speed_factors):
            raise ValueError(f"speed_factors must all be > 0, got {speed_factors}")
        self.speed_factors = list(speed_factors or [])
        if reversed_negatives > 0 and self.protocol != "12":
            raise ValueError("reversed_negatives needs the 12-class protocol (it labels reversed words _unknown_)")
        if reversed_negatives > 0 and not augment:
            raise ValueError("reversed_negatives needs augment=True (it acts on training waveforms)")
        unknown_words = sorted(set(reversed_exclude) - set(KEYWORDS))
        if unknown_words:
            raise ValueError(f"reversed_exclude names words that are not keywords: {unknown_words}")
        self.reversed_negatives, self.reversed_exclude = reversed_negatives, tuple(reversed_exclude)
        self.negatives: ReversedNegatives | None = None
        self.train_on_validation = train_on_validation
        self.silence_share, self.unknown_share = silence_share, unknown_share
        self.download, self.cache_audio, self.max_cache_mb = download, cache_audio, max_cache_mb
        self.sample_rate, self.num_samples = 16000, 16000
        self.datasets: dict[str, Dataset] = {}
        self.augmenter: nn.Module | None = None
        self._clips: dict[str, list[str]] | None = None
        self._noise: dict[str, Any] | None = None

    # ------------------------------------------------------------------ shapes
    @property
    def class_names(self) -> tuple[str, ...]:
        """Class names in label order."""
        return class_names(self.protocol)

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def n_features(self) -> int:
        return self.feature_extractor.n_features

    @property
    def n_frames(self) -> int:
        """Feature frames per 1 s clip (98)."""
        return self.feature_extractor.n_frames(self.num_samples)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Per-example model input shape ``(1, n_features, n_frames)``."""
        return (1, self.n_features, self.n_frames)

    def example_input(self, batch_size: int = 1) -> Tensor:
        """Zeros of the model input shape ``[batch_size, 1, n_features, n_frames]``
        (e.g. for ``LightningModule.example_input_array``)."""
        return torch.zeros(batch_size, *self.input_shape)

    # ------------------------------------------------------------------ data
    def _missing_root_error(self) -> FileNotFoundError:
        return FileNotFoundError(
            f"Speech Commands root {self.root!r} does not exist or holds no clips "
            "(expected <word>/<speaker>_nohash_<n>.wav folders). Pass download=True to "
            "download the v0.02 release there (prepare_data() does it; a Trainer calls it "
            "before setup()), or set root to the folder that holds yes/, no/, ..., "
            "validation_list.txt."
        )

    def prepare_data(self) -> None:
        """Download the release into ``root`` if asked to and it is missing."""
        if self.download and not is_speech_commands_root(self.root):
            download_speech_commands(self.root)

    def setup(self, stage: str | None = None) -> None:
        """Build the datasets (and feature caches) of ``stage`` (None: all)."""
        splits = ("training", "validation", "testing") if stage is None else _STAGE_SPLITS.get(stage)
        if splits is None:
            raise ValueError(f"unknown stage {stage!r}")
        if not os.path.isdir(self.root):
            raise self._missing_root_error()
        if self._clips is None:
            clips = scan_clips(self.root)
            if not clips:
                raise self._missing_root_error()
            self._clips = split_clips(self.root, clips)
            self._noise = load_background_noise(self.root, self.sample_rate)
        for split in splits:
            if split not in self.datasets:
                self.datasets[split] = self._build(split)
        if "training" in splits and self.augment and self.augmenter is None:
            self.augmenter = self._build_augmenter()
            if self.reversed_negatives > 0:
                self.negatives = self._build_negatives()

    def _build(self, split: str) -> Dataset:
        train = split == "training"
        t0 = time.perf_counter()
        assert self._clips is not None
        clips = self._clips[split]
        if train and self.train_on_validation:
            clips = sorted(clips + self._clips["validation"])
            log.warning("training on the training and validation clips: validation metrics score training data")
        dataset = SpeechCommandsDataset(
            self.root, split, clips, self.protocol,
            silence_share=self.silence_share, unknown_share=self.unknown_share,
            noise=self._noise, seed=self.seed,
            random_silence=train and self.augment,
            cache_audio=self.cache_audio, max_cache_mb=self.max_cache_mb,
            sample_rate=self.sample_rate, num_samples=self.num_samples,
        )
        log.info(
            "%s: %d items (%d silence, %d unknown), audio %s, %.2f s",
            split, len(dataset), dataset.n_silence, dataset.n_unknown,
            "cached" if dataset.cached else "read lazily", time.perf_counter() - t0,
        )
        if train and self.augment:
            return dataset
        feature_bytes = len(dataset) * 4 * self.n_features * self.n_frames
        if feature_bytes > self.max_cache_mb * 2**20:
            return dataset
        return self._feature_cache(dataset)

    @torch.no_grad()
    def _feature_cache(self, dataset: SpeechCommandsDataset, chunk: int = 128) -> TensorPairDataset:
        """Features of every item of an unaugmented split, computed once."""
        out = torch.empty(len(dataset), *self.input_shape)
        extractor = copy.deepcopy(self.feature_extractor).cpu()  # leave the device copy alone
        for start in range(0, len(dataset), chunk):
            x, _ = dataset.__getitems__(range(start, min(start + chunk, len(dataset))))
            out[start : start + len(x)] = extractor(x.float() / PCM16_SCALE)
        return TensorPairDataset(out, dataset.labels.clone())

    def _build_augmenter(self) -> nn.Module:
        steps: list[nn.Module] = []
        if self.speed_factors:
            steps.append(SpeedPerturb(self.speed_factors, self.sample_rate, seed=self.seed + 2))
        if self.max_shift_ms > 0:
            steps.append(TimeShift(self.max_shift_ms, self.sample_rate, seed=self.seed))
        noise = noise_for_split(self._noise or {}, "training", self.num_samples)
        if self.noise_prob > 0 and noise:
            steps.append(BackgroundNoise(noise, prob=self.noise_prob, volume_range=(0.0, 0.1),
                                         num_samples=self.num_samples, seed=self.seed + 1))
        elif self.noise_prob > 0:
            log.warning("no _background_noise_ recordings in %s: noise augmentation is off", self.root)
        return nn.Sequential(*steps)

    def _build_negatives(self) -> ReversedNegatives:
        names = self.class_names
        sources = [i for i, name in enumerate(names)
                   if name != SILENCE_LABEL and name not in self.reversed_exclude]
        return ReversedNegatives(self.reversed_negatives, sources, names.index(UNKNOWN_LABEL), seed=self.seed + 3)

    def _loader(self, split: str, shuffle: bool) -> DataLoader:
        if split not in self.datasets:
            raise RuntimeError(f"call setup() before asking for the {split} dataloader")
        generator = torch.Generator().manual_seed(self.seed) if shuffle else None
        return DataLoader(
            self.datasets[split], batch_size=self.batch_size, shuffle=shuffle,
            num_workers=self.num_workers, collate_fn=collate_batch, generator=generator,
            persistent_workers=self.num_workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader("training", shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader("validation", shuffle=False)

    def test_dataloader(self) -> DataLoader:
        return self._loader("testing", shuffle=False)

    def predict_dataloader(self) -> DataLoader:
        return self._loader("testing", shuffle=False)

    # ------------------------------------------------------------------ batches
    @torch.no_grad()
    def transform_batch(self, batch: tuple[Tensor, Tensor], train: bool = False) -> tuple[Tensor, Tensor]:
        """Turn a loader batch into model input, on the batch's device.

        Waveform batches (int16 ``[B, samples]``) are scaled to [-1, 1], augmented if
        ``train`` and augmentation is on, and turned into features; feature batches
        (4-D, from a cache) pass through.
        """
        if isinstance(batch, Tensor):  # a bare model input, e.g. LightningModule.example_input_array
            return batch
        x, y = batch
        if x.dim() == 4:
            return x, y
        wave = x.to(torch.float32) / PCM16_SCALE if not x.is_floating_point() else x
        if train and self.negatives is not None:
            wave, y = self.negatives(wave, y)
        if train and self.augmenter is not None:
            self.augmenter.to(wave.device)
            wave = self.augmenter(wave)
        features = self.feature_extractor.to(wave.device)(wave)
        if train and self.augment and (self.time_masks > 0 or self.freq_masks > 0):
            features = self._spec_augment(features)
        return features, y

    def _spec_augment(self, features: Tensor) -> Tensor:
        """Set ``time_masks`` random spans of up to ``time_mask_frames`` frames and
        ``freq_masks`` spans of up to ``freq_mask_bins`` rows of each example to its mean."""
        import torchaudio

        maskings = [torchaudio.transforms.TimeMasking(self.time_mask_frames, iid_masks=True)] * self.time_masks
        maskings += [torchaudio.transforms.FrequencyMasking(self.freq_mask_bins, iid_masks=True)] * self.freq_masks
        keep = torch.ones_like(features)
        for masking in maskings:  # torchaudio draws the spans and sets them to 0
            keep = masking(keep)
        return torch.where(keep.bool(), features, features.mean(dim=(-2, -1), keepdim=True))

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        train = self.trainer is not None and self.trainer.training
        return self.transform_batch(batch, train=train)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(Path(self.root))!r}, protocol={self.protocol!r}, "
            f"features={self.features!r}, n_features={self.n_features}, "
            f"batch_size={self.batch_size}, augment={self.augment})"
        )

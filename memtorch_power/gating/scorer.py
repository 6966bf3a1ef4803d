"""The always-on detector: a trained keyword spotter turned into a window scorer.

:func:`load_spotter` reads a ``KeywordSpotter`` Lightning checkpoint (it holds aihwkit
objects, so it is loaded with ``weights_only=False``: load only checkpoints you trust) and
the feature settings of the data module it was trained with. :func:`train_quick_spotter`
trains a small one when no checkpoint is given.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from memtorch_power.kws.features import build_feature_extractor
from memtorch_power.kws.labels import KEYWORDS, class_names


@dataclass
class Spotter:
    """A trained network with what it needs to score raw audio.

    Attributes:
        network: the model (``[B, 1, n_features, frames]`` -> logits), analog or digital.
        features, n_features: the feature front end it was trained with.
        class_names: class of every logit; preset: its preset name.
    """

    network: nn.Module
    features: str
    n_features: int
    class_names: tuple[str, ...]
    preset: str

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Per-window model input ``(1, n_features, 98)`` for 1 s at 16 kHz."""
        return (1, self.n_features, build_feature_extractor(self.features, self.n_features).n_frames(16000))


class KeywordScorer:
    """``windows [N, samples] -> max keyword posterior [N]`` (softmax over all classes,
    max over the keyword classes: not silence, not unknown); :meth:`posteriors` gives every
    keyword's posterior ``[N, keywords]`` (what :func:`~.detector.score_stream` smooths).

    Args:
        spotter: the trained model; keywords: which class names count (default: the 10
            keywords of the 12-class protocol present in ``spotter.class_names``).
        batch_size: windows per forward pass.
    """

    def __init__(self, spotter: Spotter, keywords: tuple[str, ...] | None = None, batch_size: int = 128) -> None:
        wanted = set(keywords or KEYWORDS)
        self.indices = [i for i, name in enumerate(spotter.class_names) if name in wanted]
        if not self.indices:
            raise ValueError(f"none of {sorted(wanted)} is a class of the model {spotter.class_names}")
        self.spotter = spotter
        self.extractor = build_feature_extractor(spotter.features, spotter.n_features)
        self.batch_size = batch_size

    def __call__(self, windows: Tensor) -> np.ndarray:
        return self.posteriors(windows).max(axis=1, initial=0.0)

    @torch.no_grad()
    def posteriors(self, windows: Tensor) -> np.ndarray:
        """Posterior of every keyword class, ``[N, keywords]`` (softmax over all classes)."""
        network = self.spotter.network
        was_training = network.training
        network.eval()
        out = []
        try:
            for start in range(0, len(windows), self.batch_size):
                logits = network(self.extractor(windows[start : start + self.batch_size].float()))
                out.append(torch.softmax(logits, dim=1)[:, self.indices])
        finally:
            network.train(was_training)
        return torch.cat(out).cpu().numpy() if out else np.zeros((0, len(self.indices)))


def load_spotter(path: str | os.PathLike[str]) -> Spotter:
    """A :class:`Spotter` from a ``KeywordSpotter`` checkpoint (CPU, ``weights_only=False``).

    Feature settings come from the checkpoint's data-module hyper-parameters (MFCC, 40
    coefficients, 12 classes when absent).

    Raises:
        FileNotFoundError: no file at ``path``.
    """
    from memtorch_power.kws.module import KeywordSpotter

    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    module = KeywordSpotter.load_from_checkpoint(path, map_location="cpu", weights_only=False)
    data = checkpoint.get("datamodule_hyper_parameters", {}) or {}
    hp = module.hparams
    return Spotter(
        network=module.network.eval(),
        features=str(data.get("features", "mfcc")),
        n_features=int(data.get("n_features", hp.n_features)),
        class_names=class_names(str(data.get("protocol", "12"))),
        preset=str(hp.preset),
    )


def train_quick_spotter(root: str | os.PathLike[str], checkpoint: str | os.PathLike[str], preset: str = "pcm_hwa",
                        epochs: int = 3, n_features: int = 20, channels: int = 32, blocks: int = 2,
                        batch_size: int = 64, lr: float = 1e-2, seed: int = 0,
                        limit_batches: int | float = 1.0, accelerator: str = "cpu") -> Path:
    """Train a small DS-CNN ``KeywordSpotter`` on ``root`` and save it (atomically) to ``checkpoint``.

    Depthwise convolutions stay digital. About 8-10 minutes on 2 CPU cores with 8 epochs.
    ``limit_batches`` caps training and validation batches per epoch (a fraction or a count;
    tests use 2).
    """
    import lightning as L

    from memtorch_power.checkpoint_io import AtomicCheckpointIO
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule
    from memtorch_power.kws.models import build_model
    from memtorch_power.kws.module import KeywordSpotter

    L.seed_everything(seed, verbose=False)
    data = SpeechCommandsDataModule(str(root), batch_size=batch_size, n_features=n_features, seed=seed)
    kwargs = {"channels": channels, "blocks": blocks}
    probe = build_model("dscnn", num_classes=data.num_classes, n_features=n_features, **kwargs)
    depthwise = [name for name, m in probe.named_modules() if isinstance(m, nn.Conv2d) and m.groups > 1]
    module = KeywordSpotter(model="dscnn", preset=preset, num_classes=data.num_classes, n_features=n_features,
                            n_frames=data.n_frames, model_kwargs=kwargs, exclude=depthwise, lr=lr)
    from memtorch_power.presets import get_preset

    get_preset(preset).check_device(accelerator)
    trainer = L.Trainer(max_epochs=epochs, accelerator=accelerator, logger=False, enable_checkpointing=False,
                        enable_model_summary=False, plugins=[AtomicCheckpointIO()], num_sanity_val_steps=0,
                        limit_train_batches=limit_batches, limit_val_batches=limit_batches,
                        enable_progress_bar=True)
    trainer.fit(module, datamodule=data)
    Path(checkpoint).parent.mkdir(parents=True, exist_ok=True)
    trainer.save_checkpoint(checkpoint)
    return Path(checkpoint)


__all__ = ["KeywordScorer", "Spotter", "load_spotter", "train_quick_spotter"]

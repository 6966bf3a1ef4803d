from __future__ import annotations

from pathlib import Path

import lightning as L
import pytest
import torch
from torch import nn

import memtorch_power.kws.datamodule as dm_module
from memtorch_power.kws.datamodule import SpeechCommandsDataModule
from memtorch_power.kws.dataset import TensorPairDataset
from memtorch_power.kws.models import DSCNN


@pytest.fixture(scope="module")
def dm(speech_commands_root: Path) -> SpeechCommandsDataModule:
    module = SpeechCommandsDataModule(str(speech_commands_root), batch_size=32)
    module.setup("fit")
    module.setup("test")
    return module


def test_shapes_and_dtypes(dm: SpeechCommandsDataModule) -> None:
    assert dm.num_classes == 12 and dm.class_names[10:] == ("_silence_", "_unknown_")
    assert dm.n_frames == 98 and dm.input_shape == (1, 40, 98)
    assert dm.example_input(2).shape == (2, 1, 40, 98)
    for loader, train in ((dm.train_dataloader(), True), (dm.val_dataloader(), False), (dm.test_dataloader(), False)):
        x, y = dm.transform_batch(next(iter(loader)), train=train)
        assert x.shape == (32, 1, 40, 98) and x.dtype == torch.float32
        assert y.shape == (32,) and y.dtype == torch.int64
        assert torch.isfinite(x).all() and 0 <= y.min() and y.max() < 12


def test_eval_features_cached_and_match_fresh_computation(dm: SpeechCommandsDataModule) -> None:
    val = dm.datasets["validation"]
    assert isinstance(val, TensorPairDataset) and len(val) == 486 + 49 + 43
    assert isinstance(dm.datasets["training"], dm_module.SpeechCommandsDataset)  # augmented: raw
    from memtorch_power.kws.dataset import SpeechCommandsDataset
    from memtorch_power.kws.noise import load_background_noise
    from memtorch_power.kws.splits import split_clips

    raw = SpeechCommandsDataset(dm.root, "validation", split_clips(dm.root)["validation"],
                                noise=load_background_noise(dm.root))
    x, y = raw.__getitems__(range(len(raw) - 40, len(raw)))  # includes the silence items
    feats, labels = dm.transform_batch((x, y), train=False)
    torch.testing.assert_close(feats, val.x[-40:])
    assert torch.equal(labels, val.y[-40:])


def test_training_batches_augmented(dm: SpeechCommandsDataModule) -> None:
    batch = next(iter(dm.train_dataloader()))
    plain, _ = dm.transform_batch(batch, train=False)
    augmented, _ = dm.transform_batch(batch, train=True)
    assert not torch.allclose(augmented, plain)


def _first_train_batch(root: Path, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    module = SpeechCommandsDataModule(str(root), batch_size=16, seed=seed)
    module.setup("fit")
    torch.manual_seed(0)  # training silence windows come from torch's global RNG
    return module.transform_batch(next(iter(module.train_dataloader())), train=True)


def test_training_batches_reproducible_with_seed(tiny_root: Path) -> None:
    x1, y1 = _first_train_batch(tiny_root, seed=5)
    x2, y2 = _first_train_batch(tiny_root, seed=5)
    x3, y3 = _first_train_batch(tiny_root, seed=6)
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)


def test_no_augment_caches_training_features(tiny_root: Path) -> None:
    module = SpeechCommandsDataModule(str(tiny_root), augment=False, batch_size=8, features="logmel", n_features=32)
    module.setup("fit")
    assert module.augmenter is None
    train = module.datasets["training"]
    assert isinstance(train, TensorPairDataset) and train.x.shape[1:] == (1, 32, 98)
    x, y = module.transform_batch(next(iter(module.train_dataloader())), train=True)
    assert x.shape == (8, 1, 32, 98)


class _Probe(L.LightningModule):
    def __init__(self) -> None:
        super().__init__()
        self.net = DSCNN(channels=8, blocks=1)
        self.seen: list[tuple[str, tuple[int, ...], torch.dtype, torch.dtype]] = []

    def training_step(self, batch, _idx):
        x, y = batch
        self.seen.append(("train", tuple(x.shape), x.dtype, y.dtype))
        return nn.functional.cross_entropy(self.net(x), y)

    def validation_step(self, batch, _idx):
        x, y = batch
        self.seen.append(("val", tuple(x.shape), x.dtype, y.dtype))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def test_trainer_integration(tiny_root: Path) -> None:
    module = SpeechCommandsDataModule(str(tiny_root), batch_size=4)
    calls = {"n": 0}
    probe = _Probe()
    trainer = L.Trainer(fast_dev_run=2, accelerator="cpu", logger=False, enable_checkpointing=False,
                        enable_progress_bar=False, enable_model_summary=False)
    module.setup("fit")
    inner = module.augmenter
    module.augmenter = nn.Sequential(_Counter(inner, calls))
    trainer.fit(probe, datamodule=module)
    kinds = [s[0] for s in probe.seen]
    assert kinds.count("train") == 2 and kinds.count("val") == 2
    assert calls["n"] == 2  # augmentation ran on training batches only
    assert all(s[1] == (4, 1, 40, 98) and s[2] == torch.float32 and s[3] == torch.int64 for s in probe.seen)


class _Counter(nn.Module):
    def __init__(self, inner: nn.Module, calls: dict) -> None:
        super().__init__()
        self.inner, self.calls = inner, calls

    def forward(self, x):
        self.calls["n"] += 1
        return self.inner(x)


def test_missing_root(tmp_path: Path) -> None:
    module = SpeechCommandsDataModule(str(tmp_path / "nowhere"))
    with pytest.raises(FileNotFoundError, match=r"nowhere.*download=True"):
        module.setup("fit")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FileNotFoundError, match=r"empty.*holds no clips"):
        SpeechCommandsDataModule(str(empty)).setup("fit")


def test_download_flag_calls_downloader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    monkeypatch.setattr(dm_module, "download_speech_commands", lambda root: called.append(root))
    SpeechCommandsDataModule(str(tmp_path / "sc"), download=True).prepare_data()
    SpeechCommandsDataModule(str(tmp_path / "sc2"), download=False).prepare_data()
    assert called == [str(tmp_path / "sc")]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"protocol": "20"}, "protocol '20'"), ({"features": "wavelet"}, "unknown features 'wavelet'"),
     ({"silence_share": 2.0}, "silence_share"), ({"batch_size": 0}, "batch_size")],
)
def test_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpeechCommandsDataModule("/does/not/matter", **kwargs)


def test_protocol_35(tiny_root: Path) -> None:
    module = SpeechCommandsDataModule(str(tiny_root), protocol=35, batch_size=4)  # int, as from YAML
    module.setup("fit")
    assert module.num_classes == 35
    val = module.datasets["validation"]
    listed = (tiny_root / "validation_list.txt").read_text().split()
    assert len(val) == len(listed)  # no silence/unknown items
    assert sorted(val.y.tolist()) == sorted(module.class_names.index(n.split("/")[0]) for n in listed)


@pytest.mark.parametrize("cache_audio", [True, False])
def test_corrupt_wav_named(tiny_root: Path, cache_audio: bool) -> None:
    listed = set((tiny_root / "validation_list.txt").read_text().split()) | set(
        (tiny_root / "testing_list.txt").read_text().split())
    bad = next(p for p in sorted((tiny_root / "yes").glob("*.wav")) if f"yes/{p.name}" not in listed)
    bad.write_bytes(b"\x00garbage" * 100)
    module = SpeechCommandsDataModule(str(tiny_root), batch_size=64, cache_audio=cache_audio)
    with pytest.raises(ValueError, match=rf"{bad.name}.*corrupt"):
        module.setup("fit")  # cached: read at setup
        for batch in module.train_dataloader():  # lazy: read when loaded
            pass


def _training_and_plain_features(dm: SpeechCommandsDataModule) -> tuple[torch.Tensor, torch.Tensor]:
    """One training batch's features as training sees them (augmented, masked) and without any
    augmentation, for the same clips."""
    dm.setup("fit")
    batch = next(iter(dm.train_dataloader()))
    torch.manual_seed(0)
    masked, _ = dm.transform_batch(batch, train=True)
    plain, _ = dm.transform_batch(batch, train=False)
    return masked, plain


def test_time_masks_fill_spans_of_training_features_only(tiny_root: Path) -> None:
    dm = SpeechCommandsDataModule(str(tiny_root), batch_size=8, n_features=10, time_masks=2,
                                  time_mask_frames=20, noise_prob=0.0, max_shift_ms=0.0)
    masked, plain = _training_and_plain_features(dm)
    changed = (masked != plain).any(dim=2).squeeze(1)  # [B, frames]: frames that were masked
    assert changed.any(), "time masking changed no frame"
    mean = plain.mean(dim=(1, 2, 3))  # [B]: each example's mean feature value
    frames = masked.squeeze(1).transpose(1, 2)  # [B, frames, features]
    for example in range(len(frames)):
        filled = frames[example][changed[example]]
        torch.testing.assert_close(filled, mean[example].expand_as(filled))
    assert changed.sum(dim=1).max() <= 2 * 20
    with pytest.raises(ValueError, match="time_masks"):
        SpeechCommandsDataModule(str(tiny_root), time_masks=-1)


def test_frequency_masks_fill_feature_rows_of_training_features_only(tiny_root: Path) -> None:
    dm = SpeechCommandsDataModule(str(tiny_root), batch_size=8, features="logmel", n_features=16,
                                  freq_masks=1, freq_mask_bins=6, noise_prob=0.0, max_shift_ms=0.0)
    masked, plain = _training_and_plain_features(dm)
    rows = (masked != plain).any(dim=3).squeeze(1)  # [B, features]: rows that were masked
    assert rows.any(), "frequency masking changed no row"
    assert rows.sum(dim=1).max() <= 6
    mean = plain.mean(dim=(1, 2, 3))
    for example in range(len(rows)):
        filled = masked[example, 0][rows[example]]
        torch.testing.assert_close(filled, mean[example].expand_as(filled))
        # the masked rows are contiguous (one mask)
        index = rows[example].nonzero().flatten()
        if len(index):
            assert index.max() - index.min() + 1 == len(index)
    with pytest.raises(ValueError, match="freq_masks"):
        SpeechCommandsDataModule(str(tiny_root), freq_masks=-1)


def test_speed_perturbation_option(tiny_root: Path) -> None:
    from memtorch_power.kws.augment import SpeedPerturb

    module = SpeechCommandsDataModule(str(tiny_root), batch_size=4, speed_factors=[0.9, 1.1])
    module.setup("fit")
    assert module.augmenter is not None and isinstance(module.augmenter[0], SpeedPerturb)
    assert module.augmenter[0].factors == (0.9, 1.1)
    x, _ = module.transform_batch(next(iter(module.train_dataloader())), train=True)
    assert x.shape[1:] == module.input_shape and torch.isfinite(x).all()
    assert not any(isinstance(m, SpeedPerturb) for m in SpeechCommandsDataModule(str(tiny_root))._build_augmenter())
    with pytest.raises(ValueError, match="speed_factors must all be > 0"):
        SpeechCommandsDataModule(str(tiny_root), speed_factors=[1.0, -0.9])


def test_reversed_negatives_option(tiny_root: Path) -> None:
    from memtorch_power.kws.labels import label_index

    dm = SpeechCommandsDataModule(str(tiny_root), batch_size=64, noise_prob=0.0, max_shift_ms=0.0,
                                  reversed_negatives=1.0)
    dm.setup("fit")
    assert dm.negatives is not None
    batch = next(iter(dm.train_dataloader()))
    x, y = dm.transform_batch(batch, train=True)
    plain, y_plain = dm.transform_batch(batch, train=False)
    unknown = label_index("_unknown_")
    kept = torch.tensor([label_index(word) for word in ("_silence_", "no", "on")])  # never reversed
    eligible = ~torch.isin(y_plain, kept)
    assert eligible.any() and (~eligible).any()
    assert (y[eligible] == unknown).all()
    assert torch.equal(y[~eligible], y_plain[~eligible])
    # a reversed clip's features are the plain clip's features played backwards (up to frame edges)
    reversed_wave = batch[0][eligible].float().flip(1) / 32768
    torch.testing.assert_close(x[eligible], dm.feature_extractor(reversed_wave))
    torch.testing.assert_close(x[~eligible], plain[~eligible])
    assert SpeechCommandsDataModule(str(tiny_root)).negatives is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"reversed_negatives": 1.2}, "reversed_negatives must be in"),
     ({"reversed_negatives": 0.1, "protocol": "35"}, "12-class protocol"),
     ({"reversed_negatives": 0.1, "augment": False}, "augment=True"),
     ({"reversed_exclude": ("no", "cat")}, "not keywords: \\['cat'\\]")],
)
def test_reversed_negatives_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SpeechCommandsDataModule("/does/not/matter", **kwargs)


def test_train_on_validation_adds_validation_clips_to_training_only(tiny_root: Path) -> None:
    from memtorch_power.kws.labels import KEYWORDS

    plain = SpeechCommandsDataModule(str(tiny_root), batch_size=4)
    plain.setup(None)
    both = SpeechCommandsDataModule(str(tiny_root), batch_size=4, train_on_validation=True)
    both.setup(None)
    splits = plain._clips
    assert splits is not None and splits["validation"]
    train_clips = set(both.datasets["training"].items.clips)
    validation_keywords = {c for c in splits["validation"] if c.split("/")[0] in KEYWORDS}
    assert validation_keywords and validation_keywords <= train_clips
    assert train_clips <= set(splits["training"]) | set(splits["validation"])
    assert not train_clips & set(splits["testing"])
    assert len(both.datasets["training"]) > len(plain.datasets["training"])
    assert len(both.datasets["validation"]) == len(plain.datasets["validation"])

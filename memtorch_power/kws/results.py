"""Read what keyword-spotting runs left behind: checkpoints and comparison run folders.

* :func:`load_keyword_spotter`: a :class:`~memtorch_power.kws.module.KeywordSpotter` from a
  Lightning checkpoint (CPU); :func:`datamodule_for`: the data module it was trained with.
* :func:`confusion_matrix`: counts ``[true, predicted]`` of a model on one split.
* A comparison run folder (``memtorch_power.kws.compare.compare`` writes it): the table
  (:func:`read_comparison`), learning curves from each preset's ``metrics.csv``
  (:func:`learning_curves`), accuracy under drift from ``drift.json`` (:func:`drift_curves`),
  the per-layer energy reports (:func:`energy_breakdown`) and the best checkpoints
  (:func:`best_checkpoint`).

Tables are pandas DataFrames; accuracies are fractions in [0, 1], energies in J.
Checkpoints are loaded with ``weights_only=True``: the aihwkit classes of analog layers are
registered as safe by :mod:`memtorch_power.nn.safe_load`, and nothing else is unpickled.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

if TYPE_CHECKING:
    import pandas

    from memtorch_power.kws.datamodule import SpeechCommandsDataModule
    from memtorch_power.kws.module import KeywordSpotter

PathLike = str | os.PathLike[str]

__all__ = [
    "best_checkpoint", "confusion_matrix", "datamodule_for", "drift_curves", "energy_breakdown",
    "learning_curves", "load_keyword_spotter", "read_checkpoint", "read_comparison", "run_presets",
]


# -- checkpoints ------------------------------------------------------------------------------------
def read_checkpoint(path: PathLike) -> dict[str, Any]:
    """The raw checkpoint dictionary (CPU, ``weights_only=True``).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: the file is not a Lightning checkpoint of a LightningModule.
    """
    if not Path(path).is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(checkpoint, dict) or "state_dict" not in checkpoint:
        raise ValueError(f"{path} is not a Lightning checkpoint (no 'state_dict' entry)")
    return checkpoint


def load_keyword_spotter(path: PathLike) -> "KeywordSpotter":
    """A ``KeywordSpotter`` rebuilt from its checkpoint's hyper-parameters, on CPU, in eval mode.

    ``init_from`` is not followed again (the checkpoint holds the trained weights), so the
    checkpoint loads even when the file it was initialised from is gone.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a checkpoint of a ``KeywordSpotter``.
    """
    from memtorch_power.kws.module import KeywordSpotter

    checkpoint = read_checkpoint(path)
    if "hyper_parameters" not in checkpoint or "model" not in checkpoint["hyper_parameters"]:
        raise ValueError(f"{path} is not a KeywordSpotter checkpoint (no model hyper-parameters)")
    module = KeywordSpotter.load_from_checkpoint(Path(path), map_location="cpu", weights_only=True, init_from=None)
    return module.eval()


def datamodule_for(path: PathLike, root: PathLike | None = None, **overrides: Any) -> "SpeechCommandsDataModule":
    """The ``SpeechCommandsDataModule`` a checkpoint was trained with (its saved hyper-parameters:
    protocol, features ...), reading ``root`` instead of the saved root if given."""
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    saved = {key: value for key, value in (read_checkpoint(path).get("datamodule_hyper_parameters") or {}).items()
             if not key.startswith("_")}  # Lightning's own entries (_instantiator)
    if root is not None:
        saved["root"] = os.fspath(root)
    saved.update(overrides)
    if "root" not in saved:
        raise ValueError(f"{path} holds no data-module settings; pass root=")
    return SpeechCommandsDataModule(**saved)


@torch.no_grad()
def confusion_matrix(model: torch.nn.Module, datamodule: "SpeechCommandsDataModule",
                     split: str = "testing", progress: bool = False) -> Tensor:
    """Counts ``[num_classes, num_classes]`` (row: true class, column: predicted) of ``model``
    on one split (``training``, ``validation`` or ``testing``) of ``datamodule``, unaugmented."""
    stages = {"training": ("fit", "train_dataloader"), "validation": ("validate", "val_dataloader"),
              "testing": ("test", "test_dataloader")}
    if split not in stages:
        raise ValueError(f"split must be 'training', 'validation' or 'testing', got {split!r}")
    stage, loader_of = stages[split]
    datamodule.setup(stage)
    loader = getattr(datamodule, loader_of)()
    was_training = model.training
    model.eval()
    n = datamodule.num_classes
    counts = torch.zeros(n, n, dtype=torch.long)
    batches: Any = loader
    if progress:
        from tqdm.auto import tqdm

        batches = tqdm(loader, desc=f"confusion matrix ({split})", leave=False)
    try:
        for batch in batches:
            x, y = datamodule.transform_batch(batch, train=False)
            predicted = model(x).argmax(dim=1)
            counts += torch.bincount(y * n + predicted, minlength=n * n).reshape(n, n)
    finally:
        model.train(was_training)
    return counts


def accuracy(model: torch.nn.Module, datamodule: "SpeechCommandsDataModule", split: str = "testing") -> tuple[float, int]:
    """``(accuracy as a fraction, clips)`` of ``model`` on one split of ``datamodule``, unaugmented
    (from :func:`confusion_matrix`)."""
    counts = confusion_matrix(model, datamodule, split)
    return float(counts.trace() / counts.sum()), int(counts.sum())


# -- comparison run folders -------------------------------------------------------------------------
def _run_dir(run_dir: PathLike) -> Path:
    folder = Path(run_dir)
    if not (folder / "comparison.json").is_file():
        raise FileNotFoundError(f"{folder} holds no comparison.json (not a finished comparison run folder)")
    return folder


def run_presets(run_dir: PathLike) -> list[str]:
    """The presets of a comparison run folder, in the order they ran."""
    payload = json.loads((_run_dir(run_dir) / "comparison.json").read_text(encoding="utf-8"))
    return [row["preset"] for row in payload["rows"]]


def read_comparison(run_dir: PathLike) -> "pandas.DataFrame":
    """The comparison table (one row per preset; see ``comparison.csv``)."""
    import pandas as pd

    return pd.read_csv(_run_dir(run_dir) / "comparison.csv")


def learning_curves(run_dir: PathLike) -> "pandas.DataFrame":
    """Per preset and epoch: ``train/loss_epoch``, ``train/acc``, ``val/loss``, ``val/acc`` (and
    the energy logged per epoch for analog presets), from each preset's ``metrics.csv``."""
    import pandas as pd

    folder = _run_dir(run_dir)
    frames = []
    for preset in run_presets(folder):
        path = folder / preset / "metrics.csv"
        if not path.is_file():
            continue
        metrics = pd.read_csv(path)
        if "epoch" not in metrics:
            continue
        metrics = metrics.dropna(subset=["epoch"])
        wanted = [c for c in metrics.columns if c not in ("step", "train/loss_step", "epoch")
                  and not c.startswith(("lr-", "test/"))]
        per_epoch = metrics.groupby("epoch")[wanted].last().reset_index()  # last non-null per column
        per_epoch = per_epoch.dropna(how="all", subset=wanted)  # the test run's epoch row
        per_epoch.insert(0, "preset", preset)
        frames.append(per_epoch)
    if not frames:
        return pd.DataFrame(columns=["preset", "epoch"])
    frame = pd.concat(frames, ignore_index=True)
    frame["epoch"] = frame["epoch"].astype(int)
    return frame


def drift_curves(run_dir: PathLike) -> "pandas.DataFrame":
    """Test accuracy against time after programming: one row per preset and drift time
    (``time``, ``t_seconds``, ``accuracy_mean``, ``accuracy_std``, ``reference_accuracy``);
    presets without a drift model (``digital``, in-memory training) have no rows."""
    import pandas as pd

    folder = _run_dir(run_dir)
    rows = []
    for preset in run_presets(folder):
        path = folder / preset / "drift.json"
        if not path.is_file():
            continue
        payload = json.loads(path.read_text(encoding="utf-8"))
        for entry in payload["summary"]:
            rows.append({"preset": preset, **entry, "reference_accuracy": payload.get("reference_accuracy")})
    columns = ["preset", "time", "t_seconds", "accuracy_mean", "accuracy_std", "repeats", "reference_accuracy"]
    return pd.DataFrame(rows, columns=columns)


def energy_breakdown(run_dir: PathLike, phase: str = "train") -> "pandas.DataFrame":
    """Energy per preset, layer and phase, analog system against digital baseline, from the
    ``energy_<phase>.csv`` reports (``phase`` ``train`` or ``test``) of the analog presets.

    Columns: ``preset``, ``layer``, ``kind``, ``phase`` (forward/backward/update), ``analog_j``,
    ``digital_j``.
    """
    import pandas as pd

    folder = _run_dir(run_dir)
    rows = []
    for preset in run_presets(folder):
        path = folder / preset / f"energy_{phase}.csv"
        if not path.is_file():
            continue
        report = pd.read_csv(path)
        for _, layer in report.iterrows():
            for step in ("forward", "backward", "update"):
                rows.append({
                    "preset": preset, "layer": layer["name"], "kind": layer["kind"], "phase": step,
                    "analog_j": float(layer.get(f"analog_{step}_j", 0.0)),
                    "digital_j": float(layer.get(f"digital_{step}_j", 0.0)),
                })
    return pd.DataFrame(rows, columns=["preset", "layer", "kind", "phase", "analog_j", "digital_j"])


def best_checkpoint(run_dir: PathLike, preset: str) -> Path:
    """The best (highest validation accuracy) checkpoint of ``preset`` in a comparison run folder.

    Raises:
        FileNotFoundError: naming the folder that was searched.
    """
    folder = _run_dir(run_dir) / preset / "checkpoints"
    candidates = sorted(folder.glob("best*.ckpt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"no best*.ckpt in {folder}")
    return candidates[-1]

"""Digital keyword spotters shipped with the package, each with the recipe that made it.

A shipped model is two files in ``memtorch_power/kws/pretrained_models/``: ``<name>.pt``, the
trained network's ``state_dict`` (plain tensors, loads with ``torch.load(weights_only=True)``),
and ``<name>.json``, where it comes from: the recipe config and the command that trained it,
the architecture and feature settings, the per-epoch validation accuracy and optimizer steps of
that run (so the training energy of the run can be priced), and its test accuracy on the
bundled test split with the number of clips. :func:`export_digital` writes both from a
checkpoint of the recipe; nothing is shipped whose origin cannot be reproduced by running the
recipe again.

The main job (``bash scripts/main.sh``) starts from ``dscnn_logmel40``: training it takes about
17 minutes on 2 cores, longer than the whole job may take, so the job tests the shipped weights
and fine-tunes every PCM preset from them within its budget.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import torch

from memtorch_power.io import write_atomic, write_json

#: Folder of the shipped models.
FOLDER = Path(__file__).resolve().parent / "pretrained_models"


def shipped_models() -> list[str]:
    """Names of the shipped models (those with both a ``.pt`` and a ``.json``)."""
    return sorted(p.stem for p in FOLDER.glob("*.json") if p.with_suffix(".pt").is_file())


def resolve(name_or_path: str) -> Path:
    """The weights file of a shipped model's name, or ``name_or_path`` itself if it is a file.

    Raises:
        FileNotFoundError: neither a shipped model nor a file; the message lists the shipped names.
    """
    if name_or_path in shipped_models():
        return FOLDER / f"{name_or_path}.pt"
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    raise FileNotFoundError(f"{name_or_path!r} is neither a shipped model ({', '.join(shipped_models()) or 'none'}) "
                            "nor a file")


def digital_state_dict(path: str) -> dict[str, torch.Tensor]:
    """A digital network's weights from a shipped model's name, a KeywordSpotter checkpoint or a
    plain ``state_dict`` file (``torch.load(weights_only=True)``: no pickled code runs).

    Raises:
        FileNotFoundError: neither a shipped model nor a file.
        ValueError: the file holds an analog model.
    """
    if path in shipped_models():  # the name of a shipped digital model
        path = str(resolve(path))
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise FileNotFoundError(f"init_from: no checkpoint at {path!r}: neither a shipped model "
                                f"({', '.join(shipped_models()) or 'none'}) nor a file") from None
    state = loaded.get("state_dict", loaded) if isinstance(loaded, dict) else loaded
    prefix = "network."
    if any(key.startswith(prefix) for key in state):
        state = {key[len(prefix):]: value for key, value in state.items() if key.startswith(prefix)}
    if any("crossbars" in key for key in state):
        raise ValueError(f"init_from: {path!r} holds an analog model; start from a digital one")
    return state


def metadata(name_or_path: str) -> dict[str, Any] | None:
    """The ``.json`` beside a shipped model's (or any exported model's) weights; None if absent."""
    sidecar = resolve(name_or_path).with_suffix(".json")
    return json.loads(sidecar.read_text(encoding="utf-8")) if sidecar.is_file() else None


def _validation_history(metrics_csv: Path) -> list[dict[str, Any]]:
    """``[{"epoch", "steps", "val_acc"}]`` from a CSVLogger's metrics.csv (steps: optimizer steps
    at the end of the epoch)."""
    epochs: dict[int, dict[str, Any]] = {}
    with open(metrics_csv, encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("val/acc"):
                epoch = int(row["epoch"])
                epochs[epoch] = {"epoch": epoch, "steps": int(row["step"]) + 1, "val_acc": float(row["val/acc"])}
    return [epochs[e] for e in sorted(epochs)]


def _commit() -> str | None:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True,
                              cwd=Path(__file__).resolve().parent).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        return None


def export_digital(checkpoint: str | Path, name: str, recipe: str, metrics_csv: str | Path | None = None,
                   test_accuracy: float | None = None, test_clips: int | None = None,
                   folder: str | Path = FOLDER) -> Path:
    """Write ``<folder>/<name>.pt`` (the digital network's ``state_dict``) and ``<name>.json``
    (its origin) from a digital KeywordSpotter checkpoint of ``recipe``; both atomically.

    Args:
        checkpoint: the recipe's best checkpoint (Lightning ``.ckpt`` of a digital KeywordSpotter).
        name: the model's name (file stem).
        recipe: the recipe config that trained it, e.g. ``recipes/configs/digital_logmel40.yaml``.
        metrics_csv: the run's CSVLogger ``metrics.csv`` (per-epoch validation accuracy and
            steps); None leaves the history empty.
        test_accuracy: accuracy measured on the test split (fraction), with ``test_clips`` clips.
        folder: where to write.

    Returns:
        The path of the weights file.
    """
    loaded = torch.load(checkpoint, map_location="cpu", weights_only=True)
    hparams = dict(loaded.get("hyper_parameters") or {})
    if hparams.get("preset") != "digital":
        raise ValueError(f"{checkpoint} is not a digital KeywordSpotter checkpoint (preset {hparams.get('preset')!r})")
    state = {key[len("network."):]: value for key, value in loaded["state_dict"].items() if key.startswith("network.")}
    data = dict(loaded.get("datamodule_hyper_parameters") or {})
    info = {
        "name": name,
        "recipe": recipe,
        "command": f"python recipes/kws.py fit --config {recipe}",
        "commit": _commit(),
        "model": hparams.get("model"),
        "model_kwargs": hparams.get("model_kwargs") or {},
        "num_classes": hparams.get("num_classes"),
        "n_features": hparams.get("n_features"),
        "n_frames": hparams.get("n_frames"),
        "features": data.get("features"),
        "protocol": data.get("protocol"),
        "freq_masks": data.get("freq_masks"),
        "trained_on": Path(str(data.get("root", ""))).name or None,
        "epoch": loaded.get("epoch"),
        "history": _validation_history(Path(metrics_csv)) if metrics_csv else [],
        "test_accuracy": test_accuracy,
        "test_clips": test_clips,
    }
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    weights = target / f"{name}.pt"
    write_atomic(weights, lambda tmp: torch.save(state, tmp))
    write_json(target / f"{name}.json", info)
    return weights

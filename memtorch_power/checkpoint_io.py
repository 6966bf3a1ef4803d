"""Lightning checkpoint IO that writes atomically and can load analog checkpoints."""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch.plugins.io import TorchCheckpointIO

from memtorch_power.io import write_atomic


def _keep_storage(storage: Any, location: Any) -> Any:
    """``map_location`` that leaves tensors where they were saved (Lightning's default)."""
    return storage


class AtomicCheckpointIO(TorchCheckpointIO):
    """Writes checkpoints through a temporary file and ``os.replace``, so an interrupted save
    never leaves a truncated ``.ckpt``.

    Checkpoints of analog models hold aihwkit configuration objects, which torch's
    ``weights_only`` loader refuses; this plugin loads them with ``weights_only=False``
    unless told otherwise: load only checkpoints you trust.
    """

    def save_checkpoint(self, checkpoint: dict[str, Any], path: Any, storage_options: Any = None) -> None:
        write_atomic(path, lambda tmp: torch.save(checkpoint, tmp))

    def load_checkpoint(
        self, path: Any, map_location: Any = _keep_storage, weights_only: bool | None = None
    ) -> dict[str, Any]:
        return super().load_checkpoint(
            path, map_location=map_location, weights_only=False if weights_only is None else weights_only
        )

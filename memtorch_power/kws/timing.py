"""Training throughput measured inside the training loop (clips per second)."""

from __future__ import annotations

import time
from typing import Any

import lightning as L


class TrainingThroughput(L.Callback):
    """Measures the wall time spent in training batches (forward, backward, optimizer step,
    data transfer and augmentation) and the clips processed; validation is not included.

    Attributes:
        seconds: wall time inside training batches, s.
        clips: training examples processed.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.clips = 0
        self._started: float | None = None

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch: Any, batch_idx: int) -> None:
        self._started = time.perf_counter()

    def on_train_batch_end(self, trainer: L.Trainer, pl_module: L.LightningModule, outputs: Any, batch: Any, batch_idx: int) -> None:
        if self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self.clips += len(batch[1])
            self._started = None

    @property
    def clips_per_second(self) -> float:
        """Training examples per second of training-batch wall time."""
        return self.clips / self.seconds if self.seconds > 0 else float("nan")

"""A plain local training loop and evaluation (no Lightning: light enough for Ray actors)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from memtorch_power.optim import optimizer_for


class InjectedFailure(RuntimeError):
    """Raised by :func:`train_local` when asked to fail (fault-injection tests)."""


@dataclass
class LocalTraining:
    """What one call of :func:`train_local` did.

    Attributes:
        batch_sizes: size of every batch trained, in order (their count is the number of
            optimizer steps).
        examples: examples seen (sum of ``batch_sizes``).
        mean_loss: mean training loss over the batches (nan if none).
    """

    batch_sizes: list[int] = field(default_factory=list)
    examples: int = 0
    mean_loss: float = math.nan

    @property
    def batches(self) -> int:
        return len(self.batch_sizes)


def train_local(
    model: nn.Module,
    x: Tensor,
    y: Tensor,
    epochs: int,
    batch_size: int,
    lr: float,
    optimizer: str = "sgd",
    momentum: float = 0.9,
    seed: int = 0,
    fail_after_batches: int | None = None,
    analog_lr: float | None = None,
) -> LocalTraining:
    """Train ``model`` in place on ``(x, y)`` for ``epochs`` shuffled epochs.

    Args:
        model: the model (analog or digital); its optimizer comes from ``optimizer_for``.
        x, y: features and labels.
        epochs, batch_size, lr, optimizer, momentum: the local training recipe.
        seed: seed of the shuffles.
        fail_after_batches: raise :class:`InjectedFailure` after this many batches
            (fault injection; ``None`` never).
        analog_lr: learning rate of the analog tiles when it differs from ``lr`` (see
            :func:`memtorch_power.optim.optimizer_for`); None: ``lr``.
    """
    if len(y) == 0:
        raise ValueError("train_local: no training examples")
    extra = {"momentum": momentum} if optimizer == "sgd" else {}
    opt = optimizer_for(model, lr=lr, optimizer=optimizer, analog_lr=analog_lr, **extra)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    result = LocalTraining()
    losses: list[float] = []
    model.train()
    device = _device(model)
    x, y = x.to(device), y.to(device)
    for _ in range(epochs):
        order = torch.randperm(len(y), generator=generator)
        for start in range(0, len(y), batch_size):
            if fail_after_batches is not None and result.batches >= fail_after_batches:
                raise InjectedFailure(f"injected failure after {result.batches} batches")
            index = order[start : start + batch_size].to(device)
            opt.zero_grad()
            loss = loss_fn(model(x[index]), y[index])
            loss.backward()
            opt.step()
            losses.append(float(loss.detach()))
            result.batch_sizes.append(len(index))
            result.examples += len(index)
    result.mean_loss = sum(losses) / len(losses) if losses else math.nan
    return result


@torch.no_grad()
def evaluate(model: nn.Module, x: Tensor, y: Tensor, batch_size: int = 256) -> tuple[float, float]:
    """``(accuracy in [0, 1], mean cross-entropy loss)`` of ``model`` on ``(x, y)`` in eval mode."""
    if len(y) == 0:
        raise ValueError("evaluate: no examples")
    was_training = model.training
    model.eval()
    device = _device(model)
    x, y = x.to(device), y.to(device)
    correct, loss_sum = 0, 0.0
    try:
        for start in range(0, len(y), batch_size):
            logits = model(x[start : start + batch_size])
            target = y[start : start + batch_size]
            loss_sum += float(nn.functional.cross_entropy(logits, target, reduction="sum"))
            correct += int((logits.argmax(dim=1) == target).sum())
    finally:
        model.train(was_training)
    return correct / len(y), loss_sum / len(y)


def _device(model: nn.Module) -> torch.device:
    """Where the model's parameters (or buffers) live; CPU for a model with neither."""
    tensor = next(model.parameters(), None)
    if tensor is None:
        tensor = next(model.buffers(), None)
    return tensor.device if tensor is not None else torch.device("cpu")


__all__ = ["InjectedFailure", "LocalTraining", "evaluate", "train_local"]

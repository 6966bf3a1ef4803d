"""Energy of what a node (or the cloud) computes, from :mod:`memtorch_power.energy`.

* Training: ``estimate(model, one batch, training=True).analog_j()`` times the number of
  batches of that size actually trained (a last, smaller batch is priced with its own size).
* Re-programming: :func:`memtorch_power.energy.programming_energy` of the analog layers.
* Inference: :func:`memtorch_power.energy.energy_per_inference`.

A model with no analog layer (preset ``digital``) is priced on the *digital* side of the
estimator: a copy is analogized with the ``ideal`` preset only to reuse its workload
counting, and ``digital_j`` on the chosen digital profile is used; it needs no programming.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import torch
from torch import nn

from memtorch_power.energy import energy_per_inference, estimate, programming_energy
from memtorch_power.nn import analog_layers, analogize

_TRAINING_CACHE: dict[tuple, float] = {}


def _is_analog(model: nn.Module) -> bool:
    return bool(analog_layers(model))


def _priced(model: nn.Module) -> tuple[nn.Module, bool]:
    """(model to count, whether to read the analog side)."""
    if _is_analog(model):
        return model, True
    return analogize(model, "ideal"), False


def batch_training_energy_j(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch_size: int,
    analog_profile: str = "hermes",
    digital_profile: str = "cortex_m4",
    side: str = "system",
) -> float:
    """Energy (J) of one training batch of ``batch_size`` examples of ``input_shape``.

    ``side="system"`` is the node's own hardware (analog system for analog models, the
    digital profile for digital ones); ``side="digital"`` forces the digital baseline
    (e.g. the cloud GPU for the centralised run). Cached per model structure and shape.
    """
    if side not in ("system", "digital"):
        raise ValueError(f"side must be 'system' or 'digital', got {side!r}")
    key = (repr(model), tuple(input_shape), int(batch_size), analog_profile, digital_profile, side)
    if key not in _TRAINING_CACHE:
        counted, analog = _priced(model)
        report = estimate(counted, torch.zeros(batch_size, *input_shape), analog=analog_profile,
                          digital=digital_profile, training=True, batches=1)
        use_analog = analog and side == "system"
        _TRAINING_CACHE[key] = report.analog_j() if use_analog else report.digital_j()
    return _TRAINING_CACHE[key]


def training_energy_j(
    model: nn.Module,
    input_shape: tuple[int, ...],
    batch_sizes: Iterable[int],
    analog_profile: str = "hermes",
    digital_profile: str = "cortex_m4",
    side: str = "system",
) -> float:
    """Energy (J) of training on batches of the given sizes: for each distinct size,
    :func:`batch_training_energy_j` times the number of batches of that size."""
    counts = Counter(int(b) for b in batch_sizes)
    return sum(
        n * batch_training_energy_j(model, input_shape, size, analog_profile, digital_profile, side)
        for size, n in counts.items()
    )


def reprogramming_energy_j(model: nn.Module, analog_profile: str = "hermes") -> float:
    """Energy (J) to write all analog weights of ``model`` into its PCM arrays once
    (0 for a model without analog layers)."""
    return programming_energy(model, analog_profile) if _is_analog(model) else 0.0


def inference_energy_j(
    model: nn.Module,
    input_shape: tuple[int, ...],
    analog_profile: str = "hermes",
    digital_profile: str = "cortex_m4",
    side: str = "system",
    batch_size: int = 1,
) -> float:
    """Forward energy (J) per example, from an example batch of ``batch_size``.

    ``side`` as in :func:`batch_training_energy_j`.
    """
    counted, analog = _priced(model)
    energy = energy_per_inference(counted, torch.zeros(batch_size, *input_shape), analog_profile, digital_profile)
    return energy.analog_j if analog and side == "system" else energy.digital_j


__all__ = ["batch_training_energy_j", "inference_energy_j", "reprogramming_energy_j", "training_energy_j"]

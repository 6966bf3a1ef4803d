"""The optimizer a model's presets need, so a training loop changes in one line."""

from __future__ import annotations

from typing import Any, Literal

import torch
from aihwkit.optim import AnalogOptimizer
from aihwkit.optim.context import AnalogContext
from torch import nn

from memtorch_power.nn.convert import analog_layers, analog_tiles

_DIGITAL_OPTIMIZERS: dict[str, type[torch.optim.Optimizer]] = {
    "sgd": torch.optim.SGD,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


def optimizer_for(
    model: nn.Module,
    lr: float = 0.01,
    optimizer: Literal["sgd", "adam", "adamw"] = "sgd",
    analog_lr: float | None = None,
    **kwargs: Any,
) -> torch.optim.Optimizer:
    """Build the optimizer for ``model``, analog or not.

    * Layers of in-memory presets (``pcm_training``, ``pcm_mixed_precision``) are updated
      by their tiles (PCM pulses, or digital accumulation then programming) with learning
      rate ``lr``; ``optimizer`` and ``kwargs`` govern only the digital parameters
      (norms, biases, digital layers).
    * Layers of digital-update presets (``ideal``, ``pcm_hwa``) are trained by ``optimizer``
      like any torch parameter, and their tiles apply weight clipping/remapping after
      every step.
    * A model with no analog layer gets the plain torch optimizer.

    Args:
        model: the model to train.
        lr: learning rate (for analog tiles and digital parameters alike).
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"``.
        analog_lr: learning rate of the analog tiles' weights, when it should differ from
            ``lr``: the pulsed update of in-memory presets (a PCM array and the SGD of the
            digital batch norms want different steps), or ``optimizer``'s step on the tile
            weights of digital-update presets; None uses ``lr``.
        **kwargs: passed to the torch optimizer (``momentum``, ``weight_decay`` ...).

    Raises:
        ValueError: for an unknown optimizer name or a non-positive ``analog_lr``.
    """
    try:
        optimizer_cls = _DIGITAL_OPTIMIZERS[optimizer]
    except KeyError:
        known = ", ".join(sorted(_DIGITAL_OPTIMIZERS))
        raise ValueError(f"unknown optimizer {optimizer!r}; known: {known}") from None
    if not analog_layers(model):
        return optimizer_cls(model.parameters(), lr=lr, **kwargs)
    analog_optimizer = AnalogOptimizer(optimizer_cls, model.parameters(), lr=lr, **kwargs)
    analog_optimizer.regroup_param_groups(model)
    if analog_lr is not None:
        if not analog_lr > 0:
            raise ValueError(f"analog_lr must be > 0, got {analog_lr}")
        for group in analog_optimizer.param_groups:
            if any(isinstance(p, AnalogContext) for p in group["params"]):
                group["lr"] = analog_lr  # AnalogOptimizer hands the group's lr to the tile each step
        _move_to_group(analog_optimizer, _torch_tile_weights(model), lr=analog_lr)
    return analog_optimizer


def _torch_tile_weights(model: nn.Module) -> list[nn.Parameter]:
    """The crossbar weights that torch's optimizer trains (tiles of digital-update presets).

    aihwkit's torch tiles (``ideal``, ``pcm_hwa``) hold their weight as an ``nn.Parameter`` of
    the tile; their ``AnalogContext`` carries no gradient. Pulsed tiles hold theirs in C++.
    """
    weights = [getattr(tile.tile, "weight", None) for tile in analog_tiles(model)]
    return [w for w in weights if isinstance(w, nn.Parameter) and w.requires_grad]


def _move_to_group(optimizer: torch.optim.Optimizer, params: list[nn.Parameter], lr: float) -> None:
    """Take ``params`` out of their parameter groups and give them a group of their own at
    ``lr`` (other settings copied from the group they came from). Before the first step only."""
    if not params:
        return
    wanted = {id(p) for p in params}
    settings: dict[str, Any] = {}
    moved: list[nn.Parameter] = []
    for group in optimizer.param_groups:
        keep = [p for p in group["params"] if id(p) not in wanted]
        if len(keep) != len(group["params"]):
            settings = {k: v for k, v in group.items() if k != "params"}
            moved.extend(p for p in group["params"] if id(p) in wanted)
            group["params"] = keep
    optimizer.param_groups[:] = [g for g in optimizer.param_groups if g["params"]]
    optimizer.add_param_group({**settings, "params": moved, "lr": lr})

"""The weight noise of hardware-aware training, and ramping it up.

A hardware-aware tile (``pcm_hwa``) adds Gaussian noise to its weights in every training forward
(aihwkit's ``WeightModifierParameter``: 6 % of the largest weight in the preset), so the network
learns weights that tolerate PCM's programming and read noise. Fine-tuning a digitally trained
network at full noise from the first step jolts it; ramping the noise up over the first epochs
(a curriculum over the injected noise) lets it adapt gradually. :func:`weight_noise_std` reads
each tile's noise level and :func:`set_weight_noise_std` changes it on the fly (aihwkit's
``TorchSimulatorTile.set_config``); the KWS module's ``noise_ramp_epochs`` uses them.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from memtorch_power.nn.convert import analog_tiles


def _noisy_tiles(model: nn.Module, action: str) -> list:
    tiles = analog_tiles(model)
    if not tiles:
        raise ValueError(f"{action}: the model has no analog layer (call analogize first)")
    unsupported = sorted({type(tile).__name__ for tile in tiles
                          if not hasattr(getattr(tile, "rpu_config", None), "modifier")
                          or not hasattr(getattr(tile, "tile", None), "set_config")})
    if unsupported:
        raise ValueError(f"{action}: tiles {', '.join(unsupported)} have no training weight noise that can change "
                         "on the fly; use a hardware-aware preset with PyTorch tiles such as 'pcm_hwa'")
    return tiles


def weight_noise_std(model: nn.Module) -> list[float]:
    """Each tile's training weight-noise standard deviation (in units of its largest weight), in
    :func:`memtorch_power.nn.convert.analog_tiles` order.

    Raises:
        ValueError: no analog layer, or tiles without an on-the-fly weight modifier.
    """
    return [float(tile.rpu_config.modifier.std_dev) for tile in _noisy_tiles(model, "weight_noise_std")]


def set_weight_noise_std(model: nn.Module, std_devs: Sequence[float]) -> nn.Module:
    """Set each tile's training weight-noise standard deviation (one value per tile, in
    :func:`weight_noise_std` order); takes effect at the next training forward. Returns ``model``.

    Raises:
        ValueError: a negative value, a count that does not match the tiles, or tiles without an
            on-the-fly weight modifier.
    """
    tiles = _noisy_tiles(model, "set_weight_noise_std")
    if len(std_devs) != len(tiles):
        raise ValueError(f"set_weight_noise_std: {len(std_devs)} values for {len(tiles)} tiles")
    if any(value < 0 for value in std_devs):
        raise ValueError(f"set_weight_noise_std: standard deviations must be >= 0, got {list(std_devs)}")
    for tile, value in zip(tiles, std_devs):
        tile.rpu_config.modifier.std_dev = float(value)
        tile.tile.set_config(tile.rpu_config)  # the simulator tile reads its own copy in forward
    return model


__all__ = ["set_weight_noise_std", "weight_noise_std"]

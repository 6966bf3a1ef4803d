"""Input ranges of hardware-aware tiles: how wide they start when re-initialised from data.

A hardware-aware tile (``pcm_hwa``) clips each input to a learned range before its DAC. In
training, the first ``init_from_data`` batches set that range to ``init_std_alpha`` standard
deviations of the layer's inputs (aihwkit's ``InputRangeParameter``; 3.0 in the preset, as
aihwkit's ``StandardHWATrainingPreset``), and gradients move it afterwards. From scratch that is
harmless; for a network trained digitally, whose post-ReLU activations are heavy-tailed, 3
standard deviations clip hard: measured on the shipped 40-log-mel DS-CNN, one epoch of forward
passes in training mode (no weight update) took validation accuracy from 86.9 % to 31.0 %, while
10 standard deviations kept 90.7 % (digital 92.0 %; docs/kws_accuracy_notes.md).
"""

from __future__ import annotations

import torch
from torch import nn

from memtorch_power.nn.convert import analog_tiles


def set_input_range_init(model: nn.Module, std_alpha: float, batches: int | None = None) -> nn.Module:
    """Re-initialise every hardware-aware tile's input range from the next training batches, at
    ``std_alpha`` standard deviations of its inputs.

    Args:
        model: a model with analog layers whose preset learns input ranges (``pcm_hwa``).
        std_alpha: width of the initial range, in standard deviations of the layer's inputs (> 0).
        batches: training batches the initialisation averages over (None: the preset's).

    Returns:
        ``model``, whose tiles start their input-range initialisation again at the next training
        forward.

    Raises:
        ValueError: ``std_alpha`` not positive, ``batches`` not positive, or no tile learns an
            input range.
    """
    if not std_alpha > 0:
        raise ValueError(f"set_input_range_init: std_alpha must be > 0, got {std_alpha}")
    if batches is not None and batches < 1:
        raise ValueError(f"set_input_range_init: batches must be >= 1, got {batches}")
    changed = 0
    for tile in analog_tiles(model):
        settings = tile.rpu_config.pre_post.input_range
        if not settings.enable or getattr(tile, "input_range_update_idx", None) is None:
            continue
        settings.init_std_alpha = float(std_alpha)
        if batches is not None:
            settings.init_from_data = int(batches)
        with torch.no_grad():
            tile.input_range_update_idx.zero_()
        changed += 1
    if not changed:
        raise ValueError("set_input_range_init: no analog tile of this model learns an input range "
                         "(use a hardware-aware preset such as 'pcm_hwa')")
    return model

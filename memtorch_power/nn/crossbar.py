"""The one place where a weight matrix meets aihwkit.

Every analog layer of :mod:`memtorch_power.nn` stores its weights as one or more
*crossbars*: an aihwkit ``AnalogLinear`` holding a ``[cols, rows]`` matrix (``cols`` outputs,
``rows`` inputs), which aihwkit itself splits over physical arrays of the preset's size
and whose partial sums it adds digitally. A crossbar computes ``y = W x + b`` for a batch
``x`` of shape ``[n, rows]``: one analog MVM per row of ``x``.
"""

from __future__ import annotations

import torch
from aihwkit.nn import AnalogLinear as _AihwkitLinear
from torch import Tensor

from memtorch_power.presets import Preset


class Crossbar(_AihwkitLinear):
    """A ``[cols, rows]`` weight matrix on simulated PCM arrays (an aihwkit ``AnalogLinear``).

    Args:
        rows: inputs per MVM (crossbar rows driven by DACs).
        cols: outputs per MVM (crossbar columns read by ADCs).
        bias: whether a (digital) bias is added to the outputs.
        preset: the preset whose ``RPUConfig`` configures the tiles.
    """

    def __init__(self, rows: int, cols: int, bias: bool, preset: Preset) -> None:
        super().__init__(rows, cols, bias=bias, rpu_config=preset.rpu_config())
        self.rows = rows
        self.cols = cols
        self.has_bias = bias
        self.register_load_state_dict_pre_hook(_match_scalar_buffer_shapes)

    def read(self) -> tuple[Tensor, Tensor | None]:
        """The stored weights ``[cols, rows]`` and bias ``[cols]`` (exact copies, detached)."""
        weight, bias = self.get_weights()
        return weight.detach().clone(), None if bias is None else bias.detach().clone()

    def write(self, weight: Tensor, bias: Tensor | None) -> None:
        """Store ``weight`` ``[cols, rows]`` and ``bias`` ``[cols]`` exactly (no write noise)."""
        if tuple(weight.shape) != (self.cols, self.rows):
            raise ValueError(
                f"crossbar weight must have shape {(self.cols, self.rows)}, got {tuple(weight.shape)}"
            )
        device = next(self.analog_tiles()).device
        with torch.no_grad():
            self.set_weights(
                weight.detach().to(device, torch.float32),
                None if bias is None else bias.detach().to(device, torch.float32),
            )


def _match_scalar_buffer_shapes(module: Crossbar, state_dict: dict, prefix: str, *_: object) -> None:
    """Drift sets the drift-compensation factor ``alpha`` to a 0-d tensor (global compensation)
    or a per-column vector where a fresh tile holds a ``[1]`` buffer: reshape one-element entries,
    and give a one-element buffer the saved shape, so a drifted state loads."""
    for name, buffer in list(module.named_buffers()):
        key = prefix + name
        value = state_dict.get(key)
        if value is None or value.shape == buffer.shape:
            continue
        if value.numel() == buffer.numel():
            state_dict[key] = value.reshape(buffer.shape)
        elif buffer.numel() == 1:
            owner_path, _, leaf = name.rpartition(".")
            owner = module.get_submodule(owner_path) if owner_path else module
            setattr(owner, leaf, torch.empty(value.shape, dtype=buffer.dtype, device=buffer.device))

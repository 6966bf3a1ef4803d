"""``AnalogLinear``: ``nn.Linear`` on a simulated PCM crossbar."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from memtorch_power.nn.base import DEFAULT_PRESET, AnalogLayer, check_dtype, filled_twin
from memtorch_power.presets import PresetLike


class AnalogLinear(AnalogLayer):
    """Drop-in replacement for :class:`torch.nn.Linear` whose matrix lives on PCM arrays.

    Same arguments, defaults, initialisation and shapes as ``nn.Linear``
    (input ``[*, in_features]``, output ``[*, out_features]``), plus ``preset``.
    One forward call performs one analog MVM per input row (``x.numel() / in_features``).

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: learn an additive bias (added digitally after the ADC).
        device: where to put the layer (pure-PyTorch presets run on GPU; pulsed PCM
            presets need aihwkit's C++ tiles, CPU-only in its PyPI wheels).
        dtype: only ``torch.float32`` (aihwkit tiles compute in float32).
        preset: preset name (see :mod:`memtorch_power.presets`), ``Preset`` or aihwkit RPUConfig.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        preset: PresetLike = DEFAULT_PRESET,
    ) -> None:
        check_dtype("AnalogLinear", dtype)
        reference = nn.Linear(in_features, out_features, bias=bias)  # validates args, torch init
        super().__init__(preset)
        self.in_features = in_features
        self.out_features = out_features
        self.groups = 1
        self._weight_shape = (out_features, in_features)
        self._build_crossbars(in_features, out_features, bias)
        self.set_weights(reference.weight, reference.bias)
        if device is not None:
            self.to(device)

    def forward(self, x: Tensor) -> Tensor:
        if x.dim() == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"AnalogLinear expects input of shape [*, {self.in_features}], got {tuple(x.shape)}"
            )
        leading = x.shape[:-1]
        out = self._mvm(x.reshape(-1, self.in_features))
        return out.reshape(*leading, self.out_features)

    @classmethod
    def from_torch(cls, module: nn.Linear, preset: PresetLike = DEFAULT_PRESET) -> "AnalogLinear":
        """An ``AnalogLinear`` holding a copy of ``module``'s weights and bias."""
        layer = cls(module.in_features, module.out_features, module.bias is not None, preset=preset)
        layer.set_weights(module.weight, module.bias)
        return layer.to(module.weight.device)

    def to_torch(self) -> nn.Linear:
        """A plain ``nn.Linear`` with the currently stored weights and bias."""
        weight, bias = self.get_weights()
        layer = nn.Linear(self.in_features, self.out_features, bias=bias is not None)
        return filled_twin(layer, weight, bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.has_bias}, preset={self.preset.name}"
        )

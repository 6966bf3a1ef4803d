"""``AnalogConvTranspose1d`` and ``AnalogConvTranspose2d``: transposed convolutions on PCM.

A transposed convolution scatters every input position: its ``C_in/groups`` values go through
one analog MVM per position and group, onto a crossbar of shape
``[(C_out/groups) * prod(kernel_size), C_in/groups]`` (the torch weight ``[C_in, C_out/groups,
*kernel]`` of the group, transposed), and the per-position output patches are summed into the
output map (``F.fold``, digital additions). A forward performs
``batch * input_positions * groups`` MVMs. The bias (one per output channel) is added digitally
after the patches are summed.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from memtorch_power.nn.base import DEFAULT_PRESET, AnalogLayer, check_dtype, filled_twin
from memtorch_power.presets import PresetLike

_TORCH_CONV_T = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d}


class _AnalogConvTransposeNd(AnalogLayer):
    """Shared implementation of 1-d and 2-d analog transposed convolutions."""

    dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] = 0,
        output_padding: int | Sequence[int] = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: int | Sequence[int] = 1,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        preset: PresetLike = DEFAULT_PRESET,
    ) -> None:
        check_dtype(type(self).__name__, dtype)
        # the torch twin validates the arguments exactly as nn.ConvTransposeNd and initialises
        reference = _TORCH_CONV_T[self.dims](in_channels, out_channels, kernel_size, stride=stride,
                                             padding=padding, output_padding=output_padding, groups=groups,
                                             bias=bias, dilation=dilation, padding_mode=padding_mode)
        super().__init__(preset)
        self.in_channels, self.out_channels, self.groups = in_channels, out_channels, groups
        self.kernel_size: tuple[int, ...] = tuple(reference.kernel_size)
        self.stride: tuple[int, ...] = tuple(reference.stride)
        self.padding: tuple[int, ...] = tuple(reference.padding)
        self.output_padding: tuple[int, ...] = tuple(reference.output_padding)
        self.dilation: tuple[int, ...] = tuple(reference.dilation)
        self.padding_mode = padding_mode
        self._weight_shape = tuple(reference.weight.shape)  # [C_in, C_out/groups, *kernel]
        self._build_crossbars(in_channels // groups, (out_channels // groups) * math.prod(self.kernel_size), False)
        self.output_bias = nn.Parameter(torch.zeros(out_channels)) if bias else None
        self.set_weights(reference.weight, reference.bias)
        if device is not None:
            self.to(device)

    # -- weights in torch layout (the crossbars hold each group's matrix transposed) --------------
    @property
    def has_bias(self) -> bool:
        return self.output_bias is not None

    @property
    def bias_count(self) -> int:
        """One bias per output channel, added after the patches are summed."""
        return self.out_channels if self.has_bias else 0

    def get_weights(self) -> tuple[Tensor, Tensor | None]:
        """Weight ``[C_in, C_out/groups, *kernel]`` and bias ``[C_out]`` (detached copies)."""
        per_group = [crossbar.read()[0].t() for crossbar in self.crossbars]  # [C_in/g, C_out/g * K]
        weight = torch.cat(per_group, dim=0).reshape(self._weight_shape)
        return weight, None if self.output_bias is None else self.output_bias.detach().clone()

    def set_weights(self, weight: Tensor, bias: Tensor | None = None) -> None:
        """Store ``weight`` and ``bias`` given in the layout of ``nn.ConvTransposeNd``."""
        name = type(self).__name__
        if tuple(weight.shape) != self._weight_shape:
            raise ValueError(f"{name}.set_weights: weight must have shape {self._weight_shape}, "
                             f"got {tuple(weight.shape)}")
        if (bias is None) == self.has_bias:
            raise ValueError(f"{name}.set_weights: the layer {'has' if self.has_bias else 'has no'} bias")
        per_group = weight.detach().reshape(self.groups, self.in_channels // self.groups, -1)
        for index, crossbar in enumerate(self.crossbars):
            crossbar.write(per_group[index].t(), None)
        if bias is not None:
            with torch.no_grad():
                self.output_bias.copy_(bias.detach())  # type: ignore[union-attr]

    # -- forward ----------------------------------------------------------------------------------
    def forward(self, x: Tensor, output_size: Sequence[int] | None = None) -> Tensor:
        name = type(self).__name__
        if x.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{name} expects a {self.dims + 2}-d batch or {self.dims + 1}-d sample, "
                             f"got {tuple(x.shape)}")
        unbatched = x.dim() == self.dims + 1
        if unbatched:
            x = x.unsqueeze(0)
        if x.shape[1] != self.in_channels:
            raise ValueError(f"{name} expects {self.in_channels} input channels, got {tuple(x.shape)}")
        batch, spatial = x.shape[0], tuple(x.shape[2:])
        positions = math.prod(spatial)
        rows = x.flatten(2).transpose(1, 2).reshape(batch * positions, self.in_channels)
        patches = self._mvm(rows).reshape(batch, positions, -1).transpose(1, 2)  # [N, C_out*K, P]
        extra = self._output_padding(spatial, output_size)
        # sum the patches on the full canvas, then crop `padding` on both sides; output_padding
        # extends the right edge (zeros where no patch reaches)
        canvas = tuple((size - 1) * st + dil * (k - 1) + 1
                       for size, st, dil, k in zip(spatial, self.stride, self.dilation, self.kernel_size))
        if self.dims == 1:
            out = F.fold(patches, (1, canvas[0]), (1, self.kernel_size[0]), dilation=(1, self.dilation[0]),
                         stride=(1, self.stride[0])).squeeze(2)
        else:
            out = F.fold(patches, canvas, self.kernel_size, dilation=self.dilation, stride=self.stride)
        pads = [amount for op in reversed(extra) for amount in (0, op)]
        if any(pads):
            out = F.pad(out, pads)
        for axis, (size, pad, op) in enumerate(zip(canvas, self.padding, extra)):
            out = out.narrow(2 + axis, pad, size - 2 * pad + op)
        if self.output_bias is not None:
            out = out + self.output_bias.view(1, -1, *([1] * self.dims))
        return out.squeeze(0) if unbatched else out

    def _output_padding(self, spatial: tuple[int, ...], output_size: Sequence[int] | None) -> tuple[int, ...]:
        """torch's ``output_padding``, or the one that gives ``output_size``."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-self.dims:]
        extra = []
        for size, want, st, pad, dil, k in zip(spatial, wanted, self.stride, self.padding, self.dilation,
                                               self.kernel_size):
            smallest = (size - 1) * st - 2 * pad + dil * (k - 1) + 1
            if not smallest <= want < smallest + st:
                raise ValueError(f"{type(self).__name__}: output_size {tuple(output_size)} is not reachable "
                                 f"from input {spatial} (each size must be in [{smallest}, {smallest + st}))")
            extra.append(want - smallest)
        return tuple(extra)

    def output_positions(self, input_spatial: Sequence[int]) -> int:
        """MVMs per sample and group: one per *input* position (each is scattered)."""
        return math.prod(input_spatial)

    # -- conversion -------------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.Module, preset: PresetLike = DEFAULT_PRESET) -> "_AnalogConvTransposeNd":
        """An analog copy of ``module`` (``nn.ConvTranspose1d/2d``) with its weights and bias."""
        layer = cls(module.in_channels, module.out_channels, module.kernel_size, stride=module.stride,
                    padding=module.padding, output_padding=module.output_padding, groups=module.groups,
                    bias=module.bias is not None, dilation=module.dilation, padding_mode=module.padding_mode,
                    preset=preset)
        layer.set_weights(module.weight, module.bias)
        return layer.to(module.weight.device)

    def to_torch(self) -> nn.Module:
        """The torch twin with the currently stored weights."""
        weight, bias = self.get_weights()
        layer = _TORCH_CONV_T[self.dims](self.in_channels, self.out_channels, self.kernel_size, stride=self.stride,
                                          padding=self.padding, output_padding=self.output_padding,
                                          groups=self.groups, bias=bias is not None, dilation=self.dilation,
                                          padding_mode=self.padding_mode)
        return filled_twin(layer, weight, bias)

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}, groups={self.groups}, preset={self.preset.name}")


class AnalogConvTranspose1d(_AnalogConvTransposeNd):
    """Drop-in replacement for :class:`torch.nn.ConvTranspose1d` on simulated PCM crossbars."""

    dims = 1


class AnalogConvTranspose2d(_AnalogConvTransposeNd):
    """Drop-in replacement for :class:`torch.nn.ConvTranspose2d` on simulated PCM crossbars."""

    dims = 2

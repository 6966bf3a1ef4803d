"""``AnalogConv1d`` and ``AnalogConv2d``: convolutions as MVMs on simulated PCM crossbars.

A convolution is computed the way a crossbar accelerator runs it: the input is padded
(any torch ``padding`` and ``padding_mode``, including ``"same"``), unfolded into one patch
per output position, and each patch is one analog MVM on the layer's crossbar. A grouped
convolution (``groups > 1``, e.g. depthwise) has one crossbar per group of shape
``[out_channels/groups, in_channels/groups * prod(kernel_size)]``, so a forward performs
``batch * output_positions * groups`` MVMs.
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from memtorch_power.nn.base import DEFAULT_PRESET, AnalogLayer, check_dtype, filled_twin
from memtorch_power.presets import PresetLike

_TORCH_CONV = {1: nn.Conv1d, 2: nn.Conv2d}


class _AnalogConvNd(AnalogLayer):
    """Shared implementation of 1-d and 2-d analog convolutions (``dims`` spatial dims)."""

    dims: int

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: str | int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
        *,
        preset: PresetLike = DEFAULT_PRESET,
    ) -> None:
        name = type(self).__name__
        check_dtype(name, dtype)
        # The torch twin validates every argument exactly as nn.ConvNd does and gives the
        # same initialisation; it is discarded once its weights are copied.
        reference = _TORCH_CONV[self.dims](
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=bias,
            padding_mode=padding_mode,
        )
        super().__init__(preset)
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size: tuple[int, ...] = tuple(reference.kernel_size)
        self.stride: tuple[int, ...] = tuple(reference.stride)
        self.dilation: tuple[int, ...] = tuple(reference.dilation)
        self.padding = reference.padding if isinstance(reference.padding, str) else tuple(
            reference.padding
        )
        self.padding_mode = padding_mode
        self.groups = groups
        self._weight_shape = tuple(reference.weight.shape)
        self._pad = self._explicit_padding()
        rows = (in_channels // groups) * math.prod(self.kernel_size)
        self._build_crossbars(rows, out_channels // groups, bias)
        self.set_weights(reference.weight, reference.bias)
        if device is not None:
            self.to(device)

    # -- padding ------------------------------------------------------------------------------
    def _explicit_padding(self) -> tuple[int, ...]:
        """Padding for ``F.pad`` (last dim first, left then right), torch's conventions."""
        pads: list[int] = []
        for axis in reversed(range(self.dims)):
            if self.padding == "valid":
                left = right = 0
            elif self.padding == "same":
                total = self.dilation[axis] * (self.kernel_size[axis] - 1)
                left = total // 2
                right = total - left
            else:
                left = right = int(self.padding[axis])
            pads += [left, right]
        return tuple(pads)

    def _padded(self, x: Tensor) -> Tensor:
        if not any(self._pad):
            return x
        if self.padding_mode == "zeros":
            return F.pad(x, self._pad)
        return F.pad(x, self._pad, mode=self.padding_mode)

    # -- forward ------------------------------------------------------------------------------
    def _check_input(self, x: Tensor) -> bool:
        """Validate ``x``; return True if it is unbatched (``[C, *spatial]``)."""
        name = type(self).__name__
        spatial = "L" if self.dims == 1 else "H, W"
        if x.dim() not in (self.dims + 1, self.dims + 2):
            raise ValueError(
                f"{name} expects input of shape [N, C, {spatial}] or [C, {spatial}], "
                f"got {tuple(x.shape)}"
            )
        unbatched = x.dim() == self.dims + 1
        channels = x.shape[0 if unbatched else 1]
        if channels != self.in_channels:
            raise ValueError(
                f"{name} expects {self.in_channels} input channels, got input of shape "
                f"{tuple(x.shape)} with {channels}"
            )
        return unbatched

    def forward(self, x: Tensor) -> Tensor:
        unbatched = self._check_input(x)
        if unbatched:
            x = x.unsqueeze(0)
        x = self._padded(x)
        patches, out_spatial = self._unfold(x)  # [N, C*K, L]
        batch, _, positions = patches.shape
        rows = patches.transpose(1, 2).reshape(batch * positions, -1)
        out = self._mvm(rows)  # [N*L, out_channels]
        out = out.reshape(batch, positions, self.out_channels).transpose(1, 2)
        out = out.reshape(batch, self.out_channels, *out_spatial)
        return out.squeeze(0) if unbatched else out

    def _unfold(self, x: Tensor) -> tuple[Tensor, tuple[int, ...]]:
        """Patches ``[N, C*prod(kernel), positions]`` (channel-major, like the conv weight)."""
        if self.dims == 1:
            x = x.unsqueeze(2)
            kernel, stride, dilation = (1, *self.kernel_size), (1, *self.stride), (1, *self.dilation)
        else:
            kernel, stride, dilation = self.kernel_size, self.stride, self.dilation
        spatial_in = x.shape[2:]
        out_spatial = tuple(
            (size - dil * (k - 1) - 1) // st + 1
            for size, k, st, dil in zip(spatial_in, kernel, stride, dilation)
        )
        if any(size <= 0 for size in out_spatial):
            raise ValueError(
                f"{type(self).__name__}: input of spatial size {tuple(spatial_in)} (after padding) "
                f"is smaller than the dilated kernel {self.kernel_size}"
            )
        patches = F.unfold(x, kernel, dilation=dilation, stride=stride)
        return patches, out_spatial[1:] if self.dims == 1 else out_spatial

    # -- conversion ---------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.Module, preset: PresetLike = DEFAULT_PRESET) -> "_AnalogConvNd":
        """An analog convolution with all of ``module``'s arguments, weights and bias."""
        layer = cls(
            module.in_channels,
            module.out_channels,
            module.kernel_size,
            stride=module.stride,
            padding=module.padding,
            dilation=module.dilation,
            groups=module.groups,
            bias=module.bias is not None,
            padding_mode=module.padding_mode,
            preset=preset,
        )
        layer.set_weights(module.weight, module.bias)
        return layer.to(module.weight.device)

    def to_torch(self) -> nn.Module:
        """The torch twin (``nn.Conv1d``/``nn.Conv2d``) with the currently stored weights."""
        weight, bias = self.get_weights()
        layer = _TORCH_CONV[self.dims](
            self.in_channels,
            self.out_channels,
            self.kernel_size,
            stride=self.stride,
            padding=self.padding,
            dilation=self.dilation,
            groups=self.groups,
            bias=bias is not None,
            padding_mode=self.padding_mode,
        )
        return filled_twin(layer, weight, bias)

    def output_positions(self, input_spatial: Sequence[int]) -> int:
        """Output positions (one MVM per position and group) for an input of this spatial size."""
        padded = [
            size + self._pad[2 * (self.dims - 1 - axis)] + self._pad[2 * (self.dims - 1 - axis) + 1]
            for axis, size in enumerate(input_spatial)
        ]
        return math.prod(
            (size - dil * (k - 1) - 1) // st + 1
            for size, k, st, dil in zip(padded, self.kernel_size, self.stride, self.dilation)
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding not in ("valid",) and self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if not self.has_bias:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text + f", preset={self.preset.name}"


class AnalogConv1d(_AnalogConvNd):
    """Drop-in replacement for :class:`torch.nn.Conv1d` on simulated PCM crossbars.

    Same arguments, defaults, initialisation and shapes as ``nn.Conv1d`` (input ``[N, C, L]``
    or ``[C, L]``), plus ``preset``. Every ``padding`` (int, tuple, ``"same"``, ``"valid"``)
    and ``padding_mode`` of torch is supported; grouped and depthwise convolutions use one
    crossbar per group.
    """

    dims = 1


class AnalogConv2d(_AnalogConvNd):
    """Drop-in replacement for :class:`torch.nn.Conv2d` on simulated PCM crossbars.

    Same arguments, defaults, initialisation and shapes as ``nn.Conv2d`` (input
    ``[N, C, H, W]`` or ``[C, H, W]``), plus ``preset``. Every ``padding`` and
    ``padding_mode`` of torch is supported; grouped and depthwise convolutions use one
    crossbar per group.
    """

    dims = 2

"""What every analog layer shares: its preset, its crossbars, and torch-layout weights."""

from __future__ import annotations

from typing import Iterator

import torch
from torch import Tensor, nn

from memtorch_power.nn.crossbar import Crossbar
from memtorch_power.presets import Preset, PresetLike, get_preset

DEFAULT_PRESET = "pcm_hwa"


class AnalogLayer(nn.Module):
    """Base class of :class:`AnalogLinear`, :class:`AnalogConv1d` and :class:`AnalogConv2d`.

    An analog layer holds ``groups`` crossbars (one per convolution group; a Linear has one),
    each a ``[cols, rows]`` matrix. ``weight`` and ``bias`` read the stored values back in the
    layout of the torch twin (read-only tensors: write with :meth:`set_weights`).
    """

    groups: int
    _weight_shape: tuple[int, ...]  # the torch twin's weight shape, set by each layer

    def __init__(self, preset: PresetLike) -> None:
        super().__init__()
        self.preset: Preset = get_preset(preset)
        self.crossbars = nn.ModuleList()

    def _apply(self, fn, recurse: bool = True):  # type: ignore[no-untyped-def, override]
        """Device moves pass through to aihwkit; a conversion that leaves a float32 tensor as it
        is (``.float()``, ``.to("cpu")`` on CPU) is a no-op; any other dtype (``.double()``,
        ``.half()``, ``.to(torch.bfloat16)``) is refused, before anything changes, with one
        error that names this layer."""
        probe = torch.zeros(())
        try:
            converted = fn(probe)
        except Exception:  # noqa: BLE001 - not a tensor function: let torch and aihwkit decide
            converted = None
        if isinstance(converted, Tensor):
            if converted.dtype != torch.float32:
                raise TypeError(
                    f"{self.extra_repr_name()}: aihwkit tiles compute in float32 only (preset "
                    f"{self.preset.name!r}), not {converted.dtype}; convert the model with "
                    "memtorch_power.nn.digitalize() first, or keep it in float32"
                )
            if converted is probe:
                return self
        return super()._apply(fn, recurse)

    def extra_repr_name(self) -> str:
        """``AnalogLinear(rows x cols)``: the layer's type and matrix, for error messages."""
        groups = f" x{self.groups} groups" if getattr(self, "groups", 1) > 1 else ""
        return f"{type(self).__name__}({self.rows}x{self.cols}{groups})"

    # -- shape of the crossbars -------------------------------------------------------------
    @property
    def rows(self) -> int:
        """Inputs of one MVM (crossbar rows) per group."""
        return self.crossbars[0].rows

    @property
    def cols(self) -> int:
        """Outputs of one MVM (crossbar columns) per group."""
        return self.crossbars[0].cols

    @property
    def has_bias(self) -> bool:
        return bool(self.crossbars[0].has_bias)

    @property
    def bias_count(self) -> int:
        """Bias values added digitally to the outputs (one per crossbar column, or 0)."""
        return self.groups * self.cols if self.has_bias else 0

    # -- weights in torch layout -------------------------------------------------------------
    def get_weights(self) -> tuple[Tensor, Tensor | None]:
        """Weight and bias in the layout of the torch twin (exact copies, detached)."""
        weights, biases = zip(*(crossbar.read() for crossbar in self.crossbars))
        weight = torch.cat(weights, dim=0).reshape(self._weight_shape)
        bias = None if biases[0] is None else torch.cat(biases, dim=0)
        return weight, bias

    def set_weights(self, weight: Tensor, bias: Tensor | None = None) -> None:
        """Store ``weight`` (and ``bias``) given in the layout of the torch twin."""
        expected = self._weight_shape
        if tuple(weight.shape) != expected:
            raise ValueError(
                f"{type(self).__name__}.set_weights: weight must have shape {expected}, "
                f"got {tuple(weight.shape)}"
            )
        if (bias is None) == self.has_bias:
            state = "has" if self.has_bias else "has no"
            raise ValueError(f"{type(self).__name__}.set_weights: the layer {state} bias")
        per_group = weight.reshape(self.groups, self.cols, self.rows)
        per_group_bias = None if bias is None else bias.reshape(self.groups, self.cols)
        for index, crossbar in enumerate(self.crossbars):
            crossbar.write(per_group[index], None if bias is None else per_group_bias[index])

    @property
    def weight(self) -> Tensor:
        """The stored weights in torch layout (a detached copy; use ``set_weights`` to write)."""
        return self.get_weights()[0]

    @property
    def bias(self) -> Tensor | None:
        """The stored bias (a detached copy) or ``None``."""
        return self.get_weights()[1]

    def analog_crossbars(self) -> Iterator[Crossbar]:
        """The aihwkit layers holding this layer's matrices."""
        return iter(self.crossbars)

    def _build_crossbars(self, rows: int, cols: int, bias: bool) -> None:
        for _ in range(self.groups):
            self.crossbars.append(Crossbar(rows, cols, bias, self.preset))

    def _mvm(self, x: Tensor) -> Tensor:
        """``[n, groups*rows] -> [n, groups*cols]``: each group's slice on its own crossbar."""
        if self.groups == 1:
            return self.crossbars[0](x)
        slices = x.split(self.rows, dim=-1)
        return torch.cat([cb(part) for cb, part in zip(self.crossbars, slices)], dim=-1)


def filled_twin(layer: nn.Module, weight: Tensor, bias: Tensor | None) -> nn.Module:
    """``layer`` (a fresh torch twin) holding ``weight`` and ``bias``, on their device."""
    with torch.no_grad():
        layer.weight.copy_(weight)
        if bias is not None:
            layer.bias.copy_(bias)
    return layer.to(weight.device)


def check_dtype(layer: str, dtype: torch.dtype | None) -> None:
    """aihwkit tiles compute in float32; any other ``dtype`` is refused by name."""
    if dtype is not None and dtype != torch.float32:
        raise ValueError(f"{layer}: dtype={dtype} is not supported; aihwkit tiles compute in float32")

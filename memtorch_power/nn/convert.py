"""Swap the layers of an existing model for their analog twins, and back."""

from __future__ import annotations

import copy
import fnmatch
from typing import Callable, Iterable

from torch import nn

from memtorch_power.nn.base import DEFAULT_PRESET, AnalogLayer
from memtorch_power.nn.conv import AnalogConv1d, AnalogConv2d
from memtorch_power.nn.linear import AnalogLinear
from memtorch_power.presets import PresetLike, get_preset

#: torch layer type -> analog twin. Subclasses of these torch types are not swapped
#: (their forward may differ); only exact types are.
ANALOG_TWINS: dict[type[nn.Module], type[AnalogLayer]] = {
    nn.Linear: AnalogLinear,
    nn.Conv1d: AnalogConv1d,
    nn.Conv2d: AnalogConv2d,
}

Exclude = Iterable[str] | Callable[[str, nn.Module], bool] | None


def _excluded(exclude: Exclude, name: str, module: nn.Module, skip_grouped: bool = False) -> bool:
    if skip_grouped and getattr(module, "groups", 1) > 1:
        return True
    if exclude is None:
        return False
    if callable(exclude):
        return bool(exclude(name, module))
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in exclude)


def analogize(
    model: nn.Module,
    preset: PresetLike = DEFAULT_PRESET,
    exclude: Exclude = None,
    inplace: bool = False,
    skip_grouped: bool = False,
) -> nn.Module:
    """Replace every ``nn.Linear``, ``nn.Conv1d`` and ``nn.Conv2d`` by its analog twin.

    Weights and biases are copied, so a trained model keeps what it learned. Nested
    modules, ``nn.Sequential``, ``nn.ModuleList``/``ModuleDict`` and custom modules are
    walked; a model that *is* a single layer is converted too.

    Args:
        model: the torch model.
        preset: preset for every converted layer (name, ``Preset`` or aihwkit RPUConfig).
        exclude: qualified module names (``fnmatch`` patterns such as ``"classifier"`` or
            ``"blocks.*.depthwise"``) or a predicate ``(name, module) -> bool``; matching layers
            stay digital.
        inplace: modify ``model`` itself instead of a deep copy.
        skip_grouped: keep grouped and depthwise convolutions (``groups > 1``) digital, as
            most analog accelerators do: a depthwise kernel would use a ``k x k``-row slice of
            an array per channel, and simulating one crossbar per group is slow.

    Returns:
        The converted model (``model`` itself if ``inplace``).

    Raises:
        ValueError: for an unknown preset name.
    """
    resolved = get_preset(preset)  # fail early on a bad preset name
    if not inplace:
        model = copy.deepcopy(model)
    twin = ANALOG_TWINS.get(type(model))
    if twin is not None:
        return model if _excluded(exclude, "", model, skip_grouped) else twin.from_torch(model, resolved)
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            qualified = f"{name}.{child_name}" if name else child_name
            twin = ANALOG_TWINS.get(type(child))
            if twin is None or _excluded(exclude, qualified, child, skip_grouped):
                continue
            setattr(module, child_name, twin.from_torch(child, resolved))
    return model


def digitalize(model: nn.Module, inplace: bool = False) -> nn.Module:
    """Replace every analog layer by its plain torch twin holding the current weights.

    Only the weights and biases carry over: what the preset's periphery does to the signal
    (DAC input ranges, which clip each layer's inputs, quantisation, noise) does not. A model
    trained hardware-aware (``pcm_hwa``) has adapted to its learned input ranges, so its
    digital twin can be much less accurate than the analog model (the 40-log-mel KWS DS-CNN:
    62.6 % against 88.2 %); fine-tune it digitally, or keep it analog, before relying on it.
    """
    if not inplace:
        model = copy.deepcopy(model)
    if isinstance(model, AnalogLayer):
        return model.to_torch()
    for _, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, AnalogLayer):
                setattr(module, child_name, child.to_torch())
    return model


def analog_layers(model: nn.Module) -> list[tuple[str, AnalogLayer]]:
    """``(qualified name, layer)`` for every analog layer of ``model``, in module order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, AnalogLayer)]

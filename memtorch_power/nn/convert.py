"""Swap the layers of an existing model for their analog twins, and back."""

from __future__ import annotations

import copy
import fnmatch
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NamedTuple

from torch import nn

from memtorch_power.nn.attention import AnalogMultiheadAttention
from memtorch_power.nn.base import DEFAULT_PRESET, AnalogLayer
from memtorch_power.nn.conv import AnalogConv1d, AnalogConv2d
from memtorch_power.nn.conv_transpose import AnalogConvTranspose1d, AnalogConvTranspose2d
from memtorch_power.nn.linear import AnalogLinear
from memtorch_power.nn.recurrent import AnalogGRU, AnalogLSTM, AnalogRNN, _AnalogRecurrent
from memtorch_power.presets import PresetLike, get_preset

#: torch layer type -> analog twin (a class with ``from_torch(module, preset)`` and
#: ``to_torch()``). Subclasses of these torch types are not swapped (their forward may differ);
#: only exact types are.
ANALOG_TWINS: dict[type[nn.Module], type[nn.Module]] = {
    nn.Linear: AnalogLinear,
    nn.Conv1d: AnalogConv1d,
    nn.Conv2d: AnalogConv2d,
    nn.ConvTranspose1d: AnalogConvTranspose1d,
    nn.ConvTranspose2d: AnalogConvTranspose2d,
    nn.MultiheadAttention: AnalogMultiheadAttention,
    nn.LSTM: AnalogLSTM,
    nn.GRU: AnalogGRU,
    nn.RNN: AnalogRNN,
}

#: Analog twins that are containers of analog layers (converted back as a whole by digitalize).
_COMPOSITE_TWINS = (AnalogMultiheadAttention, _AnalogRecurrent)

Exclude = Iterable[str] | Callable[[str, nn.Module], bool] | None

logger = logging.getLogger(__name__)

class _Reason(NamedTuple):
    """Why a module stays digital.

    Attributes:
        text: the reason, as logged and listed.
        unsupported: no analog twin can take it (logged at WARNING); False for the caller's
            choices and for modules that hold no matrix to put on an array.
        whole: its children stay digital with it (False for a container whose own bare weight
            stays digital while its child layers are converted).
    """

    text: str
    unsupported: bool = True
    whole: bool = True


_LOOKUP = _Reason("a lookup table, not a matrix-vector product", unsupported=False)

#: Why a weight-holding module without an analog twin stays digital (checked in this order).
_NO_TWIN: tuple[tuple[type[nn.Module], _Reason], ...] = (
    (nn.modules.conv._ConvTransposeNd, _Reason("no analog twin for 3-d transposed convolutions")),
    (nn.Conv3d, _Reason("no analog twin for 3-d convolutions")),
    (nn.Embedding, _LOOKUP),
    (nn.EmbeddingBag, _LOOKUP),
)


@dataclass
class ConversionSummary:
    """What :func:`analogize` converted and what it left digital, and why.

    Attributes:
        converted: ``(qualified name, torch type)`` of every layer swapped for its analog twin.
        left_digital: ``(qualified name, type, reason)`` of every module holding a weight matrix
            that stays digital (excluded by the caller, grouped with ``skip_grouped``, or
            without an analog twin).
        unsupported: the rows of ``left_digital`` left digital for lack of an analog twin (not
            by the caller's choice).
    """

    converted: list[tuple[str, str]] = field(default_factory=list)
    left_digital: list[tuple[str, str, str]] = field(default_factory=list)
    unsupported: list[tuple[str, str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"converted {len(self.converted)} layer(s) to analog"
                 + (": " + ", ".join(name or "(model)" for name, _ in self.converted) if self.converted else "")]
        lines += [f"left digital: {name or '(model)'} ({kind}): {reason}" for name, kind, reason in self.left_digital]
        return "\n".join(lines)


def twin_of(module: nn.Module) -> type[nn.Module] | None:
    """The analog twin class of ``module``: by exact type, or :class:`AnalogLinear` for an
    ``nn.Linear`` subclass that keeps ``nn.Linear.forward`` (``NonDynamicallyQuantizableLinear``)."""
    twin = ANALOG_TWINS.get(type(module))
    if twin is None and isinstance(module, nn.Linear) and type(module).forward is nn.Linear.forward:
        return AnalogLinear
    return twin


def _reason(name: str, module: nn.Module, exclude: Exclude, skip_grouped: bool) -> _Reason | None:
    """Why ``module`` stays digital, or None if it has a twin and is converted (or holds no matrix)."""
    kind = type(module)
    if kind is nn.MultiheadAttention and (module.bias_k is not None or module.add_zero_attn):
        return _Reason("add_bias_kv / add_zero_attn: not supported by AnalogMultiheadAttention")
    if kind is nn.LSTM and module.proj_size:
        return _Reason("proj_size: not supported by AnalogLSTM")
    if twin_of(module) is not None:
        if skip_grouped and getattr(module, "groups", 1) > 1:
            return _Reason("grouped convolution (skip_grouped=True)", unsupported=False)
        if _excluded(exclude, name, module):
            return _Reason("excluded by the caller", unsupported=False)
        return None
    for base, reason in _NO_TWIN:
        if isinstance(module, base):
            return reason
    if isinstance(module, tuple(ANALOG_TWINS)):
        base = next(b.__name__ for b in ANALOG_TWINS if isinstance(module, b))
        return _Reason(f"a subclass of nn.{base} with its own forward (it may not compute what nn.{base} does)")
    if any(p.dim() >= 2 for p in module.parameters(recurse=False)):
        return _Reason("weight parameter(s) used by its own forward: no analog twin", whole=False)
    return None


def conversion_plan(model: nn.Module, exclude: Exclude = None, skip_grouped: bool = False) -> ConversionSummary:
    """What :func:`analogize` would convert and leave digital, without converting anything.

    Modules inside one that is left digital (``out_proj`` inside ``nn.MultiheadAttention``) are
    reported with it, not on their own.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module``.
    """
    _check_module(model)
    summary = ConversionSummary()
    handled: set[int] = set()
    for name, module in model.named_modules():
        if id(module) in handled or isinstance(module, (AnalogLayer, *_COMPOSITE_TWINS)):
            handled.update(id(m) for m in module.modules())
            continue
        reason = _reason(name, module, exclude, skip_grouped)
        if reason is not None:
            row = (name, type(module).__name__, reason.text)
            summary.left_digital.append(row)
            if reason.unsupported:
                summary.unsupported.append(row)
            if reason.whole:
                handled.update(id(m) for m in module.modules())
        elif twin_of(module) is not None:
            summary.converted.append((name, type(module).__name__))
            handled.update(id(m) for m in module.modules())  # its twin holds its children
    return summary


def _check_module(model: object) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"analogize: expected a torch.nn.Module, got {type(model).__name__}")


def _excluded(exclude: Exclude, name: str, module: nn.Module) -> bool:
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
    """Replace every ``nn.Linear``, ``nn.Conv1d/2d``, ``nn.ConvTranspose1d/2d``, ``nn.MultiheadAttention``,
    ``nn.LSTM``, ``nn.GRU`` and ``nn.RNN`` by its analog twin (:data:`ANALOG_TWINS`), and
    ``nn.Linear`` subclasses that keep ``nn.Linear.forward``.

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

    Every module that holds a weight matrix and stays digital is logged with the reason
    (``logging`` at WARNING when it has no analog twin, INFO otherwise); :func:`conversion_plan`
    returns the same summary without converting.

    Raises:
        TypeError: if ``model`` is not an ``nn.Module``.
        ValueError: for an unknown preset name.
    """
    _check_module(model)
    resolved = get_preset(preset)  # fail early on a bad preset name
    summary = conversion_plan(model, exclude, skip_grouped)
    for name, kind, reason in summary.left_digital:
        level = logging.WARNING if (name, kind, reason) in summary.unsupported else logging.INFO
        logger.log(level, "analogize: %s (%s) stays digital: %s", name or "(model)", kind, reason)
    logger.info("analogize: %d layer(s) converted to preset %r", len(summary.converted), resolved.name)
    if not inplace:
        model = copy.deepcopy(model)
    convert = {name for name, _ in summary.converted}
    if "" in convert:  # the model is one layer
        return twin_of(model).from_torch(model, resolved)  # type: ignore[union-attr]
    for name, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            qualified = f"{name}.{child_name}" if name else child_name
            if qualified in convert:
                setattr(module, child_name, twin_of(child).from_torch(child, resolved))  # type: ignore[union-attr]
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
    if isinstance(model, (AnalogLayer, *_COMPOSITE_TWINS)):
        return model.to_torch()
    for _, module in list(model.named_modules()):
        for child_name, child in list(module.named_children()):
            if isinstance(child, (AnalogLayer, *_COMPOSITE_TWINS)):
                setattr(module, child_name, child.to_torch())
    return model


def analog_layers(model: nn.Module) -> list[tuple[str, AnalogLayer]]:
    """``(qualified name, layer)`` for every analog layer of ``model``, in module order."""
    return [(name, m) for name, m in model.named_modules() if isinstance(m, AnalogLayer)]


def analog_tiles(model: nn.Module) -> list[Any]:
    """Every aihwkit tile of every analog layer of ``model``, in module order."""
    return [tile for _, layer in analog_layers(model) for crossbar in layer.analog_crossbars()
            for tile in crossbar.analog_tiles()]

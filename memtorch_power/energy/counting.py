"""Count the workload a model actually runs, layer by layer.

:class:`WorkloadCounter` hooks every analog layer and every leaf module outside them that has a
counting rule (norms, pooling, activations, and Linear/Conv layers left digital). Everything else
the forward runs (functional calls, residual adds, attention, modules without a rule) is counted
operator by operator through the dispatcher (:class:`~memtorch_power.energy.operators.OperatorCounter`)
into one row per module that ran it. Each forward call adds the
:class:`~memtorch_power.energy.rules.Work` of the shapes it saw (cached per shape: a call costs a
dictionary look-up and a few integer adds, and reads no tensor data, so it never synchronises a
GPU). When backward is tracked, a call made with gradients enabled also counts

* an **input-gradient** pass if its input requires grad (the first layer's does not), and
* a **weight-gradient** pass if the layer has trainable parameters,

which is exactly what autograd will run when the loss is back-propagated.

**Batch-norm folding.** The hooks also note, per call, whether a batch norm with running
statistics received *exactly* the output tensor of the last conv/linear (analog or digital)
that ran, unmodified: the same tensor object (held by a weak reference) whose version counter
has not moved since (an in-place op in between bumps it), and not passed through an in-place
module (``nn.ReLU(inplace=True)``). Such calls are counted in :attr:`LayerCounts.folded`; priced
as inference they cost nothing (:mod:`memtorch_power.energy.rules`). A batch norm after an
activation, a residual add or a pooling layer is not folded.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Iterator

import torch
from torch import nn

from memtorch_power.energy.rules import (
    InferenceRule,
    Work,
    first_tensor,
    inference_rule,
    is_matrix_layer,
    per_channel_output,
    rule_for,
)
from memtorch_power.energy.operators import OperatorCounter, OperatorEntry
from memtorch_power.nn.base import AnalogLayer
from memtorch_power.presets import PresetTraits, traits_of


@dataclass
class LayerInfo:
    """What a layer is (static): its kind, matrix shape and parameters.

    Attributes:
        name: qualified module name (``"(model)"`` for a model that is one layer).
        type_name: module class name.
        kind: ``"analog"`` (on PCM arrays) or ``"digital"``.
        exact: False when operators without a formula were counted approximately (one operation
            per output element; rows of :class:`~memtorch_power.energy.operators.OperatorCounter`).
        matrix_weights: weights of the layer's matrix (analog: ``groups*rows*cols``; digital
            Linear/Conv: the weight tensor; 0 otherwise).
        other_params: parameters held digitally besides the matrix (bias, norm affine ...).
        streamed_params: parameters a digital processor fetches per forward call.
        trainable: whether the layer has parameters that require grad.
        rows, cols: analog matrix per group (0 for digital layers).
        groups: groups of an analog layer or of a digital convolution (1 otherwise).
        preset: analog preset name; update: its update mode; traits: its energy traits.
        inference: how its forward is priced at inference (:class:`InferenceRule`).
    """

    name: str
    type_name: str
    kind: str
    exact: bool
    matrix_weights: int
    other_params: int
    streamed_params: int
    trainable: bool
    rows: int = 0
    cols: int = 0
    groups: int = 1
    preset: str | None = None
    update: str | None = None
    traits: PresetTraits | None = None
    inference: InferenceRule = field(default_factory=InferenceRule)

    @property
    def params(self) -> int:
        """All parameters (matrix + others)."""
        return self.matrix_weights + self.other_params

    @property
    def dense_digital(self) -> bool:
        """A digital layer with a dense weight matrix (Linear, or a convolution with groups=1)."""
        return self.kind == "digital" and self.matrix_weights > 0 and self.groups == 1


class Tally:
    """Running sums of :class:`Work` over calls (integers)."""

    __slots__ = ("calls", "mvms", "macs", "ops", "in_elems", "out_elems")

    def __init__(self) -> None:
        self.calls = self.mvms = self.macs = self.ops = self.in_elems = self.out_elems = 0

    def add(self, work: Work) -> None:
        self.calls += 1
        self.mvms += work.mvms
        self.macs += work.macs
        self.ops += work.ops
        self.in_elems += work.in_elems
        self.out_elems += work.out_elems

    def scaled(self, factor: int) -> "Tally":
        out = Tally()
        for name in self.__slots__:
            setattr(out, name, getattr(self, name) * factor)
        return out

    def minus(self, other: "Tally") -> "Tally":
        out = Tally()
        for name in self.__slots__:
            setattr(out, name, getattr(self, name) - getattr(other, name))
        return out

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict) -> "Tally":
        """The inverse of :meth:`as_dict` (missing sums are 0)."""
        out = cls()
        for name in cls.__slots__:
            setattr(out, name, int(data.get(name, 0)))
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tally) and self.as_dict() == other.as_dict()

    def __repr__(self) -> str:
        return f"Tally({self.as_dict()})"


@dataclass
class LayerCounts:
    """The workload one layer ran in one stage (train, validate, test, predict).

    Attributes:
        forward: every forward call.
        input_grad: calls whose input gradient is back-propagated (transposed MVMs / MACs).
        weight_grad: calls whose weight gradient is computed (or applied as PCM pulses).
        steps: optimizer steps that updated this layer.
        pulses: measured PCM pulses on this layer (``None``: use the documented expectation).
        cells_programmed: weights whose devices received at least one pulse (measured).
        weights_reprogrammed: weights a closed-loop transfer programmed into their PCM pair
            (measured from the tiles' counters; ``None``: not a closed-loop layer or not measured).
        shapes: input and output shapes of the last call.
        folded: the forward calls of a batch norm whose input was directly the output of a
            conv/linear (foldable into it at inference); empty for other layers.
    """

    forward: Tally = field(default_factory=Tally)
    input_grad: Tally = field(default_factory=Tally)
    weight_grad: Tally = field(default_factory=Tally)
    steps: int = 0
    pulses: float | None = None
    cells_programmed: int | None = None
    shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None
    folded: Tally = field(default_factory=Tally)
    weights_reprogrammed: int | None = None

    def as_dict(self) -> dict[str, object]:
        """Plain data (ints, floats, lists): safe for ``torch.load(weights_only=True)`` and JSON."""
        return {
            "forward": self.forward.as_dict(),
            "input_grad": self.input_grad.as_dict(),
            "weight_grad": self.weight_grad.as_dict(),
            "steps": self.steps,
            "pulses": self.pulses,
            "cells_programmed": self.cells_programmed,
            "shapes": None if self.shapes is None else [list(self.shapes[0]), list(self.shapes[1])],
            "folded": self.folded.as_dict(),
            "weights_reprogrammed": self.weights_reprogrammed,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "LayerCounts":
        """The inverse of :meth:`as_dict`."""
        shapes = data.get("shapes")
        return cls(
            Tally.from_dict(data["forward"]),
            Tally.from_dict(data["input_grad"]),
            Tally.from_dict(data["weight_grad"]),
            int(data["steps"]),
            data.get("pulses"),
            data.get("cells_programmed"),
            None if shapes is None else (tuple(shapes[0]), tuple(shapes[1])),
            Tally.from_dict(data.get("folded", {})),
            data.get("weights_reprogrammed"),
        )

    def scaled(self, factor: int) -> "LayerCounts":
        """The counts of ``factor`` identical batches."""
        return LayerCounts(
            self.forward.scaled(factor),
            self.input_grad.scaled(factor),
            self.weight_grad.scaled(factor),
            self.steps * factor,
            None if self.pulses is None else self.pulses * factor,
            self.cells_programmed,
            self.shapes,
            self.folded.scaled(factor),
            None if self.weights_reprogrammed is None else self.weights_reprogrammed * factor,
        )


def _info(name: str, module: nn.Module) -> LayerInfo:
    trainable = any(p.requires_grad for p in module.parameters())
    if isinstance(module, AnalogLayer):
        bias = module.bias_count
        weights = module.groups * module.rows * module.cols
        return LayerInfo(
            name, type(module).__name__, "analog", True, weights, bias, weights + bias, trainable,
            module.rows, module.cols, module.groups, module.preset.name, module.preset.update,
            traits_of(module.preset),
        )
    total = sum(p.numel() for p in module.parameters())
    matrix = module.weight.numel() if isinstance(module, (nn.Linear, nn.modules.conv._ConvNd)) else 0
    streamed = 0 if isinstance(module, nn.Embedding) else total  # a lookup reads only its rows
    groups = int(getattr(module, "groups", 1)) if isinstance(module, nn.modules.conv._ConvNd) else 1
    return LayerInfo(name, type(module).__name__, "digital", True, matrix, total - matrix,
                     streamed, trainable, groups=groups, inference=inference_rule(module))


def _operator_info(entry: OperatorEntry, module: nn.Module) -> LayerInfo:
    """The row of a module's own operators; its parameters are filled in as operators read them."""
    own = sum(p.numel() for p in module.parameters(recurse=False))
    trainable = any(p.requires_grad for p in module.parameters(recurse=False))
    return LayerInfo(entry.name, entry.type_name, "digital", True, 0, own, own, trainable)


def countable_modules(model: nn.Module) -> Iterator[tuple[str, nn.Module]]:
    """Analog layers, and leaf modules that are not inside an analog layer, in module order.

    Metrics (torchmetrics) are bookkeeping, not part of the model's workload, and are skipped.
    """
    inside_analog: set[int] = set()
    for name, module in model.named_modules():
        if id(module) in inside_analog or type(module).__module__.startswith("torchmetrics"):
            continue
        if isinstance(module, AnalogLayer):
            inside_analog.update(id(m) for m in module.modules())
            yield name or "(model)", module
        elif next(module.children(), None) is None:
            yield name or "(model)", module


class WorkloadCounter:
    """Forward hooks that tally the workload of every countable module of ``model``.

    Use :meth:`start` to count into a named stage (``"train"``, ``"validate"``, ...), :meth:`stop`
    to pause, and :meth:`remove` to detach the hooks. ``counts[stage][layer_name]`` holds the
    :class:`LayerCounts`.
    """

    def __init__(self, model: nn.Module) -> None:
        self.infos: dict[str, LayerInfo] = {}
        self.counts: dict[str, dict[str, LayerCounts]] = {}
        self.track_backward = False
        self._active: dict[str, LayerCounts] | None = None
        self._trainable: dict[str, bool] = {}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        # the last conv/linear output: (weak reference, version counter), for batch-norm folding
        self._producer: tuple[weakref.ref, int] | None = None
        hooked: set[str] = set()
        for name, module in countable_modules(model):
            rule = rule_for(module)
            if rule is None:
                continue  # no rule: its operators are counted one by one (OperatorCounter)
            hooked.add(name)
            self.infos[name] = _info(name, module)
            self._trainable[name] = self.infos[name].trainable
            self._handles.append(
                module.register_forward_hook(self._hook(name, rule, module), with_kwargs=True)
            )
        self.operators = OperatorCounter(model, hooked, self._operator_call)
        self.operators.attach()
        modules = dict(model.named_modules())
        for label, entry in self.operators.entries.items():
            module = modules["" if label == "(model)" else label]
            self.infos.setdefault(label, _operator_info(entry, module))

    @property
    def analog_names(self) -> list[str]:
        """Names of the analog layers."""
        return [n for n, info in self.infos.items() if info.kind == "analog"]

    def start(self, stage: str, track_backward: bool) -> None:
        """Count the following forward calls into ``stage`` (created empty if new).

        Starts the :class:`OperatorCounter` too (its dispatch mode is active inside the model's
        forward, outside the hooked layers) until :meth:`stop`.
        """
        table = self.counts.setdefault(stage, {})
        for name in self.infos:
            table.setdefault(name, LayerCounts())
        self._active = table
        self.track_backward = track_backward
        self.operators.track_backward = track_backward
        self.operators.start()

    def stop(self) -> None:
        """Stop counting (hooks stay attached)."""
        self._active = None
        self._producer = None
        self.operators.stop()

    def refresh_trainable(self, model: nn.Module) -> None:
        """Re-read which layers have trainable parameters (after freezing/unfreezing)."""
        for name, module in countable_modules(model):
            if name in self._trainable:
                trainable = any(p.requires_grad for p in module.parameters())
                self._trainable[name] = trainable
                self.infos[name].trainable = trainable

    def remove(self) -> None:
        """Detach every hook."""
        self.stop()
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self.operators.detach()

    def _operator_call(self, name: str, shapes: tuple[tuple[int, ...], tuple[int, ...]] | None,
                       forward: Work, input_grad: Work | None, weight_grad: Work | None) -> None:
        """One module forward's operators (from :class:`OperatorCounter`)."""
        table = self._active
        if table is None:
            return
        counts = table.setdefault(name, LayerCounts())
        counts.shapes = shapes or counts.shapes
        counts.forward.add(forward)
        if input_grad is not None:
            counts.input_grad.add(input_grad)
        if weight_grad is not None:
            counts.weight_grad.add(weight_grad)
        entry = self.operators.entries[name]
        info = self.infos[name]
        info.matrix_weights = sum(entry.matrix_params.values())
        info.other_params = sum(entry.other_params.values())
        info.streamed_params = info.matrix_weights + info.other_params
        info.exact = entry.exact
        info.trainable = info.trainable or weight_grad is not None

    def _hook(self, name: str, rule, module: nn.Module):  # type: ignore[no-untyped-def]
        cache: dict[tuple, Work] = {}
        trainable = self._trainable
        producer = is_matrix_layer(module)
        foldable = self.infos[name].inference.foldable
        inplace = bool(getattr(module, "inplace", False))

        def hook(module: nn.Module, args: tuple, kwargs: dict, output: object) -> None:
            table = self._active
            if table is None:
                return
            x = first_tensor(args)
            if x is None:
                x = first_tensor(list(kwargs.values()))
            out = first_tensor(output)
            if x is None or out is None:
                return
            key = (x.shape, out.shape)
            work = cache.get(key)
            if work is None:
                work = cache[key] = rule(module, x, out)
            counts = table[name]
            counts.shapes = key
            counts.forward.add(work)
            if foldable and self._directly_after_matrix(x):
                counts.folded.add(work)
            if producer:
                self._producer = (weakref.ref(out), _version(out)) if per_channel_output(module, out) else None
            elif inplace and self._producer is not None and self._producer[0]() is out:
                self._producer = None  # modified in place (inference tensors have no version counter)
            if self.track_backward and torch.is_grad_enabled():
                if x.requires_grad:
                    counts.input_grad.add(work)
                if trainable[name]:
                    counts.weight_grad.add(work)

        return hook

    def _directly_after_matrix(self, x: torch.Tensor) -> bool:
        """Whether ``x`` is the last conv/linear output, unmodified since it was produced."""
        if self._producer is None:
            return False
        ref, version = self._producer
        return ref() is x and _version(x) == version


def _version(tensor: torch.Tensor) -> int:
    """The tensor's in-place version counter (-1 for inference tensors, which have none)."""
    return -1 if tensor.is_inference() else tensor._version


def matrix_shape(info: LayerInfo) -> str:
    """``rows x cols`` (``x groups``) of an analog layer, or the I/O shapes seen otherwise."""
    if info.kind == "analog":
        text = f"{info.rows}x{info.cols}"
        return text + (f" x{info.groups} groups" if info.groups > 1 else "")
    return ""


def shape_text(info: LayerInfo, counts: LayerCounts) -> str:
    """Readable shape of a layer: its matrix (analog) or its input -> output shapes."""
    text = matrix_shape(info)
    if text:
        return text
    if counts.shapes is None:
        return "-"
    shape_in, shape_out = counts.shapes
    return f"{list(shape_in)}->{list(shape_out)}"

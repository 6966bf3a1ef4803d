"""Workload of one forward call of one module, computed from the shapes actually seen.

A rule maps ``(module, input, output)`` to :class:`Work`: MVMs, MACs, elementwise operations,
and the activation elements read and written. MACs are counted from shapes (not with
``torch.utils.flop_counter``, which over-counts the backward of grouped convolutions):

* analog and digital Linear: one MVM per input row, ``rows * cols`` MACs each;
* convolutions: one MVM per output position and group, ``(C_in/groups) * prod(kernel)``
  MACs per output element (stride, padding, dilation and groups are in the output shape);
* elementwise layers: operations per element, by type (table :data:`OPS_PER_ELEMENT`); an
  exponential, tanh or erf is counted as 4 operations (an assumption of this module);
* pooling: ``prod(kernel)`` operations per output element (adaptive: one per input element);
* losses: 6 operations per input element (a softmax-like evaluation, an assumption);
* views (``Identity``, ``Flatten``, ``Unflatten``): nothing at all, not even traffic;
* layers without a rule: none here (:func:`rule_for` returns None); their operators are counted
  one by one instead.

**Inference rules** (:func:`inference_rule`, applied when a workload is priced as inference):
dropout is the identity in eval mode and costs nothing; a batch norm with running statistics
costs nothing when it is folded into the conv/linear whose output it consumes directly
(detected by :class:`~memtorch_power.energy.counting.WorkloadCounter`), else 2 operations per
element (a per-channel scale and shift) instead of the 4 of training.

These rules price modules. Functional calls inside a ``forward`` (``F.relu``, ``x + y``,
attention matmuls) and modules without a rule (``nn.LSTM``, user modules) are counted operator by
operator by :mod:`memtorch_power.energy.operators`.
"""

from __future__ import annotations

import math
from typing import Any, Callable, NamedTuple

from torch import Tensor, nn

from memtorch_power.nn.base import AnalogLayer
from memtorch_power.nn.linear import AnalogLinear


class Work(NamedTuple):
    """Workload of one forward call (all counts are integers).

    Attributes:
        mvms: matrix-vector products (per group), 0 for layers without a matrix.
        macs: multiply-accumulates.
        ops: elementwise operations (non-MAC).
        in_elems: input activation elements read.
        out_elems: output activation elements written.
    """

    mvms: int
    macs: int
    ops: int
    in_elems: int
    out_elems: int


Rule = Callable[[Any, Tensor, Tensor], Work]

TRANSCENDENTAL_OPS = 4  # ops for one exp/tanh/erf evaluation (assumption, see module docstring)

#: Operations per output element of elementwise layers.
OPS_PER_ELEMENT: dict[type[nn.Module], int] = {
    **{t: 1 for t in (nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.Hardtanh, nn.Threshold,
                      nn.Hardsigmoid, nn.Hardshrink, nn.Softshrink, nn.Upsample)},
    nn.Hardswish: 2,
    **{t: TRANSCENDENTAL_OPS for t in (nn.Sigmoid, nn.Tanh, nn.GELU, nn.SiLU, nn.Mish, nn.ELU,
                                    nn.SELU, nn.CELU, nn.Softplus, nn.Softsign, nn.LogSigmoid,
                                    nn.Tanhshrink)},
    # exp + running sum + divide (log-softmax: + log)
    **{t: TRANSCENDENTAL_OPS + 2 for t in (nn.Softmax, nn.Softmin, nn.LogSoftmax, nn.Softmax2d)},
    # mean, variance, normalise, affine (batch norm priced as inference: see InferenceRule)
    **{t: 4 for t in (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm,
                      nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d,
                      nn.LocalResponseNorm, nn.RMSNorm)},
}

#: Layers whose output is a view of their input: no arithmetic and no data movement.
VIEW: tuple[type[nn.Module], ...] = (nn.Identity, nn.Flatten, nn.Unflatten)

#: The identity in eval mode (free at inference). In training their traffic is counted and
#: the dropout mask is not.
INFERENCE_IDENTITY: tuple[type[nn.Module], ...] = (
    nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout, nn.FeatureAlphaDropout,
)

#: Operations per element of a batch norm at inference with running statistics: one multiply by
#: the per-channel scale gamma/sqrt(var + eps) and one add of the per-channel shift.
INFERENCE_NORM_OPS = 2

#: Layers that move data without arithmetic (traffic only).
ZERO_OP: tuple[type[nn.Module], ...] = (
    *INFERENCE_IDENTITY, nn.Embedding, nn.ZeroPad1d, nn.ZeroPad2d,
    nn.ConstantPad1d, nn.ConstantPad2d, nn.ReflectionPad1d, nn.ReflectionPad2d,
    nn.ReplicationPad1d, nn.ReplicationPad2d, nn.PixelShuffle, nn.PixelUnshuffle, nn.ChannelShuffle,
)

_POOL = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d, nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d,
         nn.LPPool1d, nn.LPPool2d)
_ADAPTIVE_POOL = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
                  nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
_CONV = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_CONV_T = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)


def analog_work(layer: Any, x: Tensor, out: Tensor) -> Work:
    """Linear: one MVM per input row; conv: one MVM per output position and group."""
    if isinstance(layer, AnalogLinear):
        mvms = x.numel() // layer.rows
    else:
        dims = layer.dims  # type: ignore[attr-defined]
        spatial = tuple(x.shape[-dims:])
        batch = x.numel() // (layer.in_channels * math.prod(spatial))  # type: ignore[attr-defined]
        mvms = batch * layer.output_positions(spatial) * layer.groups  # type: ignore[attr-defined]
    return Work(mvms, mvms * layer.rows * layer.cols, 0, x.numel(), out.numel())


def _linear(m: Any, x: Tensor, out: Tensor) -> Work:
    mvms = x.numel() // m.in_features
    return Work(mvms, mvms * m.in_features * m.out_features, 0, x.numel(), out.numel())


def _conv(m: Any, x: Tensor, out: Tensor) -> Work:
    per_output = (m.in_channels // m.groups) * math.prod(m.kernel_size)
    mvms = out.numel() // (m.out_channels // m.groups)
    return Work(mvms, out.numel() * per_output, 0, x.numel(), out.numel())


def _conv_transpose(m: Any, x: Tensor, out: Tensor) -> Work:
    per_input = (m.out_channels // m.groups) * math.prod(m.kernel_size)
    mvms = x.numel() // (m.in_channels // m.groups)
    return Work(mvms, x.numel() * per_input, 0, x.numel(), out.numel())


def _pool(m: Any, x: Tensor, out: Tensor) -> Work:
    base = next(cls for cls in _POOL if isinstance(m, cls))
    dims = int(base.__name__[-2])  # MaxPool2d -> 2
    kernel = m.kernel_size
    window = math.prod(kernel) if isinstance(kernel, (tuple, list)) else int(kernel) ** dims
    return Work(0, 0, out.numel() * window, x.numel(), out.numel())


def _adaptive_pool(m: Any, x: Tensor, out: Tensor) -> Work:
    return Work(0, 0, x.numel(), x.numel(), out.numel())


def _zero(m: Any, x: Tensor, out: Tensor) -> Work:
    return Work(0, 0, 0, x.numel(), out.numel())


def _view(m: Any, x: Tensor, out: Tensor) -> Work:
    return Work(0, 0, 0, 0, 0)


def _loss(m: Any, x: Tensor, out: Tensor) -> Work:
    return Work(0, 0, x.numel() * (TRANSCENDENTAL_OPS + 2), x.numel(), out.numel())


#: Rules users registered for their own module types (:func:`register_module_rule`).
MODULE_RULES: dict[type[nn.Module], Rule] = {}


def register_module_rule(module_type: type[nn.Module], rule: Rule) -> None:
    """Count ``module_type`` (and its subclasses) with ``rule`` instead of operator by operator.

    ``rule(module, input, output) -> Work`` gets the module's first input and output tensors of
    each call. A registered rule wins over the built-in ones (not over analog layers); to
    price a single unknown *operator* instead, use
    :func:`memtorch_power.energy.operators.register_operator`.

    Raises:
        TypeError: if ``module_type`` is not an ``nn.Module`` subclass or ``rule`` not callable.
    """
    if not (isinstance(module_type, type) and issubclass(module_type, nn.Module)):
        raise TypeError(f"register_module_rule: expected an nn.Module subclass, got {module_type!r}")
    if not callable(rule):
        raise TypeError(f"register_module_rule: rule must be callable, got {type(rule).__name__}")
    MODULE_RULES[module_type] = rule


def rule_for(module: nn.Module) -> Rule | None:
    """The rule of ``module``, or None if it has none (its operators are then counted one by one,
    :mod:`memtorch_power.energy.operators`)."""
    if isinstance(module, AnalogLayer):
        return analog_work  # type: ignore[return-value]
    for base in type(module).__mro__:
        if base in MODULE_RULES:
            return MODULE_RULES[base]
    kind = type(module)
    if kind in OPS_PER_ELEMENT:
        per = OPS_PER_ELEMENT[kind]
        return lambda m, x, out: Work(0, 0, out.numel() * per, x.numel(), out.numel())
    if isinstance(module, nn.Linear):
        return _linear
    if isinstance(module, _CONV):
        return _conv
    if isinstance(module, _CONV_T):
        return _conv_transpose
    if isinstance(module, _POOL):
        return _pool
    if isinstance(module, _ADAPTIVE_POOL):
        return _adaptive_pool
    if isinstance(module, VIEW):
        return _view
    if isinstance(module, ZERO_OP):
        return _zero
    if isinstance(module, nn.modules.loss._Loss):
        return _loss
    return None


class InferenceRule(NamedTuple):
    """How a layer's forward is priced at inference (eval mode).

    Attributes:
        free: the layer is the identity at inference (dropout): it costs nothing.
        foldable: a batch norm with running statistics: it costs nothing in the calls where its
            input is directly the output of a conv/linear (folded into its weights and bias, or
            into the analog periphery's per-column affine scaling).
        ops_per_element: operations per output element at inference when they differ from the
            training count (``None``: the counted operations).
    """

    free: bool = False
    foldable: bool = False
    ops_per_element: int | None = None


def inference_rule(module: nn.Module) -> InferenceRule:
    """The :class:`InferenceRule` of ``module`` (all defaults: priced as counted)."""
    if isinstance(module, INFERENCE_IDENTITY):
        return InferenceRule(free=True)
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and module.track_running_stats:
        return InferenceRule(foldable=True, ops_per_element=INFERENCE_NORM_OPS)
    return InferenceRule()


def is_matrix_layer(module: nn.Module) -> bool:
    """Analog layers and digital Linear/Conv/ConvTranspose: what a batch norm can be folded into."""
    return isinstance(module, (AnalogLayer, nn.Linear, nn.modules.conv._ConvNd))


def per_channel_output(module: nn.Module, out: Tensor) -> bool:
    """Whether dim 1 of ``out`` is the layer's output channel/feature (a batch norm over dim 1
    can then be folded into it): always for convolutions; for Linear only on 2-d outputs."""
    if isinstance(module, (AnalogLinear, nn.Linear)):
        return out.dim() == 2
    return out.dim() >= 2


def first_tensor(value: object) -> Tensor | None:
    """The first tensor in a forward input/output (a tensor, or nested tuples/lists of them)."""
    if isinstance(value, Tensor):
        return value
    if isinstance(value, (tuple, list)):
        for item in value:
            found = first_tensor(item)
            if found is not None:
                return found
    return None

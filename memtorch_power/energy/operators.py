"""Count the operators a model runs outside its counted layers, through PyTorch's dispatcher.

Layers with an exact rule (:mod:`memtorch_power.energy.rules`: analog layers, Linear, Conv,
norms, activations, pooling ...) are counted by forward hooks. Everything else a ``forward()``
does (``F.*`` calls, ``matmul``/``bmm``/``einsum``, ``scaled_dot_product_attention``, residual
adds, in-place ops, and the forward of modules without a rule such as ``nn.LSTM``) reaches the
:class:`OperatorCounter`, a :class:`~torch.utils._python_dispatch.TorchDispatchMode` that sees
every ATen operator, as :class:`torch.utils.flop_counter.FlopCounterMode` does. Each operator is
attributed to the innermost module whose ``forward`` is running (tracked by forward pre/post
hooks on the model's own modules), and summed into that module's :class:`OperatorEntry`
(one report row, named after the module; ``"(model)"`` for the root).

What an operator costs (:func:`operator_work`):

* **MACs** from torch's own formulas (``torch.utils.flop_counter.flop_registry``: ``mm``,
  ``addmm``, ``bmm``, ``baddbmm``, convolutions, the fused attention kernels; FLOPs / 2), plus the
  CPU attention kernel ``_scaled_dot_product_flash_attention_for_cpu``, which torch's table lacks
  (so :class:`~torch.utils.flop_counter.FlopCounterMode` misses attention on CPU);
  :func:`register_operator` adds or replaces a formula. Operators without a formula that
  decompose (CompositeImplicitAutograd) are counted through their parts, as torch's counter does.
* **Elementwise operations**: per output element, by operator (:data:`OPS_PER_ELEMENT`; an
  exponential, tanh or erf counts 4, as in :mod:`~memtorch_power.energy.rules`); reductions one
  per input element; views and metadata operators nothing. Operators in none of these tables
  count one per output element and make the row approximate (``exact=False``).
* **Traffic**: the elements of every tensor argument read and every output written (views: none).

**Backward** is derived from the forward, as the hook rules do, so counting costs nothing in the
backward pass: a matrix product's gradient costs its forward MACs once per operand that requires
a gradient (the first operand into ``input_grad``, the second (a weight) into ``weight_grad``);
attention costs twice its forward MACs; an elementwise operator its forward operations once if
any input requires a gradient. Operators run outside every module's ``forward`` (the optimizer
step, data loading, metric bookkeeping) are not the model's workload and are not counted; the
optimizer step is priced by the update rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry, sdpa_flop

from memtorch_power.energy.rules import TRANSCENDENTAL_OPS, Work

aten = torch.ops.aten

#: MAC formulas: ATen operator (overload packet) -> function(*args, out_val=..., **kwargs) -> FLOPs
#: (2 per MAC), as in ``torch.utils.flop_counter``.
FLOP_FORMULAS: dict[Any, Callable[..., int]] = dict(flop_registry)
FLOP_FORMULAS[aten._scaled_dot_product_flash_attention_for_cpu] = sdpa_flop

#: Elementwise operations per hidden unit and time step of an LSTM cell run as one fused kernel:
#: 3 sigmoids and 2 tanh (TRANSCENDENTAL_OPS each) and 5 multiplies/adds.
LSTM_CELL_OPS = (3 + 2) * TRANSCENDENTAL_OPS + 5


def _rnn_layer_macs(args: tuple) -> tuple[int, int, int]:
    """(MACs, input MACs, hidden units x steps) of one ``mkldnn_rnn_layer`` call (an LSTM layer
    on CPU): ``steps * batch * 4H * (I + H)``."""
    x, w_ih, w_hh = args[0], args[1], args[2]
    gates, inputs = w_ih.shape
    hidden = w_hh.shape[1]
    rows = x.numel() // inputs  # steps * batch
    return rows * gates * (inputs + hidden), rows * gates * inputs, rows * hidden


#: Operators whose second tensor operand is the weight-like operand of a matrix product (its
#: gradient goes to ``weight_grad``); the first operand's to ``input_grad``. Value: index of the
#: first operand among the tensor arguments.
MATMUL_OPERANDS: dict[Any, int] = {
    aten.mm: 0, aten.bmm: 0, aten.addmm: 1, aten.baddbmm: 1,
    aten.convolution: 0, aten._convolution: 0, aten._slow_conv2d_forward: 0,
}

#: Attention kernels: backward costs this many times the forward MACs (dQ, dK from dS; dV and
#: dP from dO: four products where the forward has two).
ATTENTION_BACKWARD_FACTOR = 2

#: Operations per output element of elementwise operators (ATen packet names).
OPS_PER_ELEMENT: dict[str, int] = {
    **{name: 1 for name in (
        "add", "sub", "rsub", "mul", "div", "neg", "abs", "relu", "relu_", "leaky_relu", "hardtanh",
        "hardsigmoid", "clamp", "clamp_min", "clamp_max", "threshold", "threshold_backward", "where",
        "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge", "sign", "floor", "ceil", "round",
        "reciprocal", "square", "pow", "masked_fill", "fill", "zero", "addcmul", "addcdiv", "lerp",
        "bitwise_not", "bitwise_and", "bitwise_or", "logical_not", "logical_and", "logical_or",
        "hardshrink", "softshrink", "_masked_scale", "native_dropout", "bernoulli", "rand_like",
    )},
    "hardswish": 2, "sqrt": 2, "rsqrt": 2,
    **{name: TRANSCENDENTAL_OPS for name in (
        "exp", "log", "log1p", "expm1", "tanh", "sigmoid", "gelu", "silu", "mish", "elu", "erf",
        "softplus", "sin", "cos", "log_sigmoid_forward", "glu",
    )},
    # exp + running sum + divide (log-softmax: + log)
    **{name: TRANSCENDENTAL_OPS + 2 for name in ("_softmax", "_log_softmax", "softmax", "log_softmax")},
    # mean, variance, normalise, affine
    **{name: 4 for name in ("native_layer_norm", "native_batch_norm", "_native_batch_norm_legit",
                            "_native_batch_norm_legit_no_training", "native_group_norm",
                            "_fused_rms_norm", "batch_norm")},
}

#: Reductions and pooling: one operation per *input* element.
REDUCTIONS: frozenset[str] = frozenset({
    "sum", "mean", "amax", "amin", "max", "min", "argmax", "argmin", "prod", "var", "std",
    "var_mean", "std_mean", "norm", "linalg_vector_norm", "logsumexp", "cumsum", "avg_pool2d",
    "max_pool2d_with_indices", "adaptive_avg_pool1d", "_adaptive_avg_pool2d", "avg_pool1d",
    "max_pool1d", "nll_loss_forward", "topk", "sort",
})

#: Operators that move data without arithmetic (traffic only).
DATA_MOVEMENT: frozenset[str] = frozenset({
    "clone", "_to_copy", "copy", "copy_", "cat", "stack", "constant_pad_nd", "index", "index_select",
    "gather", "scatter", "embedding", "_unsafe_index", "repeat", "contiguous", "flip", "roll",
    "index_put", "slice_scatter", "select_scatter", "masked_select", "_reshape_alias",
    "new_zeros", "new_ones", "new_empty", "zeros_like", "ones_like", "empty_like", "full_like",
    "scalar_tensor", "lift_fresh", "lift_fresh_copy", "_local_scalar_dense", "item",
})

#: Operators that cost nothing: metadata, aliasing, allocation without initialisation.
FREE: frozenset[str] = frozenset({
    "detach", "alias", "empty", "empty_strided", "_unsafe_view", "view", "reshape", "t",
    "transpose", "permute", "expand", "squeeze", "unsqueeze", "slice", "select", "split",
    "split_with_sizes", "chunk", "unbind", "as_strided", "view_as", "expand_as", "narrow",
    "unfold", "_reshape_copy", "flatten", "unflatten", "movedim", "size", "stride", "dim",
    "is_same_size", "set_", "resize_", "_assert_async", "sym_size", "sym_numel",
})


def register_operator(op: Any, *, flops: Callable[..., int] | None = None,
                      ops_per_element: int | None = None) -> None:
    """Price an ATen operator the counter does not know, or change how one is priced.

    Args:
        op: the operator (``torch.ops.aten.foo`` or a custom ``torch.ops.mylib.bar``).
        flops: FLOPs (2 per MAC) from the operator's arguments, with the signature of torch's
            ``register_flop_formula`` functions: ``f(*args, out_val=output, **kwargs) -> int``.
        ops_per_element: elementwise operations per output element (instead of ``flops``).
    """
    if (flops is None) == (ops_per_element is None):
        raise ValueError("register_operator: give exactly one of flops= and ops_per_element=")
    packet = getattr(op, "_overloadpacket", op)
    if flops is not None:
        FLOP_FORMULAS[packet] = flops
    else:
        if ops_per_element < 0:  # type: ignore[operator]
            raise ValueError(f"register_operator: ops_per_element must be >= 0, got {ops_per_element}")
        OPS_PER_ELEMENT[packet.__name__.split(".")[-1]] = int(ops_per_element)  # type: ignore[arg-type]


def _tensors(value: object) -> list[torch.Tensor]:
    flat, _ = torch.utils._pytree.tree_flatten(value)
    return [t for t in flat if isinstance(t, torch.Tensor)]


@dataclass
class OperatorWork:
    """What one operator call costs, forward and (derived) backward.

    Attributes:
        forward: its forward work.
        input_grad: the backward work on its (first) input, if that requires a gradient.
        weight_grad: the backward work on its weight-like operand, if that requires a gradient.
        known: False when the operator has no formula (one op per output element assumed).
    """

    forward: Work
    input_grad: Work | None = None
    weight_grad: Work | None = None
    known: bool = True


def operator_work(func: Any, args: tuple, kwargs: dict, out: object) -> OperatorWork:
    """Cost of one ATen operator call (see the module docstring)."""
    packet = func._overloadpacket
    name = packet.__name__.split(".")[-1]
    inputs = _tensors((args, kwargs))
    outputs = _tensors(out)
    out_elems = sum(t.numel() for t in outputs)
    in_elems = sum(t.numel() for t in inputs)
    if packet is aten.mkldnn_rnn_layer:
        macs, input_macs, units = _rnn_layer_macs(args)
        work = Work(0, macs, units * LSTM_CELL_OPS, in_elems, out_elems)
        x, w_hh = inputs[0], inputs[2]
        weights_need_grad = any(w.requires_grad for w in inputs[1:3])
        if not weights_need_grad and not x.requires_grad:
            return OperatorWork(work)
        # back-propagation through time needs the hidden-state gradient whatever the input needs
        skipped = 0 if x.requires_grad else input_macs
        if not inputs[5].requires_grad:  # no gradient for the initial hidden state h0
            skipped += x.shape[1] * w_hh.shape[0] * w_hh.shape[1]
        grad_in = Work(0, macs - skipped, units * LSTM_CELL_OPS, in_elems, out_elems)
        grad_w = work if weights_need_grad else None
        return OperatorWork(work, grad_in, grad_w)
    if packet in FLOP_FORMULAS:
        macs = FLOP_FORMULAS[packet](*args, **kwargs, out_val=out) // 2
        work = Work(0, macs, 0, in_elems, out_elems)
        if packet in MATMUL_OPERANDS:
            first = MATMUL_OPERANDS[packet]
            a, b = (inputs[first], inputs[first + 1]) if len(inputs) > first + 1 else (None, None)
            return OperatorWork(work, work if a is not None and a.requires_grad else None,
                                work if b is not None and b.requires_grad else None)
        grad = any(t.requires_grad for t in inputs)
        backward = Work(0, macs * ATTENTION_BACKWARD_FACTOR, 0, in_elems, out_elems)
        return OperatorWork(work, backward if grad else None)
    if func.is_view or name in FREE:
        return OperatorWork(Work(0, 0, 0, 0, 0))
    known = True
    if name in DATA_MOVEMENT:
        ops = 0
    elif name in REDUCTIONS:
        ops = inputs[0].numel() if inputs else out_elems
    else:
        base = name[:-1] if name.endswith("_") and name[:-1] in OPS_PER_ELEMENT else name
        per = OPS_PER_ELEMENT.get(base)
        if per is None:
            per, known = 1, False
        ops = per * (outputs[0].numel() if outputs else 0)
    work = Work(0, 0, ops, in_elems, out_elems)
    grad = any(t.requires_grad for t in inputs)
    return OperatorWork(work, work if grad and (ops or in_elems) else None, known=known)


@dataclass
class OperatorEntry:
    """The operators one module ran itself (outside its counted sub-layers).

    Attributes:
        name: the module's qualified name (``"(model)"`` for the root).
        type_name: the module's class name.
        matrix_params: ids and sizes of the parameters read by matrix products (weights).
        other_params: ids and sizes of the other parameters read.
        unknown: operators without a formula that were counted approximately.
    """

    name: str
    type_name: str
    matrix_params: dict[int, int] = field(default_factory=dict)
    other_params: dict[int, int] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)

    @property
    def exact(self) -> bool:
        return not self.unknown


class _Frame:
    """One running module forward: its entry name and what its operators added so far."""

    __slots__ = ("name", "skip", "forward", "input_grad", "weight_grad", "pushed", "popped")

    def __init__(self, name: str, skip: bool) -> None:
        self.name = name
        self.skip = skip
        self.pushed = False  # the mode was entered at this (outermost) module
        self.popped = False  # the mode was left for this counted layer's forward
        self.forward: list[Work] = []
        self.input_grad: list[Work] = []
        self.weight_grad: list[Work] = []


def _storage(tensor: torch.Tensor) -> int:
    """Address of the tensor's storage (0 for tensors without one)."""
    try:
        return tensor.untyped_storage().data_ptr()
    except (RuntimeError, NotImplementedError):
        return 0


def _sum(works: list[Work]) -> Work:
    return Work(*(sum(column) for column in zip(*works))) if works else Work(0, 0, 0, 0, 0)


class OperatorCounter(TorchDispatchMode):
    """A dispatch mode that attributes every ATen operator to the module that ran it.

    Args:
        model: the model whose modules are tracked.
        skip: names of the modules counted elsewhere (by hooks): their operators, and those of
            everything inside them, are not counted here.
        on_call: called after every module forward that ran operators, with the module's name,
            its first input and output shapes (or None), the summed forward, input-gradient and
            weight-gradient work (``None`` when nothing needs that gradient, or when
            :attr:`track_backward` is False).

    Use :meth:`attach` once (hooks), :meth:`start`/:meth:`stop` around what to count, and
    :meth:`detach` to remove the hooks. While counting, the mode is on the dispatch stack only
    inside the model's forward and outside its counted layers: the operators of analog tiles,
    backward passes, optimizer steps and data loading never reach Python.
    """

    def __init__(self, model: nn.Module, skip: set[str],
                 on_call: Callable[[str, Any, Work, Work | None, Work | None], None]) -> None:
        super().__init__()
        self.entries: dict[str, OperatorEntry] = {}
        self.track_backward = False
        self._on_call = on_call
        self._stack: list[_Frame] = []
        self._handles: list[torch.utils.hooks.RemovableHandle] = []
        # parameters by storage (a view such as ``weight.t()`` shares it), for weight traffic
        self._params = {_storage(p): p.numel() for p in model.parameters()}
        skip_inside: set[int] = set()
        self._names: dict[int, tuple[str, bool]] = {}
        for name, module in model.named_modules():
            if name in skip:
                skip_inside.update(id(m) for m in module.modules())
        for name, module in model.named_modules():
            skipped = id(module) in skip_inside or type(module).__module__.startswith("torchmetrics")
            label = name or "(model)"
            self._names[id(module)] = (label, skipped)
            if not skipped:
                self.entries[label] = OperatorEntry(label, type(module).__name__)
        self._model = model
        self._fastpath: bool | None = None
        self.counting = False
        self._pushed = 0

    # -- hooks --------------------------------------------------------------------------------------
    def attach(self) -> None:
        """Register the forward pre/post hooks that track the running module."""
        for module in self._model.modules():
            label, skipped = self._names[id(module)]
            self._handles.append(module.register_forward_pre_hook(self._pre(label, skipped)))
            self._handles.append(module.register_forward_hook(self._post, always_call=True))

    def detach(self) -> None:
        """Remove the hooks."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        self._stack.clear()

    def start(self) -> None:
        """Count the operators of the following forward passes."""
        if self.counting:
            return
        self.counting = True
        # the fused TransformerEncoderLayer / MultiheadAttention kernels of eval mode are one opaque
        # operator each; with the fast path off they run as the operators they are made of
        self._fastpath = torch.backends.mha.get_fastpath_enabled()
        torch.backends.mha.set_fastpath_enabled(False)

    def stop(self) -> None:
        """Stop counting (hooks stay attached)."""
        if not self.counting:
            return
        self.counting = False
        while self._pushed:
            self._pop()
        if self._fastpath is not None:
            torch.backends.mha.set_fastpath_enabled(self._fastpath)

    def _push(self) -> None:
        TorchDispatchMode.__enter__(self)
        self._pushed += 1

    def _pop(self) -> None:
        TorchDispatchMode.__exit__(self, None, None, None)
        self._pushed -= 1

    def _pre(self, label: str, skipped: bool):  # type: ignore[no-untyped-def]
        def hook(module: nn.Module, args: tuple) -> None:
            inherited = bool(self._stack) and self._stack[-1].skip
            frame = _Frame(label, skipped or inherited)
            if self.counting:
                if not self._stack:  # the outermost module: count from here
                    self._push()
                    frame.pushed = True
                if frame.skip and not inherited and self._pushed:  # a counted layer: nothing to see inside
                    self._pop()
                    frame.popped = True
            self._stack.append(frame)
        return hook

    def _post(self, module: nn.Module, args: tuple, output: object) -> None:
        if not self._stack:
            return
        frame = self._stack.pop()
        if frame.popped and self.counting:
            self._push()
        if frame.pushed and self._pushed:
            self._pop()
        if frame.forward:
            inputs, outputs = _tensors(args), _tensors(output)
            shapes = (tuple(inputs[0].shape), tuple(outputs[0].shape)) if inputs and outputs else None
            self._on_call(frame.name, shapes, _sum(frame.forward),
                          _sum(frame.input_grad) if frame.input_grad else None,
                          _sum(frame.weight_grad) if frame.weight_grad else None)

    # -- the dispatch mode -------------------------------------------------------------------------
    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        kwargs = kwargs or {}
        frame = self._stack[-1] if self._stack else None
        if frame is None or frame.skip:
            return func(*args, **kwargs)
        if func._overloadpacket not in FLOP_FORMULAS and not func.is_view:
            TorchDispatchMode.__enter__(self)  # count the parts of a composite operator
            try:
                decomposed = func.decompose(*args, **kwargs)
            finally:
                TorchDispatchMode.__exit__(self, None, None, None)
            if decomposed is not NotImplemented:
                return decomposed
        out = func(*args, **kwargs)
        work = operator_work(func, args, kwargs, out)
        if not any(work.forward):
            return out
        frame.forward.append(work.forward)
        if self.track_backward and torch.is_grad_enabled():
            if work.input_grad is not None:
                frame.input_grad.append(work.input_grad)
            if work.weight_grad is not None:
                frame.weight_grad.append(work.weight_grad)
        entry = self.entries[frame.name]
        if not work.known:
            entry.unknown.add(func._overloadpacket.__name__)
        reads_matrix = work.forward.macs > 0
        for tensor in _tensors((args, kwargs)):
            key = _storage(tensor)
            size = self._params.get(key)
            if size is not None:
                (entry.matrix_params if reads_matrix else entry.other_params)[key] = size
        return out


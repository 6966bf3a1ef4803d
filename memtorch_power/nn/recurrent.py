"""``AnalogLSTM``, ``AnalogGRU``, ``AnalogRNN``: recurrent layers whose weight matrices live on PCM.

Each layer and direction holds two :class:`AnalogLinear` arrays, the input-to-hidden matrix
``W_ih`` (all gates stacked, as torch stores them) and the hidden-to-hidden matrix ``W_hh``; the
gate nonlinearities and the cell update run digitally (the periphery of an analog chip, as the
LSTMs of HERMES, Le Gallo et al. 2023). The input projection of every time step is one batch of
MVMs; the recurrent projection is one MVM per step. Equations, gate order, arguments and outputs
are torch's (``nn.LSTM``/``nn.GRU``/``nn.RNN``), for padded (not packed) sequences.
"""

from __future__ import annotations

import abc

import torch
from torch import Tensor, nn

from memtorch_power.nn.base import DEFAULT_PRESET
from memtorch_power.nn.linear import AnalogLinear
from memtorch_power.presets import PresetLike

#: Constructor arguments the analog layers share with torch's (``from_torch``/``to_torch`` copy them).
_SHARED_ARGS = ("num_layers", "bias", "batch_first", "dropout", "bidirectional")


class _AnalogRecurrent(nn.Module, abc.ABC):
    """Shared by the three recurrent layers: arrays per layer and direction, the time loop.

    Attributes:
        torch_type: the torch layer this one replaces.
        gates: gate blocks stacked in each matrix (torch's layout: LSTM 4, GRU 3, RNN 1).
        extra_args: constructor arguments beyond :data:`_SHARED_ARGS` (``nonlinearity`` of RNN).
    """

    torch_type: type[nn.RNNBase]
    gates: int
    extra_args: tuple[str, ...] = ()

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, *,
                 preset: PresetLike = DEFAULT_PRESET) -> None:
        super().__init__()
        if input_size <= 0 or hidden_size <= 0 or num_layers <= 0:
            raise ValueError("input_size, hidden_size and num_layers must be > 0, got "
                             f"{input_size}, {hidden_size}, {num_layers}")
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional = bidirectional
        directions = 2 if bidirectional else 1
        gates = self.gates * hidden_size
        self.ih = nn.ModuleList()
        self.hh = nn.ModuleList()
        for layer in range(num_layers):
            width = input_size if layer == 0 else hidden_size * directions
            for _ in range(directions):
                self.ih.append(AnalogLinear(width, gates, bias=bias, preset=preset))
                self.hh.append(AnalogLinear(hidden_size, gates, bias=bias, preset=preset))

    @property
    def _directions(self) -> int:
        return 2 if self.bidirectional else 1

    # -- conversion --------------------------------------------------------------------------------
    @classmethod
    def from_torch(cls, module: nn.RNNBase, preset: PresetLike = DEFAULT_PRESET) -> "_AnalogRecurrent":
        """An analog copy of ``module`` (``nn.LSTM``/``nn.GRU``/``nn.RNN``) with its trained weights.

        Raises:
            ValueError: for an LSTM with ``proj_size`` (not supported).
        """
        if getattr(module, "proj_size", 0):
            raise ValueError(f"{cls.__name__}: proj_size is not supported")
        kwargs = {name: getattr(module, name) for name in (*_SHARED_ARGS, *cls.extra_args)}
        layer = cls(module.input_size, module.hidden_size, **kwargs, preset=preset)
        for index, suffix in enumerate(layer._suffixes()):
            layer.ih[index].set_weights(getattr(module, f"weight_ih_{suffix}").detach(),
                                        getattr(module, f"bias_ih_{suffix}").detach() if module.bias else None)
            layer.hh[index].set_weights(getattr(module, f"weight_hh_{suffix}").detach(),
                                        getattr(module, f"bias_hh_{suffix}").detach() if module.bias else None)
        layer.train(module.training)
        return layer

    def to_torch(self) -> nn.RNNBase:
        """The plain torch layer with the currently stored weights."""
        module = self.torch_type(self.input_size, self.hidden_size,
                                 **{name: getattr(self, name) for name in (*_SHARED_ARGS, *self.extra_args)})
        with torch.no_grad():
            for index, suffix in enumerate(self._suffixes()):
                for arrays, kind in ((self.ih, "ih"), (self.hh, "hh")):
                    weight, bias = arrays[index].get_weights()
                    getattr(module, f"weight_{kind}_{suffix}").copy_(weight)
                    if bias is not None:
                        getattr(module, f"bias_{kind}_{suffix}").copy_(bias)
        module.train(self.training)
        return module

    def _suffixes(self) -> list[str]:
        return [f"l{layer}{'_reverse' if direction else ''}"
                for layer in range(self.num_layers) for direction in range(self._directions)]

    # -- forward -----------------------------------------------------------------------------------
    def forward(self, x: Tensor, hx: Tensor | tuple[Tensor, Tensor] | None = None):  # type: ignore[no-untyped-def]
        if isinstance(x, nn.utils.rnn.PackedSequence):
            raise TypeError(f"{type(self).__name__}: packed sequences are not supported; pass a padded tensor")
        unbatched = x.dim() == 2
        if unbatched:
            x = x.unsqueeze(1)
        elif x.dim() != 3:
            raise ValueError(f"{type(self).__name__} expects 2-d or 3-d input, got {tuple(x.shape)}")
        elif self.batch_first:
            x = x.transpose(0, 1)  # -> [T, N, features]
        if x.shape[-1] != self.input_size:
            raise ValueError(f"{type(self).__name__}: input has {x.shape[-1]} features, expected {self.input_size}")
        batch = x.shape[1]
        h0, c0 = self._initial_state(hx, batch, x, unbatched)
        final_h, final_c = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions):
                index = layer * self._directions + direction
                sequence = x.flip(0) if direction else x
                state = (h0[index], None if c0 is None else c0[index])
                out, (h, c) = self._run(index, sequence, state)
                outputs.append(out.flip(0) if direction else out)
                final_h.append(h)
                if c is not None:
                    final_c.append(c)
            x = torch.cat(outputs, dim=-1) if len(outputs) > 1 else outputs[0]
            if self.dropout and self.training and layer < self.num_layers - 1:
                x = nn.functional.dropout(x, self.dropout, training=True)
        h_n = torch.stack(final_h)
        c_n = torch.stack(final_c) if final_c else None
        if unbatched:
            x, h_n = x.squeeze(1), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif self.batch_first:
            x = x.transpose(0, 1)
        return x, ((h_n, c_n) if c_n is not None else h_n)

    def _initial_state(self, hx, batch: int, x: Tensor, unbatched: bool):  # type: ignore[no-untyped-def]
        shape = (self.num_layers * self._directions, batch, self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(shape)
            return zeros, (x.new_zeros(shape) if self.torch_type is nn.LSTM else None)
        h, c = hx if isinstance(hx, tuple) else (hx, None)
        if unbatched:
            h = h.unsqueeze(1)
            c = None if c is None else c.unsqueeze(1)
        if tuple(h.shape) != shape:
            raise ValueError(f"{type(self).__name__}: expected hidden state of shape {shape}, got {tuple(h.shape)}")
        return h, c

    def _run(self, index: int, x: Tensor, state):  # type: ignore[no-untyped-def]
        gates_x = self.ih[index](x)  # every time step's input projection: one batch of MVMs
        h, c = state
        outputs = []
        for step in range(x.shape[0]):
            h, c = self._cell(gates_x[step], self.hh[index](h), h, c)
            outputs.append(h)
        return torch.stack(outputs), (h, c)

    @abc.abstractmethod
    def _cell(self, gx: Tensor, gh: Tensor, h: Tensor, c: Tensor | None):  # type: ignore[no-untyped-def]
        """One time step: gate pre-activations from the input (``gx``) and the hidden state
        (``gh``), the previous ``h`` (and ``c`` for an LSTM) -> the new ``(h, c)``."""

    def extra_repr(self) -> str:
        return (f"{self.input_size}, {self.hidden_size}, num_layers={self.num_layers}, "
                f"bidirectional={self.bidirectional}, preset={self.ih[0].preset.name}")


class AnalogLSTM(_AnalogRecurrent):
    """Drop-in replacement for :class:`torch.nn.LSTM` (no ``proj_size``) with its matrices on PCM."""

    torch_type = nn.LSTM
    gates = 4

    def _cell(self, gx: Tensor, gh: Tensor, h: Tensor, c: Tensor | None):  # type: ignore[no-untyped-def]
        i, f, g, o = (gx + gh).chunk(4, dim=-1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c


class AnalogGRU(_AnalogRecurrent):
    """Drop-in replacement for :class:`torch.nn.GRU` with its matrices on PCM."""

    torch_type = nn.GRU
    gates = 3

    def _cell(self, gx: Tensor, gh: Tensor, h: Tensor, c: Tensor | None):  # type: ignore[no-untyped-def]
        xr, xz, xn = gx.chunk(3, dim=-1)
        hr, hz, hn = gh.chunk(3, dim=-1)
        r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
        n = torch.tanh(xn + r * hn)
        return (1 - z) * n + z * h, None


class AnalogRNN(_AnalogRecurrent):
    """Drop-in replacement for :class:`torch.nn.RNN` (``tanh`` or ``relu``) with its matrices on PCM."""

    torch_type = nn.RNN
    gates = 1
    extra_args = ("nonlinearity",)

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0,
                 bidirectional: bool = False, *, preset: PresetLike = DEFAULT_PRESET) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         preset=preset)
        self.nonlinearity = nonlinearity

    def _cell(self, gx: Tensor, gh: Tensor, h: Tensor, c: Tensor | None):  # type: ignore[no-untyped-def]
        total = gx + gh
        return (torch.tanh(total) if self.nonlinearity == "tanh" else torch.relu(total)), None

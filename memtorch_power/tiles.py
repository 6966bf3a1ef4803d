"""aihwkit tile classes adjusted for this project.

:class:`DeviceStateTile` (the pulsed PCM presets) loads the devices' saved state instead of a
fresh programming of the saved weights; :class:`TransferAnalogTile` also saves transfer compounds.

``TorchInferenceTile`` registers a *local* function as a gradient hook when it sets its
weight scales; a model holding such tiles cannot be pickled (``torch.save(model)`` fails
with "Can't pickle local object"), and the hook is lost when a tile is unpickled.
:class:`PicklableTorchInferenceTile` computes exactly the same gradient correction with a
picklable hook object and re-attaches it after unpickling.
"""

from __future__ import annotations

from typing import Any

import torch
from aihwkit.simulator.tiles.analog import AnalogTile
from aihwkit.simulator.tiles.inference_torch import TorchInferenceTile
from torch import Tensor


class ScaleGradientCompensation:
    """Gradient hook ``grad / scales**2`` (per output row), as aihwkit's local hook."""

    def __init__(self, scales: Tensor) -> None:
        self.scales = scales

    def __call__(self, grad: Tensor) -> Tensor:
        return grad / self.scales.to(grad.device).view(-1, 1) ** 2


class PicklableTorchInferenceTile(TorchInferenceTile):
    """``TorchInferenceTile`` that survives ``torch.save``/``torch.load`` of a whole model."""

    def set_scales(self, scales: Tensor) -> None:
        super(TorchInferenceTile, self).set_scales(scales)
        if self._backward_hook_handle is not None:
            self._backward_hook_handle.remove()
            self._backward_hook_handle = None
        self._compensation = ScaleGradientCompensation(scales)
        if self.tile.weight.requires_grad:
            self._backward_hook_handle = self.tile.register_weight_hook(self._compensation)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = dict(state)
        state["_backward_hook_handle"] = None  # hooks are re-registered in __setstate__
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        compensation = getattr(self, "_compensation", None)
        if compensation is not None and self.tile.weight.requires_grad:
            self._backward_hook_handle = self.tile.register_weight_hook(compensation)


class _WithoutExtraState:
    """Stands in for a C++ tile while its state is saved: everything forwards to the tile,
    except ``dump_extra``, which reports no extra state."""

    def __init__(self, tile: Any) -> None:
        self._tile = tile

    def dump_extra(self) -> None:
        return None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._tile, name)


def _refuse_input_processing(tile: AnalogTile, handed: str) -> None:
    """Raise if aihwkit would change the update's inputs before its outer product: an analog bias
    appends a column of ones, an input range clips and rescales them."""
    if tile.analog_bias or tile.input_range is not None:
        raise ValueError(
            f"{type(tile).__name__} hands aihwkit {handed}, which an analog bias column or an input range "
            "would alter: use a digital bias (mapping.digital_bias) and no input range"
        )


class DeviceStateTile(AnalogTile):
    """``AnalogTile`` whose loaded state is the devices' saved state.

    aihwkit 1.1.0 restores a tile's hidden parameters and then calls ``set_weights`` with the
    saved weights. For unit cells (a PCM pair; mixed precision's pair and digital accumulator; a
    transfer compound's arrays) ``set_weights`` re-programs every device from its weight (the
    pair becomes ``max(w, 0)`` and ``max(-w, 0)``, the accumulator and the fast array zero), so a
    run resumed from a checkpoint would go on from a fresh programming instead of the device
    state training left (measured on the 10-epoch ``training_sweep`` checkpoints of mixed
    precision with the preset's device and threshold at tile step 0.1: 34-35 % of the pairs have
    both devices above zero after training, none after loading). This tile puts the saved hidden parameters back
    after that call; the weights, which they produce, are the saved ones either way.
    """

    def __setstate__(self, state: dict[str, Any]) -> None:
        hidden = state.get("analog_tile_hidden_parameters")
        super().__setstate__(state)
        if hidden is not None:
            self.tile.set_hidden_parameters(hidden if isinstance(hidden, Tensor) else torch.as_tensor(hidden))


class TransferAnalogTile(DeviceStateTile):
    """``AnalogTile`` for compounds whose nested unit cells hold one-sided PCM pairs.

    aihwkit 1.1.0 cannot dump the *extra* state (counters of the transfer schedule and the
    refresh) of a ``TransferCompound`` over a ``OneSidedUnitCell``, nor of a ``VectorUnitCell``
    of ``OneSidedUnitCell`` pairs: its C++ state map meets a key such as ``1.num_states``
    twice and raises, so neither ``state_dict()`` nor ``torch.save`` work.
    This tile saves everything else (weights, every hidden device weight and parameter,
    learning rate); a loaded tile restarts the transfer and refresh counters, which only
    decide which column is transferred next (or which device of a vector cell is programmed next).
    """

    def __getstate__(self) -> dict[str, Any]:
        try:
            return super().__getstate__()
        except RuntimeError as error:
            if "already exists in state map" not in str(error):
                raise
        tile = self.tile
        self.tile = _WithoutExtraState(tile)
        try:
            return super().__getstate__()
        finally:
            self.tile = tile


def with_python_state(state: dict[str, Any], tile: Any, names: tuple[str, ...]) -> dict[str, Any]:
    """``state`` (aihwkit's analog state of ``tile``) plus the tile's attributes ``names`` that are
    set: aihwkit's ``state_dict`` keeps only its own fields of a tile, and its ``__setstate__``
    puts every key of the state back as an attribute when a checkpoint loads."""
    for name in names:
        if hasattr(tile, name):
            state[name] = getattr(tile, name)
    return state


def refuse_indexed_update(tile: Any) -> None:
    """Raise for aihwkit's indexed convolution update (CUDA tiles), which gathers the patches in
    C++ and so bypasses a tile's Python ``update``."""
    raise NotImplementedError(
        f"{type(tile).__name__} forms its update in Python from unfolded inputs (aihwkit's CPU convolution "
        "path); build the convolution with use_indexed=False to train it"
    )


def _flatten_batch(tensor: Tensor, feature_dim: int) -> Tensor:
    """``tensor`` as ``(vectors, features)`` in float32, its features taken from ``feature_dim``."""
    return tensor.movedim(feature_dim, -1).reshape(-1, tensor.shape[feature_dim]).float()


class _DigitalUnitStateTile(DeviceStateTile):
    """A mixed-precision tile whose digital unit computes its own step from the update's inputs and
    errors, and keeps state of its own beside ``chi`` (the names in ``_DIGITAL_STATE``).

    aihwkit's ``state_dict`` keeps only its own fields of a tile; this one adds those attributes,
    and aihwkit's ``__setstate__`` puts them back when a checkpoint loads. The step is formed from
    the unfolded inputs :meth:`update` receives, so aihwkit's indexed convolution update is refused.
    """

    _DIGITAL_STATE: tuple[str, ...] = ()

    def get_analog_state(self) -> dict[str, Any]:
        """aihwkit's analog state plus the digital unit's state."""
        return with_python_state(super().get_analog_state(), self, self._DIGITAL_STATE)

    def _feature_dims(self, x_input: Tensor, d_input: Tensor) -> tuple[int, int]:
        """The input and error tensors' feature axes (aihwkit's ``in_trans`` / ``out_trans``)."""
        return (0 if self.in_trans else x_input.dim() - 1, 0 if self.out_trans else d_input.dim() - 1)

    def update_indexed(self, x_input: Tensor, d_input: Tensor) -> None:
        """Refused: aihwkit's indexed convolution update (CUDA tiles) gathers the patches in C++,
        where the digital unit's step cannot be formed."""
        refuse_indexed_update(self)


class FactoredStepTile(_DigitalUnitStateTile):
    """Mixed-precision tile whose digital unit scales the gradient by factored second moments.

    The weight gradient of one update is ``G = sum_b d_b x_b^T`` (outputs x inputs). Adafactor
    (Shazeer & Stern, ICML 2018; here without momentum and with bias-corrected running means
    at ``beta2``) keeps the running means of ``G**2`` over each row (``r``) and each column
    (``c``) and steps by ``G / sqrt(r c^T / mean(r))``, clipped to an RMS of at most 1 per
    weight. That step is itself an outer product, ``sum_b (d_b * sqrt(mean(r) / r)) (x_b / sqrt(c))^T``,
    so this tile scales its inputs and errors and hands them to aihwkit's update: the digital
    accumulator, its threshold and the PCM pulses are those of the preset, and the tile's
    learning rate becomes the RMS step per weight (weight units) instead of an SGD step.
    The statistics are two vectors per tile (outputs + inputs), saved with the tile.
    """

    beta2: float = 0.999
    eps: float = 1e-30
    _DIGITAL_STATE = ("_factored_steps", "_factored_rows", "_factored_cols")

    def update(self, x_input: Tensor, d_input: Tensor) -> None:
        """Update the running statistics with this update's gradient, then hand aihwkit the
        inputs and errors scaled so that their outer product is Adafactor's step."""
        _refuse_input_processing(self, "scaled inputs")
        x_dim, d_dim = self._feature_dims(x_input, d_input)
        x, d = _flatten_batch(x_input, x_dim), _flatten_batch(d_input, d_dim)
        squared = (d.T @ x).square() + self.eps  # outputs x inputs
        step = getattr(self, "_factored_steps", 0) + 1
        rows = getattr(self, "_factored_rows", torch.zeros(squared.shape[0]))
        cols = getattr(self, "_factored_cols", torch.zeros(squared.shape[1]))
        rows = self.beta2 * rows + (1 - self.beta2) * squared.mean(1)
        cols = self.beta2 * cols + (1 - self.beta2) * squared.mean(0)
        self._factored_steps, self._factored_rows, self._factored_cols = step, rows, cols
        rows_hat, cols_hat = rows / (1 - self.beta2**step), cols / (1 - self.beta2**step)
        row_scale = (rows_hat.mean() / rows_hat).sqrt()
        col_scale = cols_hat.rsqrt()
        rms = (squared * row_scale[:, None].square() * col_scale[None, :].square()).mean().sqrt()
        row_scale = row_scale / rms.clamp(min=1.0)  # Adafactor's update clipping (threshold 1)
        x_view = [1] * x_input.dim()
        x_view[x_dim] = -1
        d_view = [1] * d_input.dim()
        d_view[d_dim] = -1
        super().update(x_input * col_scale.to(x_input).view(x_view), d_input * row_scale.to(d_input).view(d_view))


class AdamStepTile(_DigitalUnitStateTile):
    """Mixed-precision tile whose digital unit accumulates Adam's step instead of the gradient.

    The digital unit of mixed precision (Nandakumar et al., Frontiers in Neuroscience 14, 406,
    2020) computes the weight gradient ``G = sum_b d_b x_b^T`` (outputs x inputs) at full
    precision and accumulates it in ``chi``; whole PCM pulses are fired where ``chi`` crosses a
    device step. This tile keeps, next to ``chi``, Adam's first and second moments of ``G``
    (Kingma & Ba, ICLR 2015; ``beta1``, ``beta2``, bias-corrected) and hands aihwkit the step
    ``m_hat / (sqrt(v_hat) + eps)`` instead of ``G``: as a sum of rank-one products with one-hot
    vectors (``sum_i e_i S[i, :]`` over the smaller side of ``S``), which aihwkit's accumulator
    adds to ``chi`` exactly (the preset quantises neither side: ``n_x_bins = n_d_bins = 0``).
    The accumulator, its threshold and the PCM pulses are the preset's; the tile's learning rate
    becomes Adam's step size (weight units). The moments are two fp32 matrices per tile, saved
    with the tile (``state_dict`` too) and restored when it is loaded.
    """

    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    _DIGITAL_STATE = ("_adam_steps", "_adam_first", "_adam_second")

    def update(self, x_input: Tensor, d_input: Tensor) -> None:
        """Update the moments with this update's gradient, then add Adam's step to ``chi``."""
        _refuse_input_processing(self, "one-hot vectors")
        x_dim, d_dim = self._feature_dims(x_input, d_input)
        gradient = _flatten_batch(d_input, d_dim).T @ _flatten_batch(x_input, x_dim)  # outputs x inputs
        count = getattr(self, "_adam_steps", 0) + 1
        first = getattr(self, "_adam_first", None)
        second = getattr(self, "_adam_second", None)
        if first is None or second is None:
            first, second = torch.zeros_like(gradient), torch.zeros_like(gradient)
        first = self.beta1 * first.to(gradient) + (1 - self.beta1) * gradient
        second = self.beta2 * second.to(gradient) + (1 - self.beta2) * gradient.square()
        self._adam_steps, self._adam_first, self._adam_second = count, first, second
        step = (first / (1 - self.beta1**count)) / ((second / (1 - self.beta2**count)).sqrt() + self.eps)
        outputs, inputs = step.shape
        if outputs <= inputs:  # errors one-hot, inputs the step's rows
            x_vectors, d_vectors = step, torch.eye(outputs, dtype=step.dtype, device=step.device)
        else:  # inputs one-hot, errors the step's columns
            x_vectors, d_vectors = torch.eye(inputs, dtype=step.dtype, device=step.device), step.T
        x_vectors = x_vectors.T if self.in_trans else x_vectors
        d_vectors = d_vectors.T if self.out_trans else d_vectors
        super().update(x_vectors.to(x_input).contiguous(), d_vectors.to(d_input).contiguous())

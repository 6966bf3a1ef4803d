"""A PCM pair with a volatile fast weight, moved into PCM by closed-loop programming.

Ambrogio et al. (Nature 558, 60-67, 2018) trained to software accuracy with each weight stored
as ``W = F (G+ - G-) + (g+ - g-)``: a PCM pair ``G`` (the long-term store) and a volatile
3T1C capacitor ``g`` (the fast weight). Training pulses change only ``g``; periodically ``g`` is
read, added into the PCM pair by *closed-loop* (program-and-verify) programming, and reset.
aihwkit 1.1.0's ``TransferCompound`` moves the fast weight with open-loop pulses only, whose
first step out of the reset state is about a third of a PCM device's range
(``PCMPresetDevice``), so every transfer writes a large error into PCM.

:class:`ClosedLoopTransferCompound` is aihwkit's ``TransferCompound`` (capacitor fast array, PCM
pair; forward and backward read ``gamma * fast + (G+ - G-)``) with its own transfer switched off;
:class:`ClosedLoopTransferTile` performs the transfer instead: it reads fast-array columns with
the forward pass's output noise, programs each weight's PCM pair to the sum (the device of the
weight's sign to ``|w|``, the other reset) with the error that iterative program-and-verify
leaves on PCM (aihwkit ``PCMLikeNoiseModel``'s programming noise, fitted to measured devices by
Nandakumar et al., ICECS 2019), and resets the fast columns. It counts what it did, for pricing.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from aihwkit.inference.noise.pcm import PCMLikeNoiseModel
from aihwkit.simulator.configs.compounds import TransferCompound, UnitCell
from torch import Tensor

from memtorch_power.tiles import TransferAnalogTile, refuse_indexed_update, with_python_state

#: Conductance of a PCM device at the top of its range, in µS: the ``g_max`` to which aihwkit's
#: ``PCMLikeNoiseModel`` programming-noise polynomial refers (Nandakumar et al., ICECS 2019).
PCM_G_MAX_US = 25.0


@functools.lru_cache(maxsize=8)
def _programming_noise(scale: float) -> PCMLikeNoiseModel:
    """aihwkit's PCM noise model at ``scale`` times its programming noise (built once per scale:
    a transfer programs two devices per mini-batch and tile)."""
    return PCMLikeNoiseModel(g_max=PCM_G_MAX_US, prog_noise_scale=scale)


@dataclass
class ClosedLoopTransferCompound(TransferCompound):
    """``TransferCompound`` whose transfer is done by :class:`ClosedLoopTransferTile`.

    The first device is the fast array, the last a PCM pair (``OneSidedUnitCell``); aihwkit's own
    transfer is switched off (``transfer_every`` 0 in the simulator); ``fast_lr`` and
    ``gamma_vec`` keep their meaning.
    """

    bindings_ignore: ClassVar[list] = [
        *UnitCell.bindings_ignore,
        "program_every",
        "program_columns",
        "program_noise_scale",
        "read_noise",
        "device_g_max",
        "program_threshold",
        "program_limit",
        "program_decay",
        "polarity_inversion",
    ]

    program_every: int = 1
    """Updates (mini-batches) between closed-loop transfers."""

    program_columns: int = 1
    """Fast-array columns (inputs) read, programmed into PCM and reset per transfer, in turn."""

    program_noise_scale: float = 1.0
    """Scale of the programming error left by program-and-verify (1: Nandakumar et al.'s fit;
    0: exact programming, a diagnostic)."""

    program_threshold: float = 0.0
    """Only weights whose read fast weight adds at least this much (device units, ``gamma *
    |read|``) are programmed and their fast weight reset; the others keep both (0: every weight
    of a transferred column)."""

    program_limit: float = 0.0
    """Largest weight (device units) a transfer programs into a pair: targets beyond it are
    clipped, as a bounded fast array saturates (0: up to the device's range). Behind batch norms
    the transfers let the weights grow without changing the function; on the KWS DS-CNN the
    bound keeps them at the capacitors' spread, with an accuracy inside the interval of the
    unclipped cell's (docs/kws_accuracy_notes.md)."""

    program_decay: float = 0.0
    """Weight decay the transfer applies, as SGD's ``weight_decay``: a weight's PCM part is
    programmed to ``(1 - program_decay * sum(lr)) * slow + gamma * read``, where ``sum(lr)`` adds
    the tile's learning rate over the updates since that weight was last programmed (0: none).
    The weight is programmed when that change reaches ``program_threshold``, so small weights
    keep their decay until a later transfer moves them. An alternative to ``program_limit`` for
    weights that grow behind batch norms; on the KWS DS-CNN neither beats the other beyond one
    run's interval (docs/kws_accuracy_notes.md)."""

    polarity_inversion: bool = False
    """Invert the fast device's polarity each time a weight is programmed and its fast part
    reset, as Ambrogio et al. (2018) did to cancel the fixed charge/discharge asymmetry of their
    3T1C capacitors: the device that added now subtracts, so a device's up/down imbalance drifts
    the fast weight one way in one transfer period and the other way in the next, and the
    drifts that reach PCM cancel in pairs. Simulated exactly by negating the device's bounds and
    reset value and swapping its up and down steps (:func:`invert_polarity`); the switch is in
    the periphery and is not priced."""

    read_noise: float = 0.1
    """Standard deviation of one read of a fast weight, in device units: aihwkit
    ``PresetIOParameters.out_noise`` (0.1), the output noise of the pulsed presets' forward pass,
    since the read is a forward pass with a one-hot input."""

    device_g_max: float = 2.0
    """A PCM device's range in device units, taken as ``PCM_G_MAX_US`` for the programming-noise
    polynomial (aihwkit ``PCMPresetDevice``: ``w_max`` 2.0)."""

    def __post_init__(self) -> None:
        """Refuse transfer settings that cannot be simulated (named in the error)."""
        for name in ("program_every", "program_columns"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("program_noise_scale", "program_threshold", "program_limit", "program_decay", "read_noise"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")

    def as_bindings(self, data_type: Any) -> Any:
        """aihwkit's bindings of the same compound with its transfer switched off."""
        simulated = TransferCompound(
            **{
                field.name: getattr(self, field.name)
                for field in dataclasses.fields(TransferCompound)
                if field.init
            }
        )
        simulated.transfer_every = 0
        return simulated.as_bindings(data_type)


#: Hidden parameters of a pulsed device that look the same from either polarity.
_POLARITY_FREE = ("hidden_weights", "decay_scales", "diffusion_rates", "drift_nu")


def invert_polarity(hidden: Tensor, names: list[str], device: str, index: Tensor, where: Tensor) -> None:
    """Invert the polarity of device ``device`` (the suffix of its hidden-parameter names, e.g.
    ``"0"``) on the columns ``index``, for the weights marked in ``where``, in place.

    A device read with the opposite sign behaves as the negated device: its bounds become
    ``(-min_bound, -max_bound)``, its reset value ``-reset_bias``, its up step the old down step
    and its slopes (aihwkit ``LinearStepDevice``) ``-slope_down``/``-slope_up``; aihwkit's
    pulsed update (``w += slope_up * w + dwmin_up``, ``w -= slope_down * w + dwmin_down``) and
    decay towards the reset value then move the negated weight exactly as they moved the old
    one. The device's weight itself is left to the caller (the transfer resets it).

    Raises:
        ValueError: the device has a hidden parameter whose inversion is not known (named).
    """
    suffix = f"_{device}"
    own = [match[1] for name in names if (match := re.fullmatch(rf"([a-z_]+){suffix}", name))]
    known = {"max_bound", "min_bound", "dwmin_up", "dwmin_down", "slope_up", "slope_down", "reset_bias",
             *_POLARITY_FREE}
    unknown = sorted(set(own) - known)
    if unknown:
        raise ValueError(f"cannot invert the polarity of a device with hidden parameters {unknown}")

    def column(name: str) -> Tensor:
        return hidden[names.index(name + suffix)][:, index].clone()

    def put(name: str, value: Tensor) -> None:
        current = hidden[names.index(name + suffix)][:, index]
        hidden[names.index(name + suffix)][:, index] = torch.where(where, value, current)

    max_bound, min_bound = column("max_bound"), column("min_bound")
    put("max_bound", -min_bound)
    put("min_bound", -max_bound)
    up, down = column("dwmin_up"), column("dwmin_down")
    put("dwmin_up", down)
    put("dwmin_down", up)
    if "slope_up" in own:
        slope_up, slope_down = column("slope_up"), column("slope_down")
        put("slope_up", -slope_down)
        put("slope_down", -slope_up)
    put("reset_bias", -column("reset_bias"))


def symmetry_points(hidden: Tensor, names: list[str], device: str) -> Tensor:
    """Each device's symmetry point, in device units: the weight at which an up and a down pulse
    of aihwkit's ``LinearStepDevice`` update (``w += slope_up * w + dwmin_up``, ``w -= slope_down
    * w + dwmin_down``) cancel, ``(dwmin_down - dwmin_up) / (slope_up - slope_down)``, clipped to
    the device's bounds. Balanced (zero-mean) pulse trains drive a device's weight there, so a
    fast weight reset to zero drifts towards it between transfers (Kim et al., "Zero-shifting
    technique for deep neural network training on resistive cross-point arrays",
    arXiv:1907.10228, 2019). A device whose steps and slopes are equal has no single point; its
    reset value is returned. ``device`` is the suffix of the hidden-parameter names (``"0"``).

    Raises:
        ValueError: the device has no step slopes (not a ``LinearStepDevice``-like device).
    """
    suffix = f"_{device}"
    if f"slope_up{suffix}" not in names:
        raise ValueError(f"device {device!r} has no slope_up/slope_down hidden parameters: no symmetry point known")

    def get(name: str) -> Tensor:
        return hidden[names.index(name + suffix)]

    point = (get("dwmin_down") - get("dwmin_up")) / (get("slope_up") - get("slope_down"))
    point = torch.where(torch.isnan(point), get("reset_bias"), point)  # equal steps and slopes: stays put
    return torch.minimum(torch.maximum(point, get("min_bound")), get("max_bound"))


class ClosedLoopTransferTile(TransferAnalogTile):
    """Analog tile of a :class:`ClosedLoopTransferCompound`: aihwkit's pulsed update of the fast
    array, then every ``program_every`` updates a closed-loop transfer of ``program_columns``
    columns (see the module docstring). Its counters travel with the tile's state:
    ``transfers`` (closed-loop transfers done), ``programmed_weights`` (weights programmed into
    their PCM pair: one device programmed closed-loop and the other reset each); so do the sums
    of learning rates that ``program_decay`` needs.
    """

    _PYTHON_STATE = ("_closed_loop_updates", "_closed_loop_column", "transfers", "programmed_weights",
                     "_learning_rate_sum", "_learning_rate_sum_at_program")

    def get_analog_state(self) -> dict[str, Any]:
        """aihwkit's analog state plus the transfer's counters."""
        return with_python_state(super().get_analog_state(), self, self._PYTHON_STATE)

    @property
    def compound(self) -> ClosedLoopTransferCompound:
        """The tile's device configuration."""
        device = self.rpu_config.device
        if not isinstance(device, ClosedLoopTransferCompound):
            raise TypeError(f"{type(self).__name__} needs a ClosedLoopTransferCompound, got {type(device).__name__}")
        return device

    def update(self, x_input: Tensor, d_input: Tensor) -> None:
        """aihwkit's pulsed update of the fast array, then a transfer when one is due."""
        super().update(x_input, d_input)
        if self.compound.program_decay > 0:
            self._learning_rate_sum = getattr(self, "_learning_rate_sum", 0.0) + float(self.get_learning_rate())
        updates = getattr(self, "_closed_loop_updates", 0) + 1
        self._closed_loop_updates = updates
        if updates % self.compound.program_every == 0:
            self.transfer()

    def update_indexed(self, x_input: Tensor, d_input: Tensor) -> None:
        """Refused (aihwkit's indexed convolution update would bypass the transfer schedule)."""
        refuse_indexed_update(self)

    @torch.no_grad()
    def transfer(self, columns: list[int] | None = None) -> None:
        """Read the fast weights of ``columns`` (None: the next ``program_columns`` in turn), add
        them at ``gamma`` to their PCM pairs by closed-loop programming, and reset them."""
        compound = self.compound
        names = self.tile.get_hidden_parameter_names()
        hidden = self.tile.get_hidden_parameters()
        inputs = hidden.shape[-1]
        if columns is None:
            start = getattr(self, "_closed_loop_column", 0)
            count = min(compound.program_columns, inputs)
            columns = [(start + k) % inputs for k in range(count)]
            self._closed_loop_column = (start + count) % inputs
        index = torch.as_tensor(columns, dtype=torch.long)

        def part(name: str) -> Tensor:  # a hidden parameter on the transferred columns
            return hidden[names.index(name)][:, index]

        gamma = float(compound.gamma_vec[0]) if compound.gamma_vec else float(compound.gamma)
        fast = part("hidden_weights_0")
        read = fast + compound.read_noise * torch.randn_like(fast)
        # aihwkit's OneSidedRPUDevice: the pair's weight is device 1 minus device 0 (g_plus_ = 1)
        plus, minus = "1_1", "0_1"
        slow = part(f"hidden_weights_{plus}") - part(f"hidden_weights_{minus}")
        change = gamma * read - self._decay_fraction(index, tuple(hidden.shape[1:])) * slow
        move = change.abs() >= compound.program_threshold  # weights programmed this time
        target = slow + change
        if compound.program_limit > 0:
            target = target.clamp(-compound.program_limit, compound.program_limit)
        # a RESET device keeps a small conductance (aihwkit's reset plus its spread): the verify reads
        # the pair, so the other device is programmed to |target| above it
        resets = {device: part(f"reset_bias_{device}").clamp(min=0.0) for device in (plus, minus)}
        pair = {}
        for device, other, sign in ((plus, minus, 1.0), (minus, plus, -1.0)):
            magnitude = (sign * target).clamp(min=0.0)
            programmed = self._program(magnitude + resets[other]).clamp(max=part(f"max_bound_{device}"))
            written = torch.where(magnitude > 0, programmed, resets[device])
            pair[device] = torch.where(move, written, part(f"hidden_weights_{device}"))
            hidden[names.index(f"hidden_weights_{device}")][:, index] = pair[device]
        hidden[names.index("hidden_weights_1")][:, index] = pair[plus] - pair[minus]
        if compound.polarity_inversion:
            invert_polarity(hidden, names, "0", index, move)
        hidden[names.index("hidden_weights_0")][:, index] = torch.where(move, part("reset_bias_0"), fast)
        self.tile.set_hidden_parameters(hidden)
        if compound.program_decay > 0:
            programmed_at = self._learning_rate_sum_at_program[:, index]
            now = getattr(self, "_learning_rate_sum", 0.0)
            self._learning_rate_sum_at_program[:, index] = torch.where(move, now, programmed_at)
        self.transfers = getattr(self, "transfers", 0) + 1
        self.programmed_weights = getattr(self, "programmed_weights", 0) + int(move.sum())

    def _decay_fraction(self, index: Tensor, shape: tuple[int, ...]) -> Tensor | float:
        """``program_decay`` times the learning rates summed since each weight of the columns
        ``index`` was last programmed (0 without decay); ``shape``: the tile's (outputs, inputs)."""
        decay = self.compound.program_decay
        if decay == 0:
            return 0.0
        if getattr(self, "_learning_rate_sum_at_program", None) is None:
            self._learning_rate_sum_at_program = torch.zeros(shape, dtype=torch.float64)
        since = getattr(self, "_learning_rate_sum", 0.0) - self._learning_rate_sum_at_program[:, index]
        return (decay * since).clamp(max=1.0).float()

    def _program(self, magnitude: Tensor) -> Tensor:
        """Conductances (device units) reached by program-and-verify towards ``magnitude``."""
        compound = self.compound
        if compound.program_noise_scale == 0:
            return magnitude
        model = _programming_noise(compound.program_noise_scale)
        scale = PCM_G_MAX_US / compound.device_g_max
        return model.apply_programming_noise_to_conductance(magnitude * scale) / scale

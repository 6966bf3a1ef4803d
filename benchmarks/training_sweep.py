"""Tune the PCM training presets on keyword spotting: one KWS run per named variant (issues 12, 13).

Each variant changes what can be tuned without changing the simulated hardware: learning rates
of the tiles and of the digital parameters, the accumulator threshold, weight scaling, refresh,
batch size (``pcm_mixed_precision``), and the fast-array step and transfer schedule
(``pcm_tiki_taka``). Variants are chosen on **validation** accuracy; the test accuracy of the
chosen one is reported once, by ``benchmarks/kws_accuracy.py``. Every run appends its row to
``benchmarks/results/<preset>_sweep.json`` (atomic write); ``--table`` prints the table that
``docs/kws_accuracy_notes.md`` keeps.

    .venv/bin/python benchmarks/training_sweep.py --epochs 10 --variants mp:preset mp:tile_lr_0.3
    .venv/bin/python benchmarks/training_sweep.py --table pcm_mixed_precision
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from _common import RESULTS, machine, write_atomic
from aihwkit.simulator.parameters.base import RPUConfigBase
from aihwkit.simulator.configs import SingleRPUConfig, UnitCellRPUConfig
from aihwkit.simulator.configs.compounds import (
    ChoppedTransferCompound,
    DynamicTransferCompound,
    TransferCompound,
    VectorUnitCell,
)
from aihwkit.simulator.configs.devices import ConstantStepDevice
from aihwkit.simulator.parameters.enums import PulseType, VectorUnitCellUpdatePolicy
from aihwkit.simulator.presets import MixedPrecisionPCMPreset
from aihwkit.simulator.presets.compounds import PCMPresetUnitCell
from aihwkit.simulator.presets.devices import CapacitorPresetDevice, EcRamPresetDevice
from aihwkit.simulator.presets.utils import PresetIOParameters, PresetUpdateParameters
from memtorch_power.presets import (
    PRESETS,
    Preset,
    fast_weight_cell,
    pcm_fast_weight_config,
    pcm_tiki_taka_config,
    pulsed_mapping,
    register_preset,
    transfer_config,
)
from memtorch_power.tiles import AdamStepTile, FactoredStepTile, TransferAnalogTile


@dataclass(frozen=True)
class Variant:
    """One try: what it changes against the shipped preset.

    Attributes:
        name: ``<family>:<key>`` (``mp``: ``pcm_mixed_precision``; ``tt``: ``pcm_tiki_taka``).
        why: the reasoning behind the try, one sentence.
        training: optimizer overrides (``optimizer``, ``lr``, ``analog_lr``, ``momentum``).
        device: device-side settings for the family's config builder.
        batch_size: examples per batch (64 as the recipes).
    """

    name: str
    why: str
    training: dict[str, Any] = field(default_factory=dict)
    device: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 64

    @property
    def base(self) -> str:
        return FAMILIES[self.name.split(":", 1)[0]][0]


def _mixed_precision(omega: float = 0.6, granularity: float = 0.0, refresh_every: int = 1,
                     constant_step: bool = False, pulse_noise: bool = True,
                     exact_refresh_read: bool = False, refresh_lower: float | None = None,
                     exact_pulse_count: bool = False, device_variation: bool = True,
                     perfect_backward: bool = False, perfect_forward: bool = False,
                     w_max: float | None = None, devices_per_weight: int = 1,
                     factored_step: bool = False, adam_step: bool = False) -> RPUConfigBase:
    """``constant_step``: every SET pulse moves a PCM device by ``dw_min`` whatever its
    conductance (``ExpStepDevice``'s ``A_up``/``A_down`` 0; the preset's step is 28x ``dw_min``
    from a reset device); ``pulse_noise`` False: no pulse-to-pulse variation (``dw_min_std`` 0,
    the preset's 0.6); ``exact_refresh_read``: the refresh reads the pair without read noise,
    DAC/ADC quantisation or bounds (``refresh_forward.is_perfect``: a read as good as a
    verify loop's), its re-write still by pulses; ``refresh_every`` 0: no refresh at all;
    ``refresh_lower``: the smaller device's threshold of the refresh criterion (aihwkit's 0.25:
    a pair is refreshed only when its larger device is above 0.75 of its range and its smaller one
    above this); ``exact_pulse_count``: the transfer fires exactly the pulses the accumulator
    counted (``PulseType.DETERMINISTIC_IMPLICIT``; the preset's stochastic pulse trains fire a
    random number with that mean: 0.62 pulses of error at 1.3 counted, on a small layer);
    ``device_variation`` False: no device-to-device variation of step, bounds or reset;
    ``perfect_backward`` / ``perfect_forward``: exact backward / forward MVMs (no DAC, ADC or
    noise); ``w_max``: each device's upper bound (the preset's 2.0); ``devices_per_weight``: N
    PCM pairs per weight, each read at 1/N, one pair programmed per update in turn (the
    multi-memristive synapse of Boybat et al., Nature Communications 9, 2514, 2018; aihwkit
    ``VectorUnitCell``, ``SINGLE_SEQUENTIAL``): a pulse moves the weight by 1/N of a PCM step.
    ``factored_step``: the digital unit scales the gradient by factored second moments before it
    accumulates it (:class:`~memtorch_power.tiles.FactoredStepTile`, Adafactor without momentum);
    ``adam_step``: the digital unit accumulates Adam's step (:class:`~memtorch_power.tiles.AdamStepTile`).
    All but ``refresh_every``, ``devices_per_weight``, ``factored_step`` and ``adam_step`` are diagnostics of what
    limits training, not devices."""
    config = MixedPrecisionPCMPreset()
    config.mapping = dataclasses.replace(pulsed_mapping(), weight_scaling_omega=omega)
    # chi threshold (0: the device's dw_min); aihwkit applies each count as granularity /
    # dw_min pulses (rpu_mixedprec_device.cpp, forwardUpdate), so a larger one bunches pulses
    config.device.granularity = granularity
    config.device.device.refresh_every = refresh_every
    if exact_refresh_read:
        config.device.device.refresh_forward.is_perfect = True
    if refresh_lower is not None:
        config.device.device.refresh_lower_thres = refresh_lower
    if exact_pulse_count:
        config.update.pulse_type = PulseType.DETERMINISTIC_IMPLICIT
    config.backward.is_perfect = perfect_backward
    config.forward.is_perfect = perfect_forward
    for device in config.device.device.unit_cell_devices:
        if constant_step:
            device.A_up = device.A_down = 0.0
        if not pulse_noise:
            device.dw_min_std = 0.0
        if not device_variation:
            device.dw_min_dtod = device.up_down_dtod = device.w_max_dtod = 0.0
            device.reset_std = device.reset_dtod = 0.0
        if w_max is not None:
            device.w_max = w_max
    if devices_per_weight > 1:
        cell = config.device.device
        config.device.device = VectorUnitCell(
            unit_cell_devices=[copy.deepcopy(cell) for _ in range(devices_per_weight)],
            update_policy=VectorUnitCellUpdatePolicy.SINGLE_SEQUENTIAL,
            gamma_vec=[1.0 / devices_per_weight] * devices_per_weight)
        config.tile_class = TransferAnalogTile  # saves nested one-sided cells (aihwkit cannot)
    elif factored_step:
        config.tile_class = FactoredStepTile
    elif adam_step:
        config.tile_class = AdamStepTile
    return config


def _ttv2_config(
    fast_lr: float = 1.0,
    transfers_per_batch: int = 8,
    buffer_granularity: float = 1.0,
    in_chop_prob: float = 0.0,
    momentum: float = 0.0,
    forget_buffer: bool = True,
    weight_scaling_omega: float | None = None,
) -> UnitCellRPUConfig:
    """TTv2 (buffered Tiki-Taka) with a volatile fast weight and PCM as the long-term store.

    As ``pcm_tiki_taka_config``, the gradient is applied by pulses to a capacitor-like fast
    array and forward/backward read the PCM pair array; but each column read from the fast array
    is first added to a digital buffer ``H`` (one float per weight, in units of the fast
    device's step: ``H += lr * read / (buffer_granularity * dw_min_fast)``), and a PCM device is
    pulsed only where ``|H| >= 1``: at most one pulse per weight and transfer, after which the
    buffer keeps ``momentum`` of its value (``forget_buffer``) or loses what was written
    (Gokmen, Frontiers in Artificial Intelligence 4, 699148, 2021; aihwkit
    ``ChoppedTransferCompound``, whose ``in_chop_prob`` > 0 adds the input choppers of chopped
    TTv2, Rasch et al., Nature Communications 15, 2024).

    Args:
        fast_lr: learning rate of the pulsed update onto the fast array (constant; the optimizer's
            tile learning rate scales the transfer into the buffer).
        transfers_per_batch: fast-array columns read and buffered per mini-batch (each transfer
            reads one column; aihwkit's chopped transfer supports one read per transfer).
        buffer_granularity: buffer threshold in fast-device steps (larger: rarer PCM pulses).
        in_chop_prob: probability that a column's input chopper switches after its read (0: TTv2).
        momentum: fraction of the buffer kept after a pulse.
        forget_buffer: keep only ``momentum`` of the buffer after a pulse (True) or subtract
            what was written (False).
        weight_scaling_omega: the largest weight of a column in device units (None: 0.6).
    """
    return transfer_config(
        ChoppedTransferCompound(
            unit_cell_devices=[CapacitorPresetDevice(), PCMPresetUnitCell()],
            fast_lr=fast_lr,
            transfer_every=1.0 / transfers_per_batch,
            units_in_mbatch=True,
            in_chop_prob=in_chop_prob,
            buffer_granularity=buffer_granularity,
            momentum=momentum,
            forget_buffer=forget_buffer,
            auto_scale=False,
            scale_transfer_lr=True,
            transfer_lr=1.0,
            transfer_forward=PresetIOParameters(),
            transfer_update=PresetUpdateParameters(
                desired_bl=1, update_bl_management=False, update_management=False),
        ),
        weight_scaling_omega,
    )


def _agad_config(fast_lr: float = 0.1, transfers_per_batch: int = 8) -> UnitCellRPUConfig:
    """AGAD (Rasch et al., Nature Communications 15, 2024; aihwkit ``DynamicTransferCompound``)
    over the capacitor fast array and PCM pair, with ``build_config("agad")``'s settings (input
    choppers, a reference computed on the fly from the fast array's recent reads, auto-scaled
    fast updates, one-pulse transfers with update management) and ``transfers_per_batch`` one-
    column reads per mini-batch as the TTv2 variants."""
    return transfer_config(
        DynamicTransferCompound(
            unit_cell_devices=[CapacitorPresetDevice(), PCMPresetUnitCell()],
            fast_lr=fast_lr,
            auto_scale=True,
            transfer_every=1.0 / transfers_per_batch,
            units_in_mbatch=True,
            transfer_forward=PresetIOParameters(),
            transfer_update=PresetUpdateParameters(desired_bl=1, update_bl_management=True, update_management=True),
        )
    )


def _fast_weight_config(
    gamma: float = 0.5,
    fast_lr: float = 0.2,
    transfer_every: float = 1.0,
    n_reads_per_transfer: int = 4,
    weight_scaling_omega: float | None = None,
) -> UnitCellRPUConfig:
    """A volatile fast weight added to a PCM pair, moved into the PCM pair and reset
    (Ambrogio et al., Nature 558, 60, 2018: ``W = F (G+ - G-) + (g+ - g-)``, the 3T1C capacitor
    ``g`` trained in the array and periodically transferred into the PCM pair ``G``).

    Forward and backward read ``gamma * fast + slow``; the gradient is applied by stochastic
    pulse coincidences to the fast (capacitor-like, aihwkit ``CapacitorPresetDevice``) array at
    the constant rate ``fast_lr``; every ``transfer_every`` mini-batches ``n_reads_per_transfer``
    of its columns are read, added to the PCM pair array at ``gamma`` by pulsed updates and then
    reset, so the weight is kept and what the transfer got wrong stays for the fast array to
    correct. aihwkit ``TransferCompound`` with ``gamma_vec = [gamma, 1]`` and
    ``with_reset_prob = 1``; the transfer is open-loop pulses, where Ambrogio et al. programmed
    the PCM pair closed-loop.

    Args:
        gamma: significance of the fast weight relative to the PCM pair (Ambrogio et al.'s
            ``1/F``; they used ``F = 3``).
        fast_lr: learning rate of the pulsed update onto the fast array, in its own units (the
            weight moves by ``gamma * fast_lr`` times the gradient); the optimizer's tile
            learning rate is then not used. 0: the fast array steps at the optimizer's (scheduled)
            tile learning rate.
        transfer_every: mini-batches between transfers.
        n_reads_per_transfer: fast-array columns read, transferred and reset per transfer.
        weight_scaling_omega: the largest weight of a column in device units (None: 0.6).
    """
    return transfer_config(
        TransferCompound(
            **fast_weight_cell(gamma, fast_lr),
            transfer_every=transfer_every,
            n_reads_per_transfer=n_reads_per_transfer,
            with_reset_prob=1.0,
            scale_transfer_lr=False,
            transfer_lr=gamma,
        ),
        weight_scaling_omega,
    )


def _make_constant_step(cell: Any) -> None:
    """Diagnostic: the PCM pair's devices step by ``dw_min`` at every conductance, without
    pulse-to-pulse or device-to-device variation."""
    for device in cell.unit_cell_devices:
        device.A_up = device.A_down = 0.0
        device.dw_min_std = device.dw_min_dtod = device.up_down_dtod = device.w_max_dtod = 0.0


def _set_common_mode(cell: Any, conductance: float) -> None:
    """The PCM pair's refresh programs both devices to ``conductance`` (device units; aihwkit's
    ``reset``, PCMPresetDevice 0.01) before it writes the difference, so that later pulses land
    where PCM's steps are fine (aihwkit's ``ExpStepDevice``: 0.28 at 0, 0.03 at 1.0, 0.016 at 1.5)."""
    for device in cell.unit_cell_devices:
        device.reset = conductance


def _fast_weight(constant_step_pcm: bool = False, common_mode: float | None = None,
                 **settings: Any) -> RPUConfigBase:
    """``_fast_weight_config(**settings)``, optionally with constant-step PCM (diagnostic) or the
    PCM pair refreshed to a common-mode conductance."""
    config = _fast_weight_config(**settings)
    if constant_step_pcm:
        _make_constant_step(config.device.unit_cell_devices[1])
    if common_mode is not None:
        _set_common_mode(config.device.unit_cell_devices[1], common_mode)
    return config


def _ttv2(perfect_transfer_read: bool = False, constant_step_pcm: bool = False, perfect_fast_update: bool = False,
          fine_fast_array: bool = False, capacitor_slow: bool = False, common_mode: float | None = None,
          **settings: Any) -> RPUConfigBase:
    """``_ttv2_config(**settings)`` with diagnostics: the transfer reads the fast array exactly
    (no read noise, no ADC); the PCM devices step by ``dw_min`` at every conductance, without
    pulse-to-pulse or device-to-device variation; the fast array's pulsed update fires exactly the
    expected pulses (deterministic trains); the fast array has 10x finer, noiseless, identical
    constant steps (4,000 states; aihwkit compounds refuse an ``IdealDevice`` there); the slow array
    is a second capacitor array instead of PCM pairs. Diagnostics of what limits training, not
    devices; ``common_mode`` refreshes the PCM pairs to that conductance (:func:`_set_common_mode`)."""
    config = _ttv2_config(**settings)
    fast, cell = config.device.unit_cell_devices
    if perfect_transfer_read:
        config.device.transfer_forward.is_perfect = True
    if constant_step_pcm:
        _make_constant_step(cell)
    if perfect_fast_update:
        config.update.pulse_type = PulseType.DETERMINISTIC_IMPLICIT
        fast.dw_min_std = 0.0
    if common_mode is not None:
        _set_common_mode(cell, common_mode)
    if capacitor_slow:
        config.device.unit_cell_devices[1] = CapacitorPresetDevice()
    if fine_fast_array:
        fine = ConstantStepDevice(dw_min=fast.dw_min / 10, w_max=fast.w_max, w_min=fast.w_min)
        fine.dw_min_std = fine.dw_min_dtod = fine.up_down_dtod = fine.w_max_dtod = fine.w_min_dtod = 0.0
        config.device.unit_cell_devices[0] = fine
    return config


def _noiseless_capacitor() -> CapacitorPresetDevice:
    """aihwkit's ``CapacitorPresetDevice`` without pulse-to-pulse noise and without any
    device-to-device variation: its 400 steps (``dw_min`` 0.005 over -1..1), its slightly
    state-dependent step and its stochastic pulse trains kept (diagnostic, not a device)."""
    return dataclasses.replace(CapacitorPresetDevice(), dw_min_std=0.0, dw_min_dtod=0.0, up_down_dtod=0.0,
                               w_max_dtod=0.0, w_min_dtod=0.0, lifetime_dtod=0.0, reset_std=0.0,
                               gamma_up_dtod=0.0, gamma_down_dtod=0.0)


def _capacitor_sgd(noiseless: bool = False) -> RPUConfigBase:
    """Plain parallel pulsed SGD on one capacitor-like device per weight (aihwkit
    ``CapacitorPresetDevice``, or :func:`_noiseless_capacitor`), the presets' converters and
    update: what Tiki-Taka's fast array alone learns (diagnostic)."""
    device = _noiseless_capacitor() if noiseless else CapacitorPresetDevice()
    config = SingleRPUConfig(device=device, forward=PresetIOParameters(),
                             backward=PresetIOParameters(), update=PresetUpdateParameters())
    config.mapping = pulsed_mapping()
    return config


def _uniform_capacitor() -> CapacitorPresetDevice:
    """aihwkit's ``CapacitorPresetDevice`` with its pulse-to-pulse noise kept and every
    device-to-device variation (step, asymmetry, bounds, decay) switched off (diagnostic)."""
    return dataclasses.replace(CapacitorPresetDevice(), dw_min_dtod=0.0, up_down_dtod=0.0, w_max_dtod=0.0,
                               w_min_dtod=0.0, lifetime_dtod=0.0, reset_std=0.0, gamma_up_dtod=0.0,
                               gamma_down_dtod=0.0)


def _symmetric_capacitor() -> CapacitorPresetDevice:
    """aihwkit's ``CapacitorPresetDevice`` whose up/down asymmetry has no device-to-device
    spread (``up_down_dtod`` 0; every other variation and the pulse noise kept; diagnostic)."""
    return dataclasses.replace(CapacitorPresetDevice(), up_down_dtod=0.0)


#: ``fast_array`` names of :func:`_closed_loop` -> the fast device's factory (None: the preset's own
#: capacitors)
_FAST_ARRAYS: dict[str, Callable[[], Any] | None] = {
    "capacitor": None, "uniform_capacitor": _uniform_capacitor, "symmetric_capacitor": _symmetric_capacitor,
    "ecram": EcRamPresetDevice,
}


def _closed_loop(noiseless_fast_array: bool = False, fast_array: str = "capacitor", **settings: Any) -> RPUConfigBase:
    """``pcm_fast_weight_config(**settings)`` with another fast array: ``noiseless_fast_array``
    (:func:`_noiseless_capacitor`, diagnostic) or ``fast_array`` ``"uniform_capacitor"``
    (:func:`_uniform_capacitor`, diagnostic), ``"symmetric_capacitor"``
    (:func:`_symmetric_capacitor`, diagnostic) or ``"ecram"`` (aihwkit ``EcRamPresetDevice``,
    after Tang et al., IEDM 2018: a device with a sixth of the capacitor's device-to-device
    asymmetry spread)."""
    if fast_array not in _FAST_ARRAYS:
        raise ValueError(f"fast_array must be one of {', '.join(map(repr, _FAST_ARRAYS))}, got {fast_array!r}")
    config = pcm_fast_weight_config(**settings)
    device = _noiseless_capacitor if noiseless_fast_array else _FAST_ARRAYS[fast_array]
    if device is not None:
        config.device.unit_cell_devices[0] = device()
    return config


#: family key -> (base preset, config builder taking the variant's ``device`` settings)
FAMILIES: dict[str, tuple[str, Callable[..., RPUConfigBase]]] = {
    "mp": ("pcm_mixed_precision", _mixed_precision),
    "tt": ("pcm_tiki_taka", pcm_tiki_taka_config),
    "t2": ("pcm_tiki_taka", _ttv2),
    "fw": ("pcm_tiki_taka", _fast_weight),
    "cap": ("pcm_training", _capacitor_sgd),
    "ag": ("pcm_tiki_taka", _agad_config),
    "cl": ("pcm_tiki_taka", _closed_loop),
}

_SGD = {"optimizer": "sgd", "lr": 1.0, "momentum": 0.0}
#: The closed-loop cell at gamma 1/3 whose 40-epoch runs chose ``pcm_fast_weight``; its
#: diagnostics add one setting to it. "pcm_fast_weight" in their descriptions is the preset as it
#: was before it took polarity inversion (``..._polarity``, now the preset).
_FAST_WEIGHT_CELL = {"gamma": 1 / 3, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1,
                     "program_limit": 1.0}
#: the closed-loop transfer's read noise of the first ``cl:`` runs (device units; see below)
_CL_EARLY_READ = {"read_noise": 0.06}
#: every PCM property of the pair's devices switched off (diagnostics only)
_IDEAL_DEVICE = {"constant_step": True, "pulse_noise": False, "device_variation": False, "exact_pulse_count": True}

VARIANTS = {v.name: v for v in (
    # -- pcm_mixed_precision (issue 12) ---------------------------------------------------------
    Variant("mp:preset", "the shipped settings: SGD lr 1.0 for tiles and digital parameters", _SGD),
    Variant("mp:tile_lr_0.3", "smaller tile step: fewer, less noisy pulses", {**_SGD, "analog_lr": 0.3}),
    Variant("mp:tile_lr_0.1", "smaller tile step still", {**_SGD, "analog_lr": 0.1}),
    Variant("mp:tile_lr_0.03", "a tenth of 0.3: where does a smaller tile step stop helping", {**_SGD, "analog_lr": 0.03}),
    Variant("mp:tile_lr_3", "larger tile step: more of the gradient crosses the threshold", {**_SGD, "analog_lr": 3.0}),
    Variant("mp:adam_digital", "digital parameters on the digital run's Adam 3e-3, tiles SGD 1.0",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 1.0}),
    Variant("mp:adam_digital_tile_0.3", "Adam 3e-3 for digital parameters, tiles SGD 0.3",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 0.3}),
    Variant("mp:adam_digital_tile_3", "Adam 3e-3 for digital parameters, tiles SGD 3.0",
            {"optimizer": "adam", "lr": 3e-3, "analog_lr": 3.0}),
    Variant("mp:momentum_digital", "SGD momentum 0.9 (lr 0.1) for the digital parameters, tiles SGD 1.0",
            {"optimizer": "sgd", "lr": 0.1, "analog_lr": 1.0, "momentum": 0.9}),
    Variant("mp:omega_1.0", "weight scaling 1.0: more signal above the output noise, less headroom", _SGD,
            {"omega": 1.0}),
    Variant("mp:omega_0.3", "weight scaling 0.3: more headroom, finer steps relative to the weights", _SGD,
            {"omega": 0.3}),
    Variant("mp:granularity_half", "threshold at half a device step: each count fires a pulse with probability 0.5",
            {**_SGD, "analog_lr": 0.5}, {"granularity": 0.005}),
    Variant("mp:tile_lr_0.3_omega_1.0", "tile step 0.3 with weight scaling 1.0", {**_SGD, "analog_lr": 0.3},
            {"omega": 1.0}),
    Variant("mp:tile_lr_0.3_digital_lr_0.3", "tile step 0.3 and digital SGD step 0.3",
            {"optimizer": "sgd", "lr": 0.3, "analog_lr": 0.3, "momentum": 0.0}),
    Variant("mp:batch_32", "batch 32: twice the updates per epoch", _SGD, batch_size=32),
    # PCM's first pulses from a reset device are the coarsest (docs/kws_accuracy_notes.md)
    Variant("mp:tile_lr_0.1_omega_1.4", "tile step 0.1 with weights up to 1.4 device units (finer PCM pulses)",
            {**_SGD, "analog_lr": 0.1}, {"omega": 1.4}),
    Variant("mp:refresh_10", "refresh check every 10 updates instead of every update", _SGD, {"refresh_every": 10}),
    # diagnostics (docs/kws_accuracy_notes.md): which property of the PCM update costs the accuracy
    Variant("mp:tile_lr_0.1_constant_step", "diagnostic: PCM steps independent of conductance (no 28x first pulses)",
            {**_SGD, "analog_lr": 0.1}, {"constant_step": True}),
    Variant("mp:tile_lr_0.1_no_pulse_noise", "diagnostic: PCM pulses without pulse-to-pulse variation",
            {**_SGD, "analog_lr": 0.1}, {"pulse_noise": False}),
    Variant("mp:tile_lr_1_constant_step", "diagnostic: conductance-independent steps at a 10x larger tile step "
            "(the preset's first pulses are up to 28x dw_min, so 0.1 with constant steps is a smaller step)",
            {**_SGD, "analog_lr": 1.0}, {"constant_step": True}),
    # benchmarks/pcm_device_occupancy.py: 55 % of devices hold less than one first SET pulse (0.28
    # device units, 28x dw_min) after 10 epochs. These three were meant as "one pulse per PCM-sized
    # accumulated update"; aihwkit fires granularity / dw_min pulses per count instead, so they
    # fire the preset's pulses in bunches (docs/kws_accuracy_notes.md, correction)
    Variant("mp:tile_lr_0.1_granularity_0.1", "threshold at 0.1 device units (10x dw_min): the preset's pulses "
            "fired in bunches of 10", {**_SGD, "analog_lr": 0.1}, {"granularity": 0.1}),
    Variant("mp:tile_lr_0.1_granularity_0.28", "threshold at the first SET pulse's size (0.28 device units): "
            "bunches of 28 pulses", {**_SGD, "analog_lr": 0.1}, {"granularity": 0.28}),
    Variant("mp:tile_lr_1_granularity_0.1", "threshold at 0.1 device units with the tile step at 1.0: the preset "
            "at 1.0 with its pulses in bunches of 10", {**_SGD, "analog_lr": 1.0}, {"granularity": 0.1}),
    # is the device the limit at all? (2026-12-03 afternoon) the same update with parts of the PCM
    # model switched off, one at a time and then all together
    Variant("mp:tile_lr_0.1_perfect_backward", "diagnostic: exact backward MVMs (errors without DAC, ADC or noise)",
            {**_SGD, "analog_lr": 0.1}, {"perfect_backward": True}),
    Variant("mp:tile_lr_0.1_no_noise_constant_step", "diagnostic: conductance-independent steps without "
            "pulse-to-pulse variation", {**_SGD, "analog_lr": 0.1}, {"constant_step": True, "pulse_noise": False}),
    Variant("mp:tile_lr_0.1_deterministic_pulses", "exactly the counted pulses per transfer instead of a "
            "stochastic pulse train with that mean", {**_SGD, "analog_lr": 0.1}, {"exact_pulse_count": True}),
    Variant("mp:tile_lr_0.1_ideal_device", "diagnostic: an ideal device in the PCM pair (constant steps, no "
            "pulse noise, no device-to-device variation, exact pulse counts)", {**_SGD, "analog_lr": 0.1},
            _IDEAL_DEVICE),
    Variant("mp:tile_lr_0.1_ideal_device_perfect_io", "diagnostic: the ideal device with exact forward and "
            "backward MVMs", {**_SGD, "analog_lr": 0.1},
            {**_IDEAL_DEVICE, "perfect_forward": True, "perfect_backward": True}),
    Variant("mp:tile_lr_0.1_ideal_device_wide", "diagnostic: the ideal device with 10x the conductance range "
            "(w_max 20): do the weights hit the device bounds?", {**_SGD, "analog_lr": 0.1},
            {**_IDEAL_DEVICE, "w_max": 20.0}),
    # at step 1.0 the ideal crossbar (exact weight updates) reaches 86 % where the preset reaches 70 %:
    # is it the PCM device that keeps mixed precision from the larger step? (2026-12-03)
    Variant("mp:tile_lr_1_ideal_device", "diagnostic: the ideal device at tile step 1.0 (the ideal crossbar's "
            "86 % step)", {**_SGD, "analog_lr": 1.0}, _IDEAL_DEVICE),
    Variant("mp:tile_lr_0.3_ideal_device", "diagnostic: the ideal device at tile step 0.3",
            {**_SGD, "analog_lr": 0.3}, _IDEAL_DEVICE),
    # a pulse that moves the weight by a third of a PCM step (Boybat et al. 2018): the same
    # accumulated update then needs 3x the pulses, so the tile step is 3x the preset's 0.1
    Variant("mp:3_pairs_tile_lr_0.3", "three PCM pairs per weight, one programmed per update in turn, each "
            "read at 1/3 (multi-memristive synapse), tile step 0.3", {**_SGD, "analog_lr": 0.3},
            {"devices_per_weight": 3}),
    Variant("mp:3_pairs_tile_lr_1", "three PCM pairs per weight, tile step 1.0", {**_SGD, "analog_lr": 1.0},
            {"devices_per_weight": 3}),
    Variant("mp:3_pairs_ideal_device_tile_lr_0.3", "diagnostic: three pairs per weight of the ideal device, tile "
            "step 0.3 (is it PCM or the vector cell that learns worse?)", {**_SGD, "analog_lr": 0.3},
            {**_IDEAL_DEVICE, "devices_per_weight": 3}),
    # the exact-SGD control is within 1.4 points of mixed precision, Adam 2.15 above it (BENCHMARKS.md
    # kws_accuracy_seeds): an adaptive step in the digital unit, factored so aihwkit's outer product takes it
    Variant("mp:factored_tile_lr_0.003", "Adafactor-scaled gradient (no momentum) accumulated by the digital "
            "unit, RMS step 0.003 per weight", {**_SGD, "analog_lr": 0.003}, {"factored_step": True}),
    Variant("mp:factored_tile_lr_0.001", "Adafactor-scaled gradient, RMS step 0.001 per weight",
            {**_SGD, "analog_lr": 0.001}, {"factored_step": True}),
    # factored within noise (2.80 against 3.55 points below digital): Adam's full moments, momentum
    # included, in the digital unit next to chi; the tile step is Adam's step size in weight units
    Variant("mp:adam_step_0.003", "Adam's step (moments of the full gradient, digital) accumulated by the "
            "digital unit, step size 0.003 as the digital run; digital parameters SGD 1.0",
            {**_SGD, "analog_lr": 0.003}, {"adam_step": True}),
    Variant("mp:adam_step_0.001", "Adam's step accumulated by the digital unit, step size 0.001; digital "
            "parameters SGD 1.0", {**_SGD, "analog_lr": 0.001}, {"adam_step": True}),
    Variant("mp:adam_step_0.003_adam_digital", "Adam's step accumulated by the digital unit at 0.003 and the "
            "digital parameters on Adam 3e-3: the digital run's optimizer throughout",
            {"optimizer": "adam", "lr": 0.003, "analog_lr": 0.003}, {"adam_step": True}),
    Variant("mp:tile_lr_0.1_exact_refresh_read", "diagnostic: the refresh reads each PCM pair exactly "
            "(no read noise, no ADC) before it re-writes the difference", {**_SGD, "analog_lr": 0.1},
            {"exact_refresh_read": True}),
    Variant("mp:tile_lr_0.1_refresh_one_sided", "refresh a pair whenever its larger device passes 0.75 of its "
            "range, whatever the smaller one holds (aihwkit's criterion also wants the smaller above 0.25)",
            {**_SGD, "analog_lr": 0.1}, {"refresh_lower": 0.0}),
    Variant("mp:tile_lr_0.1_no_refresh", "diagnostic: no refresh: the pair's devices only ever grow",
            {**_SGD, "analog_lr": 0.1}, {"refresh_every": 0}),
    # -- pcm_tiki_taka (issue 13) ------------------------------------------------------------------
    Variant("tt:default", "one fast-array column transferred per mini-batch, fast lr 1.0, transfer scaled by 0.1",
            {**_SGD, "analog_lr": 0.1}),
    Variant("tt:reads_8", "8 columns per transfer: each column reaches PCM several times an epoch",
            {**_SGD, "analog_lr": 0.1}, {"n_reads_per_transfer": 8}),
    Variant("tt:reads_8_transfer_lr_1", "8 columns per transfer, transfer at the full rate",
            {**_SGD, "analog_lr": 1.0}, {"n_reads_per_transfer": 8}),
    Variant("tt:reads_8_fast_0.1", "8 columns per transfer, fast lr 0.1: less fast-array saturation",
            {**_SGD, "analog_lr": 0.1}, {"n_reads_per_transfer": 8, "fast_lr": 0.1}),
    Variant("tt:matvec_1000", "transfer one column every 1000 mat-vecs (convolutions transfer more often)",
            {**_SGD, "analog_lr": 0.1}, {"units_in_mbatch": False, "transfer_every": 1000.0}),
    Variant("tt:reads_8_gamma_0.1", "8 columns per transfer, the fast weight read with the PCM weight at 0.1 "
            "(Ambrogio et al.'s cell): the gradient acts on the forward before it is transferred",
            {**_SGD, "analog_lr": 0.1}, {"n_reads_per_transfer": 8, "gamma": 0.1}),
    # in-array fine-tuning from the digital model (--init-from): the from-scratch step of 1.0
    # throws the trained batch norms and weights away within an epoch (87.9 % -> 23 % validation)
    Variant("tt:finetune_lr_0.05", "fine-tuning: digital SGD and transfer scale 0.05, fast lr 0.1",
            {"optimizer": "sgd", "lr": 0.05, "analog_lr": 0.05, "momentum": 0.0},
            {"n_reads_per_transfer": 8, "fast_lr": 0.1}),
    Variant("tt:finetune_lr_0.01", "fine-tuning: digital SGD and transfer scale 0.01, fast lr 0.1",
            {"optimizer": "sgd", "lr": 0.01, "analog_lr": 0.01, "momentum": 0.0},
            {"n_reads_per_transfer": 8, "fast_lr": 0.1}),
    # each PCM pulse from a reset device moves a weight by up to half its range at omega 0.6
    # (docs/kws_accuracy_notes.md): a larger omega and a 10x smaller transfer step
    Variant("tt:finetune_omega_1.4", "fine-tuning: weights up to 1.4 device units (finer PCM pulses), "
            "digital SGD 0.01, transfer scale 0.001, fast lr 0.1",
            {"optimizer": "sgd", "lr": 0.01, "analog_lr": 0.001, "momentum": 0.0},
            {"n_reads_per_transfer": 8, "fast_lr": 0.1, "weight_scaling_omega": 1.4}),
    Variant("tt:reads_8_omega_1.4", "from scratch with weights up to 1.4 device units (finer PCM pulses)",
            {**_SGD, "analog_lr": 0.1}, {"n_reads_per_transfer": 8, "weight_scaling_omega": 1.4}),
    Variant("tt:reads_8_omega_1.4_transfer_0.03", "omega 1.4 and a 3x smaller transfer step",
            {**_SGD, "analog_lr": 0.03}, {"n_reads_per_transfer": 8, "weight_scaling_omega": 1.4}),
    # -- TTv2 (buffered transfer) on the same hardware: the buffer fires a PCM pulse only where
    # the read fast weights have added up to one step, as mixed precision's chi does
    Variant("t2:lr_0.1", "TTv2: 8 column reads per mini-batch into a digital buffer, a PCM pulse where it "
            "reaches one step; transfer scale 0.1, fast lr 1.0", {**_SGD, "analog_lr": 0.1}),
    Variant("t2:lr_0.03", "TTv2, transfer scale 0.03", {**_SGD, "analog_lr": 0.03}),
    Variant("t2:lr_0.3", "TTv2, transfer scale 0.3", {**_SGD, "analog_lr": 0.3}),
    Variant("t2:lr_0.01", "TTv2, transfer scale 0.01", {**_SGD, "analog_lr": 0.01}),
    Variant("t2:lr_1", "TTv2, transfer scale 1.0", {**_SGD, "analog_lr": 1.0}),
    # -- Ambrogio et al.'s cell: fast weight in the forward, moved into PCM and reset ------------
    Variant("fw:gamma_0.5_lr_0.2", "fast weight at 0.5 beside the PCM pair, fast lr 0.2 (weights move at 0.1), "
            "4 columns moved and reset per mini-batch", {**_SGD, "analog_lr": 0.1}, {}),
    Variant("fw:gamma_0.5_lr_0.2_every_2", "as gamma_0.5_lr_0.2, 4 columns moved every 2 mini-batches",
            {**_SGD, "analog_lr": 0.1}, {"transfer_every": 2.0}),
    Variant("fw:gamma_0.5_lr_0.2_reads_8", "as gamma_0.5_lr_0.2, 8 columns moved per mini-batch",
            {**_SGD, "analog_lr": 0.1}, {"n_reads_per_transfer": 8}),
    Variant("fw:gamma_0.3_lr_0.3", "fast weight at 0.3, fast lr 0.3", {**_SGD, "analog_lr": 0.1},
            {"gamma": 0.3, "fast_lr": 0.3}),
    Variant("fw:gamma_1_lr_0.1", "fast weight at 1.0, fast lr 0.1", {**_SGD, "analog_lr": 0.1},
            {"gamma": 1.0, "fast_lr": 0.1}),
    Variant("fw:gamma_0.5_lr_0.6", "fast weight at 0.5, fast lr 0.6 (weights move at 0.3)", {**_SGD, "analog_lr": 0.1},
            {"fast_lr": 0.6}),
    Variant("fw:gamma_0.5_lr_2", "fast weight at 0.5, fast lr 2.0 (weights move at 1.0, the exact-SGD control's "
            "best 10-epoch rate)", {**_SGD, "analog_lr": 0.1}, {"fast_lr": 2.0}),
    # plain pulsed SGD on the capacitors alone reached 72.5 % at lr 1.0 (cap:sgd_lr_1): the fast weight at
    # full significance, moved into PCM rarely so that it has time to correct what a transfer got wrong
    Variant("fw:gamma_1_lr_1_reads_1", "fast weight at 1.0, fast lr 1.0, one column moved and reset per "
            "mini-batch (each column of a 64-column layer every 64 mini-batches)", {**_SGD, "analog_lr": 0.1},
            {"gamma": 1.0, "fast_lr": 1.0, "n_reads_per_transfer": 1}),
    Variant("fw:gamma_1_lr_1_reads_4", "fast weight at 1.0, fast lr 1.0, 4 columns moved and reset per mini-batch",
            {**_SGD, "analog_lr": 0.1}, {"gamma": 1.0, "fast_lr": 1.0, "n_reads_per_transfer": 4}),
    Variant("fw:gamma_1_lr_1_reads_1_constant_step_pcm", "diagnostic: fw:gamma_1_lr_1_reads_1 whose PCM devices "
            "step by dw_min everywhere, without variation", {**_SGD, "analog_lr": 0.1},
            {"gamma": 1.0, "fast_lr": 1.0, "n_reads_per_transfer": 1, "constant_step_pcm": True}),
    Variant("fw:gamma_1_lr_1_reads_1_common_mode_1", "fw:gamma_1_lr_1_reads_1 whose PCM pairs are refreshed to "
            "1.0 device units on both devices (pulses then land where PCM's steps are fine)",
            {**_SGD, "analog_lr": 0.1}, {"gamma": 1.0, "fast_lr": 1.0, "n_reads_per_transfer": 1, "common_mode": 1.0}),
    # fast_lr 0: the fast array steps at the optimizer's (cosine-scheduled) rate; the settings above keep
    # it constant and the transfer is not scaled, so nothing anneals
    Variant("fw:gamma_1_scheduled_reads_1", "fast weight at 1.0 stepping at the scheduled tile lr (1.0, cosine), "
            "one column moved and reset per mini-batch", {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "n_reads_per_transfer": 1}),
    # -- the same cell with Ambrogio et al.'s closed-loop transfer (memtorch_power.closed_loop): each
    # transfer programs the PCM pair to the read sum with PCM's program-and-verify error, not by pulses.
    # _CL_EARLY_READ: these ran with a read noise of 0.06 device units, taken at the time for the
    # presets' forward output noise, which is 0.1 (aihwkit PresetIOParameters.out_noise, the default
    # now); they keep 0.06 so that their recorded numbers stay reproducible
    Variant("cl:gamma_1_lr_1_reads_1", "fw:gamma_1_lr_1_reads_1 with a closed-loop transfer: one column read, "
            "programmed into its PCM pairs by program-and-verify and reset per mini-batch", {**_SGD, "analog_lr": 0.1},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 1.0, "program_columns": 1}),
    Variant("cl:gamma_1_lr_1_reads_1_exact", "diagnostic: cl:gamma_1_lr_1_reads_1 with exact PCM programming",
            {**_SGD, "analog_lr": 0.1},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 1.0, "program_columns": 1, "program_noise_scale": 0.0}),
    Variant("cl:gamma_1_lr_1_reads_1_omega_1.4", "cl:gamma_1_lr_1_reads_1 with weights up to 1.4 device units "
            "(PCM's programming error is a smaller fraction of the weights)", {**_SGD, "analog_lr": 0.1},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 1.0, "program_columns": 1, "weight_scaling_omega": 1.4}),
    Variant("cl:gamma_1_lr_1_reads_1_threshold_0.1", "cl:gamma_1_lr_1_reads_1 programming only weights whose fast "
            "part has reached 0.1 device units (about PCM's programming error), the others keep it",
            {**_SGD, "analog_lr": 0.1},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 1.0, "program_columns": 1, "program_threshold": 0.1}),
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1", "closed-loop with threshold 0.1, the fast array at the "
            "scheduled tile lr (1.0, cosine): as the rate anneals fewer fast weights reach the threshold, so "
            "fewer programmings write their error into PCM", {**_SGD, "analog_lr": 1.0},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1}),
    # where does the 40-epoch cell lose to the capacitors alone (85.3 % validation)? The transfer's
    # two noises switched off: the read of the fast weights and PCM's programming error
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_exact_read", "diagnostic: "
            "cl:gamma_1_scheduled_reads_1_threshold_0.1 whose transfer reads the fast weights exactly",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "read_noise": 0.0}),
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_exact_transfer", "diagnostic: "
            "cl:gamma_1_scheduled_reads_1_threshold_0.1 whose transfer reads exactly and programs PCM exactly",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "read_noise": 0.0,
             "program_noise_scale": 0.0}),
    Variant("cl:gamma_1_scheduled_no_transfer", "diagnostic: the cell whose transfer never programs (a threshold "
            "no fast weight reaches): the capacitors learn beside PCM pairs that keep the initial weights",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 1e9}),
    # the transfers let the weights grow to 1.6 device units (std; capacitors alone and the cell without
    # transfers: 0.7-0.8): behind batch norms that only slows learning. Programmed weights clipped:
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_limit_1", "cl:gamma_1_scheduled_reads_1_threshold_0.1 at the "
            "presets' read noise (0.1), programmed weights clipped to 1 device unit (the capacitors' range)",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "program_limit": 1.0}),
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_limit_0.7", "the same clipped to 0.7 device units",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "program_limit": 0.7}),
    # weight decay instead of a clip (as SGD's weight_decay, applied when a weight is programmed): the
    # usual answer to weights that grow behind batch norms; lr * decay about 1e-3 per step early on
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_decay_0.001", "cl:gamma_1_scheduled_reads_1_threshold_0.1 "
            "at read noise 0.1, each programmed weight decayed by 0.001 per unit of summed tile lr (no clip)",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "program_decay": 1e-3}),
    Variant("cl:gamma_1_scheduled_reads_1_threshold_0.1_decay_0.003", "the same with decay 0.003",
            {**_SGD, "analog_lr": 1.0},
            {"gamma": 1.0, "fast_lr": 0.0, "program_columns": 1, "program_threshold": 0.1, "program_decay": 3e-3}),
    # Ambrogio et al.'s own significance of the fast weight, F = 3 (gamma 1/3): each capacitor pulse
    # moves the weight a third as far, and the fast array's +-1 holds +-1/3 of it; the tile rate
    # swept at 1 (the gamma-1 runs') and 3 (the same step in weight units)
    Variant("cl:gamma_0.33_scheduled_reads_1_threshold_0.1_limit_1", "cl:..._threshold_0.1_limit_1 with the fast "
            "weight at Ambrogio et al.'s 1/F = 1/3", {**_SGD, "analog_lr": 1.0},
            {**_FAST_WEIGHT_CELL}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1", "the same at tile lr 3.0 (cosine)",
            {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL}),
    Variant("cl:gamma_1_lr_1_reads_4", "closed-loop, 4 columns programmed and reset per mini-batch",
            {**_SGD, "analog_lr": 0.1}, {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 1.0, "program_columns": 4}),
    Variant("cl:gamma_1_lr_0.3_reads_1", "closed-loop, fast lr 0.3", {**_SGD, "analog_lr": 0.1},
            {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 0.3, "program_columns": 1}),
    Variant("cl:gamma_1_scheduled_reads_1", "closed-loop, the fast array at the scheduled tile lr (1.0, cosine)",
            {**_SGD, "analog_lr": 1.0}, {**_CL_EARLY_READ, "gamma": 1.0, "fast_lr": 0.0, "program_columns": 1}),
    Variant("t2:lr_0.1_common_mode_1", "TTv2 at 0.1 whose PCM pairs are refreshed to 1.0 device units on both devices",
            {**_SGD, "analog_lr": 0.1}, {"common_mode": 1.0}),
    Variant("t2:lr_0.1_fast_3", "TTv2 at 0.1, fast lr 3.0", {**_SGD, "analog_lr": 0.1}, {"fast_lr": 3.0}),
    # a transfer fires at most one PCM pulse per weight (desired_bl 1): with 8 reads per mini-batch a
    # 64-column layer's PCM weights can move by at most about 6 pulses an epoch
    Variant("t2:lr_0.1_reads_32", "TTv2 at 0.1 with 32 column reads per mini-batch (each column of a 64-column "
            "layer every 2 mini-batches)", {**_SGD, "analog_lr": 0.1}, {"transfers_per_batch": 32}),
    Variant("t2:lr_0.1_fine_fast_array", "diagnostic: TTv2 at 0.1 whose fast array has 10x finer, noiseless, "
            "identical steps", {**_SGD, "analog_lr": 0.1}, {"fine_fast_array": True}),
    Variant("t2:chopped_lr_0.1", "chopped TTv2: each column's input chopper switches with probability 0.1 "
            "after its read (Rasch et al. 2024), transfer scale 0.1", {**_SGD, "analog_lr": 0.1}, {"in_chop_prob": 0.1}),
    Variant("t2:chopped_lr_0.03", "chopped TTv2, transfer scale 0.03", {**_SGD, "analog_lr": 0.03},
            {"in_chop_prob": 0.1}),
    Variant("t2:lr_0.1_capacitor_slow", "diagnostic: TTv2 at 0.1 whose slow array is capacitors, not PCM pairs",
            {**_SGD, "analog_lr": 0.1}, {"capacitor_slow": True}),
    Variant("ag:lr_0.03", "AGAD with build_config's settings, 8 column reads per mini-batch, transfer scale 0.03",
            {**_SGD, "analog_lr": 0.03}),
    Variant("ag:lr_0.1", "AGAD, transfer scale 0.1", {**_SGD, "analog_lr": 0.1}),
    Variant("ag:lr_0.3", "AGAD, transfer scale 0.3", {**_SGD, "analog_lr": 0.3}),
    Variant("cap:sgd_lr_0.1", "diagnostic: plain pulsed SGD on the fast array's capacitor devices alone, lr 0.1",
            {**_SGD, "analog_lr": 0.1}),
    Variant("cap:sgd_lr_1", "diagnostic: plain pulsed SGD on capacitor devices alone, lr 1.0",
            {**_SGD, "analog_lr": 1.0}),
    Variant("cap:sgd_lr_1_noiseless", "diagnostic: cap:sgd_lr_1 on capacitors without pulse noise or "
            "device-to-device variation", {**_SGD, "analog_lr": 1.0}, {"noiseless": True}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_noiseless_fast",
            "diagnostic: pcm_fast_weight whose fast array is capacitors without pulse noise or "
            "device-to-device variation", {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL,
             "noiseless_fast_array": True}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_uniform_fast",
            "diagnostic: pcm_fast_weight whose capacitors keep their pulse noise but have no "
            "device-to-device variation", {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL,
             "fast_array": "uniform_capacitor"}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_ecram_fast",
            "pcm_fast_weight with aihwkit's ECRAM device as the fast array", {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL,
             "fast_array": "ecram"}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_polarity",
            "pcm_fast_weight inverting each capacitor's polarity when its weight is programmed and reset "
            "(Ambrogio et al. 2018)", {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL,
             "polarity_inversion": True}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0_limit_1_polarity",
            "pcm_fast_weight (polarity inversion) programming, resetting and so inverting every weight of a read "
            "column, not only those past 0.1: no device keeps drifting one way under the threshold",
            {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL, "program_threshold": 0.0, "polarity_inversion": True}),
    Variant("cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1_symmetric_fast",
            "diagnostic: pcm_fast_weight whose capacitors have no device-to-device spread of their up/down "
            "asymmetry (the rest of aihwkit's capacitor model kept)", {**_SGD, "analog_lr": 3.0},
            {**_FAST_WEIGHT_CELL,
             "fast_array": "symmetric_capacitor"}),
    Variant("t2:lr_0.03_reads_32", "TTv2 at 0.03 with 32 column reads per mini-batch",
            {**_SGD, "analog_lr": 0.03}, {"transfers_per_batch": 32}),
    Variant("t2:lr_0.1_exact_read", "diagnostic: TTv2 at 0.1 whose transfer reads the fast array exactly",
            {**_SGD, "analog_lr": 0.1}, {"perfect_transfer_read": True}),
    Variant("t2:lr_0.1_constant_step_pcm", "diagnostic: TTv2 at 0.1 whose PCM devices step by dw_min everywhere, "
            "without variation", {**_SGD, "analog_lr": 0.1}, {"constant_step_pcm": True}),
    Variant("t2:lr_0.1_exact_fast_update", "diagnostic: TTv2 at 0.1 whose fast-array update fires exactly the "
            "expected pulses", {**_SGD, "analog_lr": 0.1}, {"perfect_fast_update": True}),
)}


#: families whose presets (and run folders) are named ``<base>[<key>]``, as when they were run;
#: the others share their base preset, so their names carry the family: ``<base>[<family>_<key>]``
_KEY_ONLY_FAMILIES = ("mp", "tt")


def variant_preset_name(variant: Variant) -> str:
    """The name the variant's preset is registered under (and its run folder's)."""
    family, key = variant.name.split(":", 1)
    base_name = FAMILIES[family][0]
    return f"{base_name}[{key}]" if family in _KEY_ONLY_FAMILIES else f"{base_name}[{family}_{key}]"


def variant_preset(variant: Variant) -> Preset:
    """The variant's preset, registered as :func:`variant_preset_name`."""
    base_name, builder = FAMILIES[variant.name.split(":", 1)[0]]
    base = PRESETS[base_name]
    settings = dict(variant.device)
    return register_preset(Preset(name=variant_preset_name(variant), models=base.models,
                                  source=base.source, update=base.update, factory=lambda: builder(**settings)),
                           overwrite=True)


def results_file(base: str) -> Path:
    return RESULTS / f"{base}_sweep.json"


def load(base: str) -> dict[str, Any]:
    path = results_file(base)
    return json.loads(path.read_text()) if path.exists() else {"benchmark": f"{base}_sweep", "runs": []}


def _test_cell(run: dict[str, Any]) -> str:
    """``test acc [95 % Wilson interval] (clips)`` of a run recorded with ``--report-test``, else ``-``."""
    from memtorch_power.kws.compare_report import wilson_interval

    if "test_acc" not in run:
        return "-"
    low, high = wilson_interval(run["test_acc"], run["test_clips"])
    return f"{100 * run['test_acc']:.2f} % [{100 * low:.1f}, {100 * high:.1f}] ({run['test_clips']} clips)"


def table(payload: dict[str, Any]) -> str:
    lines = ["| variant | what it changes | started from | epochs | best val acc | test acc | fit wall time |",
             "|---|---|---|---:|---:|---:|---:|"]
    for run in payload["runs"]:
        lines.append(f"| `{run['variant']}` | {run['why']} | {run.get('started_from', 'scratch')} | {run['epochs']} "
                     f"| {100 * run['best_val_acc']:.2f} % | {_test_cell(run)} | {run['fit_wall_s']:.0f} s |")
    return "\n".join(lines)


def _datamodule(config: Any) -> Any:
    """The KWS data of a run's ``ComparisonConfig`` (root, batch, features, seed)."""
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    return SpeechCommandsDataModule(config.root, batch_size=config.batch_size, features=config.features,
                                    n_features=config.n_features, seed=config.seed)


def test_recorded_run(name: str, seed: int, epochs: int, root: str, output_dir: str) -> dict[str, Any]:
    """Test the best checkpoint of the recorded run of variant ``name`` (``seed``, ``epochs``)
    once, after it was chosen on validation, and add ``test_acc``/``test_clips`` to its row.

    Raises:
        SystemExit: no such recorded run, its checkpoint is missing, or it was tested already.
    """
    import lightning as L

    from memtorch_power.kws.compare import DEFAULT_TRAINING, ComparisonConfig
    from memtorch_power.kws.module import KeywordSpotter
    from memtorch_power.nn import register_checkpoint_classes

    variant = VARIANTS[name]
    payload = load(variant.base)
    rows = [r for r in payload["runs"] if r["variant"] == name and r["seed"] == seed and r["epochs"] == epochs
            and r.get("started_from", "scratch") == "scratch"]
    if not rows:
        sys.exit(f"--test-recorded: no recorded run of {name} (seed {seed}, {epochs} epochs, from scratch)")
    row = rows[-1]
    if "test_acc" in row:
        sys.exit(f"--test-recorded: {name} (seed {seed}) was tested already: {100 * row['test_acc']:.2f} %")
    preset = variant_preset(variant)
    checkpoint = Path(output_dir) / f"e{epochs}_s{seed}" / preset.name / "checkpoints" / "best.ckpt"
    if not checkpoint.is_file():
        sys.exit(f"--test-recorded: {checkpoint} is missing (runs/ is not kept between machines)")
    register_checkpoint_classes(preset)
    config = ComparisonConfig(root=root, presets=[preset.name], batch_size=variant.batch_size, seed=seed)
    datamodule = _datamodule(config)
    settings = {**DEFAULT_TRAINING.get(preset.name, DEFAULT_TRAINING["digital"]), **variant.training}
    module = KeywordSpotter(model=config.model, preset=preset.name, num_classes=datamodule.num_classes,
                            n_features=datamodule.n_features, n_frames=datamodule.n_frames, **settings)
    trainer = L.Trainer(logger=False, enable_progress_bar=False, enable_model_summary=False)
    tested = trainer.test(module, datamodule=datamodule, ckpt_path=str(checkpoint), verbose=False)[0]
    row["test_acc"] = tested["test/acc"]
    row["test_clips"] = int(module.test_confusion.compute().sum())
    row["tested_after_choice"] = True
    write_atomic(results_file(variant.base), json.dumps(payload, indent=2) + "\n")
    return row


def main() -> None:
    from memtorch_power.kws.compare import ComparisonConfig, run_preset

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default=os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS", "../shared/data/speech_commands_mini"))
    parser.add_argument("--variants", nargs="+", default=[], choices=sorted(VARIANTS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--init-from", default=None, help="digital checkpoint to start from (in-array fine-tuning)")
    parser.add_argument("--output-dir", default="runs/training_sweep")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (two 1-thread sweeps use 2 cores best)")
    parser.add_argument("--report-test", action="store_true",
                        help="also record the test accuracy (once, for the chosen setting; sweeps tune on validation)")
    parser.add_argument("--table", metavar="PRESET", help="print the table of every run of PRESET so far and exit")
    parser.add_argument("--test-recorded", action="store_true",
                        help="test the best checkpoint of each named variant's recorded run (--seed, --epochs) once, "
                             "after choosing it on validation, and record it in its row")
    args = parser.parse_args()
    if args.table:
        print(table(load(args.table)))
        return
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if not args.variants:
        sys.exit("--variants: name at least one of " + ", ".join(VARIANTS))
    if args.test_recorded:
        for name in args.variants:
            row = test_recorded_run(name, args.seed, args.epochs, args.root, args.output_dir)
            print(f"{name}: best val acc {100 * row['best_val_acc']:.2f} %, test acc {100 * row['test_acc']:.2f} % "
                  f"of {row['test_clips']} clips", flush=True)
        return
    for name in args.variants:
        variant = VARIANTS[name]
        preset = variant_preset(variant)
        config = ComparisonConfig(root=args.root, presets=[preset.name], epochs=args.epochs,
                                  batch_size=variant.batch_size, output_dir=f"{args.output_dir}/e{args.epochs}_s{args.seed}",
                                  progress=False, seed=args.seed, drift_times=[],
                                  training={preset.name: variant.training})
        datamodule = _datamodule(config)
        row = run_preset(preset.name, config, datamodule, init_from=args.init_from)
        payload = load(variant.base)
        payload["machine"] = machine()
        payload["runs"].append({"variant": name, "why": variant.why, "epochs": row["epochs"], "seed": args.seed,
                                "started_from": row["started_from"], "settings": dataclasses.asdict(variant),
                                **{k: row[k] for k in ("best_val_acc", "fit_wall_s", "train_energy_analog_j",
                                                       "train_energy_digital_j", "train_steps")},
                                **({k: row[k] for k in ("test_acc", "test_clips")} if args.report_test else {})})
        write_atomic(results_file(variant.base), json.dumps(payload, indent=2) + "\n")
        tested = f", test acc {100 * row['test_acc']:.2f} % of {row['test_clips']} clips" if args.report_test else ""
        print(f"{name}: best val acc {100 * row['best_val_acc']:.2f} %{tested}", flush=True)


if __name__ == "__main__":
    main()

"""The aihwkit ``RPUConfig`` of each built-in preset, with the sources of its numbers.

Every builder returns a fresh configuration; :mod:`memtorch_power.presets.builtin` names them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aihwkit.inference.compensation.drift import GlobalDriftCompensation
from aihwkit.inference.noise.pcm import PCMLikeNoiseModel
from aihwkit.simulator.configs import (
    MappingParameter,
    TorchInferenceRPUConfig,
    UnitCellRPUConfig,
    WeightClipParameter,
    WeightModifierParameter,
    WeightRemapParameter,
)
from aihwkit.simulator.configs.compounds import TransferCompound
from aihwkit.simulator.parameters import IOParameters
from aihwkit.simulator.parameters.base import RPUConfigBase
from aihwkit.simulator.parameters.enums import (
    BoundManagementType,
    NoiseManagementType,
    WeightClipType,
    WeightModifierType,
    WeightRemapType,
)
from aihwkit.simulator.parameters.pre_post import InputRangeParameter, PrePostProcessingParameter
from aihwkit.simulator.presets import MixedPrecisionPCMPreset, PCMPreset
from aihwkit.simulator.presets.compounds import PCMPresetUnitCell
from aihwkit.simulator.presets.devices import CapacitorPresetDevice
from aihwkit.simulator.presets.utils import PresetIOParameters, PresetUpdateParameters

from memtorch_power.closed_loop import ClosedLoopTransferCompound, ClosedLoopTransferTile
from memtorch_power.tiles import (
    AdamStepTile,
    DeviceStateTile,
    FactoredStepTile,
    PicklableTorchInferenceTile,
    TransferAnalogTile,
)

#: Physical array size used by every PCM preset: 256 x 256 as on IBM's HERMES core
#: (Le Gallo et al., Nature Electronics 6, 680-693, 2023). aihwkit splits larger matrices
#: over several tiles of this size and sums the partial results digitally.
ARRAY_ROWS = 256
ARRAY_COLS = 256


def _mapping(**overrides: object) -> MappingParameter:
    kwargs: dict = dict(max_input_size=ARRAY_ROWS, max_output_size=ARRAY_COLS, digital_bias=True)
    kwargs.update(overrides)
    return MappingParameter(**kwargs)


def _torch_inference_config() -> TorchInferenceRPUConfig:
    config = TorchInferenceRPUConfig()
    config.tile_class = PicklableTorchInferenceTile
    return config


def _ideal() -> RPUConfigBase:
    config = _torch_inference_config()
    config.mapping = _mapping()
    config.forward = IOParameters(is_perfect=True)
    config.pre_post = PrePostProcessingParameter(input_range=InputRangeParameter(enable=False))
    config.noise_model = None
    config.drift_compensation = None
    return config


#: Pulsed presets map each tile's largest weight to this many device weight units (a PCM
#: pair spans [-2, 2] in aihwkit's ``PCMPresetDevice`` units) and undo the scale digitally at
#: the output ("weight scaling omega", Rasch, Gokmen & Haensch, arXiv:1906.02698, 2019; 0.6
#: as in aihwkit's examples). Without it, torch's initial weights (about 1/sqrt(fan_in),
#: 0.1-0.2 here) use a few percent of the conductance range: the forward drowns in the
#: tile's output noise and one pulse (dw_min 0.01) is a large relative step. On the KWS
#: DS-CNN (4 epochs, SGD) pcm_mixed_precision went from 21 % to 42 % test with it.
PULSED_WEIGHT_SCALING_OMEGA = 0.6


def pulsed_mapping() -> MappingParameter:
    """The pulsed presets' mapping: 256 x 256 arrays, digital bias, weights scaled to
    :data:`PULSED_WEIGHT_SCALING_OMEGA` per tile."""
    return _mapping(weight_scaling_omega=PULSED_WEIGHT_SCALING_OMEGA, weight_scaling_columnwise=False)


def _pcm_training() -> RPUConfigBase:
    config = PCMPreset()
    config.mapping = pulsed_mapping()
    config.tile_class = DeviceStateTile  # a loaded tile keeps its devices' state
    return config


def _pcm_mixed_precision() -> RPUConfigBase:
    config = MixedPrecisionPCMPreset()
    config.mapping = pulsed_mapping()
    config.tile_class = DeviceStateTile  # a loaded tile keeps its devices' state
    return config


def _pcm_mixed_precision_factored() -> RPUConfigBase:
    config = _pcm_mixed_precision()
    config.tile_class = FactoredStepTile  # the digital unit accumulates Adafactor's step
    return config


def _pcm_mixed_precision_adam() -> RPUConfigBase:
    config = _pcm_mixed_precision()
    config.tile_class = AdamStepTile  # the digital unit accumulates Adam's step
    return config


def pcm_tiki_taka_config(
    fast_lr: float = 1.0,
    transfer_every: float = 1.0,
    n_reads_per_transfer: int = 1,
    units_in_mbatch: bool = True,
    gamma: float = 0.0,
    weight_scaling_omega: float | None = None,
) -> UnitCellRPUConfig:
    """Tiki-Taka with a volatile fast weight and PCM as the long-term store.

    The gradient is applied by stochastic pulse coincidences to a fast array of capacitor-like
    devices (aihwkit ``CapacitorPresetDevice``: symmetric, about 400 states, volatile, as the
    3T1C cell of Ambrogio et al., Nature 558, 60, 2018); every ``transfer_every`` mini-batches
    (``units_in_mbatch``; else mat-vecs) ``n_reads_per_transfer`` of its columns are read with
    one-hot inputs and added to the slow array, a PCM pair per weight with refresh (aihwkit
    ``PCMPresetUnitCell``, Nandakumar et al. 2020), by pulsed updates (Tiki-Taka, Gokmen &
    Haensch, Frontiers in Neuroscience 14, 103, 2020). Forward and backward read the PCM array
    (``gamma = 0``). 7-bit DAC, 9-bit ADC and output noise as the other pulsed presets.

    Args:
        fast_lr: learning rate of the pulsed update onto the fast array (kept constant; the
            optimizer's tile learning rate then scales the transfer).
        transfer_every: mini-batches (or mat-vecs) between transfers.
        n_reads_per_transfer: fast-array columns read and transferred per transfer.
        units_in_mbatch: count ``transfer_every`` in mini-batches (True) or mat-vecs.
        gamma: weight of the fast array in the weight that forward and backward read
            (``gamma * fast + slow``; 0: PCM only, as Tiki-Taka; > 0: the fast weight adds to
            the PCM weight as in Ambrogio et al.'s 3T1C + PCM-pair cell).
        weight_scaling_omega: the largest weight of a column in device units (None: the
            pulsed presets' 0.6). PCM's first pulses from a reset device are the coarsest
            (aihwkit's ``ExpStepDevice``: 28x ``dw_min`` at zero conductance, 1.6x at 1.5), so a
            larger omega makes each transfer pulse a smaller fraction of the weights.
    """
    return transfer_config(
        TransferCompound(
            unit_cell_devices=[CapacitorPresetDevice(), PCMPresetUnitCell()],
            gamma=gamma,
            fast_lr=fast_lr,
            transfer_every=transfer_every,
            n_reads_per_transfer=n_reads_per_transfer,
            units_in_mbatch=units_in_mbatch,
            scale_transfer_lr=True,
            transfer_lr=1.0,
            transfer_forward=PresetIOParameters(),
            transfer_update=PresetUpdateParameters(),
        ),
        weight_scaling_omega,
    )


def fast_weight_cell(gamma: float, fast_lr: float) -> dict[str, Any]:
    """Keyword arguments of a transfer compound for Ambrogio et al.'s cell (Nature 558, 60,
    2018): a fast array of aihwkit ``CapacitorPresetDevice`` (the volatile 3T1C capacitor) read
    at ``gamma`` beside a PCM pair (``PCMPresetUnitCell``) read at 1, the fast array stepping at
    ``fast_lr`` (0: the optimizer's tile learning rate), transfers counted in mini-batches and
    read and written with the pulsed presets' periphery."""
    return {
        "unit_cell_devices": [CapacitorPresetDevice(), PCMPresetUnitCell()],
        "gamma_vec": [gamma, 1.0],
        "fast_lr": fast_lr,
        "units_in_mbatch": True,
        "transfer_forward": PresetIOParameters(),
        "transfer_update": PresetUpdateParameters(),
    }


def pcm_fast_weight_config(
    gamma: float = 1.0,
    fast_lr: float = 1.0,
    program_every: int = 1,
    program_columns: int = 1,
    program_noise_scale: float = 1.0,
    program_threshold: float = 0.0,
    program_limit: float = 0.0,
    read_noise: float = 0.1,
    weight_scaling_omega: float | None = None,
    program_decay: float = 0.0,
    polarity_inversion: bool = False,
) -> UnitCellRPUConfig:
    """Ambrogio et al.'s cell (Nature 558, 60, 2018): a volatile fast weight beside a PCM pair,
    moved into the pair by closed-loop programming and reset.

    Forward and backward read ``gamma * fast + (G+ - G-)``. The gradient is applied by stochastic
    pulse coincidences to the fast array (aihwkit ``CapacitorPresetDevice``, the 3T1C capacitor);
    every ``program_every`` mini-batches ``program_columns`` of its columns are read, their
    weights programmed into the PCM pairs by program-and-verify (the device of the weight's sign
    to ``|w|`` with PCM's measured programming error, the other reset) and the fast columns reset
    (:class:`~memtorch_power.closed_loop.ClosedLoopTransferTile`). Converters and update as the
    other pulsed presets.

    Args:
        gamma: significance of the fast weight relative to the PCM pair (Ambrogio et al.'s
            ``1/F``; they used ``F = 3``).
        fast_lr: learning rate of the pulsed update onto the fast array (0: the optimizer's
            scheduled tile learning rate).
        program_every: mini-batches between transfers.
        program_columns: fast-array columns programmed into PCM and reset per transfer.
        program_noise_scale: scale of PCM's programming error (1: measured; 0: exact, a diagnostic).
        program_threshold: program only weights whose fast part is at least this (device units);
            the others keep their fast weight until it grows (0: every weight read).
        program_limit: clip each programmed weight to this many device units (0: the device's
            range), as a bounded fast array saturates.
        program_decay: weight decay applied when a weight is programmed, as SGD's
            ``weight_decay`` (per unit of the summed tile learning rate; 0: none).
        polarity_inversion: invert each fast device's polarity when its weight is programmed and
            reset, as Ambrogio et al. did to cancel their capacitors' up/down asymmetry.
        read_noise: standard deviation of one transfer read of a fast weight (device units;
            0.1 is the pulsed presets' forward output noise, aihwkit ``PresetIOParameters``;
            0: an exact read, a diagnostic).
        weight_scaling_omega: the largest weight of a column in device units (None: 0.6).
    """
    config = transfer_config(
        ClosedLoopTransferCompound(
            **fast_weight_cell(gamma, fast_lr),
            program_every=program_every,
            program_columns=program_columns,
            program_noise_scale=program_noise_scale,
            program_threshold=program_threshold,
            program_limit=program_limit,
            program_decay=program_decay,
            polarity_inversion=polarity_inversion,
            read_noise=read_noise,
        ),
        weight_scaling_omega,
    )
    config.tile_class = ClosedLoopTransferTile
    return config


def transfer_config(device: TransferCompound, weight_scaling_omega: float | None = None) -> UnitCellRPUConfig:
    """A transfer compound (fast array first, PCM store last) with the pulsed presets' periphery:
    7-bit DAC, 9-bit ADC and output noise for forward and backward (aihwkit
    ``PresetIOParameters``), their pulsed update, their mapping (weights up to
    ``weight_scaling_omega`` device units; None: 0.6) and a tile that can save nested one-sided
    cells (:class:`~memtorch_power.tiles.TransferAnalogTile`)."""
    config = UnitCellRPUConfig(device=device)
    config.forward = PresetIOParameters()
    config.backward = PresetIOParameters()
    config.update = PresetUpdateParameters()
    config.mapping = pulsed_mapping()
    if weight_scaling_omega is not None:
        config.mapping = dataclasses.replace(config.mapping, weight_scaling_omega=weight_scaling_omega)
    config.tile_class = TransferAnalogTile  # saves without the extra state aihwkit 1.1.0 cannot dump
    return config


#: Fast-array columns transferred per mini-batch by ``pcm_tiki_taka``: with aihwkit's default of
#: one, each column of a 64-column DS-CNN layer reaches PCM less than once per epoch of the
#: bundled data (46 mini-batches); 8 reached 53 % validation after 10 epochs on 12-class KWS
#: where full-rate transfers reached 42 % (benchmarks/results/pcm_tiki_taka_sweep.json).
PCM_TIKI_TAKA_READS = 8

#: ``pcm_tiki_taka_adapt``: weights up to 1.4 device units (PCMPresetDevice w_max 2.0, refresh at
#: 1.5) and fast lr 0.1; with omega 0.6 a transfer step of 0.01 took a programmed DS-CNN from
#: 83 % to 40 % validation in 15 mini-batches (docs/kws_accuracy_notes.md).
PCM_TIKI_TAKA_ADAPT_OMEGA = 1.4
PCM_TIKI_TAKA_ADAPT_FAST_LR = 0.1


#: ``pcm_fast_weight``: the fast weight read at Ambrogio et al.'s significance 1/F, F = 3 (Nature
#: 558, 60, 2018); one fast column per mini-batch read, its weights whose fast part reached 0.1
#: device units programmed closed-loop into the PCM pair, clipped to the capacitors' range of 1
#: device unit. Chosen on 40-epoch KWS validation (81.14 %, the best of the closed-loop cell's
#: runs; benchmarks/results/pcm_tiki_taka_sweep.json,
#: ``cl:gamma_0.33_scheduled_lr_3_reads_1_threshold_0.1_limit_1``; docs/kws_accuracy_notes.md).
#: Each programmed fast device's polarity is inverted as Ambrogio et al. did for their 3T1C cells:
#: 78.48 % test on the mean of 3 seeds against 74.42 % without (higher on every seed), 79.36 % on
#: the mean of 6 (2.12 points below digital; variant ``..._limit_1_polarity`` in the same results
#: file).
PCM_FAST_WEIGHT_GAMMA = 1.0 / 3.0
PCM_FAST_WEIGHT_THRESHOLD = 0.1
PCM_FAST_WEIGHT_LIMIT = 1.0
PCM_FAST_WEIGHT_POLARITY_INVERSION = True


def pcm_fast_weight_preset_config() -> UnitCellRPUConfig:
    """``pcm_fast_weight``'s configuration: :func:`pcm_fast_weight_config` at
    :data:`PCM_FAST_WEIGHT_GAMMA`, the fast array stepping at the optimizer's scheduled tile
    learning rate, one column per mini-batch, :data:`PCM_FAST_WEIGHT_THRESHOLD` and
    :data:`PCM_FAST_WEIGHT_LIMIT` (device units), each programmed fast device's polarity inverted
    (:data:`PCM_FAST_WEIGHT_POLARITY_INVERSION`)."""
    return pcm_fast_weight_config(gamma=PCM_FAST_WEIGHT_GAMMA, fast_lr=0.0, program_every=1, program_columns=1,
                                  program_threshold=PCM_FAST_WEIGHT_THRESHOLD, program_limit=PCM_FAST_WEIGHT_LIMIT,
                                  polarity_inversion=PCM_FAST_WEIGHT_POLARITY_INVERSION)


def _pcm_hwa() -> RPUConfigBase:
    # Settings follow aihwkit's StandardHWATrainingPreset (Rasch et al., Nature Communications
    # 14, 5282, 2023), restricted to what the pure-PyTorch tile simulates (no IR drop, no
    # PCM read-noise during the forward of training) so that it runs on CPU and GPU.
    config = _torch_inference_config()
    config.mapping = _mapping(
        weight_scaling_omega=1.0,
        weight_scaling_columnwise=True,
        learn_out_scaling=True,
        out_scaling_columnwise=True,
    )
    config.forward = IOParameters(
        inp_res=254.0,  # 8-bit signed DAC (2**8 - 2 levels)
        out_res=254.0,  # 8-bit ADC
        out_bound=10.0,
        out_noise=0.04,  # additive output noise, in units of the max output (Rasch 2023)
        bound_management=BoundManagementType.NONE,
        noise_management=NoiseManagementType.CONSTANT,
        nm_thres=1.0,
    )
    config.pre_post = PrePostProcessingParameter(
        input_range=InputRangeParameter(
            enable=True,
            init_value=3.0,
            init_from_data=100,
            init_std_alpha=3.0,
            decay=0.001,
            input_min_percentage=0.95,
            output_min_percentage=0.95,
            manage_output_clipping=False,
            gradient_scale=1.0,
            gradient_relative=True,
        )
    )
    config.clip = WeightClipParameter(type=WeightClipType.FIXED_VALUE, fixed_value=1.0)
    config.remap = WeightRemapParameter(
        remapped_wmax=1.0, type=WeightRemapType.CHANNELWISE_SYMMETRIC
    )
    # Training noise: additive Gaussian weight noise of 6 % of w_max per mini-batch, within
    # the 2-10 % range used for PCM hardware-aware training (Joshi et al., Nature
    # Communications 11, 2473, 2020; Rasch et al. 2023).
    config.modifier = WeightModifierParameter(
        type=WeightModifierType.ADD_NORMAL, std_dev=0.06, rel_to_actual_wmax=True
    )
    # PCM programming noise, 1/f read noise and drift (Nandakumar et al., ICECS 2019;
    # Joshi et al. 2020), g_max = 25 uS as in aihwkit's default PCM model.
    config.noise_model = PCMLikeNoiseModel(g_max=25.0)
    config.drift_compensation = GlobalDriftCompensation()
    return config



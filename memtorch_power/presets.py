"""Named PCM crossbar presets: each a recipe for an aihwkit ``RPUConfig`` with its source.

A preset says *what is simulated* (which device, which periphery) and *where the weight
update happens* (digitally, in the array with PCM pulses, or digitally accumulated and then
programmed). The energy estimator reads the same traits (:func:`traits_of`) so that the
workload it prices is the one the simulator runs.

=====================  ==========================================================================
name                   models
=====================  ==========================================================================
``ideal``              a floating-point crossbar: exact MVMs, no noise, no quantisation (validation)
``pcm_training``       in-memory training: a pair of PCM devices per weight updated in the array by
                       stochastic pulse coincidences, with refresh (aihwkit ``PCMPreset``)
``pcm_mixed_precision`` mixed-precision training: gradients accumulated digitally, the PCM array
                       programmed with whole pulses when the accumulator crosses one device step
                       (aihwkit ``MixedPrecisionPCMPreset``)
``pcm_hwa``            hardware-aware training (digital update through a noisy, quantised PCM
                       forward) and PCM inference with programming noise, 1/f read noise and
                       drift (``PCMLikeNoiseModel``), global drift compensation, 8-bit DAC/ADC
=====================  ==========================================================================
"""

from __future__ import annotations

import dataclasses

import copy
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Literal, Union

from aihwkit.inference.compensation.drift import GlobalDriftCompensation
from aihwkit.inference.noise.pcm import PCMLikeNoiseModel
from aihwkit.simulator.configs import (
    DigitalRankUpdateRPUConfig,
    InferenceRPUConfig,
    MappingParameter,
    TorchInferenceRPUConfig,
    UnitCellRPUConfig,
    WeightClipParameter,
    WeightModifierParameter,
    WeightRemapParameter,
)
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
from aihwkit.simulator.configs.compounds import OneSidedUnitCell, TransferCompound
from aihwkit.simulator.presets import MixedPrecisionPCMPreset, PCMPreset
from aihwkit.simulator.presets.compounds import PCMPresetUnitCell
from aihwkit.simulator.presets.devices import CapacitorPresetDevice
from aihwkit.simulator.presets.utils import PresetIOParameters, PresetUpdateParameters
from aihwkit.simulator.tiles.inference_torch import TorchInferenceTile

from memtorch_power.tiles import DeviceStateTile, FactoredStepTile, PicklableTorchInferenceTile, TransferAnalogTile

UpdateMode = Literal["digital", "in_memory", "mixed_precision", "transfer"]
"""Where the weight update of a preset happens.

* ``digital``: gradients and weights live in digital memory; the array only runs MVMs
  (hardware-aware training). After training, the weights are *programmed* once.
* ``in_memory``: the outer-product update is applied in the array by PCM pulses.
* ``mixed_precision``: the gradient is accumulated digitally (``chi``) and the array is
  programmed with integer numbers of PCM pulses when the accumulator crosses ``dw_min``.
* ``transfer``: the outer-product update is applied by pulses to a fast array, whose columns
  are periodically read and added to the PCM array by pulses (Tiki-Taka).
"""

#: Update modes whose weights change by pulses in an array during training.
PULSED_UPDATES: tuple[str, ...] = ("in_memory", "mixed_precision", "transfer")

#: Physical array size used by every PCM preset: 256 x 256 as on IBM's HERMES core
#: (Le Gallo et al., Nature Electronics 6, 680-693, 2023). aihwkit splits larger matrices
#: over several tiles of this size and sums the partial results digitally.
ARRAY_ROWS = 256
ARRAY_COLS = 256


#: Where each training phase runs, by update mode (what the energy model prices, and what a
#: user should know before reading a training-energy figure).
PHASE_PLACEMENT: dict[str, str] = {
    "digital": "forward MVMs on PCM; backward and optimizer step digital (hardware-aware training "
               "trains digitally, only its forward runs on PCM); weights programmed once for inference",
    "in_memory": "forward and backward MVMs on PCM; update in the array by PCM pulses",
    "mixed_precision": "forward and backward MVMs on PCM; weight gradient computed and accumulated "
                       "digitally (chi), whole PCM pulses applied where it crosses a device step",
    "transfer": "forward and backward MVMs on the PCM array; update by pulses on a fast array whose "
                "columns are periodically read and added to the PCM array by pulses (all in the arrays)",
}


@dataclass(frozen=True)
class Preset:
    """A named, documented way of building an aihwkit ``RPUConfig``.

    Attributes:
        name: registry key (``ideal``, ``pcm_training`` ...).
        models: one sentence on what the preset simulates.
        source: publications / aihwkit classes the numbers come from.
        update: where the weight update happens (see :data:`UpdateMode`).
        factory: builds a fresh ``RPUConfig`` each call.
        caveat: what a user must know before relying on the preset (e.g. measured accuracy
            that is not usable), or ``""``.
    """

    name: str
    models: str
    source: str
    update: UpdateMode
    factory: Callable[[], RPUConfigBase]
    caveat: str = ""

    @property
    def phases(self) -> str:
        """Where forward, backward and update run (:data:`PHASE_PLACEMENT`)."""
        return PHASE_PLACEMENT[self.update]

    def rpu_config(self) -> RPUConfigBase:
        """A fresh aihwkit ``RPUConfig`` for this preset (never shared between layers)."""
        return self.factory()

    @property
    def needs_analog_optimizer(self) -> bool:
        """True if the weights are updated by the tile (pulsed / mixed precision)."""
        return self.update != "digital"

    @property
    def runs_on_gpu(self) -> bool:
        """True if the tiles are pure PyTorch (aihwkit's ``Torch*`` tiles) and run on a GPU; the
        pulsed presets use aihwkit's C++ tiles, which its PyPI wheels build for CPU only."""
        return self.update not in PULSED_UPDATES

    def check_device(self, accelerator: str) -> None:
        """Raise ``ValueError`` if the preset cannot run on ``accelerator`` (Lightning's names:
        ``"cpu"``, ``"gpu"``/``"cuda"``, ``"auto"``; ``"auto"`` is checked as GPU when one exists)."""
        import torch

        wants_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
        if wants_gpu and not self.runs_on_gpu:
            raise ValueError(
                f"preset {self.name!r} cannot run on accelerator {accelerator!r}: its {self.update} update uses "
                "aihwkit's C++ tiles, which aihwkit's PyPI wheels build for CPU only; use accelerator='cpu' "
                "(or a GPU build of aihwkit)"
            )

    @property
    def supports_programming(self) -> bool:
        """True if the preset has a programming-noise and drift model (inference presets)."""
        config = self.rpu_config()
        return isinstance(config, InferenceRPUConfig) and config.noise_model is not None


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


def _pulsed_mapping() -> MappingParameter:
    return _mapping(weight_scaling_omega=PULSED_WEIGHT_SCALING_OMEGA, weight_scaling_columnwise=False)


def _pcm_training() -> RPUConfigBase:
    config = PCMPreset()
    config.mapping = _pulsed_mapping()
    config.tile_class = DeviceStateTile  # a loaded tile keeps its devices' state
    return config


def _pcm_mixed_precision() -> RPUConfigBase:
    config = MixedPrecisionPCMPreset()
    config.mapping = _pulsed_mapping()
    config.tile_class = DeviceStateTile  # a loaded tile keeps its devices' state
    return config


def _pcm_mixed_precision_factored() -> RPUConfigBase:
    config = _pcm_mixed_precision()
    config.tile_class = FactoredStepTile  # the digital unit accumulates Adafactor's step
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
    config = UnitCellRPUConfig(
        device=TransferCompound(
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
        )
    )
    config.forward = PresetIOParameters()
    config.backward = PresetIOParameters()
    config.update = PresetUpdateParameters()
    config.mapping = _pulsed_mapping()
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


#: Why ``pcm_training`` is a reference, not a preset to train with (measured by
#: ``benchmarks/kws_accuracy.py``, BENCHMARKS.md section ``kws_accuracy``).
PCM_TRAINING_CAVEAT = (
    "Reference only: does not reach usable accuracy on keyword spotting (18.8 % and 21.3 % test "
    "after 40 epochs in two benchmark runs on the 12-class KWS task, digital 83.5 % and 85.2 %, "
    "chance 8.3 %; BENCHMARKS.md). Plain parallel "
    "pulsed SGD on PCM 'is not going to be successful' (aihwkit maintainers, aihwkit issue #236): "
    "one-sided devices, about 50 states, pulse-to-pulse noise of 60 % of a step. Train with "
    "pcm_mixed_precision instead."
)

PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="ideal",
            models="Floating-point crossbar: exact MVMs, no noise or quantisation.",
            source="aihwkit TorchInferenceRPUConfig with a perfect forward (cf. FloatingPointPreset)",
            update="digital",
            factory=_ideal,
        ),
        Preset(
            name="pcm_training",
            models=(
                "In-memory SGD: a differential pair of PCM devices per weight (one-sided, with "
                "refresh), updated in the array by stochastic pulse coincidences; 7-bit DAC, "
                "9-bit ADC, noisy forward and backward MVMs."
            ),
            source=(
                "aihwkit PCMPreset / PCMPresetDevice: Nandakumar et al., Frontiers in "
                "Neuroscience 14, 406 (2020); Gokmen & Vlasov, Frontiers in Neuroscience 10, 333 "
                "(2016) for the pulsed update"
            ),
            update="in_memory",
            factory=_pcm_training,
            caveat=PCM_TRAINING_CAVEAT,
        ),
        Preset(
            name="pcm_tiki_taka",
            models=(
                "In-array training with a volatile fast weight: SGD pulses on a capacitor-like fast "
                "array, periodic column transfers to a PCM pair per weight (long-term store, with "
                "refresh) that forward and backward read; 7-bit DAC, 9-bit ADC."
            ),
            source=(
                "aihwkit TransferCompound (Tiki-Taka: Gokmen & Haensch, Frontiers in Neuroscience 14, "
                "103, 2020) over CapacitorPresetDevice and PCMPresetUnitCell; PCM + volatile fast "
                "weight as in Ambrogio et al., Nature 558, 60 (2018)"
            ),
            update="transfer",
            factory=functools.partial(pcm_tiki_taka_config, n_reads_per_transfer=PCM_TIKI_TAKA_READS),
        ),
        Preset(
            name="pcm_tiki_taka_adapt",
            models=(
                "pcm_tiki_taka for in-array adaptation of a programmed model (on-device fine-tuning, "
                "federated rounds): the same arrays, with weights mapped up to 1.4 device units so "
                "that transfer pulses land where PCM's steps are fine (the first pulses from a reset "
                "device move a weight by up to half its range at the 0.6 of training from scratch)."
            ),
            source=(
                "as pcm_tiki_taka; the mapping chosen by benchmarks/training_sweep.py "
                "(tt:finetune_omega_1.4: 86.7 % validation after 5 epochs from the 87.9 % digital model, "
                "where omega 0.6 collapsed to 36 %)"
            ),
            update="transfer",
            factory=functools.partial(pcm_tiki_taka_config, n_reads_per_transfer=PCM_TIKI_TAKA_READS,
                                      fast_lr=PCM_TIKI_TAKA_ADAPT_FAST_LR,
                                      weight_scaling_omega=PCM_TIKI_TAKA_ADAPT_OMEGA),
        ),
        Preset(
            name="pcm_mixed_precision",
            models=(
                "Mixed-precision training: gradients accumulated in a digital matrix (chi), "
                "PCM devices programmed with whole pulses when it crosses one device step."
            ),
            source=(
                "aihwkit MixedPrecisionPCMPreset: Nandakumar et al., Frontiers in Neuroscience 14, "
                "406 (2020); Le Gallo et al., Nature Electronics 1, 246 (2018)"
            ),
            update="mixed_precision",
            factory=_pcm_mixed_precision,
        ),
        Preset(
            name="pcm_mixed_precision_factored",
            models=(
                "Mixed-precision training whose digital unit scales each gradient by factored "
                "second moments (Adafactor without momentum) before accumulating it in chi; the "
                "PCM pairs, threshold and pulses are pcm_mixed_precision's. The tile learning "
                "rate is the RMS step per weight."
            ),
            source=(
                "pcm_mixed_precision (Nandakumar et al. 2020) with Adafactor's factored step "
                "(Shazeer & Stern, ICML 2018): memtorch_power.tiles.FactoredStepTile"
            ),
            update="mixed_precision",
            factory=_pcm_mixed_precision_factored,
            caveat=(
                "No measurable gain on KWS: 40 epochs over 3 seeds, 2.80 points below digital "
                "against pcm_mixed_precision's 3.55 (seed-to-seed spread 1-3 points; "
                "docs/kws_accuracy_notes.md)."
            ),
        ),
        Preset(
            name="pcm_hwa",
            models=(
                "Hardware-aware training and PCM inference: 8-bit DAC/ADC, output noise, learned "
                "input ranges, weight noise during training; programming noise, 1/f read noise "
                "and conductance drift at inference with global drift compensation."
            ),
            source=(
                "aihwkit StandardHWATrainingPreset (Rasch et al., Nature Communications 14, 5282, "
                "2023) and PCMLikeNoiseModel (Nandakumar et al., ICECS 2019; Joshi et al., Nature "
                "Communications 11, 2473, 2020)"
            ),
            update="digital",
            factory=_pcm_hwa,
        ),
    )
}

PresetLike = Union[str, Preset, RPUConfigBase]


def get_preset(spec: PresetLike) -> Preset:
    """Resolve a preset name, a :class:`Preset` or any aihwkit ``RPUConfig`` to a :class:`Preset`.

    Raises:
        ValueError: for an unknown preset name (the message lists the known ones).
        TypeError: for anything that is neither a name, a Preset nor an RPUConfig.
    """
    if isinstance(spec, Preset):
        return spec
    if isinstance(spec, str):
        try:
            return PRESETS[spec]
        except KeyError:
            known = ", ".join(sorted(PRESETS))
            raise ValueError(f"unknown preset {spec!r}; known presets: {known}") from None
    if isinstance(spec, RPUConfigBase):
        template = copy.deepcopy(spec)
        if getattr(template, "tile_class", None) is TorchInferenceTile:
            template.tile_class = PicklableTorchInferenceTile  # same maths, survives torch.save
        return Preset(
            name=f"custom:{type(spec).__name__}",
            models=f"user-supplied aihwkit {type(spec).__name__}",
            source="user",
            update=_update_mode_of(spec),
            factory=lambda: copy.deepcopy(template),
        )
    raise TypeError(
        "preset must be a preset name, a memtorch_power.presets.Preset or an aihwkit RPUConfig, "
        f"got {type(spec).__name__}"
    )


def register_preset(preset: Preset, overwrite: bool = False) -> Preset:
    """Add ``preset`` to :data:`PRESETS` so that it can be named like the built-in ones
    (``analogize(model, "my_preset")``, ``KeywordSpotter(preset="my_preset")``, sweeps).

    Raises:
        ValueError: if the name is taken and ``overwrite`` is False.
    """
    if preset.name in PRESETS and not overwrite:
        raise ValueError(f"preset {preset.name!r} exists; pass overwrite=True to replace it")
    PRESETS[preset.name] = preset
    return preset


def _update_mode_of(config: RPUConfigBase) -> UpdateMode:
    if isinstance(getattr(config, "device", None), TransferCompound):
        return "transfer"
    if isinstance(config, InferenceRPUConfig):
        return "digital"
    if isinstance(config, DigitalRankUpdateRPUConfig):
        return "mixed_precision"
    return "in_memory"


@dataclass(frozen=True)
class PresetTraits:
    """What the energy model needs to know about a preset, read from its ``RPUConfig``.

    Attributes:
        update: where the weight update happens.
        dac_bits: input (DAC) resolution in bits of the forward MVM; ``None`` if ideal.
        adc_bits: output (ADC) resolution in bits of the forward MVM; ``None`` if ideal.
        array_rows: physical array rows (inputs) per tile; 0 means unlimited.
        array_cols: physical array columns (outputs) per tile; 0 means unlimited.
        dw_min: mean weight change of one PCM pulse, in the preset's weight units
            (``None`` where no pulses are applied during training).
        w_max: largest weight a device pair represents, in the same units.
        update_bl: maximum pulse-train length of one stochastic update (pulsed presets).
        devices_per_weight: PCM devices holding one weight (2 for a differential pair).
        transfer_every: ``transfer`` presets: mini-batches (or mat-vecs) between transfers.
        transfer_reads: ``transfer`` presets: fast-array columns read per transfer.
        transfer_in_mbatch: whether ``transfer_every`` counts mini-batches (else mat-vecs).
        factored_step: ``mixed_precision`` presets whose digital unit scales the gradient by
            factored second moments before accumulating it (:class:`~memtorch_power.tiles.FactoredStepTile`).
    """

    update: UpdateMode
    dac_bits: float | None
    adc_bits: float | None
    array_rows: int
    array_cols: int
    dw_min: float | None
    w_max: float | None
    update_bl: int | None
    devices_per_weight: int
    transfer_every: float | None = None
    transfer_reads: int | None = None
    transfer_in_mbatch: bool = True
    factored_step: bool = False


def _bits(resolution: float) -> float | None:
    """aihwkit expresses resolution either as a step (<1) or as a number of levels (>1)."""
    if resolution <= 0:
        return None
    levels = 1.0 / resolution if resolution < 1.0 else resolution
    return math.log2(levels + 2.0)


def _cell_leaf(cell: Any) -> tuple[Any, int, float, float]:
    """The pulsed device of a (possibly nested) aihwkit unit cell, the number of devices that
    hold one weight, the weight change of a one-unit change of the device the update programs
    (its read-out factor) and the sum of the read-out factors of one sign's devices.

    A ``OneSidedUnitCell`` is a pair (G+ - G-) built from its first device; a ``VectorUnitCell``
    reads device ``i`` at ``gamma_vec[i]`` (aihwkit: ``1/n`` each when not given)."""
    devices = getattr(cell, "unit_cell_devices", None)
    if not devices:
        return cell, 1, 1.0, 1.0
    if isinstance(cell, OneSidedUnitCell):
        leaf, count, read_out, summed = _cell_leaf(devices[0])
        return leaf, 2 * count, read_out, summed
    gammas = list(getattr(cell, "gamma_vec", None) or [1.0 / len(devices)] * len(devices))
    leaves = [_cell_leaf(device) for device in devices]
    leaf, _, read_out, _ = leaves[0]
    return (leaf, sum(count for _, count, _, _ in leaves), read_out * gammas[0],
            sum(g * summed for g, (_, _, _, summed) in zip(gammas, leaves)))


def traits_of(spec: PresetLike) -> PresetTraits:
    """Read the energy-relevant traits of a preset (see :class:`PresetTraits`)."""
    preset = get_preset(spec)
    config = preset.rpu_config()
    forward = getattr(config, "forward", None)
    perfect = forward is None or getattr(forward, "is_perfect", False)
    mapping = getattr(config, "mapping", MappingParameter())
    dw_min = w_max = None
    update_bl = None
    devices = 2  # differential pair (G+ - G-) for every PCM preset here
    device = getattr(config, "device", None)
    inner = getattr(device, "device", None)  # MixedPrecisionCompound wraps the unit cell
    cell = inner if inner is not None else device
    unit_devices = getattr(cell, "unit_cell_devices", None)
    transfer: dict = {}
    if isinstance(device, TransferCompound):  # fast array first, slow (PCM) store second
        transfer = dict(transfer_every=float(device.transfer_every), transfer_reads=int(device.n_reads_per_transfer),
                        transfer_in_mbatch=bool(device.units_in_mbatch))
        cell = unit_devices[-1]
    if preset.update != "digital" and cell is not None:
        leaf, leaf_devices, read_out, summed = _cell_leaf(cell)
        if hasattr(leaf, "dw_min"):
            dw_min = float(leaf.dw_min) * read_out
            w_max = float(getattr(leaf, "w_max", 1.0)) * summed
        if transfer or getattr(cell, "unit_cell_devices", None):
            devices = leaf_devices
    if preset.update in ("in_memory", "transfer"):
        update_bl = int(getattr(config.update, "desired_bl", 31))
    return PresetTraits(
        update=preset.update,
        dac_bits=None if perfect else _bits(forward.inp_res),
        adc_bits=None if perfect else _bits(forward.out_res),
        array_rows=int(mapping.max_input_size),
        array_cols=int(mapping.max_output_size),
        dw_min=dw_min,
        w_max=w_max,
        update_bl=update_bl,
        devices_per_weight=devices,
        factored_step=isinstance(getattr(config, "tile_class", None), type)
        and issubclass(config.tile_class, FactoredStepTile),
        **transfer,
    )


def describe_presets() -> list[dict[str, str]]:
    """One row per named preset: name, update mode, where the phases run, what it models, its
    source and its caveat."""
    return [
        {"name": p.name, "update": p.update, "phases": p.phases, "models": p.models, "source": p.source,
         "caveat": p.caveat}
        for p in PRESETS.values()
    ]


__all__ = [
    "ARRAY_COLS",
    "ARRAY_ROWS",
    "PHASE_PLACEMENT",
    "PULSED_UPDATES",
    "PRESETS",
    "Preset",
    "PresetLike",
    "PresetTraits",
    "UpdateMode",
    "describe_presets",
    "get_preset",
    "register_preset",
    "traits_of",
]

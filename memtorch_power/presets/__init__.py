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
``pcm_mixed_precision_factored``, ``pcm_mixed_precision_adam``
                       mixed precision whose digital unit accumulates Adafactor's / Adam's step
``pcm_tiki_taka``      in-array training (Tiki-Taka): pulses on a capacitor fast array whose
                       columns are transferred by pulses into a PCM pair per weight
``pcm_tiki_taka_adapt`` the same arrays for in-array fine-tuning of a programmed model
``pcm_fast_weight``    in-array training in Ambrogio et al.'s cell: a capacitor fast weight read
                       at 1/3 beside a PCM pair, moved into it by closed-loop programming,
                       its polarity inverted at each transfer
``pcm_hwa``            hardware-aware training (digital update through a noisy, quantised PCM
                       forward) and PCM inference with programming noise, 1/f read noise and
                       drift (``PCMLikeNoiseModel``), global drift compensation, 8-bit DAC/ADC
=====================  ==========================================================================

The package: :mod:`~memtorch_power.presets.registry` (what a preset is, the registry, where each
phase runs), :mod:`~memtorch_power.presets.configs` (the aihwkit configuration of each built-in
preset), :mod:`~memtorch_power.presets.builtin` (their names, descriptions, sources and caveats)
and :mod:`~memtorch_power.presets.traits` (what the energy model reads from a preset).
"""

from __future__ import annotations

from memtorch_power.presets import builtin as _builtin  # noqa: F401  (registers the built-in presets)
from memtorch_power.presets.configs import (
    ARRAY_COLS,
    ARRAY_ROWS,
    PULSED_WEIGHT_SCALING_OMEGA,
    fast_weight_cell,
    pcm_fast_weight_config,
    pcm_tiki_taka_config,
    pulsed_mapping,
    transfer_config,
)
from memtorch_power.presets.registry import (
    PHASE_PLACEMENT,
    PRESETS,
    PULSED_UPDATES,
    Preset,
    PresetLike,
    UpdateMode,
    describe_presets,
    get_preset,
    register_preset,
)
from memtorch_power.presets.traits import PresetTraits, traits_of

__all__ = [
    "ARRAY_COLS",
    "ARRAY_ROWS",
    "PHASE_PLACEMENT",
    "PULSED_UPDATES",
    "PULSED_WEIGHT_SCALING_OMEGA",
    "PRESETS",
    "Preset",
    "PresetLike",
    "PresetTraits",
    "UpdateMode",
    "describe_presets",
    "fast_weight_cell",
    "get_preset",
    "pcm_fast_weight_config",
    "pcm_tiki_taka_config",
    "pulsed_mapping",
    "register_preset",
    "traits_of",
    "transfer_config",
]

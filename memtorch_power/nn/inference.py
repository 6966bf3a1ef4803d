"""Programming and drift of inference presets (``pcm_hwa``, or any aihwkit InferenceRPUConfig).

After training, the weights are *programmed* into the PCM devices once (programming noise);
their conductances then *drift* (``G(t) = G(t0) (t/t0)^-nu``) and are read with 1/f noise.
``drift(model, t)`` evaluates the state ``t`` seconds after programming; global drift
compensation rescales the outputs as the chip would.
"""

from __future__ import annotations

from typing import Iterable, Literal

import torch
from aihwkit.inference.compensation.drift import GlobalDriftCompensation, PerColumnDriftCompensation
from aihwkit.inference.converter.conductance import NPairConductanceConverter, SinglePairConductanceConverter
from torch import Tensor, nn

from memtorch_power.nn.convert import analog_layers
from memtorch_power.nn.program_verify import ProgramVerify, VerifiedProgramming

DriftCompensation = Literal["global", "per_column", "none"]

#: Times after programming at which users usually evaluate, in seconds.
DRIFT_TIMES_S: dict[str, float] = {
    "1 s": 1.0,
    "1 h": 3600.0,
    "1 day": 86_400.0,
    "1 month": 30 * 86_400.0,
    "1 year": 365 * 86_400.0,
}


def _inference_layers(model: nn.Module, action: str, needs_eval: bool = True) -> list:
    layers = analog_layers(model)
    if not layers:
        raise ValueError(f"{action}: the model has no analog layer (call analogize first)")
    unsupported = sorted({layer.preset.name for _, layer in layers if not layer.preset.supports_programming})
    if unsupported:
        raise ValueError(
            f"{action}: preset(s) {', '.join(unsupported)} have no programming/drift model; "
            "use an inference preset such as 'pcm_hwa'"
        )
    if needs_eval and model.training:
        raise RuntimeError(f"{action} needs eval mode: call model.eval() first")
    return [crossbar for _, layer in layers for crossbar in layer.analog_crossbars()]


def _inference_tiles(model: nn.Module, action: str, needs_eval: bool = True) -> list:
    """The aihwkit tiles of :func:`_inference_layers`' crossbars."""
    return [tile for crossbar in _inference_layers(model, action, needs_eval) for tile in crossbar.analog_tiles()]


def program(model: nn.Module, verify: ProgramVerify | None = None) -> nn.Module:
    """Program the current weights into the PCM devices (applies programming noise).

    Args:
        verify: program-and-verify: re-program every device whose conductance misses its target
            by more than ``verify.tolerance_us`` (:mod:`memtorch_power.nn.program_verify`); None
            programs each device once, as aihwkit does.

    The model must be in eval mode. Returns the model.
    """
    if verify is None:
        for crossbar in _inference_layers(model, "program"):
            crossbar.program_analog_weights()
    else:
        program_verified(model, verify)
    return model


def program_verified(model: nn.Module, verify: ProgramVerify) -> float:
    """Program with a verify loop (:class:`~memtorch_power.nn.program_verify.VerifiedProgramming`)
    and return the mean number of programming pulses per device (1.0: no device re-programmed).

    Each tile's own noise model is restored afterwards, so drift and read noise stay the preset's.
    """
    pulses = devices = 0
    for tile in _inference_tiles(model, "program"):
        base = tile.rpu_config.noise_model
        verified = VerifiedProgramming(base, verify)
        tile.rpu_config.noise_model = verified
        try:
            tile.program_weights()
        finally:
            tile.rpu_config.noise_model = base
        pulses, devices = pulses + verified.programmings, devices + verified.devices
    return pulses / devices


def drift(model: nn.Module, t_seconds: float) -> nn.Module:
    """Set the programmed devices to their state ``t_seconds`` after programming.

    Programs the weights first if that was not done. Each call starts from the programmed
    state (drift is not cumulative across calls). Returns the model.
    """
    if t_seconds < 0:
        raise ValueError(f"drift: t_seconds must be >= 0, got {t_seconds}")
    for crossbar in _inference_layers(model, "drift"):
        crossbar.drift_analog_weights(t_seconds)
    return model


def set_drift_compensation(model: nn.Module, kind: DriftCompensation) -> nn.Module:
    """Choose how the chip rescales each tile's outputs after drift; takes effect at the next
    :func:`program` (the reference read-out is taken when the weights are programmed).

    Args:
        kind: ``"global"``: one factor per tile from the mean read-out of all its columns
            (aihwkit ``GlobalDriftCompensation``, the presets' default); ``"per_column"``: one
            factor per output column, as the per-column digital scales of the periphery can
            apply (aihwkit ``PerColumnDriftCompensation``; Le Gallo et al., Nature Electronics
            2023, use per-column affine correction); ``"none"``: the raw drifted outputs.

    Raises:
        ValueError: for another ``kind``, or a model without inference presets.
    """
    factories = {"global": GlobalDriftCompensation, "per_column": PerColumnDriftCompensation, "none": lambda: None}
    if kind not in factories:
        raise ValueError(f"drift compensation must be one of {', '.join(factories)}, got {kind!r}")
    for tile in _inference_tiles(model, "set_drift_compensation", needs_eval=False):
        tile.rpu_config.drift_compensation = factories[kind]()
    return model


def set_conductance_pairs(model: nn.Module, pairs: int) -> nn.Module:
    """Store every weight in ``pairs`` differential pairs of PCM devices (``2 * pairs`` devices per
    weight); takes effect at the next :func:`program`.

    The pairs have equal significance and fill in turn (aihwkit ``NPairConductanceConverter`` with
    ``f_lst = [1] * pairs``; multi-pair weights: Mackin et al., Nature Communications 13, 3765,
    2022): the largest weight of a tile maps to ``pairs * g_max`` of summed conductance, so each
    weight's programming error, drift-coefficient spread and read noise (per device, from the
    preset's noise model) are smaller relative to it. ``pairs=2`` is the unit cell of four PCM
    devices, two per sign, of the HERMES chip (Le Gallo et al., Nature Electronics 6, 680, 2023)
    that the ``hermes`` energy profile prices; ``pairs=1`` (the presets' default) is aihwkit's
    single differential pair.

    Raises:
        ValueError: if ``pairs`` < 1, or the model has no inference preset.
        TypeError: if a tile's noise model has no conductance converter (``g_converter``/``g_max``).
    """
    check_conductance_pairs(pairs, "set_conductance_pairs: pairs")
    for tile in _inference_tiles(model, "set_conductance_pairs", needs_eval=False):
        noise = tile.rpu_config.noise_model
        if not hasattr(noise, "g_converter") or getattr(noise, "g_max", None) is None:
            raise TypeError(f"set_conductance_pairs: the noise model {type(noise).__name__} has no conductance "
                            "converter; conductance pairs need a conductance-level model such as PCMLikeNoiseModel")
        noise.g_converter = (SinglePairConductanceConverter(g_max=noise.g_max) if pairs == 1
                             else NPairConductanceConverter([1.0] * pairs, g_max=noise.g_max))
    return model


def check_conductance_pairs(pairs: object, name: str = "conductance_pairs") -> None:
    """Refuse a pair count that :func:`set_conductance_pairs` cannot take (anything but an
    integer >= 1; a bool is not a count), naming it ``name`` in the error, so callers that store
    the count can fail before any work is done.

    Raises:
        ValueError: ``pairs`` is not an integer >= 1.
    """
    if isinstance(pairs, bool) or not isinstance(pairs, int) or pairs < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {pairs!r}")


@torch.no_grad()
def recalibrate_batchnorm(model: nn.Module, batches: Iterable[Tensor]) -> nn.Module:
    """Re-estimate every batch norm's running statistics on ``batches`` (adaptive batch-norm
    statistics, Joshi et al., Nature Communications 11, 2473, 2020): after drift, the
    pre-normalisation activations of a PCM model shift, and statistics measured on the drifted
    chip undo part of the shift. Run it after :func:`drift` with a few unlabelled batches.

    Statistics are reset and averaged over all ``batches`` (cumulative average); every other
    module stays in eval mode (no weight noise, no training-time modifiers), and the train/eval
    flags are restored afterwards.

    Raises:
        ValueError: if the model has no batch norm with running statistics, or no batch is given.
    """
    norms = [m for m in model.modules()
             if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.track_running_stats]
    if not norms:
        raise ValueError("recalibrate_batchnorm: the model has no batch norm with running statistics")
    modes = {module: module.training for module in model.modules()}
    momenta = {norm: norm.momentum for norm in norms}
    seen = 0
    try:
        model.eval()
        for norm in norms:
            norm.reset_running_stats()
            norm.momentum = None  # cumulative moving average over the batches
            norm.train()
        for batch in batches:
            model(batch)
            seen += 1
    finally:
        for norm, momentum in momenta.items():
            norm.momentum = momentum
        for module, mode in modes.items():
            module.training = mode
    if not seen:
        raise ValueError("recalibrate_batchnorm: no batch given")
    return model

"""Programming and drift of inference presets (``pcm_hwa``, or any aihwkit InferenceRPUConfig).

After training, the weights are *programmed* into the PCM devices once (programming noise);
their conductances then *drift* (``G(t) = G(t0) (t/t0)^-nu``) and are read with 1/f noise.
``drift(model, t)`` evaluates the state ``t`` seconds after programming; global drift
compensation rescales the outputs as the chip would.
"""

from __future__ import annotations

from torch import nn

from memtorch_power.nn.convert import analog_layers

#: Times after programming at which users usually evaluate, in seconds.
DRIFT_TIMES_S: dict[str, float] = {
    "1 s": 1.0,
    "1 h": 3600.0,
    "1 day": 86_400.0,
    "1 month": 30 * 86_400.0,
    "1 year": 365 * 86_400.0,
}


def _inference_layers(model: nn.Module, action: str) -> list:
    layers = analog_layers(model)
    if not layers:
        raise ValueError(f"{action}: the model has no analog layer (call analogize first)")
    unsupported = sorted({layer.preset.name for _, layer in layers if not layer.preset.supports_programming})
    if unsupported:
        raise ValueError(
            f"{action}: preset(s) {', '.join(unsupported)} have no programming/drift model; "
            "use an inference preset such as 'pcm_hwa'"
        )
    if model.training:
        raise RuntimeError(f"{action} needs eval mode: call model.eval() first")
    return [crossbar for _, layer in layers for crossbar in layer.analog_crossbars()]


def program(model: nn.Module) -> nn.Module:
    """Program the current weights into the PCM devices (applies programming noise).

    The model must be in eval mode. Returns the model.
    """
    for crossbar in _inference_layers(model, "program"):
        crossbar.program_analog_weights()
    return model


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

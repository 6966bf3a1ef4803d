"""``estimate``: the energy of a model's workload from one forward pass of an example input."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import Tensor, nn

from memtorch_power.energy.build import build_report, check_placement
from memtorch_power.energy.counting import LayerCounts, WorkloadCounter
from memtorch_power.energy.pricing import (
    DEFAULT_PULSES_PER_WEIGHT_STEP,
    DigitalPlacement,
    programming_energy_pj,
)
from memtorch_power.energy.profiles import (
    AnalogProfile,
    DigitalProfile,
    get_analog_profile,
    get_digital_profile,
)
from memtorch_power.energy.report import EnergyReport
from memtorch_power.nn.convert import analog_layers

ExampleInput = Tensor | Sequence[Tensor]


def _require_analog(model: nn.Module, action: str) -> None:
    if not isinstance(model, nn.Module):
        raise ValueError(f"{action}: model must be a torch.nn.Module, got {type(model).__name__}")
    if not analog_layers(model):
        raise ValueError(
            f"{action}: the model has no analog layer (convert it with memtorch_power.nn.analogize)"
        )


def _as_args(example_input: ExampleInput) -> tuple[Tensor, ...]:
    if isinstance(example_input, Tensor):
        return (example_input,)
    if isinstance(example_input, (tuple, list)) and example_input and all(
        isinstance(t, Tensor) for t in example_input
    ):
        return tuple(example_input)
    raise ValueError(
        "example_input must be a tensor or a non-empty tuple of tensors, "
        f"got {type(example_input).__name__}"
    )


def _batch_size(args: tuple[Tensor, ...]) -> int | None:
    first = args[0]
    return int(first.shape[0]) if first.dim() >= 2 else None


def count_workload(
    model: nn.Module, example_input: ExampleInput, training: bool
) -> tuple[WorkloadCounter, dict[str, LayerCounts], int | None]:
    """Run one forward pass of ``example_input`` and count what every layer did.

    The model runs in eval mode (no batch-norm statistics or input-range updates are changed)
    with gradients enabled if ``training`` (to see which inputs need a gradient); train/eval
    flags are restored afterwards. With ``training``, each layer that computes a weight
    gradient gets one optimizer step.

    Raises:
        ValueError: if the model cannot run on ``example_input`` (wrong shape, dtype ...).
    """
    args = _as_args(example_input)
    counter = WorkloadCounter(model)
    modes = {module: module.training for module in model.modules()}
    try:
        model.eval()
        counter.start("estimate", track_backward=training)
        with torch.set_grad_enabled(training):
            model(*args)
    except (RuntimeError, ValueError, TypeError, IndexError) as err:
        shapes = ", ".join(str(tuple(t.shape)) for t in args)
        raise ValueError(f"the model cannot run on example_input of shape {shapes}: {err}") from err
    finally:
        counter.remove()
        for module, mode in modes.items():
            module.training = mode
    counts = counter.counts["estimate"]
    if training:
        for c in counts.values():
            c.steps = 1 if c.weight_grad.calls > 0 else 0
    return counter, counts, _batch_size(args)


def estimate(
    model: nn.Module,
    example_input: ExampleInput,
    analog: str | AnalogProfile = "hermes",
    digital: str | DigitalProfile = "a100_fp16",
    training: bool = True,
    batches: int = 1,
    *,
    pulses_per_weight_step: float = DEFAULT_PULSES_PER_WEIGHT_STEP,
    digital_layers_on: DigitalPlacement = "periphery",
) -> EnergyReport:
    """Energy (J) of ``batches`` batches like ``example_input`` on PCM and on digital hardware.

    One forward pass is run with hooks; the workload (MVMs, MACs, operations per layer) is
    computed from the shapes actually seen and multiplied by ``batches``. With ``training``,
    each batch also has its backward pass (input gradients where autograd needs them, weight
    gradients for trainable layers) and one optimizer step. Without it, the forward is priced
    as inference: dropout costs nothing and batch norms directly after a conv/linear are folded
    into it (0 J); the report's notes say which.

    Args:
        model: a model with at least one analog layer (``memtorch_power.nn.analogize``).
        example_input: one batch (a tensor, or a tuple of tensors passed as positional args).
        analog: analog profile name or :class:`AnalogProfile` (``"hermes"``, ``"ibm14nm"`` ...).
        digital: digital baseline name or :class:`DigitalProfile` (``"a100_fp16"`` ...).
        training: include backward and update phases (else forward only: inference).
        batches: number of identical batches (energy is linear in it).
        pulses_per_weight_step: expected PCM pulses per weight per optimizer step for the
            pulsed presets (``pcm_training``, ``pcm_mixed_precision``); measure it with
            :class:`EnergyMonitor`.
        digital_layers_on: where the *analog system* runs the forward of its layers that are
            not analog (norms, activations, pooling, depthwise convolutions): ``"periphery"``
            (default: the analog chip's own on-chip digital periphery, priced with the analog
            profile's ``periphery_*`` energies; dense digital Linear/Conv layers still go to the
            digital profile) or ``"baseline"`` (a digital co-processor of the ``digital``
            profile). The digital baseline always runs everything on ``digital``.

    Returns:
        An :class:`EnergyReport` (per-layer rows and totals, in J).

    Raises:
        ValueError: unknown profile, model without analog layer, input the model cannot run
            on, ``batches < 1``, a negative ``pulses_per_weight_step`` or an unknown
            ``digital_layers_on``.
    """
    check_placement(digital_layers_on, "estimate")
    analog_profile = get_analog_profile(analog)
    digital_profile = get_digital_profile(digital)
    if isinstance(batches, bool) or not isinstance(batches, int) or batches < 1:
        raise ValueError(f"estimate: batches must be an integer >= 1, got {batches!r}")
    if not (pulses_per_weight_step >= 0 and math.isfinite(pulses_per_weight_step)):
        raise ValueError(f"estimate: pulses_per_weight_step must be >= 0, got {pulses_per_weight_step}")
    _require_analog(model, "estimate")
    counter, counts, batch_size = count_workload(model, example_input, training)
    scaled = {name: c.scaled(batches) for name, c in counts.items()}
    return build_report(counter.infos, scaled, analog_profile, digital_profile, training, batches,
                        batch_size, pulses_per_weight_step, digital_layers_on)


@dataclass(frozen=True)
class InferenceEnergy:
    """Energy of one inference (one sample), in J.

    Attributes:
        analog_j: on the analog system.
        digital_j: on the digital baseline.
        batch_size: samples in the example batch the figure was divided by.
    """

    analog_j: float
    digital_j: float
    batch_size: int

    @property
    def savings(self) -> float:
        """``digital_j / analog_j``."""
        return self.digital_j / self.analog_j if self.analog_j > 0 else math.inf


def energy_per_inference(
    model: nn.Module,
    example_input: ExampleInput,
    analog: str | AnalogProfile = "hermes",
    digital: str | DigitalProfile = "a100_fp16",
    batch_size: int | None = None,
    *,
    digital_layers_on: DigitalPlacement = "periphery",
) -> InferenceEnergy:
    """Forward-only energy per sample (J): ``estimate(..., training=False)`` / batch size.

    ``batch_size`` defaults to the first dimension of ``example_input`` (1 for a 1-d input);
    pass it for unbatched convolution inputs. Weight fetches of the digital baseline are
    amortised over the batch, so a larger example batch gives a lower digital figure per sample.
    ``digital_layers_on`` is passed to :func:`estimate`.

    Raises:
        ValueError: as :func:`estimate`, or for ``batch_size < 1``.
    """
    if batch_size is not None and batch_size < 1:
        raise ValueError(f"energy_per_inference: batch_size must be >= 1, got {batch_size}")
    report = estimate(model, example_input, analog, digital, training=False,
                      digital_layers_on=digital_layers_on)
    size = batch_size or report.batch_size or 1
    return InferenceEnergy(report.analog_j() / size, report.digital_j() / size, size)


def programming_energy(model: nn.Module, profile: str | AnalogProfile = "hermes") -> float:
    """Energy (J) to program every analog weight of ``model`` once onto the PCM arrays.

    Per weight: ``devices_per_weight * program_iterations`` program-and-verify iterations,
    each a PCM pulse plus a verify read (``pulse_pj + cell_read_pj + adc_pj``). Paid after
    (hardware-aware) training and after every federated round that changes the weights.

    Raises:
        ValueError: unknown profile or model without analog layer.
    """
    analog_profile = get_analog_profile(profile)
    _require_analog(model, "programming_energy")
    counter = WorkloadCounter(model)
    counter.remove()
    infos = [i for i in counter.infos.values() if i.kind == "analog"]
    return sum(programming_energy_pj(i, analog_profile) for i in infos) * 1e-12

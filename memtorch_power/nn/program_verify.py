"""Iterative program-and-verify on top of an aihwkit PCM noise model.

aihwkit's ``PCMLikeNoiseModel`` draws each device's programming error once, from a
conductance-dependent Gaussian fitted to measured PCM devices (Nandakumar et al., ICECS 2019).
A chip can trade programming time for accuracy by *verifying*: read each device after its
programming pulse and program again the devices whose conductance misses the target by more
than a tolerance (iterative programming, Papandreou et al., ISCAS 2011; Le Gallo et al.,
Nature Electronics 6, 680, 2023). :class:`VerifiedProgramming` simulates that loop with the
noise model's own error: every device whose error exceeds ``tolerance_us`` is programmed again
with a fresh draw, up to ``max_iterations`` programmings in all. The verify read itself is
taken as exact (no read noise), and drift coefficients are those of the target conductance,
as in aihwkit. Because the measured error the noise model was fitted to may already include
the chip's own verify iterations, the gain it shows is an upper bound on what more verify
iterations would buy (``docs/kws_accuracy_notes.md``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor


@dataclass(frozen=True)
class ProgramVerify:
    """How to verify programmed devices.

    Attributes:
        tolerance_us: largest conductance error a verify read accepts, in µS (aihwkit's PCM
            model maps the largest weight to ``g_max`` = 25 µS; its programming error has a
            standard deviation of about 0.3-1.1 µS depending on the target conductance).
        max_iterations: programmings per device at most, the first included (>= 1).
    """

    tolerance_us: float = 0.5
    max_iterations: int = 10

    def __post_init__(self) -> None:
        if not self.tolerance_us > 0:
            raise ValueError(f"ProgramVerify: tolerance_us must be > 0 µS, got {self.tolerance_us}")
        if self.max_iterations < 1:
            raise ValueError(f"ProgramVerify: max_iterations must be >= 1, got {self.max_iterations}")


class VerifiedProgramming:
    """A noise model that programs through ``base``'s error with a verify loop.

    Stands in for ``base`` as an aihwkit tile's ``rpu_config.noise_model`` while the tile is
    programmed; everything but programming (drift, read noise) is ``base``'s. After each
    programming, :attr:`programmings` holds the programming pulses issued per device and
    :attr:`devices` the devices programmed (their ratio is the mean iterations per device).

    Args:
        base: an aihwkit noise model with ``g_converter``, ``apply_programming_noise_to_conductance``
            and ``generate_drift_coefficients`` (``PCMLikeNoiseModel``).
        verify: tolerance and iteration limit.
    """

    def __init__(self, base: Any, verify: ProgramVerify) -> None:
        for needed in ("g_converter", "apply_programming_noise_to_conductance", "generate_drift_coefficients"):
            if not hasattr(base, needed):
                raise TypeError(f"VerifiedProgramming: the noise model {type(base).__name__} has no {needed}; "
                                "program-and-verify needs a conductance-level model such as PCMLikeNoiseModel")
        self.base, self.verify = base, verify
        self.programmings = 0
        self.devices = 0

    def __getattr__(self, name: str) -> Any:  # drift, read noise, ...: the base model's
        return getattr(self.__dict__["base"], name)

    @torch.no_grad()
    def verified_conductance(self, g_target: Tensor) -> Tensor:
        """Program ``g_target`` (µS), then re-program every device outside the tolerance."""
        program = self.base.apply_programming_noise_to_conductance
        g = program(g_target)
        pulses = torch.ones_like(g_target)
        for _ in range(self.verify.max_iterations - 1):
            missed = (g - g_target).abs() > self.verify.tolerance_us
            if not missed.any():
                break
            g = torch.where(missed, program(g_target), g)
            pulses += missed
        self.programmings += int(pulses.sum())
        self.devices += g_target.numel()
        return g

    @torch.no_grad()
    def apply_programming_noise(self, weights: Tensor) -> tuple[Tensor, list[Tensor]]:
        """aihwkit's ``BaseNoiseModel.apply_programming_noise`` with the verify loop per slice."""
        targets, params = self.base.g_converter.convert_to_conductances(weights)
        programmed, drift = [], []
        for g_target in targets:  # aihwkit's order of random draws: a device tolerating any error is programmed as there
            programmed.append(self.verified_conductance(g_target))
            drift.append(self.base.generate_drift_coefficients(g_target))
        return self.base.g_converter.convert_back_to_weights(programmed, params), drift


__all__ = ["ProgramVerify", "VerifiedProgramming"]

"""The preset registry: what a preset is (:class:`Preset`), where each training phase runs for
each update mode, and how a name, a :class:`Preset` or an aihwkit ``RPUConfig`` resolves to one.

The built-in presets (:mod:`memtorch_power.presets.builtin`) register themselves here when the
package is imported; :func:`register_preset` adds a user's own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Callable, Literal, Union

from aihwkit.simulator.configs import DigitalRankUpdateRPUConfig, InferenceRPUConfig
from aihwkit.simulator.configs.compounds import TransferCompound
from aihwkit.simulator.parameters.base import RPUConfigBase
from aihwkit.simulator.tiles.inference_torch import TorchInferenceTile

from memtorch_power.tiles import PicklableTorchInferenceTile

UpdateMode = Literal["digital", "in_memory", "mixed_precision", "transfer"]
"""Where the weight update of a preset happens.

* ``digital``: gradients and weights live in digital memory; the array only runs MVMs
  (hardware-aware training). After training, the weights are *programmed* once.
* ``in_memory``: the outer-product update is applied in the array by PCM pulses.
* ``mixed_precision``: the gradient is accumulated digitally (``chi``) and the array is
  programmed with integer numbers of PCM pulses when the accumulator crosses ``dw_min``.
* ``transfer``: the outer-product update is applied by pulses to a fast array, whose columns
  are periodically read and added into the PCM array, by pulses (Tiki-Taka) or by
  program-and-verify (the closed-loop cell, ``memtorch_power.closed_loop``).
"""

#: Update modes whose weights change by pulses in an array during training.
PULSED_UPDATES: tuple[str, ...] = ("in_memory", "mixed_precision", "transfer")


#: Where each training phase runs, by update mode (what the energy model prices, and what a
#: user should know before reading a training-energy figure).
PHASE_PLACEMENT: dict[str, str] = {
    "digital": "forward MVMs on PCM; backward and optimizer step digital (hardware-aware training "
               "trains digitally, only its forward runs on PCM); weights programmed once for inference",
    "in_memory": "forward and backward MVMs on PCM; update in the array by PCM pulses",
    "mixed_precision": "forward and backward MVMs on PCM; weight gradient computed and accumulated "
                       "digitally (chi), whole PCM pulses applied where it crosses a device step",
    "transfer": "forward and backward MVMs on the PCM array; update by pulses on a fast array whose "
                "columns are periodically read and added into the PCM array (by pulses, or by "
                "program-and-verify in the closed-loop cell; all in the arrays)",
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


#: Every named preset, built-in (:mod:`memtorch_power.presets.builtin`) or registered.
PRESETS: dict[str, Preset] = {}

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



def describe_presets() -> list[dict[str, str]]:
    """One row per named preset: name, update mode, where the phases run, what it models, its
    source and its caveat."""
    return [
        {"name": p.name, "update": p.update, "phases": p.phases, "models": p.models, "source": p.source,
         "caveat": p.caveat}
        for p in PRESETS.values()
    ]


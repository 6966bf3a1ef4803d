"""Energy of inference and training on PCM crossbars against digital hardware, layer by layer.

* :func:`estimate`: the workload of ``batches`` batches like an example input, priced on an
  analog profile and a digital baseline -> :class:`EnergyReport` (J per layer, phase, component).
  The analog system runs its layers that are not analog on its own on-chip digital periphery
  (``digital_layers_on="periphery"``) or on the baseline (``"baseline"``); inference folds batch
  norms into the conv/linear before them and drops dropout.
* :func:`energy_per_inference`, :func:`programming_energy`: one sample; programming the weights.
* :class:`EnergyMonitor`: a Lightning callback that counts the real workload of fit/validate/test.
* Profiles: :class:`AnalogProfile`, :class:`DigitalProfile`, :func:`register_profile`,
  :func:`list_profiles`; the catalogue and its sources are in ``docs/energy_profiles.md``.

Units: energies in joules (J) in reports, picojoules (pJ) in profiles; MACs, MVMs and pulses
are counts.
"""

from typing import TYPE_CHECKING

from memtorch_power.energy import catalogue as _catalogue  # noqa: F401  (registers the profiles)
from memtorch_power.energy.estimate import (
    InferenceEnergy,
    energy_per_inference,
    estimate,
    programming_energy,
)
from memtorch_power.energy.history import (
    EnergyToAccuracy,
    EpochEnergy,
    energy_to_accuracy,
    plot_accuracy_vs_energy,
)
from memtorch_power.energy.meter import EnergyMeter, MeasuredEnergy, available_meters
from memtorch_power.energy.operators import register_operator
from memtorch_power.energy.rules import Work, register_module_rule
from memtorch_power.energy.mapping import TileMapping, full_tile_tops_per_watt, map_tiles
from memtorch_power.energy.profiles import (
    AnalogProfile,
    DigitalProfile,
    get_analog_profile,
    get_digital_profile,
    list_profiles,
    register_profile,
    unregister_profile,
)
from memtorch_power.energy.report import EnergyReport, LayerEnergy

if TYPE_CHECKING:
    from memtorch_power.energy.monitor import EnergyMonitor


def __getattr__(name: str) -> object:
    # The Lightning callback is imported lazily: ``import memtorch_power.energy`` stays light.
    if name == "EnergyMonitor":
        from memtorch_power.energy.monitor import EnergyMonitor

        return EnergyMonitor
    raise AttributeError(f"module 'memtorch_power.energy' has no attribute {name!r}")


__all__ = [
    "EnergyToAccuracy",
    "EpochEnergy",
    "energy_to_accuracy",
    "plot_accuracy_vs_energy",
    "AnalogProfile",
    "DigitalProfile",
    "EnergyMonitor",
    "EnergyReport",
    "InferenceEnergy",
    "LayerEnergy",
    "TileMapping",
    "energy_per_inference",
    "estimate",
    "EnergyMeter",
    "MeasuredEnergy",
    "available_meters",
    "register_module_rule",
    "register_operator",
    "Work",
    "full_tile_tops_per_watt",
    "get_analog_profile",
    "get_digital_profile",
    "list_profiles",
    "map_tiles",
    "programming_energy",
    "register_profile",
    "unregister_profile",
]

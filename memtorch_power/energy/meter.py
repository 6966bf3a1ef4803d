"""Measured energy of the host running a digital job, where the machine has a meter.

Two counters are read, when present: Intel/AMD **RAPL** (``/sys/class/powercap/*-rapl:*``
``energy_uj``, package domains, wrap-around handled with ``max_energy_range_uj``) and NVIDIA
**NVML** (``nvmlDeviceGetTotalEnergyConsumption``, mJ since the driver loaded; needs the optional
``nvidia-ml-py`` package). Figures are *measured* and labelled so, beside the modelled ones; on a
machine with neither meter, :func:`available_meters` is empty and :class:`EnergyMeter` says so
instead of guessing. RAPL counts the whole package (other processes included) and NVML the
whole GPU: measure on an otherwise idle machine.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

POWERCAP = Path("/sys/class/powercap")


@dataclass(frozen=True)
class MeasuredEnergy:
    """What a meter measured over a job.

    Attributes:
        joules: J per domain (``"rapl:package-0"``, ``"nvml:gpu0"`` ...).
        seconds: wall time of the job, s.
        meters: the meters read; empty when none was available.
        note: why nothing was measured, when nothing was.
    """

    joules: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    meters: tuple[str, ...] = ()
    note: str = ""

    @property
    def total_j(self) -> float | None:
        """Sum over domains in J, or None when nothing was measured."""
        return sum(self.joules.values()) if self.joules else None


def _rapl_domains(root: Path = POWERCAP) -> dict[str, tuple[Path, int]]:
    """Readable top-level RAPL domains: name -> (energy_uj file, wrap range in uJ)."""
    domains: dict[str, tuple[Path, int]] = {}
    if not root.is_dir():
        return domains
    for zone in sorted(root.glob("*-rapl:*")):
        if zone.name.count(":") != 1:  # sub-zones (core, uncore, dram) are inside the package
            continue
        energy, limit = zone / "energy_uj", zone / "max_energy_range_uj"
        try:
            int(energy.read_text())
            wrap = int(limit.read_text()) if limit.exists() else 2**32
        except (OSError, ValueError):
            continue  # present but not readable (needs root on recent kernels)
        name = (zone / "name").read_text().strip() if (zone / "name").exists() else zone.name
        domains[f"rapl:{name}"] = (energy, wrap)
    return domains


def _nvml_reader() -> Callable[[], dict[str, float]] | None:
    """A function returning mJ per GPU since the driver loaded, or None without NVML or a GPU."""
    try:
        import pynvml  # optional: nvidia-ml-py
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
        handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        for handle in handles:
            pynvml.nvmlDeviceGetTotalEnergyConsumption(handle)
    except Exception:  # noqa: BLE001 - no driver, no GPU or an unsupported GPU
        return None
    if not handles:
        return None
    return lambda: {f"nvml:gpu{i}": float(pynvml.nvmlDeviceGetTotalEnergyConsumption(h)) for i, h in enumerate(handles)}


def available_meters(root: Path = POWERCAP) -> list[str]:
    """The meters this machine offers (``"rapl"``, ``"nvml"``); empty if none."""
    meters = []
    if _rapl_domains(root):
        meters.append("rapl")
    if _nvml_reader() is not None:
        meters.append("nvml")
    return meters


class EnergyMeter:
    """Measure the energy of the ``with`` block on every meter the machine has.

    ``meter.result`` is a :class:`MeasuredEnergy` after the block; without any meter it has no
    joules and a note saying so.

    Example::

        with EnergyMeter() as meter:
            trainer.fit(model, datamodule)
        print(meter.result.total_j or meter.result.note)
    """

    def __init__(self, root: Path = POWERCAP) -> None:
        self._rapl = _rapl_domains(root)
        self._nvml = _nvml_reader()
        self.result = MeasuredEnergy(note="not measured yet")

    def __enter__(self) -> "EnergyMeter":
        self._start_rapl = {name: int(path.read_text()) for name, (path, _) in self._rapl.items()}
        self._start_nvml = self._nvml() if self._nvml else {}
        self._started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        seconds = time.perf_counter() - self._started
        joules: dict[str, float] = {}
        for name, (path, wrap) in self._rapl.items():
            delta = int(path.read_text()) - self._start_rapl[name]
            joules[name] = (delta if delta >= 0 else delta + wrap) * 1e-6
        if self._nvml:
            for name, millijoules in self._nvml().items():
                joules[name] = (millijoules - self._start_nvml[name]) * 1e-3
        meters = tuple(sorted({name.split(":")[0] for name in joules}))
        note = "" if joules else ("no energy meter on this machine (no readable RAPL counters under "
                                  f"{POWERCAP}, no NVML GPU): not measured")
        self.result = MeasuredEnergy(joules, seconds, meters, note)


__all__ = ["EnergyMeter", "MeasuredEnergy", "available_meters"]

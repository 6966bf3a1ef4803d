"""EnergyMeter reads RAPL counters (wrap-around included) and says so when there is no meter."""

from __future__ import annotations

from pathlib import Path

from memtorch_power.energy.meter import EnergyMeter, available_meters


def _zone(root: Path, name: str, energy_uj: int, wrap: int) -> Path:
    zone = root / name
    zone.mkdir(parents=True)
    (zone / "energy_uj").write_text(f"{energy_uj}\n")
    (zone / "max_energy_range_uj").write_text(f"{wrap}\n")
    (zone / "name").write_text("package-0\n" if name.endswith(":0") else "package-1\n")
    return zone


def test_rapl_counters_are_read_and_wrap_around(tmp_path: Path) -> None:
    package0 = _zone(tmp_path, "intel-rapl:0", 1_000_000, 10_000_000)
    package1 = _zone(tmp_path, "intel-rapl:1", 9_900_000, 10_000_000)
    (tmp_path / "intel-rapl:0:0").mkdir()  # a sub-zone: counted inside its package
    assert "rapl" in available_meters(tmp_path)
    with EnergyMeter(tmp_path) as meter:
        (package0 / "energy_uj").write_text("3500000\n")  # +2.5 J
        (package1 / "energy_uj").write_text("400000\n")  # wrapped: +0.5 J
    assert meter.result.joules == {"rapl:package-0": 2.5, "rapl:package-1": 0.5}
    assert meter.result.total_j == 3.0 and meter.result.meters == ("rapl",) and not meter.result.note


def test_without_a_meter_it_says_so_instead_of_guessing(tmp_path: Path) -> None:
    with EnergyMeter(tmp_path / "absent") as meter:
        sum(range(1000))
    if "nvml" in available_meters(tmp_path / "absent"):
        return  # a machine with an NVIDIA GPU measures it
    assert meter.result.total_j is None and meter.result.joules == {}
    assert "no energy meter on this machine" in meter.result.note

"""The three remedies together: one edge-to-cloud system report from measured parts.

:class:`SystemConfig` holds the fleet scenario (every assumption with its unit and source);
:func:`run_system` prices the scenario's network with the energy estimator, reads the measured
gating and federated runs it names, and writes the ablation from the all-digital baseline to all
three remedies, the stage breakdown and the sensitivity of the combined factor.
"""

from __future__ import annotations

from pathlib import Path

from memtorch_power.system.ablation import REMEDIES, STAGES, Remedies, ablation, all_configurations, combination, device_day
from memtorch_power.system.parts import (
    DetectorQuality,
    TrainingQuality,
    UnitCosts,
    read_detector_quality,
    read_training_quality,
    unit_costs,
)
from memtorch_power.system.report import sensitivity, write_report
from memtorch_power.system.scenario import SOURCES, SystemConfig


def run_system(config: SystemConfig) -> dict[str, Path]:
    """Build and write the system report of ``config`` into ``config.output_dir``; returns the files."""
    detectors = {kind: read_detector_quality(path, config.threshold, config.max_false_alarms_per_hour,
                                                 config.words_per_minute)
                 for kind, path in config.gating_results.items()}
    training: dict[str, TrainingQuality | None] = {}
    for path in config.federated_results:
        quality = read_training_quality(path)
        training["digital" if quality.preset == "digital" else "analog"] = quality
    return write_report(config, unit_costs(config), detectors, training, config.output_dir)


__all__ = [
    "DetectorQuality", "REMEDIES", "Remedies", "SOURCES", "STAGES", "SystemConfig", "TrainingQuality", "UnitCosts",
    "ablation", "all_configurations", "combination", "device_day", "read_detector_quality", "read_training_quality",
    "run_system", "sensitivity", "unit_costs", "write_report",
]

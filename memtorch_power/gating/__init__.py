"""Wake-word gating: an always-on analog keyword detector decides what is digitised and sent.

* :mod:`.stream`: long noisy streams with keywords at known times.
* :mod:`.detector`: sliding-window scores, detections, hits and false alarms per hour.
* :mod:`.scorer`: a trained ``KeywordSpotter`` as the detector (or a quick one trained here).
* :mod:`.energy`: always-on vs gated pipeline energy (ADC, radio, detector, server), in J.
* :func:`run_gating` (:mod:`.pipeline`): the whole threshold sweep with reports.
"""

from memtorch_power.gating.detector import (
    Detection,
    DetectionStats,
    WindowScores,
    detect,
    evaluate_detections,
    score_stream,
    sweep,
    window_starts,
)
from memtorch_power.gating.energy import (
    ADC_J_PER_SAMPLE,
    PipelineCosts,
    PipelineEnergy,
    always_on_energy,
    gated_energy,
    pipeline_costs,
)
from memtorch_power.gating.pipeline import GatingConfig, GatingResult, run_gating
from memtorch_power.gating.report import sweep_rows, write_gating_report
from memtorch_power.gating.scorer import KeywordScorer, Spotter, load_spotter, train_quick_spotter
from memtorch_power.gating.stream import PlacedClip, Stream, build_stream, build_stream_from_folder

__all__ = [
    "ADC_J_PER_SAMPLE", "Detection", "DetectionStats", "GatingConfig", "GatingResult", "KeywordScorer",
    "PipelineCosts", "PipelineEnergy", "PlacedClip", "Spotter", "Stream", "WindowScores", "always_on_energy",
    "build_stream", "build_stream_from_folder", "detect", "evaluate_detections", "gated_energy",
    "load_spotter", "pipeline_costs", "run_gating", "score_stream", "sweep", "sweep_rows",
    "train_quick_spotter", "window_starts", "write_gating_report",
]

"""``run_gating``: stream, detector, threshold sweep, energy and report in one call."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml
from tqdm.auto import tqdm

from memtorch_power.kws.data_root import default_data_root
from memtorch_power.gating.detector import combine_stats, score_stream, sweep
from memtorch_power.gating.energy import ADC_J_PER_SAMPLE, pipeline_costs
from memtorch_power.gating.report import sweep_rows, write_gating_report
from memtorch_power.gating.scorer import KeywordScorer, Spotter, load_spotter, train_quick_spotter
from memtorch_power.gating.stream import Stream, build_stream_from_folder


@dataclass
class GatingConfig:
    """A gating experiment.

    Attributes:
        checkpoint: ``KeywordSpotter`` checkpoint; None trains a quick one
            (:func:`train_quick_spotter`, ``quick_*`` settings) into ``run_dir/quick_spotter.ckpt``.
        data_root: Speech Commands folder (None: ``$MEMTORCH_POWER_SPEECH_COMMANDS``, else the
            bundled mini set).
        split: ``"training"``, ``"validation"`` or ``"testing"``: the clips and the region of the
            noise recordings the stream is built from.
        duration_s: stream length (s); hours are needed to measure false alarms per hour.
        chunk_s: a stream longer than this is built, scored and counted in chunks of this length
            (s), each with its own clips, positions and noise (seeded from ``seed`` and the chunk's
            index), so memory stays that of one chunk; the counts are added up.
        events_per_minute: keyword and distractor clips placed per minute (see :mod:`.stream`).
        min_gap_s: shortest gap between placed clips (s).
        noise_volume: gain of the background noise under the clips.
        distractor_share: share of the placed clips that are other words (false-alarm bait).
        window_s: detector window (s).
        hop_s: hop between detector windows (s).
        refractory_s: detections closer than this are merged into one (s).
        min_windows: a detection needs at least this many flagged windows (1: every flagged window
            counts; 2 drops single-window spikes).
        smooth_windows: each keyword's posterior is averaged over this many consecutive windows
            before the threshold (causal; Chen et al., ICASSP 2014; 1: no smoothing).
        thresholds: detection thresholds swept (softmax probability of a keyword, in [0, 1]).
        link: radio link, ``"ble"`` or ``"wifi"``.
        analog_profile: energy profile of the analog detector.
        edge_digital_profile: digital profile of the device's co-processor.
        server_digital_profile: digital profile of the server that re-runs detected windows.
        adc_j_per_sample: energy of digitising one audio sample (J; see :mod:`.energy`).
        gated_digitizes_all: the gated pipeline digitises every sample too (a detector fed by a
            digital front end; see :mod:`.energy`).
        quick_preset: preset of the quick spotter trained when ``checkpoint`` is None.
        quick_epochs: epochs of the quick spotter.
        accelerator: where the quick spotter trains (Lightning's names; the pulsed presets need
            ``"cpu"``).
        seed: seed of the stream.
    """

    checkpoint: str | None = None
    data_root: str | None = None
    split: str = "testing"
    duration_s: float = 600.0
    chunk_s: float = 600.0
    events_per_minute: float = 6.0
    min_gap_s: float = 2.0
    noise_volume: float = 0.1
    distractor_share: float = 0.2
    window_s: float = 1.0
    hop_s: float = 0.25
    refractory_s: float = 1.0
    min_windows: int = 1
    smooth_windows: int = 1
    thresholds: list[float] = field(default_factory=lambda: [0.1, 0.2, 0.3, 0.5, 0.7, 0.9])
    link: str = "ble"
    analog_profile: str = "hermes"
    edge_digital_profile: str = "cortex_m4"
    server_digital_profile: str = "a100_fp16"
    adc_j_per_sample: float = ADC_J_PER_SAMPLE
    gated_digitizes_all: bool = False
    quick_preset: str = "pcm_hwa"
    quick_epochs: int = 8
    accelerator: str = "cpu"
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("duration_s", "chunk_s", "window_s", "hop_s"):
            if not float(getattr(self, name)) > 0:
                raise ValueError(f"{name} must be > 0 (seconds), got {getattr(self, name)!r}")
        for name in ("min_windows", "smooth_windows"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")
        if not 0.0 <= float(self.distractor_share) <= 1.0:
            raise ValueError(f"distractor_share must be in [0, 1], got {self.distractor_share!r}")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **overrides: Any) -> "GatingConfig":
        """Read a YAML mapping (optionally under ``gating:``); ``overrides`` win."""
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        values = dict(values.get("gating", values), **overrides)
        return cls(**{k.replace("-", "_"): v for k, v in values.items()})


def chunk_lengths(duration_s: float, chunk_s: float) -> list[float]:
    """``duration_s`` cut into pieces of ``chunk_s`` seconds (the last one shorter).

    Raises:
        ValueError: a non-positive duration or chunk length.
    """
    if not duration_s > 0:
        raise ValueError(f"duration_s must be > 0, got {duration_s}")
    if not chunk_s > 0:
        raise ValueError(f"chunk_s must be > 0, got {chunk_s}")
    full, rest = divmod(float(duration_s), float(chunk_s))
    lengths = [float(chunk_s)] * int(full)
    if rest > 1e-9:
        lengths.append(rest)
    return lengths


def chunk_stream(cfg: GatingConfig, root: str | os.PathLike[str], index: int, length_s: float) -> Stream:
    """Chunk ``index`` (``length_s`` seconds, see :func:`chunk_lengths`) of ``cfg``'s stream from the
    Speech Commands folder ``root``: its own clips, positions and noise, seeded from ``cfg.seed``
    and the index."""
    return build_stream_from_folder(
        root, length_s, split=cfg.split, distractor_share=cfg.distractor_share, seed=cfg.seed + 7919 * index,
        events_per_minute=cfg.events_per_minute, min_gap_s=cfg.min_gap_s, noise_volume=cfg.noise_volume,
    )


@dataclass
class GatingResult:
    """Rows of the sweep, the run's metadata and the report files."""

    rows: list[dict[str, Any]]
    meta: dict[str, Any]
    paths: dict[str, Path]


def run_gating(cfg: GatingConfig, run_dir: str | os.PathLike[str], spotter: Spotter | None = None,
               progress: bool = True) -> GatingResult:
    """Score a stream with the spotter, sweep thresholds, price both pipelines, write reports."""
    root = cfg.data_root or default_data_root()
    if spotter is None:
        checkpoint = cfg.checkpoint or train_quick_spotter(
            root, Path(run_dir) / "quick_spotter.ckpt", preset=cfg.quick_preset, epochs=cfg.quick_epochs, seed=cfg.seed,
            accelerator=cfg.accelerator)
        spotter = load_spotter(checkpoint)
    scorer = KeywordScorer(spotter)
    chunks = chunk_lengths(cfg.duration_s, cfg.chunk_s)
    parts, keywords, distractors = [], 0, 0
    for index, length in enumerate(tqdm(chunks, desc="stream chunks", disable=not progress or len(chunks) == 1)):
        stream = chunk_stream(cfg, root, index, length)
        scores = score_stream(stream, scorer.posteriors, cfg.window_s, cfg.hop_s,
                              progress=progress and len(chunks) == 1, smooth_windows=cfg.smooth_windows)
        parts.append(sweep(scores, stream.events, stream.duration_s, sorted(cfg.thresholds), cfg.refractory_s,
                           cfg.min_windows))
        keywords += len(stream.keyword_events)
        distractors += len(stream.events) - len(stream.keyword_events)
    stats = combine_stats(parts)
    costs = pipeline_costs(spotter.network, spotter.input_shape, cfg.link, cfg.analog_profile,
                           cfg.edge_digital_profile, cfg.server_digital_profile,
                           adc_j_per_sample=cfg.adc_j_per_sample, gated_digitizes_all=cfg.gated_digitizes_all)
    rows = sweep_rows(stats, costs)
    meta = {
        "config": asdict(cfg), "preset": spotter.preset, "duration_s": stats[0].duration_s, "chunks": len(chunks),
        "keywords": keywords, "distractors": distractors,
        "window_s": cfg.window_s, "hop_s": cfg.hop_s, "refractory_s": cfg.refractory_s,
        "min_windows": cfg.min_windows, "smooth_windows": cfg.smooth_windows,
        "adc_j_per_sample": costs.adc_j_per_sample, "link": costs.link.name,
        "tx_j_per_bit": costs.link.tx_j_per_bit, "detector_j_per_window": costs.detector_j_per_window,
        "server_j_per_window": costs.server_j_per_window, "windows": stats[0].windows,
    }
    return GatingResult(rows, meta, write_gating_report(run_dir, rows, meta))


__all__ = ["GatingConfig", "GatingResult", "chunk_lengths", "chunk_stream", "run_gating"]

"""The measured and estimated parts the system report combines.

* :class:`UnitCosts`: energy per detector window, per training clip and per re-programming, and
  the model's size, from the energy estimator on the keyword-spotting network (the same counting
  and profiles as every other report), plus the radio's and the ADC's unit costs.
* :class:`DetectorQuality` and :class:`TrainingQuality`: what a measured gating run and measured
  federated runs achieved (hit rate, false alarms per hour, test accuracy), read from their JSON
  reports. A part that was not measured stays ``None`` and is reported as "not measured".
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memtorch_power.system.scenario import SystemConfig


@dataclass(frozen=True)
class UnitCosts:
    """Unit energies of the pipeline's parts (J) and the model's size.

    Attributes:
        window_j: detector energy per window (J) by where it runs: ``"analog"`` (PCM arrays,
            the inference preset), ``"edge_digital"`` (the device's processor) and
            ``"cloud_digital"`` (the cloud accelerator).
        training_clip_j: training energy per clip and epoch (J): ``"analog"`` (the training preset on
            PCM), ``"edge_digital"``, ``"cloud_digital"``.
        reprogramming_j: writing every analog weight of the detector once (J).
        model_bytes: bytes of one model transfer (float32 parameters).
        tx_j_per_bit: radio energy per sent bit (J).
        rx_j_per_bit: radio energy per received bit (J).
    """

    window_j: dict[str, float]
    training_clip_j: dict[str, float]
    reprogramming_j: float
    model_bytes: int
    tx_j_per_bit: float
    rx_j_per_bit: float


def unit_costs(config: SystemConfig) -> UnitCosts:
    """Price the scenario's network with the energy estimator (one window, one training batch)."""
    import torch

    from memtorch_power.federated.costs import batch_training_energy_j, inference_energy_j, reprogramming_energy_j
    from memtorch_power.federated.radio import get_link
    from memtorch_power.kws.models import build_model
    from memtorch_power.nn import analogize

    def network() -> torch.nn.Module:
        return build_model(config.model, num_classes=config.num_classes, n_features=config.n_features)

    shape = (1, config.n_features, config.n_frames)
    analog_detector = analogize(network(), config.inference_preset, skip_grouped=True)
    analog_trainer = analogize(network(), config.training_preset, skip_grouped=True)
    digital = network()
    batch = 32
    window_j = {
        "analog": inference_energy_j(analog_detector, shape, config.analog_profile, config.edge_digital_profile),
        "edge_digital": inference_energy_j(digital, shape, config.analog_profile, config.edge_digital_profile,
                                           side="digital"),
        "cloud_digital": inference_energy_j(digital, shape, config.analog_profile, config.cloud_digital_profile,
                                            side="digital"),
    }
    training_clip_j = {
        "analog": batch_training_energy_j(analog_trainer, shape, batch, config.analog_profile,
                                          config.edge_digital_profile) / batch,
        "edge_digital": batch_training_energy_j(digital, shape, batch, config.analog_profile,
                                                config.edge_digital_profile, side="digital") / batch,
        "cloud_digital": batch_training_energy_j(digital, shape, batch, config.analog_profile,
                                                 config.cloud_digital_profile, side="digital") / batch,
    }
    link = get_link(config.link)
    parameters = sum(p.numel() for p in digital.parameters())
    return UnitCosts(window_j=window_j, training_clip_j=training_clip_j,
                     reprogramming_j=reprogramming_energy_j(analog_detector, config.analog_profile),
                     model_bytes=4 * parameters, tx_j_per_bit=link.tx_j_per_bit, rx_j_per_bit=link.rx_j_per_bit)


@dataclass(frozen=True)
class DetectorQuality:
    """A measured gating run's operating point.

    False alarms are measured where they come from: spoken words that are not the keyword (the
    stream's placed distractors; every false alarm of the 40-log-mel detector on the bundled test
    streams was one) and noise alone. A stream holds far fewer words an hour than speech does, so
    false alarms per hour of *speech* come from the false accepts per spoken word, not from the
    stream's false alarms per hour.

    Attributes:
        hit_rate: share of the stream's keywords detected.
        false_accept_rate: share of the placed other words that set off a false alarm.
        false_accept_interval: its 95 % Wilson interval over the placed other words.
        noise_false_alarms_per_hour: false alarms that overlap no placed word, per hour of stream.
        threshold: the detection threshold of the operating point.
        keywords: keywords placed in the stream (the hit rate's denominator).
        distractors: other words placed in the stream (the false-accept rate's denominator).
        stream_hours: length of the measured stream (h).
        preset: the detector's preset.
        source: the report it was read from.
    """

    hit_rate: float
    false_accept_rate: float
    false_accept_interval: tuple[float, float]
    noise_false_alarms_per_hour: float
    threshold: float
    keywords: int
    distractors: int
    stream_hours: float
    preset: str
    source: str

    def false_alarms_per_speech_hour(self, words_per_minute: float, false_accept_rate: float | None = None) -> float:
        """False alarms in an hour of speech at ``words_per_minute`` (every word a non-keyword),
        plus the noise-alone rate; ``false_accept_rate`` overrides the measured one (e.g. an end
        of its interval)."""
        rate = self.false_accept_rate if false_accept_rate is None else false_accept_rate
        return rate * words_per_minute * 60.0 + self.noise_false_alarms_per_hour


def read_detector_quality(path: str, threshold: float | None, max_false_alarms_per_hour: float,
                          words_per_minute: float) -> DetectorQuality:
    """The operating point of a ``gating.json``: the row at ``threshold``, or the one with the most
    hits among those with at most ``max_false_alarms_per_hour`` false alarms per hour of speech at
    ``words_per_minute`` (see :class:`DetectorQuality`; the highest threshold if none).

    Raises:
        FileNotFoundError, ValueError: no such file, not a gating report, or one without the
            false-accept counts (written before they were measured: re-run the gating command).
    """
    report = _read_json(path, "gating report")
    if "sweep" not in report or "meta" not in report:
        raise ValueError(f"{path} is not a gating report (no 'sweep'/'meta')")
    rows = sorted(report["sweep"], key=lambda r: r["threshold"])
    if not rows:
        raise ValueError(f"{path}: the gating report's sweep is empty")
    missing = sorted({"distractors", "distractors_triggered", "false_alarms_on_noise"} - set(rows[0]))
    if missing:
        raise ValueError(f"{path}: the sweep has no {', '.join(missing)}: it predates false accepts per spoken word; "
                         "re-run `memtorch-power gating` (or benchmarks/gating_streams.py)")
    return operating_point(detector_qualities(rows, report["meta"], str(path)), threshold, max_false_alarms_per_hour,
                           words_per_minute)


def detector_qualities(rows: list[dict[str, Any]], meta: dict[str, Any], source: str) -> list[DetectorQuality]:
    """Every row of a gating sweep (``DetectionStats.as_dict`` rows; ``meta``: the report's, with
    ``duration_s``) as a :class:`DetectorQuality`, by threshold."""
    hours = float(meta["duration_s"]) / 3600.0
    return [_quality(row, meta, hours, source) for row in sorted(rows, key=lambda r: r["threshold"])]


def operating_point(qualities: list[DetectorQuality], threshold: float | None, max_false_alarms_per_hour: float,
                    words_per_minute: float) -> DetectorQuality:
    """The quality at ``threshold``, or the one with the most hits among those with at most
    ``max_false_alarms_per_hour`` false alarms per hour of speech at ``words_per_minute`` (ties:
    the higher threshold; the highest threshold if none qualifies). ``qualities``: by threshold.

    Raises:
        ValueError: no quality at ``threshold``.
    """
    if threshold is not None:
        matching = [q for q in qualities if math.isclose(q.threshold, threshold)]
        if not matching:
            raise ValueError(f"{qualities[0].source}: no row at threshold {threshold}; swept: "
                             f"{[q.threshold for q in qualities]}")
        return matching[0]
    allowed = [q for q in qualities if q.false_alarms_per_speech_hour(words_per_minute) <= max_false_alarms_per_hour]
    return max(allowed, key=lambda q: (q.hit_rate, q.threshold)) if allowed else qualities[-1]


def _quality(row: dict[str, Any], meta: dict[str, Any], hours: float, source: str) -> DetectorQuality:
    distractors = int(row["distractors"])
    rate = row["distractors_triggered"] / distractors if distractors else 0.0
    interval = tuple(row["false_accept_rate_interval"]) if distractors else (0.0, 1.0)
    return DetectorQuality(hit_rate=float(row["hit_rate"]), false_accept_rate=float(rate),
                           false_accept_interval=(float(interval[0]), float(interval[1])),
                           noise_false_alarms_per_hour=float(row["false_alarms_on_noise"]) / hours,
                           threshold=float(row["threshold"]), keywords=int(row.get("keywords", meta.get("keywords", 0))),
                           distractors=distractors, stream_hours=hours, preset=str(meta.get("preset")), source=source)


@dataclass(frozen=True)
class TrainingQuality:
    """Test accuracy of the keyword model trained federated and centralised (measured).

    Attributes:
        federated_acc: final test accuracy of the federated model (fraction).
        centralised_acc: test accuracy of centralised training on the same clips (None: not run).
        preset: the nodes' preset.
        source: the report it was read from.
    """

    federated_acc: float
    centralised_acc: float | None
    preset: str
    source: str


def read_training_quality(path: str) -> TrainingQuality:
    """The final accuracies of a ``federated.json``."""
    report = _read_json(path, "federated report")
    if "federated" not in report or "config" not in report:
        raise ValueError(f"{path} is not a federated report (no 'federated'/'config')")
    central = report.get("centralised") or {}
    central_acc = (central.get("totals") or {}).get("final_test_acc")
    return TrainingQuality(federated_acc=float(report["federated"]["totals"]["final_test_acc"]),
                           centralised_acc=None if central_acc is None else float(central_acc),
                           preset=str(report["config"]["preset"]), source=str(path))


def _read_json(path: str, what: str) -> dict[str, Any]:
    file = Path(path)
    if not file.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not JSON: {err}") from None

"""Energy of one device-day for each combination of the three remedies, and what each buys.

The remedies:

* **analog** (``A``): the keyword network runs on PCM crossbars wherever it runs (the detector on
  the device or in the cloud; training on the nodes or in the cloud, with the training preset).
* **gating** (``G``): a detector on the device decides which audio is digitised and sent; without
  it every sample is digitised and streamed and the cloud runs the detector on every window. A
  digital detector needs every sample digitised (it reads digital audio); an analog one reads the
  analog front end, so only the flagged audio is digitised.
* **federated** (``F``): devices train the model on their own clips and send model updates;
  without it the cloud trains on uploaded clips (already uploaded when everything is streamed,
  uploaded on purpose when the device gates).

Stages of a device-day (J): ``adc`` (digitising), ``detector`` (on the device), ``radio`` (sent and
received bits), ``cloud_inference``, ``training`` (on the device or in the cloud) and
``reprogramming`` (writing a new model into the device's PCM arrays). Everything here is
arithmetic on :class:`memtorch_power.system.parts.UnitCosts` and the scenario; the quality of each
configuration comes from the measured runs.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

from memtorch_power.system.parts import DetectorQuality, TrainingQuality, UnitCosts
from memtorch_power.system.scenario import SystemConfig

STAGES: tuple[str, ...] = ("adc", "detector", "radio", "cloud_inference", "training", "reprogramming")
REMEDIES: tuple[str, ...] = ("analog", "gating", "federated")
DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Remedies:
    """Which remedies a configuration uses."""

    analog: bool = False
    gating: bool = False
    federated: bool = False

    @property
    def label(self) -> str:
        used = [name for name in REMEDIES if getattr(self, name)]
        return " + ".join(used) if used else "all-digital baseline"

    @property
    def count(self) -> int:
        return sum(getattr(self, name) for name in REMEDIES)


def all_configurations() -> list[Remedies]:
    """The 8 combinations, baseline first, then each remedy alone, each pair, all three."""
    combos = [Remedies(*flags) for flags in itertools.product((False, True), repeat=3)]
    return sorted(combos, key=lambda r: (r.count, [not getattr(r, n) for n in REMEDIES]))


def detections_per_day(config: SystemConfig, quality: DetectorQuality | None) -> tuple[float, float]:
    """``(hits, false alarms)`` per device-day: wake events times the hit rate; the detector's
    false accepts per spoken word times the words spoken a day, plus its noise-alone false alarms
    per hour times the listening hours (a detector that was not measured counts every event and
    no false alarm)."""
    if quality is None:
        return config.wake_events_per_day, 0.0
    words = config.speech_hours_per_day * 60.0 * config.words_per_minute
    false_alarms = quality.false_accept_rate * words + quality.noise_false_alarms_per_hour * config.listening_hours_per_day
    return config.wake_events_per_day * quality.hit_rate, false_alarms


def device_day(config: SystemConfig, costs: UnitCosts, remedies: Remedies,
               quality: DetectorQuality | None = None, analog_detector: bool | None = None) -> dict[str, float]:
    """Energy (J) of one device-day by stage for ``remedies``; ``quality`` is the detector's
    measured operating point (how many detections it sends). ``analog_detector`` overrides
    whether the device's detector is on PCM (None: as ``remedies.analog``)."""
    listening_s = config.listening_hours_per_day * 3600.0
    bits_per_s = config.sample_rate_hz * config.bits_per_sample
    windows = listening_s / config.hop_s
    model_kind = "analog" if remedies.analog else None
    rounds_per_day = config.federated_rounds_per_month / DAYS_PER_MONTH
    clips = config.training_clips_per_day * config.local_epochs
    energy = dict.fromkeys(STAGES, 0.0)
    if remedies.gating:
        on_pcm = remedies.analog if analog_detector is None else analog_detector
        hits, false_alarms = detections_per_day(config, quality)
        sent_s = (hits + false_alarms) * config.command_seconds
        digitised_s = sent_s if on_pcm else listening_s
        energy["detector"] = windows * costs.window_j["analog" if on_pcm else "edge_digital"]
        energy["cloud_inference"] = sent_s / config.hop_s * costs.window_j[model_kind or "cloud_digital"]
        uploaded_bits = sent_s * bits_per_s
        if not remedies.federated:  # the cloud trains on clips the device uploads for it
            uploaded_bits += config.training_clips_per_day * 1.0 * bits_per_s
        model_bits = 8.0 * costs.model_bytes * rounds_per_day  # the device receives each new model
        energy["radio"] = uploaded_bits * costs.tx_j_per_bit + model_bits * costs.rx_j_per_bit
        if on_pcm:
            energy["reprogramming"] = rounds_per_day * costs.reprogramming_j
    else:  # stream everything; the cloud detects
        digitised_s = listening_s
        energy["cloud_inference"] = windows * costs.window_j[model_kind or "cloud_digital"]
        energy["radio"] = listening_s * bits_per_s * costs.tx_j_per_bit
    energy["adc"] = digitised_s * config.sample_rate_hz * config.adc_j_per_sample
    if remedies.federated:
        energy["training"] = clips * costs.training_clip_j[model_kind or "edge_digital"]
        update_bits = 8.0 * costs.model_bytes * rounds_per_day
        energy["radio"] += update_bits * costs.tx_j_per_bit  # the device sends its update
        if not remedies.gating:  # and receives the global model (a gating device already does)
            energy["radio"] += update_bits * costs.rx_j_per_bit
            if remedies.analog:
                energy["reprogramming"] = rounds_per_day * costs.reprogramming_j
    else:
        energy["training"] = clips * costs.training_clip_j[model_kind or "cloud_digital"]
    return energy


def raw_audio_bytes_per_day(config: SystemConfig, remedies: Remedies, quality: DetectorQuality | None = None) -> float:
    """Bytes of raw audio that leave the device a day (what privacy is about)."""
    bytes_per_s = config.sample_rate_hz * config.bits_per_sample / 8.0
    if not remedies.gating:
        return config.listening_hours_per_day * 3600.0 * bytes_per_s
    hits, false_alarms = detections_per_day(config, quality)
    sent = (hits + false_alarms) * config.command_seconds * bytes_per_s
    return sent + (0.0 if remedies.federated else config.training_clips_per_day * bytes_per_s)


def ablation(config: SystemConfig, costs: UnitCosts, detectors: dict[str, DetectorQuality | None] | None = None,
             training: dict[str, TrainingQuality | None] | None = None) -> list[dict[str, Any]]:
    """One row per configuration: J per device-day by stage and in total, J per fleet-year, the
    saving factor against the baseline, and the measured quality of that configuration.

    Args:
        detectors: measured detector operating points by kind (``"analog"``, ``"digital"``).
        training: measured training quality by kind of node (``"analog"``, ``"digital"``).
    """
    detectors, training = detectors or {}, training or {}
    rows: list[dict[str, Any]] = []
    for remedies in all_configurations():
        kind = "analog" if remedies.analog else "digital"
        quality = detectors.get(kind)
        energy = device_day(config, costs, remedies, quality)
        total = math.fsum(energy.values())
        trained = training.get(kind)
        accuracy = None
        if trained is not None:
            accuracy = trained.federated_acc if remedies.federated else trained.centralised_acc
        hits, false_alarms = detections_per_day(config, quality)
        rows.append({
            "configuration": remedies.label, **{name: getattr(remedies, name) for name in REMEDIES},
            **{f"{stage}_j": value for stage, value in energy.items()},
            "device_day_j": total,
            "fleet_year_j": total * config.fleet_devices * DAYS_PER_YEAR,
            "raw_audio_bytes_per_day": raw_audio_bytes_per_day(config, remedies, quality),
            "hit_rate": quality.hit_rate if quality else None,
            "false_accept_rate": quality.false_accept_rate if quality else None,
            "false_alarms_per_speech_hour": quality.false_alarms_per_speech_hour(config.words_per_minute) if quality else None,
            "false_alarms_per_day": false_alarms if quality else None,
            "kws_accuracy": accuracy,
        })
    baseline = rows[0]["device_day_j"]
    for row in rows:
        row["factor"] = baseline / row["device_day_j"] if row["device_day_j"] > 0 else math.inf
    return rows


def combination(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each remedy's factor alone, the product of the three, the measured combined factor, and
    whether the combination is more than the product (``synergy`` > 1), with the stage that
    dominates the combined configuration's energy."""
    by_label = {row["configuration"]: row for row in rows}
    alone = {name: by_label[name]["factor"] for name in REMEDIES}
    together = by_label[" + ".join(REMEDIES)]
    product = math.prod(alone.values())
    shares = {stage: together[f"{stage}_j"] / together["device_day_j"] for stage in STAGES}
    dominant = max(shares, key=shares.get)
    return {"alone": alone, "product": product, "combined": together["factor"],
            "synergy": together["factor"] / product, "dominant_stage": dominant, "dominant_share": shares[dominant]}

"""``SystemConfig``: the fleet scenario of the system report, every assumption with its unit and source.

The report prices a fleet of always-listening devices that spot a wake word and train the keyword
model over time (the essay's voice-assistant example). Numbers that describe the *scenario* (how
much people speak, how often they wake the device, how often the model is retrained) are
assumptions and live here, each with its unit and where it comes from; numbers that describe the
*hardware and models* come from the energy estimator (:mod:`memtorch_power.energy`), the radio
and ADC models of :mod:`memtorch_power.federated.radio` and :mod:`memtorch_power.gating.energy`,
and the measured runs named in ``gating_results``/``federated_results``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from memtorch_power.gating.energy import ADC_J_PER_SAMPLE, BITS_PER_SAMPLE, SAMPLE_RATE_HZ

#: Where each default assumption comes from (shown in the report beside its value).
SOURCES: dict[str, str] = {
    "fleet_devices": "ASSUMPTION: a fleet of one million devices (scale only; per-device figures do not depend on it)",
    "listening_hours_per_day": "definition of an always-listening device: the microphone is on 24 h a day",
    "speech_hours_per_day": "ASSUMPTION: 4 h of speech within earshot a day; the device owner alone speaks about "
                            "16,000 words a day (Mehl et al., Science 317, 82, 2007), about 1.8 h at 150 words/min",
    "words_per_minute": "ASSUMPTION: 150 words/min of speech, the rate that turns Mehl et al.'s 16,000 words a day "
                        "into 1.8 h (above); false alarms per hour of speech = the detector's measured false "
                        "accepts per spoken non-keyword x words per hour",
    "wake_events_per_day": "ASSUMPTION: 10 wake-word commands per device a day (no public per-device figure found)",
    "command_seconds": "ASSUMPTION: 4 s of audio sent per detection (the wake word and a short command)",
    "training_clips_per_day": "ASSUMPTION: 20 labelled 1-s clips per device a day feed training (its own commands "
                              "and background)",
    "federated_rounds_per_month": "ASSUMPTION: the keyword model is retrained 4 times a month",
    "local_epochs": "epochs over a device's clips per training round (as FederatedConfig.local_epochs)",
    "link": "radio of the device: memtorch_power.federated.radio (nRF52840 BLE or ESP32 Wi-Fi datasheets)",
    "adc_j_per_sample": "memtorch_power.gating.energy.ADC_J_PER_SAMPLE: Walden FOM 2.2 fJ/step (Harpe et al., "
                        "ISSCC 2013) x 2^12",
    "sample_rate_hz": "Speech Commands audio, 16 kHz (Warden 2018)",
    "bits_per_sample": "Speech Commands audio, 16-bit PCM (Warden 2018)",
    "window_s": "detector window, as the gating recipe (1 s clips of Speech Commands)",
    "hop_s": "detector hop, as the gating recipe",
    "analog_profile": "energy profile of the PCM arrays (memtorch-power profiles)",
    "edge_digital_profile": "digital profile of the device's processor (memtorch-power profiles)",
    "cloud_digital_profile": "digital profile of the cloud accelerator (memtorch-power profiles)",
    "inference_preset": "PCM preset of the analog detector (hardware-aware trained, programmed)",
    "training_preset": "PCM preset of training on PCM (its pulses and transfers are priced)",
}


@dataclass
class SystemConfig:
    """A fleet of always-listening keyword-spotting devices and the measured runs that describe it.

    Attributes:
        fleet_devices: devices in the fleet (for the per-fleet-year figures).
        listening_hours_per_day: hours a day the microphone listens (h).
        speech_hours_per_day: hours a day of speech within earshot (h); false alarms are counted
            per spoken word (``words_per_minute``) in those hours, plus the detector's noise-alone rate
            over every listening hour.
        words_per_minute: words spoken per minute of speech (every one a chance of a false alarm).
        wake_events_per_day: wake-word commands a device hears a day.
        command_seconds: audio digitised and sent per detection (s).
        training_clips_per_day: labelled 1-s clips per device a day used for training.
        federated_rounds_per_month: model updates (training rounds) a month.
        local_epochs: epochs over the day's clips per round.
        link: radio of the device, ``"ble"`` or ``"wifi"``.
        adc_j_per_sample: energy of digitising one audio sample (J).
        sample_rate_hz: audio samples per second (Hz).
        bits_per_sample: bits per audio sample sent over the radio.
        window_s: detector window (s).
        hop_s: hop between detector windows (s).
        model: keyword-spotting architecture priced (``"dscnn"``, ``"res8"``, ``"bcresnet"``).
        n_features: feature bins per frame of the model's input.
        n_frames: feature frames per window.
        num_classes: output classes.
        analog_profile: energy profile of the PCM arrays.
        edge_digital_profile: digital profile of the device's processor.
        cloud_digital_profile: digital profile of the cloud accelerator.
        inference_preset: PCM preset of the analog detector.
        training_preset: PCM preset of training on PCM.
        threshold: detection threshold read from the gating results (None: the one with the most
            hits at no more than ``max_false_alarms_per_hour``).
        max_false_alarms_per_hour: the operating point's false-alarm budget when ``threshold`` is
            None, per hour of speech (``words_per_minute`` words, see
            :class:`memtorch_power.system.parts.DetectorQuality`).
        gating_results: measured ``gating.json`` per detector kind: ``{"analog": path, "digital":
            path}`` (either may be missing: its quality columns then say "not measured").
        federated_results: measured ``federated.json`` files (each names its preset); the trained
            model's accuracy is read from them (federated and centralised).
        output_dir: report folder.
    """

    fleet_devices: int = 1_000_000
    listening_hours_per_day: float = 24.0
    speech_hours_per_day: float = 4.0
    words_per_minute: float = 150.0
    wake_events_per_day: float = 10.0
    command_seconds: float = 4.0
    training_clips_per_day: float = 20.0
    federated_rounds_per_month: float = 4.0
    local_epochs: int = 1
    link: str = "ble"
    adc_j_per_sample: float = ADC_J_PER_SAMPLE
    sample_rate_hz: int = SAMPLE_RATE_HZ
    bits_per_sample: int = BITS_PER_SAMPLE
    window_s: float = 1.0
    hop_s: float = 0.25
    model: str = "dscnn"
    n_features: int = 40
    n_frames: int = 98
    num_classes: int = 12
    analog_profile: str = "hermes"
    edge_digital_profile: str = "cortex_m4"
    cloud_digital_profile: str = "a100_fp16"
    inference_preset: str = "pcm_hwa"
    training_preset: str = "pcm_mixed_precision"
    threshold: float | None = None
    max_false_alarms_per_hour: float = 1.0
    gating_results: dict[str, str] = field(default_factory=dict)
    federated_results: list[str] = field(default_factory=list)
    output_dir: str = "runs/system"

    def __post_init__(self) -> None:
        positive = ("fleet_devices", "listening_hours_per_day", "words_per_minute", "command_seconds", "local_epochs",
                    "adc_j_per_sample", "sample_rate_hz", "bits_per_sample", "window_s", "hop_s",
                    "n_features", "n_frames", "num_classes")
        for name in positive:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("speech_hours_per_day", "wake_events_per_day", "training_clips_per_day",
                     "federated_rounds_per_month", "max_false_alarms_per_hour"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        for name in ("listening_hours_per_day", "speech_hours_per_day"):
            if getattr(self, name) > 24:
                raise ValueError(f"{name} is hours per day, at most 24, got {getattr(self, name)!r}")
        if self.speech_hours_per_day > self.listening_hours_per_day:
            raise ValueError("speech_hours_per_day cannot exceed listening_hours_per_day "
                             f"({self.speech_hours_per_day} > {self.listening_hours_per_day})")
        if self.threshold is not None and not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be in [0, 1], got {self.threshold!r}")
        unknown = sorted(set(self.gating_results) - {"analog", "digital"})
        if unknown:
            raise ValueError(f"gating_results: keys must be 'analog' and/or 'digital', got {unknown}")

    def assumptions(self) -> list[dict[str, Any]]:
        """``[{"name", "value", "source"}]`` for every scenario field that has a source."""
        return [{"name": f.name, "value": getattr(self, f.name), "source": SOURCES[f.name]}
                for f in fields(self) if f.name in SOURCES]

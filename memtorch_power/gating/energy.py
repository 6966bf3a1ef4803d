"""Energy of an audio pipeline from microphone to cloud: always-on against wake-word gated.

* **always-on**: every sample is digitised (ADC J/sample), every bit is sent over the radio
  (J/bit), and the server runs the keyword model on every window.
* **gated**: the analog detector runs on every window (its J/inference from the estimator
  times windows per second); only the audio under flagged windows is digitised and sent,
  and the server runs the model on the flagged windows only.

Not modelled (both pipelines): microphone and analog front end, the detector's feature
extraction, radio idle/connection overhead, the cloud's networking. With
``gated_digitizes_all=True`` the gated pipeline also digitises every sample (a detector
fed by a digital front end).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from torch import nn

from memtorch_power.federated.costs import inference_energy_j
from memtorch_power.federated.radio import RadioLink, get_link

# ==== ADC: Walden figure of merit E = FOM x 2^ENOB per conversion. FOM: 2.2 fJ/conversion-step,
# Harpe, Cantatore & van Roermund, ISSCC 2013 (10/12-bit SAR ADC; the best Walden FOM listed
# in B. Jonsson's ADC survey, "ADC Survey: Spring 2013 update on FOM", converterpassion blog).
ADC_WALDEN_FOM_J = 2.2e-15
ADC_ENOB = 12.0  # ASSUMPTION: 12 effective bits for speech (the survey design's 12-bit mode)
ADC_J_PER_SAMPLE = ADC_WALDEN_FOM_J * 2.0**ADC_ENOB  # = 9.0 pJ per sample
SAMPLE_RATE_HZ = 16000  # Speech Commands audio: 16 kHz (Warden 2018)
BITS_PER_SAMPLE = 16  # Speech Commands audio: 16-bit PCM (Warden 2018)


@dataclass(frozen=True)
class PipelineCosts:
    """Unit costs of the pipeline.

    Attributes:
        adc_j_per_sample: J per digitised sample; bits_per_sample; sample_rate (Hz).
        link: radio of the node (J/bit).
        detector_j_per_window: on-node detector energy per window (J).
        server_j_per_window: cloud model energy per window (J).
        gated_digitizes_all: the gated pipeline digitises every sample too.
    """

    adc_j_per_sample: float
    bits_per_sample: int
    sample_rate: int
    link: RadioLink
    detector_j_per_window: float
    server_j_per_window: float
    gated_digitizes_all: bool = False


@dataclass(frozen=True)
class PipelineEnergy:
    """Energy (J) of a pipeline over a stretch of audio, by part."""

    adc_j: float
    radio_j: float
    detector_j: float
    server_j: float

    @property
    def total_j(self) -> float:
        return self.adc_j + self.radio_j + self.detector_j + self.server_j

    def per_hour(self, duration_s: float) -> "PipelineEnergy":
        """The same energies scaled to one hour of audio (J/h)."""
        scale = 3600.0 / duration_s
        return PipelineEnergy(self.adc_j * scale, self.radio_j * scale, self.detector_j * scale, self.server_j * scale)

    def as_dict(self) -> dict[str, float]:
        return dict(asdict(self), total_j=self.total_j)


def always_on_energy(costs: PipelineCosts, duration_s: float, windows: int) -> PipelineEnergy:
    """Digitise and send all ``duration_s`` seconds; the server scores all ``windows``."""
    samples = duration_s * costs.sample_rate
    return PipelineEnergy(
        adc_j=samples * costs.adc_j_per_sample,
        radio_j=costs.link.tx_energy_j(samples * costs.bits_per_sample / 8.0),
        detector_j=0.0,
        server_j=windows * costs.server_j_per_window,
    )


def gated_energy(costs: PipelineCosts, duration_s: float, windows: int, flagged_windows: int,
                 transmitted_s: float) -> PipelineEnergy:
    """Detector on all ``windows``; ADC and radio for ``transmitted_s`` seconds; server on
    ``flagged_windows``."""
    sent_samples = transmitted_s * costs.sample_rate
    adc_samples = duration_s * costs.sample_rate if costs.gated_digitizes_all else sent_samples
    return PipelineEnergy(
        adc_j=adc_samples * costs.adc_j_per_sample,
        radio_j=costs.link.tx_energy_j(sent_samples * costs.bits_per_sample / 8.0),
        detector_j=windows * costs.detector_j_per_window,
        server_j=flagged_windows * costs.server_j_per_window,
    )


def pipeline_costs(
    network: nn.Module,
    input_shape: tuple[int, ...],
    link: str | RadioLink = "ble",
    analog_profile: str = "hermes",
    edge_digital_profile: str = "cortex_m4",
    server_digital_profile: str = "a100_fp16",
    server_batch: int = 64,
    adc_j_per_sample: float = ADC_J_PER_SAMPLE,
    gated_digitizes_all: bool = False,
) -> PipelineCosts:
    """Unit costs for ``network``: detector J/window from the estimator on the node (analog
    system for an analog network, ``edge_digital_profile`` for a digital one); server
    J/window on ``server_digital_profile`` for batches of ``server_batch`` windows."""
    return PipelineCosts(
        adc_j_per_sample=adc_j_per_sample,
        bits_per_sample=BITS_PER_SAMPLE,
        sample_rate=SAMPLE_RATE_HZ,
        link=get_link(link),
        detector_j_per_window=inference_energy_j(network, input_shape, analog_profile, edge_digital_profile),
        server_j_per_window=inference_energy_j(network, input_shape, analog_profile, server_digital_profile,
                                               side="digital", batch_size=server_batch),
        gated_digitizes_all=gated_digitizes_all,
    )


__all__ = [
    "ADC_ENOB", "ADC_J_PER_SAMPLE", "ADC_WALDEN_FOM_J", "BITS_PER_SAMPLE", "PipelineCosts", "PipelineEnergy",
    "SAMPLE_RATE_HZ", "always_on_energy", "gated_energy", "pipeline_costs",
]

"""Energy of node work from the estimator, and radio energy per bit from its constants."""

from __future__ import annotations

import pytest
import torch

from memtorch_power.energy import estimate, programming_energy
from memtorch_power.federated import radio
from memtorch_power.federated.config import FederatedConfig
from memtorch_power.federated.costs import (
    batch_training_energy_j,
    inference_energy_j,
    reprogramming_energy_j,
    training_energy_j,
)
from memtorch_power.federated.weights import build_node_model

SHAPE = (1, 10, 98)


def _model(preset: str) -> torch.nn.Module:
    return build_node_model(FederatedConfig(preset=preset, n_features=10, model_kwargs={"channels": 8, "blocks": 1}))


def test_training_energy_is_one_batch_estimate_times_batches() -> None:
    model = _model("pcm_hwa")
    one = estimate(model, torch.zeros(16, *SHAPE), analog="hermes", digital="cortex_m4", training=True).analog_j()
    last = estimate(model, torch.zeros(5, *SHAPE), analog="hermes", digital="cortex_m4", training=True).analog_j()
    assert batch_training_energy_j(model, SHAPE, 16) == pytest.approx(one)
    assert training_energy_j(model, SHAPE, [16, 16, 16, 5]) == pytest.approx(3 * one + last)
    assert training_energy_j(model, SHAPE, []) == 0.0


def test_digital_models_are_priced_on_the_digital_profile() -> None:
    digital = _model("digital")
    assert reprogramming_energy_j(digital) == 0.0
    edge = batch_training_energy_j(digital, SHAPE, 8, digital_profile="cortex_m4")
    cloud = batch_training_energy_j(digital, SHAPE, 8, digital_profile="a100_fp16")
    assert edge > 0 and cloud > 0 and edge != cloud
    analog = _model("pcm_hwa")
    assert reprogramming_energy_j(analog) == pytest.approx(programming_energy(analog, "hermes")) and reprogramming_energy_j(analog) > 0
    assert inference_energy_j(analog, SHAPE) < inference_energy_j(analog, SHAPE, side="digital")


def test_radio_energy_per_bit_follows_from_the_datasheet_constants() -> None:
    assert radio.BLE.tx_j_per_bit == pytest.approx(3.0 * 4.8e-3 / 1e6)  # 14.4 nJ/bit
    assert radio.WIFI.rx_j_per_bit == pytest.approx(3.3 * 0.100 / 65e6)
    assert radio.BLE.tx_energy_j(1000) == pytest.approx(8000 * radio.BLE.tx_j_per_bit)
    assert radio.get_link("wifi") is radio.WIFI
    with pytest.raises(ValueError, match="known"):
        radio.get_link("carrier_pigeon")

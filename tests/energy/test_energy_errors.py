"""Bad input gives a ValueError that names the problem."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from memtorch_power.energy import (
    AnalogProfile,
    estimate,
    get_analog_profile,
    programming_energy,
    register_profile,
    unregister_profile,
)
from memtorch_power.nn import AnalogLinear, analogize


def test_unknown_profile_names() -> None:
    layer = AnalogLinear(4, 2)
    x = torch.randn(1, 4)
    with pytest.raises(ValueError, match="unknown analog profile 'hermez'.*hermes"):
        estimate(layer, x, analog="hermez")
    with pytest.raises(ValueError, match="unknown digital profile 'a100'.*a100_fp16"):
        estimate(layer, x, digital="a100")
    with pytest.raises(ValueError, match="'a100_fp16' is not an analog profile"):
        estimate(layer, x, analog="a100_fp16")
    with pytest.raises(ValueError, match="unknown analog profile"):
        programming_energy(layer, "nope")


def test_model_without_analog_layer() -> None:
    with pytest.raises(ValueError, match="no analog layer"):
        estimate(nn.Sequential(nn.Linear(4, 2)), torch.randn(1, 4))
    with pytest.raises(ValueError, match="no analog layer"):
        programming_energy(nn.Linear(4, 2))


def test_wrong_input_shape() -> None:
    with pytest.raises(ValueError, match=r"cannot run on example_input of shape \(2, 5\)"):
        estimate(AnalogLinear(4, 2), torch.randn(2, 5))
    digital_first = analogize(nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 2)), exclude=["0"])
    with pytest.raises(ValueError, match=r"shape \(2, 7\)"):
        estimate(digital_first, torch.randn(2, 7))
    with pytest.raises(ValueError, match="example_input must be a tensor"):
        estimate(AnalogLinear(4, 2), [[1.0, 2.0]])  # type: ignore[arg-type]


def test_bad_batches_and_pulses() -> None:
    with pytest.raises(ValueError, match="batches must be an integer >= 1"):
        estimate(AnalogLinear(4, 2), torch.randn(1, 4), batches=0)
    with pytest.raises(ValueError, match="pulses_per_weight_step"):
        estimate(AnalogLinear(4, 2), torch.randn(1, 4), pulses_per_weight_step=-1.0)


def test_user_profiles_register_and_validate() -> None:
    custom = get_analog_profile("hermes").replace(name="my_chip", array_rows=128, array_cols=64)
    register_profile(custom)
    try:
        with pytest.raises(ValueError, match="already registered"):
            register_profile(custom)
        report = estimate(AnalogLinear(200, 100), torch.randn(1, 200), analog="my_chip", training=False)
        assert report.layers[0].tiles == 2 * 2
        assert custom.source_of("pulse_pj").startswith("Yu & Chen")
    finally:
        unregister_profile("my_chip")
    with pytest.raises(ValueError, match="adc_pj must be a finite number >= 0"):
        get_analog_profile("hermes").replace(name="bad", adc_pj=-1.0)
    with pytest.raises(ValueError, match="input_encoding"):
        AnalogProfile("x", "", 8, 8, "thermometer", 8, 8, 1, 1, 1, 0, 0, 0, 0, 1, 1)  # type: ignore[arg-type]


def test_monitor_rejects_unknown_profile() -> None:
    from memtorch_power.energy import EnergyMonitor

    with pytest.raises(ValueError, match="unknown digital profile"):
        EnergyMonitor(digital="tpu")


def test_energy_never_imports_other_subpackages() -> None:
    import ast
    from pathlib import Path

    import memtorch_power.energy as energy

    forbidden = ("kws", "federated", "gating", "recipes")
    for path in Path(energy.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                parts = name.split(".")
                assert not any(part in forbidden for part in parts), f"{path.name} imports {name}"

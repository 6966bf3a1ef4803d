"""Analog checkpoints load with torch.load(weights_only=True) (issue 15 §4)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize, register_checkpoint_classes
from memtorch_power.nn.safe_load import checkpoint_classes
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import PRESETS


def _saved(obj: object) -> io.BytesIO:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return buffer


def _model(preset: object) -> nn.Module:
    torch.manual_seed(0)
    return analogize(nn.Sequential(nn.Conv2d(2, 3, 3), nn.Flatten(), nn.Linear(3 * 4 * 4, 2)), preset)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_trained_state_of_every_preset_loads_weights_only(preset: str) -> None:
    model = _model(preset)
    optimizer = optimizer_for(model, lr=0.1)
    model(torch.randn(4, 2, 6, 6)).sum().backward()
    optimizer.step()
    state = torch.load(_saved({"state_dict": model.state_dict(), "optimizer": optimizer.state_dict()}),
                       weights_only=True)
    fresh = _model(preset)
    fresh.load_state_dict(state["state_dict"])
    torch.testing.assert_close(fresh[2].weight, model[2].weight)


def test_a_custom_configuration_loads_once_registered() -> None:
    from aihwkit.simulator.configs import SingleRPUConfig
    from aihwkit.simulator.configs.devices import LinearStepDevice

    config = SingleRPUConfig(device=LinearStepDevice())
    payload = _saved(_model(config).state_dict()).getvalue()
    if LinearStepDevice not in torch.serialization.get_safe_globals():
        with pytest.raises(Exception, match="not an allowed global"):
            torch.load(io.BytesIO(payload), weights_only=True)
    assert LinearStepDevice in register_checkpoint_classes(config)
    torch.load(io.BytesIO(payload), weights_only=True)


@dataclass
class Untrusted:
    value: int = 1


def test_only_aihwkit_and_memtorch_power_classes_are_trusted() -> None:
    assert all(cls.__module__.startswith(("aihwkit.", "memtorch_power.")) for cls in checkpoint_classes("pcm_hwa"))
    with pytest.raises(Exception, match="Untrusted"):
        torch.load(_saved({"x": Untrusted()}), weights_only=True)

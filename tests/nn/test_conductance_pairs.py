"""Weights stored in several differential pairs of PCM devices (issue 15: the spread between
programmings; the four-device unit cell the ``hermes`` energy profile prices)."""

from __future__ import annotations

import pytest
import torch
from aihwkit.inference.converter.conductance import NPairConductanceConverter, SinglePairConductanceConverter
from torch import nn

from memtorch_power.nn import analogize, drift, program, set_conductance_pairs
from memtorch_power.nn.convert import analog_tiles


def _model(features: int = 64) -> nn.Module:
    torch.manual_seed(0)
    return analogize(nn.Sequential(nn.Linear(features, features)), "pcm_hwa").eval()


def _weight_error(model: nn.Module, seconds: float | None, seed: int = 1) -> float:
    """Mean |stored - trained| weight, relative to the mean |trained| weight, after programming
    (``seconds`` None) or after drift with the tile's drift factor removed by least squares."""
    torch.manual_seed(seed)
    program(model)
    if seconds is not None:
        drift(model, seconds)
    errors = []
    for tile in analog_tiles(model):
        target = tile.reference_combined_weights
        stored = torch.as_tensor(tile.tile.get_weights())
        scale = (stored * target).sum() / (stored * stored).sum()  # undo the mean drift, as compensation does
        errors.append(((scale * stored - target).abs().mean() / target.abs().mean()).item())
    return sum(errors) / len(errors)


def test_pairs_switch_the_tiles_to_aihwkit_n_pair_converter_and_back() -> None:
    model = set_conductance_pairs(_model(8), 2)
    converters = [tile.rpu_config.noise_model.g_converter for tile in analog_tiles(model)]
    assert converters and all(isinstance(c, NPairConductanceConverter) and c.f_lst == [1.0, 1.0] for c in converters)
    assert all(c.g_max == 25.0 for c in converters)  # each device keeps the preset's g_max
    set_conductance_pairs(model, 1)
    assert all(isinstance(t.rpu_config.noise_model.g_converter, SinglePairConductanceConverter) for t in analog_tiles(model))
    untouched = _model(8)  # another model's tiles (and the preset) are not changed
    assert all(isinstance(t.rpu_config.noise_model.g_converter, SinglePairConductanceConverter) for t in analog_tiles(untouched))


def test_two_pairs_store_each_weight_closer_to_its_trained_value() -> None:
    one, two = _model(), set_conductance_pairs(_model(), 2)
    programmed = (_weight_error(one, None), _weight_error(two, None))
    after_a_day = (_weight_error(one, 86_400.0), _weight_error(two, 86_400.0))
    # same trained weights, same seed: the summed range doubles while each device's error does not
    assert programmed[1] < 0.75 * programmed[0]
    assert after_a_day[1] < 0.75 * after_a_day[0]


def test_bad_pair_counts_and_models_without_a_programming_model_are_refused() -> None:
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="pairs must be an integer >= 1"):
            set_conductance_pairs(_model(8), bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no programming/drift model"):
        set_conductance_pairs(analogize(nn.Sequential(nn.Linear(4, 2)), "pcm_mixed_precision"), 2)
    with pytest.raises(ValueError, match="no analog layer"):
        set_conductance_pairs(nn.Sequential(nn.Linear(4, 2)), 2)

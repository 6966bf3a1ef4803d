"""benchmarks/weight_magnitudes.py reads the weights a checkpoint's analog tiles saved: known
weights give known statistics, the fast array is found in a transfer compound, and a digital
checkpoint is refused."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import weight_magnitudes as magnitudes_script  # noqa: E402

from memtorch_power.kws.module import KeywordSpotter  # noqa: E402
from memtorch_power.nn.convert import analog_tiles  # noqa: E402


def test_known_weights_give_known_statistics(tmp_path) -> None:
    module = KeywordSpotter(preset="pcm_tiki_taka", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    tiles = analog_tiles(module.network)
    assert tiles
    for tile in tiles:
        shape = tile.tile.get_weights().shape
        weights = torch.full(shape, 0.5)
        weights.view(-1)[0] = -1.5  # one weight per tile beyond the capacitors' range
        tile.tile.set_weights(weights)
    count = sum(t.tile.get_weights().numel() for t in tiles)
    path = tmp_path / "tt.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    row = magnitudes_script.magnitudes(magnitudes_script.tile_states(str(path)))
    assert row["weights"] == count
    assert row["share_beyond_capacitor_range"] == pytest.approx(len(tiles) / count)
    assert row["largest_weight"] == pytest.approx(1.5)
    expected = torch.tensor([0.5] * (count - len(tiles)) + [-1.5] * len(tiles)).std().item()
    assert row["weight_std"] == pytest.approx(expected, rel=1e-4)
    assert "fast_std" in row


def test_digital_checkpoints_are_refused(tmp_path) -> None:
    module = KeywordSpotter(preset="digital", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    path = tmp_path / "digital.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.raises(ValueError, match="no analog tile"):
        magnitudes_script.tile_states(str(path))

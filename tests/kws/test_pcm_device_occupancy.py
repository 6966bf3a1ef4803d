"""benchmarks/pcm_device_occupancy.py reads the device pairs a mixed-precision checkpoint saved: known
conductances give known shares (also a pair with both devices high, which aihwkit's loader would
re-program away), and a training_sweep variant's preset name is read too."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import pcm_device_occupancy as occupancy_script  # noqa: E402

from memtorch_power.kws.module import KeywordSpotter  # noqa: E402
from memtorch_power.nn.convert import analog_tiles  # noqa: E402


def test_known_conductances_give_known_shares(tmp_path) -> None:
    module = KeywordSpotter(preset="pcm_mixed_precision", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    tiles = analog_tiles(module.network)
    assert tiles
    for tile in tiles:
        hidden = tile.get_hidden_parameters()
        shape = hidden["hidden_weights_0"].shape
        hidden["max_bound_0"] = torch.full(shape, 2.0)
        hidden["max_bound_1"] = torch.full(shape, 2.0)
        hidden["hidden_weights_0"] = torch.full(shape, 1.6)  # 80 % of its range: above the refresh's 0.75
        hidden["hidden_weights_1"] = torch.zeros(shape)  # reset: below one first pulse, and below 0.25
        hidden["hidden_weights_1"].view(-1)[0] = 1.0  # one pair with both devices high: refresh-eligible
        tile.set_hidden_parameters(hidden)
    pairs = sum(t.get_hidden_parameters()["hidden_weights_0"].numel() for t in tiles)
    path = tmp_path / "mp.ckpt"
    hparams = dict(module.hparams, preset="pcm_mixed_precision[tile_lr_0.1_variant]")  # as training_sweep names it
    torch.save({"hyper_parameters": hparams, "state_dict": module.state_dict()}, path)
    row = occupancy_script.occupancy(occupancy_script.tile_states(str(path)))
    assert row["devices"] == 2 * pairs
    assert row["mean_range_share"] == pytest.approx((0.8 * pairs + 0.5 * len(tiles)) / (2 * pairs), rel=1e-5)
    assert row["largest_range_share"] == pytest.approx(0.8)
    assert row["devices_below_first_pulse"] == pytest.approx((pairs - len(tiles)) / (2 * pairs))
    assert row["refresh_eligible_pairs"] == pytest.approx(len(tiles) / pairs)
    assert row["pairs_with_both_devices_set"] == pytest.approx(len(tiles) / pairs)
    assert row["refresh_thresholds"] == [0.75, 0.25]


def test_other_presets_are_refused(tmp_path) -> None:
    module = KeywordSpotter(preset="digital", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    path = tmp_path / "digital.ckpt"
    torch.save({"hyper_parameters": dict(module.hparams), "state_dict": module.state_dict()}, path)
    with pytest.raises(ValueError, match="not pcm_mixed_precision"):
        occupancy_script.tile_states(str(path))

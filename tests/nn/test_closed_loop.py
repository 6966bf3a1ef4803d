"""The fast-weight cell with a closed-loop transfer (issue 13): ``memtorch_power.closed_loop``."""

from __future__ import annotations

import dataclasses
import io

import lightning.pytorch as pl
import pytest
import torch
from aihwkit.inference.noise.pcm import PCMLikeNoiseModel
from aihwkit.simulator.presets.devices import CapacitorPresetDevice
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from memtorch_power.closed_loop import PCM_G_MAX_US, ClosedLoopTransferTile, invert_polarity, symmetry_points
from memtorch_power.energy import EnergyMonitor
from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import Preset, pcm_fast_weight_config, traits_of


def _preset(**settings: object) -> Preset:
    return Preset("fast_weight_test", "test", "test", "transfer", lambda: pcm_fast_weight_config(**settings))


def _tile(layer: nn.Module) -> ClosedLoopTransferTile:
    tile = next(t for c in layer.analog_crossbars() for t in c.analog_tiles())
    assert isinstance(tile, ClosedLoopTransferTile)
    return tile


def _hidden(tile: ClosedLoopTransferTile, name: str) -> torch.Tensor:
    names = tile.tile.get_hidden_parameter_names()
    return tile.tile.get_hidden_parameters()[names.index(name)].clone()


def _set_fast(tile: ClosedLoopTransferTile, fast: torch.Tensor) -> None:
    names = tile.tile.get_hidden_parameter_names()
    hidden = tile.tile.get_hidden_parameters()
    hidden[names.index("hidden_weights_0")] = fast
    tile.tile.set_hidden_parameters(hidden)


def test_exact_transfer_adds_the_fast_weight_into_the_pcm_pair_and_resets_it() -> None:
    torch.manual_seed(0)
    layer = analogize(nn.Linear(5, 4, bias=False), _preset(gamma=0.5, program_noise_scale=0.0))
    tile = _tile(layer)
    tile.compound.read_noise = 0.0
    fast = torch.linspace(-0.8, 0.8, 20).reshape(4, 5)
    _set_fast(tile, fast)
    slow_before = _hidden(tile, "hidden_weights_1")
    weights_before = tile.tile.get_weights().clone()
    tile.transfer([1, 3])
    slow, plus, minus = (_hidden(tile, f"hidden_weights_{s}") for s in ("1", "1_1", "0_1"))
    moved = [1, 3]
    torch.testing.assert_close(slow[:, moved], slow_before[:, moved] + 0.5 * fast[:, moved])
    torch.testing.assert_close(slow[:, [0, 2, 4]], slow_before[:, [0, 2, 4]])  # other columns untouched
    assert torch.equal(_hidden(tile, "hidden_weights_0")[:, moved], _hidden(tile, "reset_bias_0")[:, moved])
    # the weight the network reads is unchanged by an exact transfer
    torch.testing.assert_close(tile.tile.get_weights(), weights_before)
    # one device of each moved pair is at its reset conductance (aihwkit's reset and spread, at least 0)
    positive = slow[:, moved] > 0
    reset_plus, reset_minus = (_hidden(tile, f"reset_bias_{s}")[:, moved].clamp(min=0.0) for s in ("1_1", "0_1"))
    torch.testing.assert_close(torch.where(positive, minus[:, moved], plus[:, moved]),
                               torch.where(positive, reset_minus, reset_plus))
    assert (tile.transfers, tile.programmed_weights) == (1, 8)


def test_programming_error_follows_pcm_program_and_verify() -> None:
    torch.manual_seed(0)
    layer = analogize(nn.Linear(256, 256, bias=False), _preset(gamma=1.0))
    tile = _tile(layer)
    tile.compound.read_noise = 0.0
    names = tile.tile.get_hidden_parameter_names()
    hidden = tile.tile.get_hidden_parameters()
    for name in ("hidden_weights_0", "hidden_weights_0_1", "hidden_weights_1_1"):
        hidden[names.index(name)] = 0.0
    hidden[names.index("hidden_weights_0")] = 0.8  # every weight moves to +0.8 device units
    tile.tile.set_hidden_parameters(hidden)
    tile.transfer(list(range(256)))
    slow = _hidden(tile, "hidden_weights_1")
    # Nandakumar et al.'s polynomial at g = 0.8 of 2.0 device units (10 of 25 uS)
    coeff = PCMLikeNoiseModel(g_max=PCM_G_MAX_US).prog_coeff
    expected = (coeff[0] + coeff[1] * 0.4 + coeff[2] * 0.16) * 2.0 / PCM_G_MAX_US
    assert slow.mean().item() == pytest.approx(0.8, abs=0.002)
    assert slow.std().item() == pytest.approx(expected, rel=0.05)


@pytest.mark.parametrize(("setting", "value"), [("program_every", 0), ("program_columns", 0), ("program_limit", -1.0),
                                                  ("read_noise", -0.1), ("program_threshold", -1.0),
                                                  ("program_decay", -0.1)])
def test_refuses_settings_that_cannot_be_simulated(setting: str, value: float) -> None:
    with pytest.raises(ValueError, match=setting):
        pcm_fast_weight_config(**{setting: value})


def test_limit_clips_programmed_weights() -> None:
    layer = analogize(nn.Linear(3, 2, bias=False), _preset(program_noise_scale=0.0, read_noise=0.0, program_limit=0.5))
    tile = _tile(layer)
    names = tile.tile.get_hidden_parameter_names()
    hidden = tile.tile.get_hidden_parameters()
    for name in ("hidden_weights_0_1", "hidden_weights_1_1"):
        hidden[names.index(name)] = 0.0
    tile.tile.set_hidden_parameters(hidden)
    fast = torch.tensor([[0.9, -0.3, 0.15], [-0.7, 0.4, 0.2]])
    _set_fast(tile, fast)
    tile.transfer([0, 1, 2])
    torch.testing.assert_close(_hidden(tile, "hidden_weights_1"), fast.clamp(-0.5, 0.5), atol=1e-5, rtol=0.0)


def test_decay_shrinks_programmed_weights_by_the_learning_rate_summed_since_their_last_programming() -> None:
    layer = analogize(nn.Linear(3, 2, bias=False), _preset(program_noise_scale=0.0, read_noise=0.0, program_every=100,
                                                            program_threshold=0.05, program_decay=0.1))
    tile = _tile(layer)
    names = tile.tile.get_hidden_parameter_names()
    slow = torch.tensor([[0.8, -0.4, 0.2], [-0.1, 0.6, 0.0]])
    hidden = tile.tile.get_hidden_parameters()
    hidden[names.index("hidden_weights_1_1")] = slow.clamp(min=0.0)
    hidden[names.index("hidden_weights_0_1")] = (-slow).clamp(min=0.0)
    hidden[names.index("hidden_weights_1")] = slow
    tile.tile.set_hidden_parameters(hidden)

    def updates(count: int, learning_rate: float) -> None:  # zero inputs: no pulses, only the rate counts
        tile.set_learning_rate(learning_rate)
        for _ in range(count):
            tile.update(torch.zeros(1, 3), torch.zeros(1, 2))
        _set_fast(tile, torch.zeros(2, 3))

    updates(4, 0.5)  # learning rates summed: 2.0, so each weight would shrink by 0.1 * 2.0
    tile.transfer([0, 1, 2])
    moved = (0.2 * slow).abs() >= 0.05  # the change reaches the threshold: |slow| >= 0.25
    expected = torch.where(moved, 0.8 * slow, slow)
    torch.testing.assert_close(_hidden(tile, "hidden_weights_1"), expected, atol=1e-5, rtol=0.0)
    assert tile.programmed_weights == int(moved.sum()) == 3
    updates(2, 0.5)  # 1.0 more: the programmed weights shrink by 0.1, the others by 0.3 (all of 3.0)
    tile.transfer([0, 1, 2])
    again = torch.where(moved, 0.9 * expected, 0.7 * expected)
    again = torch.where((again - expected).abs() >= 0.05, again, expected)
    torch.testing.assert_close(_hidden(tile, "hidden_weights_1"), again, atol=1e-5, rtol=0.0)


def test_threshold_leaves_small_fast_weights_in_place() -> None:
    layer = analogize(nn.Linear(3, 2, bias=False), _preset(program_noise_scale=0.0, program_threshold=0.1))
    tile = _tile(layer)
    tile.compound.read_noise = 0.0
    fast = torch.tensor([[0.05, 0.5, -0.2], [-0.5, 0.01, 0.0]])
    _set_fast(tile, fast)
    tile.transfer([0, 1, 2])
    kept = fast.abs() < 0.1
    torch.testing.assert_close(_hidden(tile, "hidden_weights_0")[kept], fast[kept])
    assert tile.programmed_weights == int((~kept).sum()) == 3


def test_transfers_follow_the_schedule_and_survive_a_checkpoint() -> None:
    model = analogize(nn.Sequential(nn.Linear(4, 3, bias=False)), _preset(program_every=2, program_columns=3))
    optimizer = optimizer_for(model, lr=0.5)
    for _ in range(5):
        optimizer.zero_grad()
        model(torch.randn(5, 4)).pow(2).sum().backward()
        optimizer.step()
    tile = _tile(model[0])
    # transfers after updates 2 and 4, three columns each in turn (0, 1, 2 then 3, 0, 1)
    assert (tile.transfers, tile.programmed_weights, tile._closed_loop_column) == (2, 18, 2)
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    fresh = analogize(nn.Sequential(nn.Linear(4, 3, bias=False)), _preset(program_every=2, program_columns=3))
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    loaded = _tile(fresh[0])
    assert (loaded.transfers, loaded.programmed_weights, loaded._closed_loop_column) == (2, 18, 2)
    torch.testing.assert_close(loaded.tile.get_weights(), tile.tile.get_weights())


def _asymmetric_capacitor_cell(polarity_inversion: bool) -> nn.Module:
    """A 1x1 cell at weight 0 whose fast device steps 30 % more up than down, without noise or
    device-to-device variation, transferred exactly and only when asked."""

    def config() -> object:
        cell = pcm_fast_weight_config(gamma=1.0, program_noise_scale=0.0, read_noise=0.0, program_every=10**6,
                                      polarity_inversion=polarity_inversion)
        cell.device.unit_cell_devices[0] = dataclasses.replace(
            CapacitorPresetDevice(), up_down=0.3, up_down_dtod=0.0, dw_min_dtod=0.0, dw_min_std=0.0,
            w_max_dtod=0.0, w_min_dtod=0.0, gamma_up_dtod=0.0, gamma_down_dtod=0.0)
        return cell

    linear = nn.Linear(1, 1, bias=False)
    nn.init.zeros_(linear.weight)
    return analogize(linear, Preset("asymmetric", "test", "test", "transfer", config))


@pytest.mark.parametrize("polarity_inversion", [False, True])
def test_polarity_inversion_cancels_a_fast_device_asymmetry(polarity_inversion: bool) -> None:
    torch.manual_seed(0)
    layer = _asymmetric_capacitor_cell(polarity_inversion)
    tile = _tile(layer)
    tile.set_learning_rate(0.1)
    drifts = []
    for _ in range(4):  # four transfer periods of gradients that cancel: +1, -1, +1, ...
        for step in range(50):
            tile.tile.update(torch.ones(1, 1), torch.tensor([[1.0 if step % 2 else -1.0]]), False)
        drifts.append(float(_hidden(tile, "hidden_weights_0")))
        tile.transfer([0])
    slow = float(_hidden(tile, "hidden_weights_1"))
    if polarity_inversion:  # the imbalance drifts the fast weight up, then down, ...
        assert drifts[0] > 0.5 and drifts[1] < -0.5 and drifts[2] > 0.5 and drifts[3] < -0.5
        assert abs(slow) < 0.3  # ... and PCM receives their sum
    else:  # every period drifts the same way and PCM accumulates it
        assert all(drift > 0.5 for drift in drifts) and slow > 1.5


def test_polarity_inversion_negates_the_device_where_asked_and_twice_restores_it() -> None:
    torch.manual_seed(0)
    layer = analogize(nn.Linear(3, 2, bias=False), _preset(polarity_inversion=True))
    tile = _tile(layer)
    names = tile.tile.get_hidden_parameter_names()
    before = tile.tile.get_hidden_parameters()
    hidden = before.clone()
    index = torch.tensor([0, 2])
    where = torch.tensor([[True, False], [True, True]])
    invert_polarity(hidden, names, "0", index, where)

    def changed(name: str) -> torch.Tensor:
        return hidden[names.index(name)][:, index]

    def old(name: str) -> torch.Tensor:
        return before[names.index(name)][:, index]

    for new, was, sign in (("max_bound_0", "min_bound_0", -1), ("min_bound_0", "max_bound_0", -1),
                           ("dwmin_up_0", "dwmin_down_0", 1), ("dwmin_down_0", "dwmin_up_0", 1),
                           ("slope_up_0", "slope_down_0", -1), ("slope_down_0", "slope_up_0", -1),
                           ("reset_bias_0", "reset_bias_0", -1)):
        torch.testing.assert_close(changed(new), torch.where(where, sign * old(was), old(new)))
    untouched = [n for n in names if not n.endswith("_0") or n == "hidden_weights_0"]
    for name in untouched:
        torch.testing.assert_close(hidden[names.index(name)], before[names.index(name)])
    torch.testing.assert_close(hidden[:, :, 1], before[:, :, 1])  # a column not asked for
    invert_polarity(hidden, names, "0", index, where)
    torch.testing.assert_close(hidden, before)
    # the transfer inverts the weights it programs, and the inverted devices survive a checkpoint
    tile.compound.read_noise = 0.0
    _set_fast(tile, torch.full((2, 3), 0.5))
    tile.transfer([1])
    inverted = _hidden(tile, "dwmin_up_0")
    torch.testing.assert_close(inverted[:, 1], old_column := before[names.index("dwmin_down_0")][:, 1])
    assert old_column.ne(before[names.index("dwmin_up_0")][:, 1]).all()
    buffer = io.BytesIO()
    torch.save(layer.state_dict(), buffer)
    fresh = analogize(nn.Linear(3, 2, bias=False), _preset(polarity_inversion=True))
    fresh.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    torch.testing.assert_close(_hidden(_tile(fresh), "dwmin_up_0"), inverted)


def test_polarity_inversion_refuses_a_device_it_cannot_invert() -> None:
    names = ["max_bound_0", "min_bound_0", "dwmin_up_0", "dwmin_down_0", "reset_bias_0", "gamma_up_0",
             "hidden_weights_0"]
    with pytest.raises(ValueError, match="gamma_up"):
        invert_polarity(torch.zeros(len(names), 1, 1), names, "0", torch.tensor([0]), torch.ones(1, 1, dtype=bool))


def test_balanced_pulses_drive_each_capacitor_to_its_symmetry_point() -> None:
    """aihwkit's capacitors, pulsed up and down in turn from their reset value, settle where
    ``symmetry_points`` says (within their pulse noise); without the spread of their up/down
    asymmetry every point is the reset value 0; a device without slopes is refused by name."""
    for asymmetry_spread in (0.06, 0.0):
        torch.manual_seed(0)
        fast = dataclasses.replace(CapacitorPresetDevice(), up_down_dtod=asymmetry_spread)
        config = pcm_fast_weight_config(gamma=1 / 3, program_every=10**9)
        config.device.unit_cell_devices[0] = fast
        tile = _tile(analogize(nn.Linear(8, 32, bias=False), Preset("sp_test", "test", "test", "transfer",
                                                                    lambda config=config: config)))
        names = tile.tile.get_hidden_parameter_names()
        points = symmetry_points(tile.tile.get_hidden_parameters(), names, "0")
        tile.set_learning_rate(0.2)
        for step in range(2000):
            tile.tile.update(torch.ones(1, 8), torch.full((1, 32), 1.0 if step % 2 else -1.0), False)
        settled = _hidden(tile, "hidden_weights_0")
        if asymmetry_spread:
            assert points.abs().mean() > 0.3  # far from the reset value: a real drift to follow
            assert torch.corrcoef(torch.stack([settled.flatten(), points.flatten()]))[0, 1] > 0.98
            assert (settled - points).abs().mean() < 0.15
        else:
            assert points.abs().max() == 0 and settled.abs().mean() < 0.15
    with pytest.raises(ValueError, match="slope_up"):
        symmetry_points(torch.zeros(3, 1, 1), ["max_bound_0", "min_bound_0", "dwmin_up_0"], "0")


def test_needs_its_compound() -> None:
    from memtorch_power.presets import pcm_tiki_taka_config

    config = pcm_tiki_taka_config()
    config.tile_class = ClosedLoopTransferTile
    layer = analogize(nn.Linear(3, 2, bias=False), Preset("wrong", "test", "test", "transfer", lambda: config))
    with pytest.raises(TypeError, match="ClosedLoopTransferCompound"):
        _tile(layer).transfer()
    with pytest.raises(NotImplementedError, match="use_indexed=False"):
        _tile(layer).update_indexed(torch.zeros(1), torch.zeros(1))


def test_learns_a_small_task_in_the_array(train_toy_task) -> None:  # type: ignore[no-untyped-def]
    torch.manual_seed(1)
    model = analogize(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), _preset())
    start, end, accuracy = train_toy_task(model, 10)  # only the tiles' pulses and transfers move the weights
    assert end < 0.5 * start and accuracy > 0.8
    assert all(_tile(layer).programmed_weights > 0 for layer in (model[0], model[2]))


def test_the_pcm_fast_weight_preset_learns_a_small_task_in_the_array(train_toy_task) -> None:  # type: ignore[no-untyped-def]
    """The registered cell (polarity inversion on) at its KWS tile lr 3.0: over 30 runs the loss
    fell to 0.14-0.18 of its start and accuracy reached 94.5 % or more (the simulator's pulses are
    clock-seeded)."""
    torch.manual_seed(1)
    model = analogize(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), "pcm_fast_weight")
    assert all(_tile(layer).compound.gamma_vec == [1 / 3, 1.0] for layer in (model[0], model[2]))
    start, end, accuracy = train_toy_task(model, 10, lr=3.0)
    assert end < 0.4 * start and accuracy > 0.85
    assert all(_tile(layer).programmed_weights > 0 for layer in (model[0], model[2]))


def test_traits_and_pricing_of_the_closed_loop_transfer(tmp_path, tiny_analog_module) -> None:  # type: ignore[no-untyped-def]
    preset = _preset(program_every=2, program_columns=1)
    traits = traits_of(preset)
    assert traits.closed_loop_transfer and (traits.transfer_every, traits.transfer_reads) == (2.0, 1)

    torch.manual_seed(0)
    module, monitor = tiny_analog_module(preset), EnergyMonitor(dirpath=tmp_path)
    trainer = pl.Trainer(max_epochs=1, callbacks=[monitor], logger=False, enable_checkpointing=False,
                         enable_progress_bar=False, enable_model_summary=False, accelerator="cpu")
    trainer.fit(module, DataLoader(TensorDataset(torch.randn(45, 4)), batch_size=5))  # 9 steps
    tile = _tile(module.net[0])
    layer = monitor.report("train").layers[0]
    # 4 transfers of one column of 3 weights: what the tile did, counted by the monitor
    assert (tile.transfers, tile.programmed_weights) == (4, 12)
    assert layer.weight_updates == 9 and layer.transfer_reads == 4
    from memtorch_power.energy.catalogue import PCM_PROGRAM_ITERATIONS

    # each programmed weight: program_iterations program pulses on one device, one RESET on the other
    assert layer.pcm_pulses == 12 * (PCM_PROGRAM_ITERATIONS + 1)
    update = layer.analog["update"]
    assert update["transfer_verify"] > 0 and update["transfer_adc"] > 0 and update["pcm_pulses"] > 0

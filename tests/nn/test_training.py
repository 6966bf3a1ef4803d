"""The in-memory training presets actually learn; hardware-aware training runs."""

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize
from memtorch_power.optim import optimizer_for


def _blobs(n: int = 600, classes: int = 3, features: int = 8) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(1)
    centres = torch.randn(classes, features, generator=generator) * 2
    labels = torch.randint(0, classes, (n,), generator=generator)
    return centres[labels] + torch.randn(n, features, generator=generator), labels


def _train(preset: str, epochs: int = 12, lr: float = 0.02) -> tuple[float, float, float]:
    x, y = _blobs()
    model = analogize(nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 3)), preset)
    optimizer = optimizer_for(model, lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    with torch.no_grad():
        start = loss_fn(model(x), y).item()
    for _ in range(epochs):
        for i in range(0, len(x), 30):
            optimizer.zero_grad()
            loss_fn(model(x[i : i + 30]), y[i : i + 30]).backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(x)
        end = loss_fn(logits, y).item()
        accuracy = (logits.argmax(1) == y).float().mean().item()
    return start, end, accuracy


@pytest.mark.parametrize("preset", ["pcm_training", "pcm_mixed_precision", "pcm_hwa", "ideal"])
def test_preset_learns_a_toy_classification(preset: str) -> None:
    start, end, accuracy = _train(preset)
    assert end < 0.4 * start, f"{preset}: loss went from {start:.3f} only to {end:.3f}"
    assert accuracy > 0.85, f"{preset}: accuracy {accuracy:.2f}"


def test_pulsed_optimizer_updates_in_the_tile_not_through_torch() -> None:
    model = analogize(nn.Linear(8, 3), "pcm_training")
    optimizer = optimizer_for(model, lr=0.1)
    analog_groups = [g for g in optimizer.param_groups if type(g["params"][0]).__name__ == "AnalogContext"]
    assert analog_groups, "the pulsed tile must be driven by aihwkit's analog update"
    before = model.weight
    model(torch.randn(16, 8)).pow(2).sum().backward()
    optimizer.step()
    assert not torch.equal(before, model.weight)


def test_unknown_optimizer_name() -> None:
    with pytest.raises(ValueError, match="unknown optimizer 'lbfgs'"):
        optimizer_for(nn.Linear(2, 2), optimizer="lbfgs")  # type: ignore[arg-type]


def test_analog_lr_drives_only_the_tiles() -> None:
    model = analogize(nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4)), "pcm_training")
    optimizer = optimizer_for(model, lr=1.0, analog_lr=0.1)
    by_kind = {type(g["params"][0]).__name__: g["lr"] for g in optimizer.param_groups}
    assert by_kind == {"Parameter": 1.0, "AnalogContext": 0.1}
    model(torch.randn(16, 8)).pow(2).sum().backward()
    optimizer.step()
    tiles = [t for m in model.modules() if hasattr(m, "analog_tiles") for t in m.analog_tiles()]
    assert tiles and all(t.get_learning_rate() == pytest.approx(0.1) for t in tiles)
    with pytest.raises(ValueError, match="analog_lr must be > 0"):
        optimizer_for(model, lr=1.0, analog_lr=0.0)


@pytest.mark.parametrize("preset", ["pcm_training", "pcm_mixed_precision"])
def test_pulsed_presets_map_the_largest_weight_to_omega(preset: str) -> None:
    from memtorch_power.presets import PULSED_WEIGHT_SCALING_OMEGA

    torch.manual_seed(0)
    reference = nn.Linear(64, 16)  # torch init: |w| <= 1/8
    layer = analogize(reference, preset)
    device_weights = [t.tile.get_weights() for c in layer.analog_crossbars() for t in c.analog_tiles()]
    largest = max(float(w.abs().max()) for w in device_weights)
    assert largest == pytest.approx(PULSED_WEIGHT_SCALING_OMEGA, rel=0.05)  # not ~0.125 of w_max 2
    torch.testing.assert_close(layer.weight, reference.weight.detach(), atol=0.02, rtol=0.0)


@pytest.mark.parametrize("preset", ["ideal", "pcm_hwa"])
def test_analog_lr_sets_the_crossbar_weights_step_of_digital_update_presets(preset: str) -> None:
    # torch tiles hold their weight as a torch parameter: analog_lr must reach it, not only the
    # tile's AnalogContext (which carries no gradient for these tiles)
    model = analogize(nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4)), preset)
    optimizer = optimizer_for(model, lr=1.0, optimizer="sgd", analog_lr=0.1)
    names = {id(p): n for n, p in model.named_parameters()}
    lr_of = {names[id(p)]: g["lr"] for g in optimizer.param_groups for p in g["params"]}
    crossbar = [n for n in lr_of if n.endswith("tile.weight")]
    assert crossbar and all(lr_of[n] == 0.1 for n in crossbar)
    assert lr_of["1.weight"] == 1.0 and lr_of["1.bias"] == 1.0
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(names)  # nothing lost or doubled


def test_analog_lr_is_the_sgd_step_of_an_ideal_crossbar() -> None:
    torch.manual_seed(0)
    model = analogize(nn.Sequential(nn.Linear(8, 4), nn.BatchNorm1d(4)), "ideal")
    optimizer = optimizer_for(model, lr=1.0, optimizer="sgd", analog_lr=0.1)
    weight = next(p for n, p in model.named_parameters() if n.endswith("tile.weight"))
    before = weight.detach().clone()
    (model(torch.randn(16, 8)) * torch.randn(16, 4)).sum().backward()
    expected = before - 0.1 * weight.grad
    optimizer.step()
    torch.testing.assert_close(weight.detach(), expected)
    assert float((expected - before).abs().max()) > 0.05  # a step lr 1.0 would make 10x larger

"""analogize / digitalize on whole models."""

import pytest
import torch
from torch import nn

from memtorch_power.nn import (
    AnalogConv1d,
    AnalogConv2d,
    AnalogLayer,
    AnalogLinear,
    analog_layers,
    analogize,
    digitalize,
)


class SmallCNN(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.Conv2d(8, 8, 3, padding=1, groups=8),  # depthwise
            nn.Conv2d(8, 16, 1),  # pointwise
            nn.ReLU(),
            nn.AdaptiveAvgPool2d(1),
        )
        self.heads = nn.ModuleDict({"main": nn.Linear(16, 10)})
        self.aux = nn.ModuleList([nn.Conv1d(16, 4, 1)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x).flatten(1)
        aux = self.aux[0](h.unsqueeze(-1)).squeeze(-1)
        return torch.cat([self.heads["main"](h), aux], dim=1)


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Dropout(0.1), nn.Linear(32, 5))


@pytest.mark.parametrize("build, shape", [(SmallCNN, (4, 1, 12, 12)), (mlp, (6, 20))])
def test_analogize_preserves_outputs_under_ideal(build, shape) -> None:  # noqa: ANN001
    model = build().eval()
    x = torch.randn(*shape)
    analog = analogize(model, preset="ideal").eval()
    torch.testing.assert_close(analog(x), model(x), rtol=1e-4, atol=1e-5)
    torch_layers = [m for m in model.modules() if type(m) in (nn.Linear, nn.Conv1d, nn.Conv2d)]
    assert len(analog_layers(analog)) == len(torch_layers)
    assert not any(type(m) in (nn.Linear, nn.Conv1d, nn.Conv2d) for m in analog.modules())


def test_analogize_copies_unless_inplace() -> None:
    model = mlp()
    converted = analogize(model, preset="ideal")
    assert isinstance(model[0], nn.Linear) and isinstance(converted[0], AnalogLinear)
    same = analogize(model, preset="ideal", inplace=True)
    assert same is model and isinstance(model[0], AnalogLinear)


def test_analogize_single_layer_and_kinds() -> None:
    assert isinstance(analogize(nn.Linear(3, 2), "ideal"), AnalogLinear)
    model = analogize(SmallCNN(), "ideal")
    assert isinstance(model.features[0], AnalogConv2d)
    assert isinstance(model.features[3], AnalogConv2d) and model.features[3].groups == 8
    assert isinstance(model.aux[0], AnalogConv1d)
    assert isinstance(model.heads["main"], AnalogLinear)


def test_exclude_by_pattern_and_predicate() -> None:
    model = analogize(SmallCNN(), "ideal", exclude=["heads.*", "aux.0"])
    assert isinstance(model.heads["main"], nn.Linear) and isinstance(model.aux[0], nn.Conv1d)
    assert isinstance(model.features[0], AnalogConv2d)
    depthwise_digital = analogize(
        SmallCNN(), "ideal", exclude=lambda name, m: getattr(m, "groups", 1) > 1
    )
    assert type(depthwise_digital.features[3]) is nn.Conv2d
    assert isinstance(depthwise_digital.features[4], AnalogConv2d)
    skipped = analogize(SmallCNN(), "ideal", skip_grouped=True)
    assert type(skipped.features[3]) is nn.Conv2d
    assert isinstance(skipped.features[0], AnalogConv2d) and isinstance(skipped.features[4], AnalogConv2d)


@pytest.mark.parametrize("preset", ["ideal", "pcm_hwa", "pcm_training", "pcm_mixed_precision"])
def test_digitalize_gives_back_the_weights(preset: str) -> None:
    model = SmallCNN()
    back = digitalize(analogize(model, preset=preset))
    assert not any(isinstance(m, AnalogLayer) for m in back.modules())
    for (name, p_orig), (name_back, p_back) in zip(model.state_dict().items(), back.state_dict().items()):
        assert name == name_back
        torch.testing.assert_close(p_back, p_orig, msg=f"{name} differs after the round trip")


def test_digitalize_keeps_trained_weights() -> None:
    analog = analogize(mlp(), "ideal")
    analog[0].set_weights(torch.full((32, 20), 0.25), torch.zeros(32))
    back = digitalize(analog)
    torch.testing.assert_close(back[0].weight.detach(), torch.full((32, 20), 0.25))


def test_set_weights_rejects_wrong_shapes() -> None:
    layer = AnalogLinear(4, 3, preset="ideal")
    with pytest.raises(ValueError, match=r"shape \(3, 4\)"):
        layer.set_weights(torch.zeros(4, 3), torch.zeros(3))
    with pytest.raises(ValueError, match="has bias"):
        layer.set_weights(torch.zeros(3, 4), None)

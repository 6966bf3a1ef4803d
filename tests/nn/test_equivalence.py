"""With the ``ideal`` preset every analog layer must behave exactly like its torch twin."""

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from memtorch_power.nn import AnalogConv1d, AnalogConv2d, AnalogLinear
from memtorch_power.optim import optimizer_for

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
LR = 0.5


def _assert_twins_agree(analog: nn.Module, digital: nn.Module, x: torch.Tensor) -> None:
    """Same output, same input gradient, and the same weight change after one SGD step."""
    x_a = x.clone().requires_grad_(True)
    x_d = x.clone().requires_grad_(True)
    y_a, y_d = analog(x_a), digital(x_d)
    assert y_a.shape == y_d.shape
    torch.testing.assert_close(y_a, y_d, rtol=1e-4, atol=1e-5)

    upstream = torch.randn_like(y_d)
    before = analog.weight.clone()
    before_bias = None if digital.bias is None else analog.bias.clone()
    optimizer = optimizer_for(analog, lr=LR)
    optimizer.zero_grad()
    (y_a * upstream).sum().backward()
    (y_d * upstream).sum().backward()
    torch.testing.assert_close(x_a.grad, x_d.grad, rtol=1e-4, atol=1e-5)

    optimizer.step()
    weight_grad = (before - analog.weight) / LR
    torch.testing.assert_close(weight_grad, digital.weight.grad, rtol=1e-3, atol=1e-4)
    if digital.bias is not None:
        torch.testing.assert_close((before_bias - analog.bias) / LR, digital.bias.grad, rtol=1e-3, atol=1e-4)


@SETTINGS
@given(
    in_features=st.integers(1, 300),
    out_features=st.integers(1, 40),
    bias=st.booleans(),
    leading=st.lists(st.integers(1, 4), min_size=0, max_size=2),
)
def test_linear_matches_torch(in_features: int, out_features: int, bias: bool, leading: list[int]) -> None:
    analog = AnalogLinear(in_features, out_features, bias=bias, preset="ideal")
    digital = analog.to_torch()
    _assert_twins_agree(analog, digital, torch.randn(*leading, in_features))


def _conv_arguments(draw: st.DrawFn, dims: int) -> tuple[dict, tuple[int, ...]]:
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    in_channels = groups * draw(st.integers(1, 3))
    out_channels = groups * draw(st.integers(1, 3))
    kernel = tuple(draw(st.integers(1, 4)) for _ in range(dims))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding_kind = draw(st.sampled_from(["int", "tuple", "same", "valid"]))
    stride = (1,) * dims if padding_kind == "same" else tuple(draw(st.integers(1, 3)) for _ in range(dims))
    padding: object = {
        "int": draw(st.integers(0, 2)),
        "tuple": tuple(draw(st.integers(0, 2)) for _ in range(dims)),
        "same": "same",
        "valid": "valid",
    }[padding_kind]
    padding_mode = draw(st.sampled_from(["zeros", "zeros", "reflect", "replicate", "circular"]))
    if padding_mode != "zeros" and padding_kind == "same":
        padding_mode = "zeros"  # torch only pads 'same' with zeros for reflect on tiny inputs
    spatial = tuple(
        draw(st.integers(dil * (k - 1) + 3, dil * (k - 1) + 9)) for k, dil in zip(kernel, dilation)
    )
    arguments = dict(
        in_channels=in_channels,
        out_channels=out_channels,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=draw(st.booleans()),
        padding_mode=padding_mode,
    )
    return arguments, spatial


@st.composite
def conv1d_cases(draw: st.DrawFn) -> tuple[dict, tuple[int, ...]]:
    return _conv_arguments(draw, 1)


@st.composite
def conv2d_cases(draw: st.DrawFn) -> tuple[dict, tuple[int, ...]]:
    return _conv_arguments(draw, 2)


@SETTINGS
@given(case=conv1d_cases(), batch=st.integers(1, 3))
def test_conv1d_matches_torch(case: tuple[dict, tuple[int, ...]], batch: int) -> None:
    arguments, spatial = case
    analog = AnalogConv1d(**arguments, preset="ideal")
    digital = analog.to_torch()
    _assert_twins_agree(analog, digital, torch.randn(batch, arguments["in_channels"], *spatial))


@SETTINGS
@given(case=conv2d_cases(), batch=st.integers(1, 3))
def test_conv2d_matches_torch(case: tuple[dict, tuple[int, ...]], batch: int) -> None:
    arguments, spatial = case
    analog = AnalogConv2d(**arguments, preset="ideal")
    digital = analog.to_torch()
    _assert_twins_agree(analog, digital, torch.randn(batch, arguments["in_channels"], *spatial))


@pytest.mark.parametrize("layer_cls, torch_cls", [(AnalogConv1d, nn.Conv1d), (AnalogConv2d, nn.Conv2d)])
def test_unbatched_input_like_torch(layer_cls: type, torch_cls: type) -> None:
    analog = layer_cls(3, 4, 3, padding=1, preset="ideal")
    digital = analog.to_torch()
    x = torch.randn(3, *([8] * analog.dims))
    torch.testing.assert_close(analog(x), digital(x), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "make_analog, make_torch",
    [
        (lambda: AnalogLinear(7, 5), lambda: nn.Linear(7, 5)),
        (lambda: AnalogConv2d(3, 4, 3, groups=1), lambda: nn.Conv2d(3, 4, 3)),
        (lambda: AnalogConv1d(4, 4, 3, groups=2, bias=False), lambda: nn.Conv1d(4, 4, 3, groups=2, bias=False)),
    ],
)
def test_default_initialisation_is_torchs(make_analog, make_torch) -> None:  # noqa: ANN001
    torch.manual_seed(123)
    analog = make_analog()
    torch.manual_seed(123)
    digital = make_torch()
    torch.testing.assert_close(analog.weight, digital.weight.detach())
    if digital.bias is not None:
        torch.testing.assert_close(analog.bias, digital.bias.detach())

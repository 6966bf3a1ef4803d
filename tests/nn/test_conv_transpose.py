"""AnalogConvTranspose1d/2d match torch under ``ideal`` and are counted as one MVM per input position."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from memtorch_power.energy.counting import WorkloadCounter
from memtorch_power.nn import AnalogConvTranspose1d, AnalogConvTranspose2d, analogize, digitalize
from memtorch_power.optim import optimizer_for

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)


@SETTINGS
@given(
    dims=st.sampled_from([1, 2]),
    groups=st.sampled_from([1, 2]),
    per_group_in=st.integers(1, 3),
    per_group_out=st.integers(1, 3),
    kernel=st.integers(1, 3),
    stride=st.integers(1, 3),
    padding=st.integers(0, 1),
    dilation=st.integers(1, 2),
    bias=st.booleans(),
    size=st.integers(2, 5),
    extra=st.integers(0, 2),
)
def test_matches_torch_under_ideal(dims: int, groups: int, per_group_in: int, per_group_out: int, kernel: int,
                                   stride: int, padding: int, dilation: int, bias: bool, size: int, extra: int) -> None:
    output_padding = min(extra, max(stride, dilation) - 1)
    torch_cls = nn.ConvTranspose1d if dims == 1 else nn.ConvTranspose2d
    torch.manual_seed(0)
    digital = torch_cls(groups * per_group_in, groups * per_group_out, kernel, stride=stride, padding=padding,
                        output_padding=output_padding, groups=groups, bias=bias, dilation=dilation)
    x = torch.randn(2, groups * per_group_in, *([size] * dims))
    if any(s <= 0 for s in digital(x).shape[2:]):
        return
    analog = analogize(nn.Sequential(digital), "ideal")[0]
    x_a, x_d = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    y_a, y_d = analog(x_a), digital(x_d)
    torch.testing.assert_close(y_a, y_d, rtol=1e-4, atol=1e-5)
    upstream = torch.randn_like(y_d)
    (y_a * upstream).sum().backward()
    (y_d * upstream).sum().backward()
    torch.testing.assert_close(x_a.grad, x_d.grad, rtol=1e-4, atol=1e-5)
    back = digitalize(nn.Sequential(analog))[0]
    assert type(back) is torch_cls
    torch.testing.assert_close(back.weight, digital.weight)


def test_output_size_and_unbatched_input() -> None:
    torch.manual_seed(1)
    digital = nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1)
    analog = AnalogConvTranspose2d.from_torch(digital, "ideal")
    x = torch.randn(3, 4, 5)
    torch.testing.assert_close(analog(x, output_size=(8, 10)), digital(x, output_size=(8, 10)), rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="not reachable"):
        analog(x, output_size=(20, 20))


def test_trains_like_torch_under_ideal() -> None:
    torch.manual_seed(2)
    digital = nn.ConvTranspose1d(4, 3, 3, stride=2)
    analog = AnalogConvTranspose1d.from_torch(digital, "ideal")
    x = torch.randn(5, 4, 6)
    optimizer = optimizer_for(nn.Sequential(analog), lr=0.5)
    reference = torch.optim.SGD(digital.parameters(), lr=0.5)
    for module, opt in ((analog, optimizer), (digital, reference)):
        opt.zero_grad()
        module(x).pow(2).mean().backward()
        opt.step()
    torch.testing.assert_close(analog.weight, digital.weight, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(analog.bias, digital.bias, rtol=1e-4, atol=1e-5)


def test_counted_as_one_mvm_per_input_position_and_group() -> None:
    model = analogize(nn.Sequential(nn.ConvTranspose2d(4, 6, 3, stride=2, groups=2)), "ideal")
    counter = WorkloadCounter(model)
    counter.start("count", track_backward=False)
    with torch.no_grad():
        model(torch.randn(2, 4, 5, 5))
    counter.remove()
    counts, info = counter.counts["count"]["0"], counter.infos["0"]
    assert counts.forward.mvms == 2 * 25 * 2
    assert counts.forward.macs == 2 * 4 * 25 * (6 // 2) * 9  # torch's transposed-conv MACs
    assert (info.rows, info.cols, info.other_params) == (2, 27, 6)

"""Operator-level counting: every ATen operator a forward runs is counted, once (issue 14).

MACs are checked against torch's own ``FlopCounterMode`` on the model families users bring
(torchvision CNNs, a transformer encoder, recurrent networks). Torch's table lacks the CPU
attention kernel; it is given the same formula here (``FLOP_FORMULAS``), so the comparison is
of what each counter attributes, not of which kernels torch knows.
"""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from memtorch_power.energy import estimate, register_operator
from memtorch_power.energy.counting import LayerCounts, WorkloadCounter
from memtorch_power.energy.operators import FLOP_FORMULAS, OPS_PER_ELEMENT
from memtorch_power.kws.models import build_model
from memtorch_power.nn import analogize

CPU_ATTENTION = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu


def count(model: nn.Module, x: torch.Tensor, training: bool = True) -> dict[str, LayerCounts]:
    counter = WorkloadCounter(model)
    counter.start("count", track_backward=training)
    try:
        with torch.set_grad_enabled(training):
            model(x)
    finally:
        counter.remove()
    return counter.counts["count"]


def macs(counts: dict[str, LayerCounts]) -> tuple[int, int]:
    forward = sum(c.forward.macs for c in counts.values())
    backward = sum(c.input_grad.macs + c.weight_grad.macs for c in counts.values())
    return forward, backward


def torch_macs(model: nn.Module, x: torch.Tensor) -> tuple[int, int]:
    """Forward and backward MACs by ``FlopCounterMode`` (FLOPs / 2)."""
    mapping = {CPU_ATTENTION: FLOP_FORMULAS[CPU_ATTENTION]}
    mode = FlopCounterMode(display=False, custom_mapping=mapping)
    with mode:
        out = model(x)
    forward = mode.get_total_flops() // 2
    with mode:
        out = model(x)
        out = out[0] if isinstance(out, tuple) else out
        out.float().sum().backward()
    return forward, mode.get_total_flops() // 2 - forward


@pytest.fixture(autouse=True)
def seeded() -> None:
    torch.manual_seed(0)


def transformer() -> nn.Module:
    layer = nn.TransformerEncoderLayer(d_model=32, nhead=4, dim_feedforward=64, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)


@pytest.mark.parametrize(
    "name, build, shape",
    [
        ("resnet18", lambda: torchvision.models.resnet18(num_classes=10), (2, 3, 32, 32)),
        ("transformer", transformer, (2, 10, 32)),
        ("gru", lambda: nn.GRU(8, 16, num_layers=2, batch_first=True), (2, 6, 8)),
    ],
)
def test_macs_equal_torch_flop_counter(name: str, build, shape: tuple[int, ...]) -> None:
    model = build().train()
    x = torch.randn(*shape)
    assert macs(count(model, x)) == torch_macs(model, x)


def test_transformer_attention_and_projections_are_counted() -> None:
    """The in-projection (a bare parameter), both attention matmuls and the out-projection
    (called functionally, never as a module) land on the attention module's row."""
    model = transformer().eval()
    x = torch.randn(2, 10, 32)
    counts = count(model, x, training=False)
    d, tokens, batch = 32, 10, 2
    projections = batch * tokens * (3 * d * d + d * d)
    attention = 2 * batch * tokens * tokens * d  # Q K^T and A V over all heads
    assert counts["layers.0.self_attn"].forward.macs == projections + attention
    assert counts["layers.0.self_attn"].forward.ops > 0  # softmax, scaling
    assert counts["layers.0"].forward.ops >= 2 * batch * tokens * d  # the two residual adds
    assert counts["layers.0.self_attn.out_proj"].forward.calls == 0  # not called as a module


def test_mobilenet_backward_differs_only_by_torchs_grouped_convolution_overcount() -> None:
    """Torch counts the weight gradient of a grouped convolution ``groups`` times over."""
    model = torchvision.models.mobilenet_v2(num_classes=10).train()
    x = torch.randn(2, 3, 32, 32)
    counts = count(model, x)
    forward, backward = macs(counts)
    torch_forward, torch_backward = torch_macs(model, x)
    overcount = sum(
        counts[name].weight_grad.macs * (module.groups - 1)
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d) and module.groups > 1
    )
    assert overcount > 0
    assert forward == torch_forward
    assert backward == torch_backward - overcount


def test_lstm_fused_kernel_counts_like_its_decomposition() -> None:
    """On CPU an LSTM layer is one oneDNN operator (``mkldnn_rnn_layer``) that torch's counter
    sees as 0 MACs; counted by its formula it equals the decomposed cell, which equals torch."""
    model = nn.LSTM(8, 16, num_layers=2, batch_first=True).train()
    x = torch.randn(2, 6, 8)
    fused = macs(count(model, x))
    with torch.backends.mkldnn.flags(enabled=False):
        plain = macs(count(model, x))
        reference = torch_macs(model, x)
    assert fused == plain == reference
    assert fused[0] == 2 * 6 * 4 * 16 * (8 + 16) + 2 * 6 * 4 * 16 * (16 + 16)


def test_res8_residual_adds_are_counted() -> None:
    model = build_model("res8", num_classes=12, n_features=40).eval()
    counts = count(model, torch.randn(2, 1, 40, 98), training=False)
    assert counts["(model)"].forward.ops == 3 * 2 * 45 * 13 * 24  # three skip additions


def test_report_prices_the_functional_rows_and_says_nothing_is_missing() -> None:
    model = analogize(transformer(), "pcm_hwa")
    report = estimate(model, torch.randn(2, 10, 32), training=False)
    attention = report.layer("layers.0.self_attn")
    assert attention.macs_forward > 0
    assert attention.digital_j() > 0 and attention.analog_j() > 0
    assert not any("not counted" in note for note in report.notes)


def test_operators_of_analog_layers_are_not_counted_twice() -> None:
    model = analogize(nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)), "ideal")
    counts = count(model, torch.randn(3, 8))
    assert {name for name, c in counts.items() if c.forward.calls} == {"0", "1", "2"}
    assert macs(counts)[0] == 3 * (8 * 4 + 4 * 2)


def test_operators_outside_forward_are_not_counted() -> None:
    model = nn.Sequential(nn.Linear(4, 4))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    counter = WorkloadCounter(model)
    counter.start("train", track_backward=True)
    try:
        model(torch.randn(2, 4)).sum().backward()
        optimizer.step()  # elementwise operators on every parameter, outside any forward
    finally:
        counter.remove()
    counts = counter.counts["train"]
    assert counts["0"].forward.macs == 2 * 16
    assert sum(c.forward.ops for c in counts.values()) == 0


def test_register_operator_prices_an_unknown_operator() -> None:
    class Custom(nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.special.i0(x)  # no formula: approximate row

    model = analogize(nn.Sequential(nn.Linear(4, 4), Custom()), "ideal")
    report = estimate(model, torch.randn(2, 4), training=False)
    assert not report.layer("1").exact
    assert any("register_operator" in note for note in report.notes)
    try:
        register_operator(torch.ops.aten.i0, ops_per_element=10)
        counts = count(model, torch.randn(2, 4), training=False)
        assert counts["1"].forward.ops == 10 * 8
    finally:
        OPS_PER_ELEMENT.pop("i0", None)


def test_register_operator_needs_one_price() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        register_operator(torch.ops.aten.i0)
    with pytest.raises(ValueError, match="ops_per_element"):
        register_operator(torch.ops.aten.i0, ops_per_element=-1)


def test_register_module_rule_counts_a_user_module_as_a_whole() -> None:
    from memtorch_power.energy import Work, register_module_rule
    from memtorch_power.energy.rules import MODULE_RULES

    class Lookup(nn.Module):  # a user module: its operators would be counted one by one
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return torch.exp(x) + 1

    model = analogize(nn.Sequential(nn.Linear(4, 4), Lookup()), "ideal")
    assert count(model, torch.randn(2, 4), training=False)["1"].forward.ops == 2 * 4 * 4 + 2 * 4
    try:
        register_module_rule(Lookup, lambda m, x, out: Work(0, 0, 3 * out.numel(), x.numel(), out.numel()))
        assert count(model, torch.randn(2, 4), training=False)["1"].forward.ops == 3 * 8
    finally:
        MODULE_RULES.pop(Lookup, None)
    with pytest.raises(TypeError, match="nn.Module subclass"):
        register_module_rule(int, lambda m, x, out: None)

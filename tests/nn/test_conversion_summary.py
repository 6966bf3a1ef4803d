"""analogize says what it converted and what it left digital, and refuses what it cannot do."""

from __future__ import annotations

import logging

import pytest
import torch
from torch import nn

from memtorch_power.nn import analogize, conversion_plan


class Mixed(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(10, 8)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=True)
        self.lstm = nn.LSTM(8, 8, batch_first=True)
        self.up = nn.ConvTranspose3d(8, 8, 2)  # no analog twin (1-d/2-d have one)
        self.depthwise = nn.Conv1d(8, 8, 3, groups=8)
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(8, 8))


def test_plan_lists_every_weight_matrix_left_digital_with_its_reason() -> None:
    plan = conversion_plan(Mixed(), exclude=["head"], skip_grouped=True)
    reasons = {name: reason for name, _, reason in plan.left_digital}
    assert "attn" not in reasons and "attn.out_proj" not in reasons  # converted as a whole
    assert "lstm" not in reasons  # converted to AnalogLSTM
    assert "transposed" in reasons["up"]
    assert reasons["depthwise"].startswith("grouped")
    assert reasons["head"].startswith("excluded")
    assert "lookup table" in reasons["embed"]
    assert "own forward" in reasons[""]  # the bare 8x8 parameter of the root
    assert {name for name, *_ in plan.unsupported} == {"up", ""}
    assert ("attn", "MultiheadAttention") in plan.converted and ("lstm", "LSTM") in plan.converted
    assert "left digital: up" in str(plan)


def test_analogize_warns_about_unsupported_layers_and_converts_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="memtorch_power.nn.convert"):
        model = analogize(Mixed(), "ideal")
    warned = {record.getMessage().split(" ")[1] for record in caplog.records if record.levelno == logging.WARNING}
    assert warned == {"up", "(model)"}
    assert type(model.lstm).__name__ == "AnalogLSTM"
    assert type(model.attn).__name__ == "AnalogMultiheadAttention"
    assert type(model.head).__name__ == "AnalogLinear"
    assert type(model.depthwise).__name__ == "AnalogConv1d"
    assert conversion_plan(model).converted == []  # nothing left to convert


def test_analogize_refuses_what_is_not_a_module() -> None:
    with pytest.raises(TypeError, match="expected a torch.nn.Module, got dict"):
        analogize({"weight": torch.ones(2, 2)})


@pytest.mark.parametrize("convert", [lambda m: m.double(), lambda m: m.half(), lambda m: m.to(torch.bfloat16)])
def test_dtype_change_of_an_analog_model_is_one_clear_error(convert) -> None:
    model = analogize(nn.Sequential(nn.Linear(4, 3)), "ideal")
    with pytest.raises(TypeError, match=r"AnalogLinear\(4x3\): aihwkit tiles compute in float32 only") as info:
        convert(model)
    assert str(info.value).count("float32 only") == 1
    assert model(torch.randn(2, 4)).dtype == torch.float32  # unchanged, still usable


def test_float_and_cpu_are_no_ops_on_an_analog_model() -> None:
    model = analogize(nn.Sequential(nn.Linear(4, 3)), "ideal")
    x = torch.randn(2, 4)
    before = model(x)
    torch.testing.assert_close(model.float().to("cpu")(x), before)


def test_linear_subclasses_keeping_linears_forward_are_converted() -> None:
    class Plain(nn.Linear):
        pass

    class Scaled(nn.Linear):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return 2 * super().forward(x)

    model = analogize(nn.Sequential(Plain(4, 3), nn.ReLU(), Scaled(3, 2)), "ideal")
    assert type(model[0]).__name__ == "AnalogLinear"
    assert type(model[2]) is Scaled  # its own forward: left digital, with a warning
    assert "own forward" in dict((n, r) for n, _, r in conversion_plan(model).left_digital)["2"]


def test_attention_left_digital_keeps_its_out_projection_digital() -> None:
    """out_proj is read functionally by its attention module: converting it alone would be wrong."""
    model = analogize(nn.Sequential(nn.MultiheadAttention(8, 2, add_bias_kv=True)), "ideal")
    assert type(model[0].out_proj).__name__ == "NonDynamicallyQuantizableLinear"

"""AnalogMultiheadAttention: nn.MultiheadAttention with its projections on the arrays (issue 14)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from memtorch_power.energy.counting import WorkloadCounter
from memtorch_power.nn import AnalogMultiheadAttention, analog_layers, analogize, digitalize

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)


@SETTINGS
@given(
    heads=st.sampled_from([1, 2, 4]),
    head_dim=st.integers(1, 4),
    batch=st.integers(1, 3),
    target=st.integers(1, 5),
    source=st.integers(1, 5),
    batch_first=st.booleans(),
    bias=st.booleans(),
    need_weights=st.booleans(),
    average=st.booleans(),
    cross_dims=st.booleans(),
    masks=st.sampled_from(["none", "bool", "float", "padding", "causal"]),
)
def test_matches_torch_under_ideal(heads: int, head_dim: int, batch: int, target: int, source: int,
                                   batch_first: bool, bias: bool, need_weights: bool, average: bool,
                                   cross_dims: bool, masks: str) -> None:
    torch.manual_seed(0)
    embed = heads * head_dim
    kdim, vdim = (embed + 1, embed + 2) if cross_dims else (None, None)
    digital = nn.MultiheadAttention(embed, heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=batch_first).eval()
    analog = AnalogMultiheadAttention.from_torch(digital, "ideal").eval()
    if masks == "causal":
        source = target
    shape = (lambda n, length, e: (n, length, e)) if batch_first else (lambda n, length, e: (length, n, e))
    query = torch.randn(shape(batch, target, embed))
    key = torch.randn(shape(batch, source, kdim or embed))
    value = torch.randn(shape(batch, source, vdim or embed))
    kwargs: dict = {"need_weights": need_weights, "average_attn_weights": average}
    if masks == "bool":
        mask = torch.rand(target, source) > 0.7
        mask[:, 0] = False  # every query sees at least one key
        kwargs["attn_mask"] = mask
    elif masks == "float":
        kwargs["attn_mask"] = torch.randn(batch * heads, target, source)
    elif masks == "padding":
        padding = torch.rand(batch, source) > 0.6
        padding[:, 0] = False
        kwargs["key_padding_mask"] = padding
    elif masks == "causal":
        kwargs["attn_mask"] = nn.Transformer.generate_square_subsequent_mask(target)
        kwargs["is_causal"] = True
    out_a, weights_a = analog(query, key, value, **kwargs)
    out_d, weights_d = digital(query, key, value, **kwargs)
    torch.testing.assert_close(out_a, out_d, rtol=1e-4, atol=1e-5)
    if need_weights:
        torch.testing.assert_close(weights_a, weights_d, rtol=1e-4, atol=1e-5)
    else:
        assert weights_a is None and weights_d is None


def test_unbatched_self_attention_matches_torch() -> None:
    torch.manual_seed(1)
    digital = nn.MultiheadAttention(8, 2).eval()
    analog = AnalogMultiheadAttention.from_torch(digital, "ideal")
    x = torch.randn(5, 8)
    out_a, w_a = analog(x, x, x)
    out_d, w_d = digital(x, x, x)
    torch.testing.assert_close(out_a, out_d, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(w_a, w_d, rtol=1e-4, atol=1e-5)


def test_gradients_reach_the_arrays_and_the_input() -> None:
    torch.manual_seed(2)
    digital = nn.MultiheadAttention(8, 2, batch_first=True)
    analog = AnalogMultiheadAttention.from_torch(digital, "ideal")
    x_a = torch.randn(2, 4, 8, requires_grad=True)
    x_d = x_a.detach().clone().requires_grad_(True)
    upstream = torch.randn(2, 4, 8)
    (analog(x_a, x_a, x_a)[0] * upstream).sum().backward()
    (digital(x_d, x_d, x_d)[0] * upstream).sum().backward()
    torch.testing.assert_close(x_a.grad, x_d.grad, rtol=1e-4, atol=1e-5)


def test_transformer_round_trip_keeps_the_trained_model() -> None:
    torch.manual_seed(3)
    layer = nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False).eval()
    x = torch.randn(2, 6, 16)
    with torch.no_grad():
        expected = model(x)
        analog = analogize(model, "ideal").eval()
        names = {name for name, _ in analog_layers(analog)}
        assert {"layers.0.self_attn.in_proj", "layers.0.self_attn.out_proj", "layers.1.linear2"} <= names
        torch.testing.assert_close(analog(x), expected, rtol=1e-4, atol=1e-5)  # eval: fast path off
        back = digitalize(analog).eval()
    assert type(back.layers[0].self_attn) is nn.MultiheadAttention
    with torch.no_grad():
        torch.testing.assert_close(back(x), expected, rtol=1e-4, atol=1e-5)


def test_analog_transformer_counts_projections_on_pcm_and_attention_digitally() -> None:
    model = analogize(nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 4, 32, batch_first=True), 1,
                                            enable_nested_tensor=False), "ideal").eval()
    counter = WorkloadCounter(model)
    counter.start("count", track_backward=False)
    with torch.no_grad():
        model(torch.randn(2, 6, 16))
    counter.remove()
    counts, infos = counter.counts["count"], counter.infos
    assert infos["layers.0.self_attn.in_proj"].kind == "analog"
    assert counts["layers.0.self_attn.in_proj"].forward.macs == 2 * 6 * 16 * 48
    assert counts["layers.0.self_attn.out_proj"].forward.macs == 2 * 6 * 16 * 16
    assert infos["layers.0.self_attn"].kind == "digital"
    assert counts["layers.0.self_attn"].forward.macs == 2 * 2 * 6 * 6 * 16  # Q K^T and A V only


def test_unsupported_options_are_refused() -> None:
    with pytest.raises(ValueError, match="add_bias_kv"):
        AnalogMultiheadAttention.from_torch(nn.MultiheadAttention(8, 2, add_bias_kv=True))
    with pytest.raises(ValueError, match="divisible"):
        AnalogMultiheadAttention(10, 3)

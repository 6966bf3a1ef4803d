"""AnalogLSTM / AnalogGRU / AnalogRNN: torch's recurrent layers with their matrices on PCM (issue 14)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from memtorch_power.energy.counting import WorkloadCounter
from memtorch_power.nn import AnalogGRU, AnalogLSTM, AnalogRNN, analog_layers, analogize, digitalize

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=True)
KINDS = {"lstm": (nn.LSTM, AnalogLSTM), "gru": (nn.GRU, AnalogGRU), "rnn": (nn.RNN, AnalogRNN)}


def _build(kind: str, **kwargs) -> nn.RNNBase:
    if kind == "rnn_relu":
        return nn.RNN(nonlinearity="relu", **kwargs)
    return KINDS[kind][0](**kwargs)


@SETTINGS
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn", "rnn_relu"]),
    input_size=st.integers(1, 5),
    hidden=st.integers(1, 5),
    layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    steps=st.integers(1, 4),
    batch=st.integers(1, 3),
    with_state=st.booleans(),
)
def test_matches_torch_under_ideal(kind: str, input_size: int, hidden: int, layers: int, bidirectional: bool,
                                   batch_first: bool, bias: bool, steps: int, batch: int, with_state: bool) -> None:
    torch.manual_seed(0)
    digital = _build(kind, input_size=input_size, hidden_size=hidden, num_layers=layers, bias=bias,
                     batch_first=batch_first, bidirectional=bidirectional).eval()
    analog = analogize(digital, "ideal").eval()
    x = torch.randn((batch, steps, input_size) if batch_first else (steps, batch, input_size))
    hx = None
    if with_state:
        h = torch.randn(layers * (2 if bidirectional else 1), batch, hidden)
        hx = (h, torch.randn_like(h)) if kind == "lstm" else h
    out_a, state_a = analog(x, hx)
    out_d, state_d = digital(x, hx)
    torch.testing.assert_close(out_a, out_d, rtol=1e-4, atol=1e-5)
    for a, d in zip(state_a if kind == "lstm" else (state_a,), state_d if kind == "lstm" else (state_d,)):
        torch.testing.assert_close(a, d, rtol=1e-4, atol=1e-5)


def test_unbatched_input_and_gradients_match_torch() -> None:
    torch.manual_seed(1)
    digital = nn.LSTM(3, 4, num_layers=2)
    analog = analogize(digital, "ideal")
    x_a = torch.randn(5, 3, requires_grad=True)
    x_d = x_a.detach().clone().requires_grad_(True)
    (out_a, (h_a, _)), (out_d, (h_d, _)) = analog(x_a), digital(x_d)
    torch.testing.assert_close(out_a, out_d, rtol=1e-4, atol=1e-5)
    assert h_a.shape == h_d.shape == (2, 4)
    upstream = torch.randn_like(out_d)
    (out_a * upstream).sum().backward()
    (out_d * upstream).sum().backward()
    torch.testing.assert_close(x_a.grad, x_d.grad, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_round_trip_through_digitalize_keeps_the_weights(kind: str) -> None:
    torch.manual_seed(2)
    digital = KINDS[kind][0](3, 4, num_layers=2, bidirectional=True, batch_first=True).eval()
    analog = analogize(nn.Sequential(digital), "ideal")
    assert isinstance(analog[0], KINDS[kind][1])
    assert len(analog_layers(analog)) == 2 * 2 * 2  # ih and hh, per layer and direction
    back = digitalize(analog)
    assert type(back[0]) is KINDS[kind][0]
    for name, value in digital.state_dict().items():
        torch.testing.assert_close(back[0].state_dict()[name], value)


def test_recurrent_matrices_are_counted_on_pcm_and_the_cell_digitally() -> None:
    model = analogize(nn.Sequential(nn.LSTM(8, 16)), "ideal").eval()
    counter = WorkloadCounter(model)
    counter.start("count", track_backward=False)
    with torch.no_grad():
        model(torch.randn(6, 2, 8))
    counter.remove()
    counts = counter.counts["count"]
    assert counts["0.ih.0"].forward.macs == 6 * 2 * 8 * 64  # every step's input projection
    assert counts["0.hh.0"].forward.macs == 6 * 2 * 16 * 64  # one recurrent MVM per step
    assert counts["0.hh.0"].forward.mvms == 6 * 2
    assert counts["0"].forward.ops > 0 and counts["0"].forward.macs == 0  # gates on the periphery


def test_unsupported_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="proj_size"):
        AnalogLSTM.from_torch(nn.LSTM(4, 4, proj_size=2))
    lstm = AnalogLSTM(4, 4)
    packed = nn.utils.rnn.pack_sequence([torch.randn(3, 4), torch.randn(2, 4)])
    with pytest.raises(TypeError, match="packed"):
        lstm(packed)
    with pytest.raises(ValueError, match="3 features, expected 4"):
        lstm(torch.randn(5, 2, 3))

"""MeteredFedAvg: failed or corrupt replies are rejected, the rest averaged by examples."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from flwr.app import ConfigRecord, Error, Message, MetricRecord, RecordDict
from flwr.supercore.task_identity import TaskIdentity

from memtorch_power.federated.history import round_record
from memtorch_power.federated.radio import BLE
from memtorch_power.federated.strategy import MeteredFedAvg, RoundTraffic, error_summary, weighted_average
from memtorch_power.federated.wire import from_array_record, to_array_record, wire_bytes

REFERENCE = {"w": np.zeros((2, 3), np.float32), "b": np.zeros(3, np.float32), "n": np.array(0, np.int64)}


@pytest.fixture(autouse=True)
def _task_identity() -> Iterator[None]:
    saved = (TaskIdentity._run_id, TaskIdentity._task_id, TaskIdentity._node_id)
    TaskIdentity.run_id, TaskIdentity.task_id, TaskIdentity.node_id = 1, 1, 1
    yield
    TaskIdentity._run_id, TaskIdentity._task_id, TaskIdentity._node_id = saved


def _instruction(node: int) -> Message:
    return Message(content=RecordDict({"config": ConfigRecord({"x": 1})}), dst_node_id=node, message_type="train")


def _reply(node: int, value: float, examples: int, **changes: np.ndarray) -> Message:
    arrays = {"w": np.full((2, 3), value, np.float32), "b": np.full(3, value, np.float32), "n": np.array(int(value))}
    arrays.update(changes)
    content = RecordDict({"arrays": to_array_record(arrays),
                          "metrics": MetricRecord({"num-examples": examples, "train-loss": value, "train-j": 1.0})})
    return Message(content=content, reply_to=_instruction(node))


def test_bad_replies_are_rejected_and_good_ones_averaged() -> None:
    strategy = MeteredFedAvg()
    strategy.global_arrays = {k: v.copy() for k, v in REFERENCE.items()}
    strategy.traffic.append(RoundTraffic(1, down_bytes={10: 5, 11: 5, 12: 5, 13: 5, 14: 5}))
    replies = [
        _reply(10, 1.0, 10),
        _reply(11, 4.0, 30),
        Message(Error(code=0, reason="Traceback ...\nMessage: node crashed mid-round'>"), reply_to=_instruction(12)),
        _reply(13, 2.0, 10, w=np.full((2, 3), np.nan, np.float32)),  # corrupt update
        _reply(14, 2.0, 10, w=np.zeros((3, 3), np.float32)),  # wrong shape
    ]
    arrays, metrics = strategy.aggregate_train(1, replies)
    result = from_array_record(arrays)
    np.testing.assert_allclose(result["w"], np.full((2, 3), (1.0 * 10 + 4.0 * 30) / 40), rtol=1e-6)
    assert result["w"].dtype == np.float32 and result["n"].dtype == np.int64
    assert int(result["n"]) == round((1 * 10 + 4 * 30) / 40)
    assert metrics["nodes-ok"] == 2 and metrics["nodes-failed"] == 3
    nodes = {n.node_id: n for n in strategy.traffic[0].nodes}
    assert nodes[12].reason == "node crashed mid-round" and not nodes[12].ok
    assert "non-finite" in nodes[13].reason and "shape" in nodes[14].reason
    up = sum(wire_bytes(m.content) for m in replies if not m.has_error())
    assert strategy.traffic[0].total_up == up  # bytes up = serialised replies received
    record = round_record(strategy.traffic[0], 0.5, 1.0, BLE)
    assert record.nodes_ok == 2 and record.nodes_failed == 3 and record.train_j == 2.0
    assert record.radio_up_j == pytest.approx(up * 8 * BLE.tx_j_per_bit)


def test_no_valid_reply_keeps_the_global_model() -> None:
    strategy = MeteredFedAvg()
    strategy.global_arrays = dict(REFERENCE)
    arrays, metrics = strategy.aggregate_train(1, [Message(Error(code=0, reason="x"), reply_to=_instruction(3))])
    assert arrays is None and metrics is None


def test_weighted_average_and_error_summary() -> None:
    out = weighted_average([{"a": np.array([0.0, 2.0])}, {"a": np.array([4.0, 4.0])}], [1, 3], {"a": np.zeros(2)})
    np.testing.assert_allclose(out["a"], [3.0, 3.5])
    assert error_summary("a\nb\nException X occurred. Message: boom'>") == "boom"


def test_server_momentum_step_by_hand() -> None:
    from memtorch_power.federated.strategy import server_step

    old = {"w": np.array([1.0, 2.0], np.float32), "bn.running_var": np.array([1.0], np.float32),
           "n": np.array(4, np.int64)}
    velocity: dict[str, np.ndarray] = {}
    first = server_step(old, {"w": np.array([0.5, 2.5], np.float32), "bn.running_var": np.array([3.0], np.float32),
                              "n": np.array(6, np.int64)}, velocity, lr=1.0, momentum=0.9)
    # g = old - avg = [0.5, -0.5]; v = g; new = old - v
    np.testing.assert_allclose(first["w"], [0.5, 2.5])
    assert first["bn.running_var"][0] == 3.0 and int(first["n"]) == 6  # statistics and counters: plain average
    second = server_step(first, {"w": np.array([0.0, 3.0], np.float32), "bn.running_var": np.array([3.0], np.float32),
                                 "n": np.array(6, np.int64)}, velocity, lr=1.0, momentum=0.9)
    # g = [0.5, -0.5]; v = 0.9 * [0.5, -0.5] + g = [0.95, -0.95]; new = [0.5 - 0.95, 2.5 + 0.95]
    np.testing.assert_allclose(second["w"], [-0.45, 3.45], rtol=1e-6)
    plain = server_step(old, {"w": np.array([0.5, 2.5], np.float32), "bn.running_var": np.array([3.0], np.float32),
                              "n": np.array(6, np.int64)}, {}, lr=1.0, momentum=0.0)
    np.testing.assert_allclose(plain["w"], [0.5, 2.5])
    half = server_step(old, {"w": np.array([0.5, 2.5], np.float32), "bn.running_var": np.array([3.0], np.float32),
                             "n": np.array(6, np.int64)}, {}, lr=0.5)
    np.testing.assert_allclose(half["w"], [0.75, 2.25])

"""``MeteredFedAvg``: FedAvg that measures bytes on the wire and survives bad nodes.

* Down: the serialised size (:func:`~.wire.wire_bytes`) of every training message sent.
* Up: the serialised size of every reply received.
* Robustness: a reply that carries an error (the node crashed), lacks arrays or the
  ``num-examples`` weight, has other keys or shapes than the global model, or holds a
  non-finite value is *rejected* and logged; the others are averaged (weighted by
  ``num-examples``, accumulated in float64 and cast back to each array's dtype). With no
  valid reply the global model stays as it was. Flower's own FedAvg would abort the whole
  run on a malformed reply.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from flwr.app import ArrayRecord, ConfigRecord, Message, MetricRecord
from flwr.serverapp import Grid
from flwr.serverapp.strategy import FedAvg

from memtorch_power.federated.wire import from_array_record, to_array_record, wire_bytes

WEIGHT_KEY = "num-examples"


@dataclass
class NodeReport:
    """One node's part of a round (``ok`` False: rejected or failed, with ``reason``)."""

    node_id: int
    ok: bool
    up_bytes: int = 0
    metrics: dict[str, float] = field(default_factory=dict)
    reason: str = ""


@dataclass
class RoundTraffic:
    """Bytes of one round: ``down_bytes`` per destination node, and the node reports."""

    server_round: int
    down_bytes: dict[int, int] = field(default_factory=dict)
    nodes: list[NodeReport] = field(default_factory=list)

    @property
    def total_down(self) -> int:
        return sum(self.down_bytes.values())

    @property
    def total_up(self) -> int:
        return sum(n.up_bytes for n in self.nodes)


def error_summary(reason: str) -> str:
    """The useful line of a node's error (Flower ships the whole remote traceback)."""
    if "Message:" in reason:
        reason = reason.rsplit("Message:", 1)[1]
    lines = [line.strip(" '>") for line in reason.strip().splitlines() if line.strip(" '>")]
    return (lines[-1] if lines else "unknown error")[:300]


def _same_shape(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Equal shapes; Flower turns 0-d arrays into shape (1,), so those match () too."""
    return tuple(a) == tuple(b) or (int(np.prod(a)) == int(np.prod(b)) == 1 and len(a) <= 1 and len(b) <= 1)


def validate_reply(content: Any, reference: dict[str, np.ndarray]) -> str:
    """Why a reply's content cannot be aggregated (``""`` if it can)."""
    arrays = [r for r in content.array_records.values()]
    metrics = [r for r in content.metric_records.values()]
    if len(arrays) != 1 or len(metrics) != 1:
        return "expected exactly one ArrayRecord and one MetricRecord"
    weight = metrics[0].get(WEIGHT_KEY)
    if not isinstance(weight, (int, float)) or not weight > 0:
        return f"'{WEIGHT_KEY}' missing or not > 0"
    record = arrays[0]
    if set(record.keys()) != set(reference):
        return "array keys differ from the global model"
    for key, array in record.items():
        values = array.numpy()
        if not _same_shape(values.shape, np.shape(reference[key])):
            return f"{key} has shape {values.shape}, expected {np.shape(reference[key])}"
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            return f"{key} holds non-finite values"
    return ""


def weighted_average(arrays: list[dict[str, np.ndarray]], weights: list[float],
                     reference: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``sum_i w_i a_i / sum_i w_i`` per key in float64, cast to ``reference``'s dtypes
    (integers are rounded)."""
    total = float(sum(weights))
    out: dict[str, np.ndarray] = {}
    for key, ref in reference.items():
        acc = np.zeros(ref.shape, dtype=np.float64)
        for values, weight in zip(arrays, weights):
            acc += np.asarray(values[key], dtype=np.float64).reshape(ref.shape) * (weight / total)
        out[key] = np.rint(acc).astype(ref.dtype) if ref.dtype.kind in "iu" else acc.astype(ref.dtype)
    return out


#: arrays the server optimizer leaves at their plain average: statistics and counters, not weights
SERVER_OPTIMIZER_SKIPS = ("running_mean", "running_var", "num_batches_tracked", "input_range_update_idx")


def server_step(global_arrays: dict[str, np.ndarray], averaged: dict[str, np.ndarray],
                velocity: dict[str, np.ndarray], lr: float = 1.0, momentum: float = 0.0) -> dict[str, np.ndarray]:
    """FedAvgM's server update (Hsu et al., arXiv:1909.06335; torch ``SGD`` convention):
    pseudo-gradient ``g = global - averaged``, ``v = momentum * v + g``, ``new = global - lr * v``.

    ``velocity`` is updated in place. Batch-norm statistics, counters and integer arrays (see
    :data:`SERVER_OPTIMIZER_SKIPS`) take the plain average. With ``lr = 1`` and ``momentum = 0``
    the result is ``averaged`` itself (plain FedAvg).
    """
    out: dict[str, np.ndarray] = {}
    for key, average in averaged.items():
        old = global_arrays[key]
        if key.endswith(SERVER_OPTIMIZER_SKIPS) or old.dtype.kind not in "f":
            out[key] = average
            continue
        gradient = old.astype(np.float64) - np.asarray(average, np.float64).reshape(old.shape)
        velocity[key] = momentum * velocity[key] + gradient if key in velocity else gradient
        out[key] = (old - lr * velocity[key]).astype(old.dtype)
    return out


class MeteredFedAvg(FedAvg):
    """FedAvg (weighted by ``num-examples``) with byte metering and reply validation, and an
    optional server optimizer (FedAvgM: ``server_lr``, ``server_momentum``; see :func:`server_step`).

    Attributes:
        traffic: one :class:`RoundTraffic` per round, in order.
        global_arrays: the global model of the current round (what replies are checked against).
    """

    def __init__(self, server_lr: float = 1.0, server_momentum: float = 0.0, **kwargs: Any) -> None:
        kwargs.setdefault("fraction_evaluate", 0.0)
        super().__init__(**kwargs)
        self.traffic: list[RoundTraffic] = []
        self.global_arrays: dict[str, np.ndarray] = {}
        self.server_lr, self.server_momentum = float(server_lr), float(server_momentum)
        self.velocity: dict[str, np.ndarray] = {}

    def configure_train(self, server_round: int, arrays: ArrayRecord, config: ConfigRecord,
                        grid: Grid) -> Iterable[Message]:
        messages = list(super().configure_train(server_round, arrays, config, grid))
        self.global_arrays = from_array_record(arrays)
        traffic = RoundTraffic(server_round)
        for message in messages:
            traffic.down_bytes[int(message.metadata.dst_node_id)] = wire_bytes(message.content)
        self.traffic.append(traffic)
        return messages

    def aggregate_train(self, server_round: int,
                        replies: Iterable[Message]) -> tuple[ArrayRecord | None, MetricRecord | None]:
        traffic = next((t for t in self.traffic if t.server_round == server_round), None)
        if traffic is None:
            traffic = RoundTraffic(server_round)
            self.traffic.append(traffic)
        good_arrays: list[dict[str, np.ndarray]] = []
        weights: list[float] = []
        for message in replies:
            node = int(message.metadata.src_node_id)
            if message.has_error():
                traffic.nodes.append(NodeReport(node, False, reason=error_summary(str(message.error.reason))))
                continue
            up = wire_bytes(message.content)
            metrics = {k: float(v) for r in message.content.metric_records.values() for k, v in r.items()
                       if isinstance(v, (int, float))}
            reason = validate_reply(message.content, self.global_arrays)
            traffic.nodes.append(NodeReport(node, not reason, up, metrics, reason))
            if reason:
                continue
            good_arrays.append(from_array_record(next(iter(message.content.array_records.values()))))
            weights.append(metrics[WEIGHT_KEY])
        if not good_arrays:
            return None, None
        averaged = weighted_average(good_arrays, weights, self.global_arrays)
        if self.server_lr != 1.0 or self.server_momentum != 0.0:
            averaged = server_step(self.global_arrays, averaged, self.velocity, self.server_lr, self.server_momentum)
        summary = {
            WEIGHT_KEY: float(sum(weights)),
            "nodes-ok": float(len(good_arrays)),
            "nodes-failed": float(sum(1 for n in traffic.nodes if not n.ok)),
        }
        losses = [(n.metrics.get("train-loss", math.nan), n.metrics[WEIGHT_KEY]) for n in traffic.nodes if n.ok]
        finite = [(loss, w) for loss, w in losses if math.isfinite(loss)]
        if finite:
            summary["train-loss"] = sum(loss * w for loss, w in finite) / sum(w for _, w in finite)
        return to_array_record(averaged), MetricRecord(summary)


__all__ = ["MeteredFedAvg", "SERVER_OPTIMIZER_SKIPS", "error_summary", "server_step", "NodeReport", "RoundTraffic", "WEIGHT_KEY", "validate_reply", "weighted_average"]

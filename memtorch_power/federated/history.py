"""Per-round records of a federated run: accuracy, bytes and energy (J), and their totals.

Energy per round = on every node that returned an update: its local training (``train-j``)
and the re-programming of the received global weights into its PCM arrays (``program-j``);
plus the radio: receiving the global model (``rx_j_per_bit`` x bits down, every node that was
sent it) and sending the update (``tx_j_per_bit`` x bits up). A node that failed mid-round
reported nothing: its partial training and programming are not counted (its download is).
The server's aggregation and evaluation are not counted.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from memtorch_power.federated.radio import RadioLink
from memtorch_power.federated.strategy import RoundTraffic


@dataclass
class RoundRecord:
    """One federated round (round 0: the initial model, before any training).

    Attributes:
        round: server round; test_acc, test_loss: server-side evaluation of the global model.
        nodes_sampled, nodes_ok, nodes_failed: nodes sent the model / aggregated / rejected.
        failures: the reason of each failed node.
        down_bytes, up_bytes: serialised bytes sent to / received from the nodes.
        examples: training items of the aggregated nodes (FedAvg weights).
        train_j, program_j: node training and re-programming energy, J.
        radio_down_j, radio_up_j: node radio energy to receive / send, J.
    """

    round: int
    test_acc: float
    test_loss: float
    nodes_sampled: int = 0
    nodes_ok: int = 0
    nodes_failed: int = 0
    failures: list[str] = field(default_factory=list)
    down_bytes: int = 0
    up_bytes: int = 0
    examples: int = 0
    train_j: float = 0.0
    program_j: float = 0.0
    radio_down_j: float = 0.0
    radio_up_j: float = 0.0

    @property
    def radio_j(self) -> float:
        return self.radio_down_j + self.radio_up_j

    @property
    def total_j(self) -> float:
        """All node energy of the round, J."""
        return self.train_j + self.program_j + self.radio_j

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["radio_j"] = self.radio_j
        out["total_j"] = self.total_j
        return out


def round_record(traffic: RoundTraffic, test_acc: float, test_loss: float, link: RadioLink) -> RoundRecord:
    """Turn a round's measured traffic and node metrics into a :class:`RoundRecord`."""
    ok = [n for n in traffic.nodes if n.ok]
    failed_nodes = {n.node_id for n in traffic.nodes if not n.ok}
    silent = set(traffic.down_bytes) - {n.node_id for n in traffic.nodes}  # no reply at all
    return RoundRecord(
        round=traffic.server_round,
        test_acc=test_acc,
        test_loss=test_loss,
        nodes_sampled=len(traffic.down_bytes),
        nodes_ok=len(ok),
        nodes_failed=len(failed_nodes | silent),
        failures=[n.reason for n in traffic.nodes if not n.ok] + ["no reply (timeout)"] * len(silent),
        down_bytes=traffic.total_down,
        up_bytes=traffic.total_up,
        examples=int(sum(n.metrics.get("num-examples", 0) for n in ok)),
        train_j=math.fsum(n.metrics.get("train-j", 0.0) for n in ok),
        program_j=math.fsum(n.metrics.get("program-j", 0.0) for n in ok),
        radio_down_j=link.rx_energy_j(traffic.total_down),
        radio_up_j=link.tx_energy_j(traffic.total_up),
    )


@dataclass
class FederatedHistory:
    """A whole federated run.

    Attributes:
        rounds: round 0 (initial evaluation) then one record per round.
        raw_audio_bytes: per partition id, bytes of the ``.wav`` files each node holds.
        model_bytes: serialised bytes of one global model message (arrays + config).
        array_bytes: bytes of the serialised arrays alone (``.npy`` data).
        parameters: number of array elements sent per model.
        link: name of the radio link.
    """

    rounds: list[RoundRecord]
    raw_audio_bytes: dict[int, int] = field(default_factory=dict)
    model_bytes: int = 0
    array_bytes: int = 0
    parameters: int = 0
    link: str = ""

    def totals(self) -> dict[str, float]:
        """Sums over rounds (bytes, J) and the final accuracy."""
        keys = ("down_bytes", "up_bytes", "train_j", "program_j", "radio_down_j", "radio_up_j")
        out: dict[str, float] = {k: sum(getattr(r, k) for r in self.rounds) for k in keys}
        out["radio_j"] = out["radio_down_j"] + out["radio_up_j"]
        out["total_j"] = out["train_j"] + out["program_j"] + out["radio_j"]
        out["raw_audio_bytes"] = float(sum(self.raw_audio_bytes.values()))
        out["final_test_acc"] = self.rounds[-1].test_acc if self.rounds else math.nan
        return out

    def cumulative_j(self) -> list[float]:
        """Cumulative node energy (J) after each record (round 0 first)."""
        total, out = 0.0, []
        for record in self.rounds:
            total += record.total_j
            out.append(total)
        return out

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "FederatedHistory":
        """Inverse of :meth:`to_dict` (derived entries such as ``totals`` are recomputed)."""
        names = {f.name for f in fields(RoundRecord)}
        return cls(
            rounds=[RoundRecord(**{k: v for k, v in r.items() if k in names}) for r in values["rounds"]],
            raw_audio_bytes={int(k): int(v) for k, v in values.get("raw_audio_bytes", {}).items()},
            model_bytes=int(values.get("model_bytes", 0)), array_bytes=int(values.get("array_bytes", 0)),
            parameters=int(values.get("parameters", 0)), link=str(values.get("link", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": [r.as_dict() for r in self.rounds],
            "raw_audio_bytes": {str(k): v for k, v in self.raw_audio_bytes.items()},
            "model_bytes": self.model_bytes,
            "array_bytes": self.array_bytes,
            "parameters": self.parameters,
            "link": self.link,
            "totals": self.totals(),
        }


__all__ = ["FederatedHistory", "RoundRecord", "round_record"]

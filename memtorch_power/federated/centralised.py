"""The centralised baseline: every node uploads its raw audio, the cloud trains on all of it.

Same model, preset and recipe as the federated run, trained on the pooled clips of all
nodes for the same number of epochs (``rounds x local_epochs``), evaluated after every
``local_epochs`` epochs so that its curve lines up with the federated rounds. Its energy:

* upload: each node sends its ``.wav`` files once (radio ``tx_j_per_bit``), at round 0;
* training: the estimator's workload priced on the cloud's digital profile
  (``cloud_digital_profile``, a GPU by default: a cloud trains digitally), per batch,
  times the batches actually trained.

The accuracy is that of the simulated preset (like for like with the federated nodes).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import torch
from tqdm.auto import tqdm

from memtorch_power.federated.config import FederatedConfig, round_analog_lr, round_lr
from memtorch_power.federated.costs import training_energy_j
from memtorch_power.federated.data import load_node_data, load_test_data
from memtorch_power.federated.radio import get_link
from memtorch_power.federated.training import evaluate, train_local
from memtorch_power.federated.weights import build_node_model


@dataclass
class CentralRecord:
    """One round-equivalent of the centralised run (round 0: before training).

    Attributes: round; test_acc, test_loss; train_j (J, cloud); upload_j (J, node radio).
    """

    round: int
    test_acc: float
    test_loss: float
    train_j: float = 0.0
    upload_j: float = 0.0

    @property
    def total_j(self) -> float:
        return self.train_j + self.upload_j


@dataclass
class CentralisedHistory:
    """The centralised run: records, the raw audio uploaded (bytes) and the profile used."""

    rounds: list[CentralRecord]
    raw_audio_bytes: int
    cloud_profile: str
    examples: int
    notes: list[str] = field(default_factory=list)

    def cumulative_j(self) -> list[float]:
        """Cumulative energy (J) after each record."""
        out, total = [], 0.0
        for record in self.rounds:
            total += record.total_j
            out.append(total)
        return out

    def totals(self) -> dict[str, float]:
        train = math.fsum(r.train_j for r in self.rounds)
        upload = math.fsum(r.upload_j for r in self.rounds)
        return {
            "raw_audio_bytes": float(self.raw_audio_bytes), "upload_j": upload, "train_j": train,
            "total_j": train + upload, "final_test_acc": self.rounds[-1].test_acc,
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "CentralisedHistory":
        """Inverse of :meth:`to_dict` (``totals`` and ``total_j`` are recomputed)."""
        names = {f.name for f in fields(CentralRecord)}
        return cls(rounds=[CentralRecord(**{k: v for k, v in r.items() if k in names}) for r in values["rounds"]],
                   raw_audio_bytes=int(values["raw_audio_bytes"]), cloud_profile=str(values["cloud_profile"]),
                   examples=int(values["examples"]), notes=list(values.get("notes", [])))

    def to_dict(self) -> dict[str, Any]:
        return {
            "rounds": [dict(asdict(r), total_j=r.total_j) for r in self.rounds],
            "raw_audio_bytes": self.raw_audio_bytes, "cloud_profile": self.cloud_profile,
            "examples": self.examples, "notes": self.notes, "totals": self.totals(),
        }


def run_centralised(cfg: FederatedConfig, progress: bool = True) -> CentralisedHistory:
    """Train ``cfg``'s model on the pooled data of all ``cfg.num_nodes`` partitions."""
    link = get_link(cfg.link)
    parts = [load_node_data(cfg, p, cfg.num_nodes) for p in range(cfg.num_nodes)]
    x = torch.cat([p.x for p in parts])
    y = torch.cat([p.y for p in parts])
    raw = sum(p.raw_audio_bytes for p in parts)
    test = load_test_data(cfg)
    model = build_node_model(cfg)
    records = [CentralRecord(0, *evaluate(model, test.x, test.y, cfg.eval_batch_size), 0.0, link.tx_energy_j(raw))]
    for server_round in tqdm(range(1, cfg.rounds + 1), desc="centralised baseline", disable=not progress):
        result = train_local(model, x, y, cfg.local_epochs, cfg.batch_size, round_lr(cfg, server_round), cfg.optimizer,
                             cfg.momentum, seed=cfg.seed * 1000 + server_round * 31,
                             analog_lr=round_analog_lr(cfg, server_round))
        train_j = training_energy_j(model, tuple(x.shape[1:]), result.batch_sizes, cfg.analog_profile,
                                    cfg.cloud_digital_profile, side="digital")
        records.append(CentralRecord(server_round, *evaluate(model, test.x, test.y, cfg.eval_batch_size), train_j))
    notes = [
        f"raw audio uploaded once over '{link.name}' ({raw} bytes of .wav files)",
        f"training priced on the digital profile '{cfg.cloud_digital_profile}' (cloud)",
    ]
    return CentralisedHistory(records, raw, cfg.cloud_digital_profile, len(y), notes)


__all__ = ["CentralRecord", "CentralisedHistory", "run_centralised"]

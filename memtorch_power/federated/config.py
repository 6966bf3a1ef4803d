"""``FederatedConfig``: every knob of a federated keyword-spotting run, in one typed record.

The same record drives the Flower simulation (``run_federated``), the deployment-engine apps
(read from the Flower app's ``[tool.flwr.app.config]``, keys with dashes) and the YAML of
``recipes/federated_kws.py`` (keys with underscores). The server sends it to the nodes as one
JSON string inside every training message, so nodes need no configuration of their own
beyond their partition (``partition-id``/``num-partitions``) and, optionally, ``data-root``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping

import torch
import yaml

from memtorch_power.kws.data_root import DATA_ENV_VAR, default_data_root
from memtorch_power.presets import get_preset

PRESETS_ALLOWED = ("digital", "pcm_hwa", "pcm_training", "pcm_mixed_precision", "pcm_tiki_taka", "pcm_tiki_taka_adapt",
                   "pcm_fast_weight", "ideal")
PARTITIONS = ("speaker", "iid")
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class FederatedConfig:
    """A federated (and matching centralised) keyword-spotting experiment.

    Attributes:
        data_root: Speech Commands folder (None: :func:`default_data_root`).
        protocol: ``"12"``, ``"35"`` or ``"36"`` classes (:mod:`memtorch_power.kws.labels`).
        features: ``"mfcc"`` or ``"logmel"``.
        n_features: MFCC coefficients or mel bands per frame.
        partition: ``"speaker"`` (each node holds whole speakers: natural non-IID) or ``"iid"``.
        num_nodes: edge nodes (SuperNodes).
        rounds: federated rounds.
        local_epochs: epochs each node trains per round.
        batch_size: examples per batch.
        model: ``"dscnn"``, ``"res8"`` or ``"bcresnet"``.
        model_kwargs: constructor arguments of the model (channels ...).
        init_from: start from trained digital weights instead of a random init: a shipped model's
            name (``dscnn_logmel40``, see :mod:`memtorch_power.kws.pretrained`), a digital
            KeywordSpotter checkpoint or a digital ``state_dict`` (such as the ``global_model.pt`` a
            federated run writes).
            None: seeded random init.
        input_range_std_alpha: hardware-aware presets: initialise the tiles' input ranges from
            the first training batches at this many standard deviations (None: the preset's 3;
            10 keeps a trained model's activations unclipped, see ``nn.set_input_range_init``).
        preset: ``"digital"`` or a PCM preset (``pcm_hwa``, ``pcm_training`` ...).
        exclude: module-name patterns kept digital.
        exclude_depthwise: keep grouped (depthwise) convolutions digital (they are very slow
            to simulate).
        optimizer: local optimizer, ``"sgd"``, ``"adam"`` or ``"adamw"`` (see
            :func:`memtorch_power.optim.optimizer_for`).
        lr: learning rate of the local optimizer (its peak under a round schedule).
        analog_lr: learning rate of the analog tiles' weights when it should differ from ``lr``
            (the pulsed update of in-memory presets such as ``pcm_tiki_taka_adapt``, see
            :func:`memtorch_power.optim.optimizer_for`); None: ``lr``. Follows ``lr_schedule``.
        lr_schedule: the local learning rate across rounds: ``"constant"`` (every round trains at
            ``lr``) or ``"cosine"`` (round ``r`` of ``R`` trains at ``lr * (1 + cos(pi (r-1) / R)) / 2``,
            the cosine annealing of Loshchilov & Hutter, arXiv:1608.03983, stepped once per round;
            the centralised baseline follows the same schedule), see :func:`round_lr`.
        momentum: SGD momentum of the local optimizer.
        server_lr: server learning rate of the aggregation (1: plain FedAvg).
        server_momentum: server momentum of the aggregation (0: plain FedAvg; 0.9 with
            ``server_lr`` 1 is FedAvgM as in Hsu et al., arXiv:1909.06335).
        max_clips_per_node: cap on the clips a node holds (None: all of its speakers' clips).
        max_test_clips: cap on the test clips of server-side evaluation (None: all).
        silence_share: silence items per keyword clip.
        unknown_share: unknown-word items per keyword clip.
        seed: seed of the partition, model init and shuffles.
        analog_profile: energy profile of the PCM arrays (``hermes`` ...).
        edge_digital_profile: digital profile of a node's co-processor (``cortex_m4``).
        cloud_digital_profile: digital profile of the cloud (centralised training).
        link: radio link of the nodes (``ble`` or ``wifi``, see :mod:`.radio`).
        centralised: also train the centralised baseline.
        fail_node: fault injection: partition ``fail_node`` raises half-way through its local
            training in round ``fail_round`` (-1: no node fails).
        fail_round: the round in which ``fail_node`` fails (0: never).
        eval_batch_size: batch size of server-side evaluation.
        round_timeout_s: seconds the server waits for a round's replies (a silent node
            counts as failed).
        run_dir: folder of the reports (None: ``runs/federated_kws/<YYYYmmdd-HHMMSS>``).
        accelerator: where nodes, server and the centralised baseline compute: ``"cpu"``, or
            ``"gpu"``/``"cuda"`` for the pure-PyTorch presets (``pcm_hwa``, ``ideal``, digital);
            the pulsed presets need ``"cpu"``.
    """

    data_root: str | None = None
    protocol: str = "12"
    features: str = "mfcc"
    n_features: int = 40
    partition: str = "speaker"
    num_nodes: int = 3
    rounds: int = 3
    local_epochs: int = 1
    batch_size: int = 32
    model: str = "dscnn"
    model_kwargs: dict[str, Any] = field(default_factory=dict)
    init_from: str | None = None
    input_range_std_alpha: float | None = None
    preset: str = "pcm_hwa"
    exclude: list[str] = field(default_factory=list)
    exclude_depthwise: bool = True
    optimizer: str = "sgd"
    lr: float = 0.05
    analog_lr: float | None = None
    lr_schedule: str = "constant"
    momentum: float = 0.9
    server_lr: float = 1.0
    server_momentum: float = 0.0
    max_clips_per_node: int | None = None
    max_test_clips: int | None = None
    silence_share: float = 0.1
    unknown_share: float = 0.1
    seed: int = 0
    analog_profile: str = "hermes"
    edge_digital_profile: str = "cortex_m4"
    cloud_digital_profile: str = "a100_fp16"
    link: str = "ble"
    centralised: bool = True
    fail_node: int = -1
    fail_round: int = 0
    eval_batch_size: int = 256
    round_timeout_s: float = 3600.0
    run_dir: str | None = None
    accelerator: str = "cpu"

    def __post_init__(self) -> None:
        self.protocol = str(self.protocol)
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        """Raise ``ValueError`` naming the first invalid field."""
        if self.preset not in PRESETS_ALLOWED:
            raise ValueError(f"preset must be one of {PRESETS_ALLOWED}, got {self.preset!r}")
        if self.accelerator not in ("cpu", "gpu", "cuda"):
            raise ValueError(f"accelerator must be 'cpu', 'gpu' or 'cuda', got {self.accelerator!r}")
        if self.preset != "digital":
            get_preset(self.preset).check_device(self.accelerator)
        if self.accelerator != "cpu" and not torch.cuda.is_available():
            raise ValueError(f"accelerator {self.accelerator!r}: no CUDA device on this machine")
        if self.partition not in PARTITIONS:
            raise ValueError(f"partition must be one of {PARTITIONS}, got {self.partition!r}")
        for name in ("num_nodes", "rounds", "local_epochs", "batch_size", "n_features", "eval_batch_size"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_clips_per_node", "max_test_clips"):
            value = getattr(self, name)
            if value is not None and int(value) < 1:
                raise ValueError(f"{name} must be >= 1 or None, got {value}")
        if not self.round_timeout_s > 0:
            raise ValueError(f"round_timeout_s must be > 0, got {self.round_timeout_s}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        if self.analog_lr is not None and not self.analog_lr > 0:
            raise ValueError(f"analog_lr must be > 0 or None, got {self.analog_lr}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule must be one of {LR_SCHEDULES}, got {self.lr_schedule!r}")
        if not self.server_lr > 0:
            raise ValueError(f"server_lr must be > 0, got {self.server_lr}")
        if not 0.0 <= self.server_momentum < 1.0:
            raise ValueError(f"server_momentum must be in [0, 1), got {self.server_momentum}")
        if self.input_range_std_alpha is not None and not self.input_range_std_alpha > 0:
            raise ValueError(f"input_range_std_alpha must be > 0 or None, got {self.input_range_std_alpha}")
        if self.input_range_std_alpha is not None and self.preset == "digital":
            raise ValueError("input_range_std_alpha needs a hardware-aware preset such as 'pcm_hwa', not 'digital'")

    @property
    def resolved_data_root(self) -> str:
        """``data_root`` or :func:`default_data_root`."""
        return self.data_root or default_data_root()

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (JSON/YAML-ready)."""
        return asdict(self)

    def to_json(self) -> str:
        """Compact JSON (what crosses the wire inside each training message)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_dict(cls, values: Mapping[str, Any]) -> "FederatedConfig":
        """Build from a mapping with underscore or dash keys; unknown keys raise ``ValueError``."""
        known = {f.name for f in dataclasses.fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in values.items():
            name = str(key).replace("-", "_")
            if name not in known:
                raise ValueError(f"unknown federated config key {key!r}; known: {sorted(known)}")
            kwargs[name] = value
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> "FederatedConfig":
        """Inverse of :meth:`to_json`."""
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str], **overrides: Any) -> "FederatedConfig":
        """Read a YAML file (a mapping, optionally under a top-level ``federated:`` key)."""
        with open(path, encoding="utf-8") as handle:
            values = yaml.safe_load(handle) or {}
        values = values.get("federated", values)
        values.update(overrides)
        return cls.from_dict(values)

    @classmethod
    def from_run_config(cls, run_config: Mapping[str, Any]) -> "FederatedConfig":
        """Build from a Flower ``run_config`` (TOML scalars only): ``exclude`` is a
        comma-separated string, ``model-kwargs`` a JSON object string, ``""``/``"none"``
        mean None, and ``-1`` means None for the ``max-*`` caps."""
        values: dict[str, Any] = {}
        for key, value in run_config.items():
            name = str(key).replace("-", "_")
            if isinstance(value, str) and value.strip().lower() in ("", "none", "null"):
                value = None
            if name == "exclude":
                value = [p.strip() for p in (value or "").split(",") if p.strip()]
            elif name == "model_kwargs":
                value = json.loads(value) if value else {}
            elif name in ("max_clips_per_node", "max_test_clips") and value is not None and int(value) < 0:
                value = None
            values[name] = value
        return cls.from_dict(values)

    def to_run_config(self) -> dict[str, str | int | float | bool]:
        """Inverse of :meth:`from_run_config`: TOML scalars with dashed keys (None as ``""``,
        ``-1`` for the ``max-*`` caps, ``exclude`` comma-separated, ``model-kwargs`` JSON)."""
        out: dict[str, str | int | float | bool] = {}
        for name, value in self.to_dict().items():
            if name == "exclude":
                value = ",".join(value)
            elif name == "model_kwargs":
                value = json.dumps(value, sort_keys=True)
            elif value is None:
                value = -1 if name in ("max_clips_per_node", "max_test_clips") else ""
            out[name.replace("_", "-")] = value
        return out


def round_lr(cfg: FederatedConfig, server_round: int) -> float:
    """The local learning rate of round ``server_round`` (1 .. ``cfg.rounds``) under
    ``cfg.lr_schedule``: ``cfg.lr`` throughout (constant), or cosine-annealed from ``cfg.lr`` in
    round 1 towards 0 after round ``cfg.rounds`` (``lr * (1 + cos(pi (r - 1) / R)) / 2``).

    Raises:
        ValueError: ``server_round`` outside 1 .. ``cfg.rounds``.
    """
    return float(cfg.lr) * _round_factor(cfg, server_round)


def round_analog_lr(cfg: FederatedConfig, server_round: int) -> float | None:
    """The analog tiles' learning rate of round ``server_round``: ``cfg.analog_lr`` under
    ``cfg.lr_schedule`` as :func:`round_lr`, or None (the tiles follow :func:`round_lr`)."""
    factor = _round_factor(cfg, server_round)
    return None if cfg.analog_lr is None else float(cfg.analog_lr) * factor


def _round_factor(cfg: FederatedConfig, server_round: int) -> float:
    if not 1 <= server_round <= cfg.rounds:
        raise ValueError(f"server_round must be in 1..{cfg.rounds}, got {server_round}")
    if cfg.lr_schedule == "constant":
        return 1.0
    return 0.5 * (1.0 + math.cos(math.pi * (server_round - 1) / cfg.rounds))


__all__ = ["DATA_ENV_VAR", "FederatedConfig", "LR_SCHEDULES", "PARTITIONS", "PRESETS_ALLOWED", "default_data_root",
           "round_analog_lr", "round_lr"]

"""The Flower ``ClientApp`` of an edge node: ``memtorch_power.federated.client_app:app``.

On every training message the node

1. reads the experiment (:class:`FederatedConfig` as JSON in ``config["experiment"]``) and
   its identity from ``context.node_config`` (``partition-id``, ``num-partitions``; an
   optional ``data-root`` overrides the data folder on that machine),
2. writes the received global arrays into its model: the analog weights into its PCM arrays
   (the re-programming whose energy it reports as ``program-j``),
3. trains ``local_epochs`` epochs on its own clips and prices them with the energy
   estimator (``train-j``), then
4. replies with its arrays and a ``MetricRecord`` (``num-examples`` weights FedAvg).

Models and features are cached per process, so a Ray actor or a SuperNode keeps them
between rounds.
"""

from __future__ import annotations

from flwr.app import ConfigRecord, Context, Message, MetricRecord, RecordDict
from flwr.clientapp import ClientApp
from torch import nn

from memtorch_power.federated.config import FederatedConfig, round_analog_lr, round_lr
from memtorch_power.federated.costs import reprogramming_energy_j, training_energy_j
from memtorch_power.federated.data import load_node_data
from memtorch_power.federated.training import train_local
from memtorch_power.federated.weights import build_node_model, load_arrays, model_arrays
from memtorch_power.federated.wire import from_array_record, to_array_record

#: Key of the experiment JSON inside the training message's ConfigRecord.
EXPERIMENT_KEY = "experiment"

app = ClientApp()

_MODELS: dict[tuple[str, int], nn.Module] = {}


def node_identity(context: Context) -> tuple[int, int, str | None]:
    """``(partition_id, num_partitions, data_root or None)`` from the node config
    (a node without ``partition-id`` holds all training clips: ``(0, 1, root)``)."""
    config = context.node_config
    root = config.get("data-root")
    if "partition-id" not in config:
        return 0, 1, str(root) if root else None
    return int(config["partition-id"]), int(config["num-partitions"]), str(root) if root else None


def _model_for(cfg: FederatedConfig, partition_id: int) -> nn.Module:
    key = (cfg.to_json(), partition_id)
    if key not in _MODELS:
        _MODELS.clear()  # one experiment at a time per process
        _MODELS[key] = build_node_model(cfg)
    return _MODELS[key]


def local_round(cfg: FederatedConfig, server_round: int, arrays: dict, partition_id: int,
                num_partitions: int, root: str | None = None) -> tuple[dict, dict[str, float]]:
    """One node's round without Flower: program ``arrays``, train, price.

    Returns:
        ``(new arrays, metrics)``; metrics hold ``num-examples``, ``train-batches``,
        ``examples-seen``, ``train-loss``, ``train-j`` (J), ``program-j`` (J),
        ``raw-audio-bytes`` (bytes), ``clips``, ``speakers``, ``partition-id``.

    Raises:
        InjectedFailure: when ``cfg`` asks this node to fail in this round.
    """
    data = load_node_data(cfg, partition_id, num_partitions, root)
    model = _model_for(cfg, partition_id)
    load_arrays(model, arrays)
    program_j = reprogramming_energy_j(model, cfg.analog_profile)
    fail = cfg.fail_node == partition_id and cfg.fail_round == server_round
    steps_per_epoch = -(-len(data) // cfg.batch_size)
    result = train_local(
        model, data.x, data.y, cfg.local_epochs, cfg.batch_size, round_lr(cfg, server_round), cfg.optimizer,
        cfg.momentum, seed=cfg.seed * 1000 + server_round * 31 + partition_id,
        fail_after_batches=max(1, steps_per_epoch * cfg.local_epochs // 2) if fail else None,
        analog_lr=round_analog_lr(cfg, server_round),
    )
    train_j = training_energy_j(model, tuple(data.x.shape[1:]), result.batch_sizes,
                                cfg.analog_profile, cfg.edge_digital_profile)
    metrics = {
        "num-examples": len(data),
        "examples-seen": result.examples,
        "train-batches": result.batches,
        "train-loss": result.mean_loss,
        "train-j": train_j,
        "program-j": program_j,
        "raw-audio-bytes": data.raw_audio_bytes,
        "clips": len(data.clips),
        "speakers": data.speakers,
        "partition-id": partition_id,
    }
    return model_arrays(model), metrics


@app.train()
def train(msg: Message, context: Context) -> Message:
    """Flower handler: program the global arrays, train locally, reply arrays + metrics."""
    config: ConfigRecord = msg.content["config"]
    cfg = FederatedConfig.from_json(str(config[EXPERIMENT_KEY]))
    partition_id, num_partitions, root = node_identity(context)
    arrays, metrics = local_round(
        cfg, int(config["server-round"]), from_array_record(msg.content["arrays"]),
        partition_id, num_partitions, root,
    )
    content = RecordDict({"arrays": to_array_record(arrays), "metrics": MetricRecord(metrics)})
    return Message(content=content, reply_to=msg)


__all__ = ["EXPERIMENT_KEY", "app", "local_round", "node_identity"]

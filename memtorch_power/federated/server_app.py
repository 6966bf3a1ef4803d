"""The Flower ``ServerApp``: ``memtorch_power.federated.server_app:app``.

:func:`run_server` runs the rounds on any Flower ``Grid`` (the simulation's or a SuperLink's):
FedAvg over all connected nodes (:class:`MeteredFedAvg`), the global model evaluated on the
test split by the server after every round. The deployment ``app`` reads its
:class:`FederatedConfig` from the run config (``[tool.flwr.app.config]`` of the Flower app,
``flwr run --run-config`` overrides), runs the rounds, the centralised baseline if asked,
and writes the report into ``run-dir`` (default ``runs/federated_kws/flower-<time>`` in the
ServerApp's working directory).
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
from flwr.app import ArrayRecord, ConfigRecord, Context, MetricRecord, RecordDict
from flwr.serverapp import Grid, ServerApp
from tqdm.auto import tqdm

from memtorch_power.federated.client_app import EXPERIMENT_KEY
from memtorch_power.federated.config import FederatedConfig
from memtorch_power.federated.data import load_test_data
from memtorch_power.federated.history import FederatedHistory, RoundRecord, round_record
from memtorch_power.federated.radio import get_link
from memtorch_power.federated.strategy import MeteredFedAvg
from memtorch_power.federated.training import evaluate
from memtorch_power.federated.weights import build_node_model, load_arrays, model_arrays
from memtorch_power.federated.wire import array_payload_bytes, from_array_record, to_array_record, wire_bytes
from memtorch_power.io import write_atomic
from memtorch_power.nn import digitalize

#: the final global model's digital state_dict, in the report folder
GLOBAL_MODEL_FILE = "global_model.pt"


def run_server(grid: Grid, cfg: FederatedConfig, progress: bool = True,
               model_path: str | Path | None = None) -> FederatedHistory:
    """Run ``cfg.rounds`` FedAvg rounds on ``grid`` and return the measured history.

    Waits until ``cfg.num_nodes`` nodes are connected; every round samples all of them. With
    ``model_path`` the final global model's digital ``state_dict`` is saved there (atomically;
    loads with ``weights_only=True``, and as ``init_from`` of another run).
    """
    link = get_link(cfg.link)
    model = build_node_model(cfg)
    initial = to_array_record(model_arrays(model))
    test = load_test_data(cfg)
    evaluations: dict[int, tuple[float, float]] = {}
    bar = tqdm(total=cfg.rounds + 1, desc="federated rounds (incl. initial eval)", disable=not progress)

    def evaluate_global(server_round: int, arrays: ArrayRecord) -> MetricRecord:
        load_arrays(model, from_array_record(arrays))
        accuracy, loss = evaluate(model, test.x, test.y, cfg.eval_batch_size)
        evaluations[server_round] = (accuracy, loss)
        bar.update(1)
        bar.set_postfix(test_acc=f"{accuracy:.3f}")
        return MetricRecord({"test-acc": accuracy, "test-loss": loss})

    strategy = MeteredFedAvg(
        server_lr=cfg.server_lr, server_momentum=cfg.server_momentum,
        fraction_train=1.0, min_train_nodes=cfg.num_nodes, min_available_nodes=cfg.num_nodes,
    )
    train_config = ConfigRecord({EXPERIMENT_KEY: cfg.to_json()})
    try:
        result = strategy.start(
            grid=grid, initial_arrays=initial, num_rounds=cfg.rounds, timeout=cfg.round_timeout_s,
            train_config=train_config, evaluate_fn=evaluate_global,
        )
    finally:
        bar.close()
    records = [RoundRecord(0, *evaluations.get(0, (float("nan"), float("nan"))))]
    for traffic in strategy.traffic:
        records.append(round_record(traffic, *evaluations.get(traffic.server_round, (float("nan"),) * 2), link))
    raw: dict[int, int] = {}
    for traffic in strategy.traffic:
        for node in traffic.nodes:
            if node.ok and "partition-id" in node.metrics:
                raw[int(node.metrics["partition-id"])] = int(node.metrics.get("raw-audio-bytes", 0))
    final = result.arrays if result.arrays is not None else initial
    if model_path is not None:
        load_arrays(model, from_array_record(final))
        state = digitalize(model).state_dict()
        write_atomic(model_path, lambda path: torch.save(state, path))
    message = RecordDict({"arrays": final, "config": ConfigRecord({EXPERIMENT_KEY: cfg.to_json(), "server-round": 0})})
    return FederatedHistory(
        rounds=records, raw_audio_bytes=raw, model_bytes=wire_bytes(message),
        array_bytes=array_payload_bytes(final),
        parameters=sum(int(a.numpy().size) for a in final.values()), link=link.name,
    )


app = ServerApp()


@app.main()
def main(grid: Grid, context: Context) -> None:
    """Entry point of ``flwr run`` (simulation runtime or deployment engine): the
    :class:`FederatedConfig` from the run config, the report into ``run-dir``. A ``progress``
    key in the run config (not a config field) turns the progress bars off when false."""
    from memtorch_power.federated.centralised import run_centralised
    from memtorch_power.federated.report import write_report

    run_config = dict(context.run_config)
    progress = bool(run_config.pop("progress", True))
    cfg = FederatedConfig.from_run_config(run_config)
    run_dir = Path(cfg.run_dir or Path("runs") / "federated_kws" / time.strftime("flower-%Y%m%d-%H%M%S"))
    history = run_server(grid, cfg, progress, model_path=run_dir / GLOBAL_MODEL_FILE)
    central = run_centralised(cfg, progress) if cfg.centralised else None
    write_report(run_dir, cfg, history, central)


__all__ = ["GLOBAL_MODEL_FILE", "app", "run_server"]

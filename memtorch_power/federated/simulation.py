"""Run a federated experiment in Flower's simulation engine (Ray), then the baseline and reports.

The same ``ClientApp`` (:mod:`.client_app`) and server loop (:func:`.server_app.run_server`)
run on Flower's deployment engine; see ``docs/edge_to_cloud.md``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from flwr.app import Context
from flwr.serverapp import Grid, ServerApp
from flwr.simulation import run_simulation

from memtorch_power.federated.centralised import CentralisedHistory, run_centralised
from memtorch_power.federated.client_app import app as client_app
from memtorch_power.federated.config import FederatedConfig
from memtorch_power.federated.history import FederatedHistory
from memtorch_power.federated.report import write_report
from memtorch_power.federated.server_app import run_server


@dataclass
class FederatedRun:
    """Result of :func:`run_federated`: the federated history, the centralised baseline
    (None if not run) and the report files written (empty without ``run_dir``)."""

    history: FederatedHistory
    central: CentralisedHistory | None = None
    paths: dict[str, Path] = field(default_factory=dict)


def backend_config(cpus_per_node: float = 1.0) -> dict:
    """Ray backend settings: ``cpus_per_node`` CPUs per simulated node (so a 2-core machine
    runs two nodes at a time; Ray sets ``OMP_NUM_THREADS`` to match), no GPU, no dashboard."""
    return {
        "client_resources": {"num_cpus": cpus_per_node, "num_gpus": 0.0},
        "init_args": {"include_dashboard": False, "logging_level": "ERROR"},
    }


def run_federated(
    cfg: FederatedConfig,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    cpus_per_node: float = 1.0,
    verbose: bool = False,
) -> FederatedRun:
    """Simulate ``cfg.num_nodes`` Flower nodes on Ray for ``cfg.rounds`` rounds.

    Then trains the centralised baseline if ``cfg.centralised`` and writes
    ``federated.{json,md,png}`` into ``run_dir`` if given.

    Raises:
        RuntimeError: if the server loop did not finish (the Flower log says why).
    """
    holder: dict[str, FederatedHistory] = {}
    server = ServerApp()

    @server.main()
    def _main(grid: Grid, context: Context) -> None:
        holder["history"] = run_server(grid, cfg, progress)

    # Ray >= 2.x warns at every start unless told how to treat num_gpus=0 (no GPU is used).
    os.environ.setdefault("RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO", "0")
    if not verbose:
        logging.getLogger("flwr").setLevel(logging.WARNING)
    run_simulation(
        server_app=server, client_app=client_app, num_supernodes=cfg.num_nodes,
        backend_config=backend_config(cpus_per_node), verbose_logging=verbose,
    )
    if "history" not in holder:
        raise RuntimeError("the federated run did not finish; see the Flower log above")
    central = run_centralised(cfg, progress) if cfg.centralised else None
    paths = write_report(run_dir, cfg, holder["history"], central) if run_dir is not None else {}
    return FederatedRun(holder["history"], central, paths)


__all__ = ["FederatedRun", "backend_config", "run_federated"]

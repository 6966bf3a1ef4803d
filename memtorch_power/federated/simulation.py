"""Run a federated experiment in Flower's simulation runtime, then read its report back.

As Flower 1.42 documents it (its Python ``run_simulation`` is deprecated): a SuperLink in
simulation mode and ``flwr run`` on a Flower App whose components are this package's
``ServerApp`` (:mod:`.server_app`, which also trains the centralised baseline and writes the
report) and ``ClientApp`` (:mod:`.client_app`); see :mod:`.flower_runtime`. The same apps run
on Flower's deployment engine (``recipes/configs/flower_app``, ``docs/edge_to_cloud.md``).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from memtorch_power.federated.centralised import CentralisedHistory
from memtorch_power.federated.config import FederatedConfig
from memtorch_power.federated.flower_runtime import flwr_run, simulation_superlink, write_flower_app
from memtorch_power.federated.history import FederatedHistory
from memtorch_power.federated.report import REPORT_FILES
from memtorch_power.federated.server_app import GLOBAL_MODEL_FILE

SERVER_APP = "memtorch_power.federated.server_app:app"
CLIENT_APP = "memtorch_power.federated.client_app:app"
#: what a run leaves in its report folder, by kind
RUN_FILES = dict(REPORT_FILES, model=GLOBAL_MODEL_FILE)


@dataclass
class FederatedRun:
    """Result of :func:`run_federated`: the federated history, the centralised baseline
    (None if not run) and the report files written (empty without ``run_dir``)."""

    history: FederatedHistory
    central: CentralisedHistory | None = None
    paths: dict[str, Path] = field(default_factory=dict)


def run_federated(
    cfg: FederatedConfig,
    run_dir: str | os.PathLike[str] | None = None,
    progress: bool = True,
    cpus_per_node: int = 1,
    verbose: bool = False,
) -> FederatedRun:
    """Simulate ``cfg.num_nodes`` Flower SuperNodes for ``cfg.rounds`` rounds (``flwr run``).

    The ServerApp trains the centralised baseline if ``cfg.centralised`` and writes
    ``federated.{json,md,png}`` and the final global model (``global_model.pt``, a digital
    ``state_dict``) into ``run_dir`` (a temporary folder, removed after, if None).
    Flower's output goes to ``run_dir/flower.log`` and, with ``verbose``, to the terminal as
    well. ``cpus_per_node`` CPUs per simulated node (a 2-core machine runs two nodes at a time).

    Raises:
        RuntimeError: the run wrote no report (the message ends with Flower's log).
    """
    workdir = Path(tempfile.mkdtemp(prefix="memtorch_power_flwr_"))
    try:
        report_dir = Path(run_dir) if run_dir is not None else workdir / "report"
        report_dir.mkdir(parents=True, exist_ok=True)
        report_json = report_dir / RUN_FILES["json"]
        report_json.unlink(missing_ok=True)  # never read back an older run's report
        run_config = dict(cfg.to_run_config(), **{"run-dir": str(report_dir.resolve()), "progress": progress})
        app = write_flower_app(workdir / "app", SERVER_APP, CLIENT_APP, run_config)
        log_path = report_dir / "flower.log"
        with simulation_superlink(workdir) as superlink:
            code = flwr_run(app, superlink, cfg.num_nodes, cpus_per_node,
                            echo=sys.stderr if verbose or progress else None, log_path=log_path)
        if not report_json.is_file():
            log = log_path.read_text(encoding="utf-8", errors="replace")[-4000:] if log_path.is_file() else ""
            raise RuntimeError(f"the federated run wrote no report (flwr run exit code {code}); Flower's log "
                               f"({log_path}):\n{log}")
        report = json.loads(report_json.read_text(encoding="utf-8"))
        history = FederatedHistory.from_dict(report["federated"])
        central = CentralisedHistory.from_dict(report["centralised"]) if report.get("centralised") else None
        paths = {key: report_dir / name for key, name in RUN_FILES.items()} if run_dir is not None else {}
        return FederatedRun(history, central, paths)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


__all__ = ["FederatedRun", "run_federated"]

"""Flower's deployment engine on loopback: SuperLink, 3 SuperNodes and `flwr run` as processes.

Opt-in (about 2 minutes on 2 cores): MEMTORCH_POWER_TEST_DEPLOYMENT=1 pytest tests/federated/test_deployment.py
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("MEMTORCH_POWER_TEST_DEPLOYMENT") != "1",
                    reason="deployment-engine test is opt-in: set MEMTORCH_POWER_TEST_DEPLOYMENT=1")
def test_deployment_engine_on_loopback(speech_root, tmp_path) -> None:
    home = tmp_path / "flwr_home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[superlink]\ndefault = "loopback"\n\n[superlink.loopback]\naddress = "127.0.0.1:8000"\ninsecure = true\n')
    env = dict(os.environ, FLWR_HOME=str(home), PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    processes: list[subprocess.Popen] = []

    def start(*args: str, log: str) -> None:
        handle = open(tmp_path / log, "w")
        processes.append(subprocess.Popen(args, env=env, stdout=handle, stderr=subprocess.STDOUT,
                                          start_new_session=True))

    try:
        start(str(BIN / "flower-superlink"), "--insecure", "--disable-runtime-dependency-installation",
              log="superlink.log")
        time.sleep(8)
        for i in range(3):
            start(str(BIN / "flower-supernode"), "--insecure", "--superlink", "127.0.0.1:8000",
                  "--port", str(9100 + i), "--node-config", f"partition-id={i} num-partitions=3",
                  log=f"node{i}.log")
        time.sleep(5)
        report = tmp_path / "report"
        overrides = f"rounds=2 centralised=false run-dir='{report}' data-root='{speech_root}' max-clips-per-node=30"
        done = subprocess.run([str(BIN / "flwr"), "run", str(REPO / "recipes/configs/flower_app"), "loopback",
                               "--stream", "--run-config", overrides],
                              env=env, capture_output=True, text=True, timeout=480)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        result = json.loads((report / "federated.json").read_text())
        rounds = result["federated"]["rounds"]
        assert [r["nodes_ok"] for r in rounds] == [0, 3, 3]
        assert rounds[1]["down_bytes"] > 0 and rounds[1]["up_bytes"] > 0
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

"""Flower's simulation runtime the way Flower 1.42 documents it: a SuperLink started with
``--simulation`` and ``flwr run <app> <connection> --stream``.

:func:`simulation_superlink` starts a private ``flower-superlink --simulation`` on a free
loopback port (its own ``FLWR_HOME`` with one connection in ``config.toml``, no runtime
dependency installation: nothing is downloaded) and stops its process group on exit.
:func:`write_flower_app` writes a Flower App folder whose components are this package's
``ServerApp`` and ``ClientApp``; :func:`flwr_run` runs it with ``flwr run``. Nothing here
knows about keyword spotting: the run config is whatever the caller gives.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

#: where ``flower-superlink``, ``flower-superexec`` and ``flwr`` live (the running interpreter's scripts)
BIN = Path(sys.executable).parent
CONNECTION = "memtorch-power-simulation"
STARTUP_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SimulationSuperLink:
    """A running simulation SuperLink: its address, the ``FLWR_HOME`` that names it, its log file."""

    address: str
    flwr_home: Path
    log_path: Path

    def environment(self) -> dict[str, str]:
        """Environment for ``flwr`` commands that talk to this SuperLink."""
        return _environment(self.flwr_home)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(flwr_home: Path) -> dict[str, str]:
    return dict(os.environ, FLWR_HOME=str(flwr_home), FLWR_DISABLE_UPDATE_CHECK="1",
                RAY_ACCEL_ENV_VAR_OVERRIDE_ON_ZERO="0", PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")


def _healthy(address: str) -> bool:
    try:
        with urllib.request.urlopen(f"http://{address}/health", timeout=0.5) as response:  # noqa: S310 (loopback)
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def simulation_superlink(workdir: str | os.PathLike[str]) -> Iterator[SimulationSuperLink]:
    """Start ``flower-superlink --simulation`` in ``workdir`` and stop it (and its children) on exit.

    Raises:
        RuntimeError: the SuperLink exited or did not answer within ``STARTUP_TIMEOUT_S`` (the
            message ends with its log).
    """
    workdir = Path(workdir)
    home = workdir / "flwr_home"
    home.mkdir(parents=True, exist_ok=True)
    address = f"127.0.0.1:{free_port()}"
    (home / "config.toml").write_text(
        f'[superlink]\ndefault = "{CONNECTION}"\n\n[superlink.{CONNECTION}]\naddress = "{address}"\ninsecure = true\n',
        encoding="utf-8")
    log_path = workdir / "superlink.log"
    host, port = address.split(":")
    with open(log_path, "w", encoding="utf-8") as log:
        process = subprocess.Popen(
            [str(BIN / "flower-superlink"), "--insecure", "--simulation", "--isolation", "subprocess",
             "--host", host, "--port", port, "--disable-runtime-dependency-installation"],
            env=_environment(home), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=workdir)
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _healthy(address):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"flower-superlink did not start (exit code {process.poll()}); its log:\n"
                                   + _tail(log_path))
            time.sleep(0.2)
        yield SimulationSuperLink(address, home, log_path)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen) -> None:
    for sig, wait_s in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path, chars: int = 3000) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="replace")[-chars:]
    except OSError:
        return "(no log)"


def toml_value(value: object) -> str:
    """A TOML scalar: bools ``true``/``false``, numbers as written, everything else a quoted string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def write_flower_app(folder: str | os.PathLike[str], serverapp: str, clientapp: str,
                     run_config: Mapping[str, object], name: str = "memtorch-power-app") -> Path:
    """A Flower App folder (``pyproject.toml`` only: the components are importable modules).

    Args:
        folder: where to write it (created).
        serverapp, clientapp: ``module:attribute`` of the ``ServerApp`` and ``ClientApp``.
        run_config: ``[tool.flwr.app.config]`` (TOML scalars; keys as Flower spells them).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    config = "\n".join(f"{key} = {toml_value(value)}" for key, value in run_config.items())
    (folder / "pyproject.toml").write_text(f"""[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "0.1.0"
description = "written by memtorch_power.federated.flower_runtime"
license = "Apache-2.0"
dependencies = []

[tool.flwr.app]
publisher = "memtorch-power"

[tool.flwr.app.components]
serverapp = "{serverapp}"
clientapp = "{clientapp}"

[tool.flwr.app.config]
{config}
""", encoding="utf-8")
    return folder


def flwr_run(app: str | os.PathLike[str], superlink: SimulationSuperLink, num_supernodes: int,
             cpus_per_node: int = 1, echo: TextIO | None = None,
             log_path: str | os.PathLike[str] | None = None) -> int:
    """``flwr run <app> <connection> --stream`` on ``num_supernodes`` simulated SuperNodes,
    ``cpus_per_node`` CPUs each (Ray runs as many nodes at once as the CPUs allow).

    Every output line goes to ``log_path`` (if given) and ``echo`` (if given). Returns the exit code.
    """
    command = [str(BIN / "flwr"), "run", str(app), CONNECTION, "--stream",
               "--federation-config", f"num-supernodes={int(num_supernodes)} "
                                      f"client-resources-num-cpus={int(cpus_per_node)} client-resources-num-gpus=0.0"]
    log = open(log_path, "w", encoding="utf-8") if log_path is not None else None
    try:
        process = subprocess.Popen(command, env=superlink.environment(), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, errors="replace")
        assert process.stdout is not None
        for line in process.stdout:
            for sink in (log, echo):
                if sink is not None:
                    sink.write(line)
                    sink.flush()
        return process.wait()
    finally:
        if log is not None:
            log.close()


__all__ = ["SimulationSuperLink", "flwr_run", "free_port", "simulation_superlink", "toml_value", "write_flower_app"]

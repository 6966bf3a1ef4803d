"""Federated training of keyword spotters on (simulated) PCM edge nodes, with Flower.

* :class:`FederatedConfig`: the experiment; :func:`run_federated`: Flower simulation (Ray),
  centralised baseline and reports; :func:`run_centralised`: the baseline alone.
* Flower apps for the deployment engine: ``memtorch_power.federated.client_app:app`` and
  ``memtorch_power.federated.server_app:app`` (see ``docs/edge_to_cloud.md``).
* Building blocks: :mod:`.partition` (who holds which clips), :mod:`.weights` (what crosses
  the wire), :mod:`.wire` (bytes), :mod:`.radio` (J/bit), :mod:`.costs` (J of training,
  re-programming, inference), :mod:`.strategy` (metered, robust FedAvg).

Units: energies in J, sizes in bytes.

Heavy modules (Flower, Ray) are imported lazily.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from memtorch_power.federated.config import FederatedConfig, default_data_root
from memtorch_power.federated.partition import partition_by_speaker, partition_clips, partition_iid, raw_audio_bytes
from memtorch_power.federated.radio import BLE, LINKS, WIFI, RadioLink, get_link

_LAZY = {
    "run_federated": "memtorch_power.federated.simulation",
    "FederatedRun": "memtorch_power.federated.simulation",
    "run_centralised": "memtorch_power.federated.centralised",
    "CentralisedHistory": "memtorch_power.federated.centralised",
    "FederatedHistory": "memtorch_power.federated.history",
    "RoundRecord": "memtorch_power.federated.history",
    "MeteredFedAvg": "memtorch_power.federated.strategy",
    "run_server": "memtorch_power.federated.server_app",
    "write_report": "memtorch_power.federated.report",
    "model_arrays": "memtorch_power.federated.weights",
    "load_arrays": "memtorch_power.federated.weights",
    "build_node_model": "memtorch_power.federated.weights",
    "wire_bytes": "memtorch_power.federated.wire",
    "training_energy_j": "memtorch_power.federated.costs",
    "reprogramming_energy_j": "memtorch_power.federated.costs",
    "inference_energy_j": "memtorch_power.federated.costs",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BLE", "LINKS", "WIFI", "FederatedConfig", "RadioLink", "default_data_root", "get_link",
    "partition_by_speaker", "partition_clips", "partition_iid", "raw_audio_bytes", *_LAZY,
]

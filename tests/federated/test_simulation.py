"""3 nodes x 2 rounds through Flower's simulation runtime (`flwr run` on a simulation SuperLink),
one node failing mid-round."""

from __future__ import annotations

import dataclasses
import json
import os

import numpy as np
import pytest
from flwr.app import ConfigRecord, RecordDict

from memtorch_power.federated import run_federated
from memtorch_power.federated.client_app import EXPERIMENT_KEY
from memtorch_power.federated.data import node_clips
from memtorch_power.federated.weights import build_node_model, model_arrays
from memtorch_power.federated.wire import to_array_record, wire_bytes


@pytest.mark.slow
def test_federated_run_survives_a_failing_node(speech_root, tiny_config, tmp_path) -> None:
    cfg = tiny_config(fail_node=1, fail_round=2)
    run = run_federated(cfg, run_dir=tmp_path, progress=False)
    rounds = run.history.rounds
    assert [r.round for r in rounds] == [0, 1, 2]
    first, second = rounds[1], rounds[2]
    assert (first.nodes_sampled, first.nodes_ok, first.nodes_failed) == (3, 3, 0)
    assert (second.nodes_sampled, second.nodes_ok, second.nodes_failed) == (3, 2, 1)
    assert "injected failure" in second.failures[0]
    # bytes down = the serialised training message (initial arrays + experiment config) x 3 nodes
    initial = to_array_record(model_arrays(build_node_model(cfg)))
    sent = dataclasses.replace(cfg, run_dir=str(tmp_path.resolve()))  # the ServerApp's config names its report folder
    message = RecordDict({"arrays": initial, "config": ConfigRecord({EXPERIMENT_KEY: sent.to_json(), "server-round": 1})})
    assert first.down_bytes == 3 * wire_bytes(message)
    assert first.up_bytes > 0 and second.up_bytes < first.up_bytes  # only 2 replies in round 2
    # the failed node's round neither stopped the run nor poisoned the model
    assert all(np.isfinite([r.test_acc, r.test_loss]).all() for r in rounds)
    assert second.examples < first.examples
    # energy: training, re-programming and radio all counted and positive
    assert first.train_j > 0 and first.program_j > 0 and first.radio_down_j > 0 and first.radio_up_j > 0
    raw = sum(os.path.getsize(speech_root / c) for p in range(3) for c in node_clips(cfg, p, 3))
    assert run.central is not None and run.central.raw_audio_bytes == raw
    totals = run.history.totals()
    assert totals["up_bytes"] < raw  # model updates are smaller than the audio they replace
    report = json.loads((tmp_path / "federated.json").read_text())
    assert report["federated"]["rounds"][2]["nodes_failed"] == 1
    assert (tmp_path / "federated.png").stat().st_size > 0 and "| 2 |" in (tmp_path / "federated.md").read_text()
    assert "DEPRECATED" not in (tmp_path / "flower.log").read_text()  # no deprecated Flower entry point
    assert run.paths["json"] == tmp_path / "federated.json"
    # the final global model is saved as plain tensors and starts another run (init_from)
    import torch

    state = torch.load(run.paths["model"], weights_only=True)
    restarted = build_node_model(dataclasses.replace(cfg, preset="digital", init_from=str(run.paths["model"])))
    assert all(torch.equal(restarted.state_dict()[k], v) for k, v in state.items())

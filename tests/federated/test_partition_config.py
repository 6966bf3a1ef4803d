"""Partitions (speaker / IID), raw-audio bytes and the config record."""

from __future__ import annotations

import json

import pytest

from memtorch_power.federated.config import FederatedConfig, round_lr
from memtorch_power.federated.partition import (
    cap_clips,
    partition_by_speaker,
    partition_iid,
    raw_audio_bytes,
)
from memtorch_power.kws.splits import speaker_id

CLIPS = [f"{w}/{s:08x}_nohash_{i}.wav" for s in range(12) for w in ("yes", "no") for i in range(s % 4 + 1)]


def test_speaker_partition_is_disjoint_complete_and_balanced() -> None:
    nodes = partition_by_speaker(CLIPS, 3, seed=1)
    assert sorted(c for n in nodes for c in n) == sorted(CLIPS)
    speakers = [{speaker_id(c) for c in n} for n in nodes]
    assert not (speakers[0] & speakers[1] or speakers[0] & speakers[2] or speakers[1] & speakers[2])
    sizes = [len(n) for n in nodes]
    assert max(sizes) - min(sizes) <= 8  # one speaker holds at most 8 clips here
    assert partition_by_speaker(CLIPS, 3, seed=1) == nodes  # deterministic


def test_iid_partition_deals_every_clip_once() -> None:
    nodes = partition_iid(CLIPS, 4, seed=0)
    assert sorted(c for n in nodes for c in n) == sorted(CLIPS)
    assert max(map(len, nodes)) - min(map(len, nodes)) <= 1


def test_partition_errors() -> None:
    with pytest.raises(ValueError, match="speakers"):
        partition_by_speaker(CLIPS[:2], 3)
    with pytest.raises(ValueError, match="num_nodes"):
        partition_iid(CLIPS, 0)


def test_cap_and_raw_bytes(tmp_path) -> None:
    for i, size in enumerate((10, 20, 30)):
        (tmp_path / f"c{i}.wav").write_bytes(b"x" * size)
    assert raw_audio_bytes(tmp_path, ["c0.wav", "c2.wav"]) == 40
    assert len(cap_clips(CLIPS, 5)) == 5 and set(cap_clips(CLIPS, 5)) <= set(CLIPS)
    assert cap_clips(CLIPS, None) == sorted(CLIPS)


def test_config_round_trips_and_validates() -> None:
    cfg = FederatedConfig(num_nodes=4, preset="digital", exclude=["classifier"], model_kwargs={"channels": 8})
    assert FederatedConfig.from_json(cfg.to_json()) == cfg
    run_config = {"num-nodes": 4, "preset": "digital", "exclude": "classifier", "model-kwargs": '{"channels": 8}',
                  "max-test-clips": -1, "data-root": ""}
    assert FederatedConfig.from_run_config(run_config) == cfg
    assert FederatedConfig.from_run_config(cfg.to_run_config()) == cfg  # what run_federated writes into the app
    capped = FederatedConfig(max_clips_per_node=30, data_root="/data", exclude=["a", "b"])
    assert capped.to_run_config()["max-test-clips"] == -1 and capped.to_run_config()["exclude"] == "a,b"
    assert FederatedConfig.from_run_config(capped.to_run_config()) == capped
    json.loads(cfg.to_json())
    with pytest.raises(ValueError, match="preset"):
        FederatedConfig(preset="pcm_magic")
    with pytest.raises(ValueError, match="unknown federated config key"):
        FederatedConfig.from_dict({"nodes": 3})


def test_accelerator_is_checked_against_the_preset_and_the_machine() -> None:
    import torch

    from memtorch_power.federated import FederatedConfig

    with pytest.raises(ValueError, match="pcm_mixed_precision.*cannot run on accelerator 'gpu'"):
        FederatedConfig(preset="pcm_mixed_precision", accelerator="gpu")
    with pytest.raises(ValueError, match="accelerator must be"):
        FederatedConfig(accelerator="tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA device"):
            FederatedConfig(preset="pcm_hwa", accelerator="gpu")


def test_round_learning_rate_schedules() -> None:
    constant = FederatedConfig(rounds=4, lr=0.01, preset="digital")
    assert [round_lr(constant, r) for r in range(1, 5)] == [0.01] * 4
    cosine = FederatedConfig(rounds=4, lr=0.01, lr_schedule="cosine", preset="digital")
    rates = [round_lr(cosine, r) for r in range(1, 5)]
    # lr (1 + cos(pi (r - 1) / 4)) / 2 by hand: 1, 0.8536, 0.5, 0.1464 of the peak
    assert rates == pytest.approx([0.01, 0.008536, 0.005, 0.001464], abs=1e-6)
    assert FederatedConfig.from_json(cosine.to_json()) == cosine
    assert FederatedConfig.from_run_config(cosine.to_run_config()) == cosine
    with pytest.raises(ValueError, match="lr_schedule"):
        FederatedConfig(lr_schedule="linear", preset="digital")
    with pytest.raises(ValueError, match="server_round must be in 1..4"):
        round_lr(cosine, 5)

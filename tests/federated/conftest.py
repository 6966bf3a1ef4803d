"""Fixtures of the federated tests: the real clips (skipped when absent) and a tiny config."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from memtorch_power.federated.config import DATA_ENV_VAR, FederatedConfig

REPO = Path(__file__).resolve().parents[2]
DEFAULT_ROOT = REPO.parent / "shared" / "data" / "speech_commands_mini"


def data_root() -> Path | None:
    configured = os.environ.get(DATA_ENV_VAR)
    for root in ([Path(configured)] if configured else [DEFAULT_ROOT, Path("/work/shared/data/speech_commands_mini")]):
        if (root / "yes").is_dir():
            return root
    return None


@pytest.fixture(scope="session")
def speech_root() -> Path:
    root = data_root()
    if root is None:
        pytest.skip(f"no Speech Commands data (set {DATA_ENV_VAR} to a folder in the release layout)")
    return root


@pytest.fixture
def tiny_config(speech_root: Path):
    """Factory: 3 nodes x 2 rounds of a tiny DS-CNN on 30 clips per node (seconds per round)."""
    return lambda **overrides: make_tiny_config(speech_root, **overrides)


def make_tiny_config(root: Path, **overrides: object) -> FederatedConfig:
    values: dict = dict(
        data_root=str(root), num_nodes=3, rounds=2, local_epochs=1, batch_size=16, n_features=10,
        model_kwargs={"channels": 8, "blocks": 1}, preset="pcm_hwa", optimizer="adam", lr=0.01,
        max_clips_per_node=30, max_test_clips=40, centralised=True,
    )
    values.update(overrides)
    return FederatedConfig(**values)

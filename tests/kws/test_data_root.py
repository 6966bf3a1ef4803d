"""memtorch_power.kws.data_root: the one place that says where the data is by default."""

from __future__ import annotations

from pathlib import Path

import pytest

from memtorch_power.federated import config as federated_config
from memtorch_power.gating import pipeline
from memtorch_power.kws import data_root


def test_the_environment_variable_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(data_root.DATA_ENV_VAR, str(tmp_path / "elsewhere"))
    assert data_root.default_data_root() == str(tmp_path / "elsewhere")


def test_without_it_the_first_existing_fallback_then_the_last(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(data_root.DATA_ENV_VAR, raising=False)
    missing, present, last = tmp_path / "missing", tmp_path / "present", tmp_path / "last"
    present.mkdir()
    monkeypatch.setattr(data_root, "_FALLBACK_ROOTS", (missing, present, last))
    assert data_root.default_data_root() == str(present)
    present.rmdir()
    assert data_root.default_data_root() == str(last)


def test_federated_and_gating_read_the_same_default() -> None:
    assert federated_config.default_data_root is data_root.default_data_root
    assert pipeline.default_data_root is data_root.default_data_root
    assert federated_config.DATA_ENV_VAR == data_root.DATA_ENV_VAR

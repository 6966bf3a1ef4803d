"""The Flower runtime helpers: the app folder `flwr run` reads and the simulation SuperLink's lifecycle."""

from __future__ import annotations

import tomllib
import urllib.request

import pytest

from memtorch_power.federated.flower_runtime import simulation_superlink, toml_value, write_flower_app


def test_flower_app_folder_is_valid_toml_with_the_components_and_config(tmp_path) -> None:
    app = write_flower_app(tmp_path / "app", "pkg.server:app", "pkg.client:app",
                           {"rounds": 3, "lr": 0.5, "centralised": False, "run-dir": 'C:\\x "y"', "exclude": ""})
    parsed = tomllib.loads((app / "pyproject.toml").read_text())
    assert parsed["tool"]["flwr"]["app"]["components"] == {"serverapp": "pkg.server:app", "clientapp": "pkg.client:app"}
    assert parsed["tool"]["flwr"]["app"]["config"] == {"rounds": 3, "lr": 0.5, "centralised": False,
                                                       "run-dir": 'C:\\x "y"', "exclude": ""}
    assert toml_value(True) == "true" and toml_value(2) == "2" and toml_value("a") == '"a"'


@pytest.mark.slow
def test_simulation_superlink_answers_and_is_stopped(tmp_path) -> None:
    with simulation_superlink(tmp_path) as superlink:
        with urllib.request.urlopen(f"http://{superlink.address}/health", timeout=5) as response:
            assert response.status == 200
        assert superlink.address in (superlink.flwr_home / "config.toml").read_text()
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://{superlink.address}/health", timeout=2)

"""Shipped digital models: each loads safely, reproduces its recorded test accuracy on the bundled
test split, and is the kind of model its recipe makes (re-trained here on a short budget)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

from memtorch_power.kws import pretrained
from memtorch_power.kws.cli import main as kws_main

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "recipes"))
from export_pretrained import test_accuracy as recipe_test_accuracy  # noqa: E402

SHIPPED = pretrained.shipped_models()


def test_the_main_job_model_is_shipped() -> None:
    assert "dscnn_logmel40" in SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_loads_safely_and_names_its_recipe(name: str) -> None:
    state = torch.load(pretrained.resolve(name), map_location="cpu", weights_only=True)
    assert state and all(isinstance(v, torch.Tensor) for v in state.values())
    info = pretrained.metadata(name)
    assert info is not None and info["name"] == name
    assert (REPO / info["recipe"]).is_file(), info["recipe"]
    assert info["command"].endswith(info["recipe"])
    assert info["history"] and all(e["steps"] > 0 for e in info["history"])
    assert info["test_clips"] > 0 and 0 < info["test_accuracy"] <= 1


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_its_recorded_accuracy(name: str, speech_commands_root: Path, tmp_path: Path) -> None:
    """Export the shipped weights as a checkpoint of the recipe's module and test it on the bundled
    test split: the accuracy and the number of clips are the ones recorded when it was shipped."""
    from memtorch_power.kws.module import KeywordSpotter

    info = pretrained.metadata(name)
    module = KeywordSpotter(model=info["model"], preset="digital", num_classes=info["num_classes"],
                            n_features=info["n_features"], n_frames=info["n_frames"],
                            model_kwargs=info["model_kwargs"], init_from=str(pretrained.resolve(name)))
    checkpoint = tmp_path / "shipped.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "datamodule_hyper_parameters": {"root": str(speech_commands_root), "features": info["features"],
                                                "n_features": info["n_features"], "protocol": info["protocol"]},
                "pytorch-lightning_version": "2.6"}, checkpoint)
    accuracy, clips = recipe_test_accuracy(str(checkpoint))
    assert clips == info["test_clips"]
    assert accuracy == pytest.approx(info["test_accuracy"], abs=0.5 / clips)


@pytest.mark.slow
def test_the_recipe_retrained_briefly_makes_the_same_kind_of_model(speech_commands_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Re-run the shipped model's recipe on a short budget and export it like the shipped one:
    same architecture, features, classes and parameter shapes, and a per-epoch history."""
    info = pretrained.metadata("dscnn_logmel40")
    monkeypatch.chdir(tmp_path)  # the recipe writes runs/kws_digital_logmel40/... under the working folder
    kws_main([
        "fit", "--config", str(REPO / info["recipe"]),
        "--data.root", str(speech_commands_root),
        "--trainer.max_epochs", "1", "--trainer.limit_train_batches", "2", "--trainer.limit_val_batches", "1",
        "--trainer.enable_progress_bar", "false", "--test_after_fit", "false",
    ])
    metrics = next((tmp_path / "runs").glob("kws_digital_logmel40/version_*/metrics.csv"))
    weights = pretrained.export_digital(tmp_path / "runs/kws_digital_logmel40/checkpoints/best.ckpt", "retrained", info["recipe"],
                                        metrics, folder=tmp_path / "export")
    again = json.loads(weights.with_suffix(".json").read_text())
    for key in ("model", "model_kwargs", "num_classes", "n_features", "n_frames", "features", "protocol", "freq_masks"):
        assert again[key] == info[key], key
    assert [e["epoch"] for e in again["history"]] == [0]
    shipped = torch.load(pretrained.resolve("dscnn_logmel40"), weights_only=True)
    retrained = torch.load(weights, weights_only=True)
    assert {k: v.shape for k, v in retrained.items()} == {k: v.shape for k, v in shipped.items()}


def test_resolve_names_the_shipped_models_when_nothing_matches() -> None:
    with pytest.raises(FileNotFoundError, match="dscnn_logmel40"):
        pretrained.resolve("no_such_model")


def test_export_refuses_an_analog_checkpoint(tmp_path: Path) -> None:
    from memtorch_power.kws.module import KeywordSpotter

    module = KeywordSpotter(model="dscnn", preset="pcm_hwa", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams)}, tmp_path / "a.ckpt")
    with pytest.raises(ValueError, match="not a digital KeywordSpotter"):
        pretrained.export_digital(tmp_path / "a.ckpt", "x", "recipes/configs/digital.yaml", folder=tmp_path)

"""End to end: the LightningCLI recipe and the comparison, on a few batches of the bundled data."""

import copy
import dataclasses
import json
from pathlib import Path

import pytest
import torch

from memtorch_power.kws.cli import main
from memtorch_power.kws.compare import ComparisonConfig, compare
from memtorch_power.kws.module import KeywordSpotter
from memtorch_power.nn import digitalize

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _fit(config: str, root: Path, out: Path, *extra: str) -> Path:
    main([
        "fit", "--config", str(REPO / "recipes" / "configs" / config),
        "--data.root", str(root),
        "--trainer.max_epochs", "1",
        "--trainer.limit_train_batches", "3",
        "--trainer.limit_val_batches", "2",
        "--trainer.limit_test_batches", "2",
        "--trainer.enable_progress_bar", "false",
        "--trainer.logger.init_args.save_dir", str(out),
        *extra,
    ])
    runs = sorted(out.glob("*/version_*"))
    assert runs, f"no run folder under {out}"
    return runs[-1]


def _predictions(module: KeywordSpotter, x: torch.Tensor) -> torch.Tensor:
    module.eval()
    torch.manual_seed(7)  # PCM read/output noise is random: same seed, same draw
    with torch.no_grad():
        return module(x)


@pytest.mark.parametrize("config", ["digital.yaml", "pcm_hwa.yaml"])
def test_recipe_fits_tests_and_reloads(config: str, speech_commands_root: Path, tmp_path: Path) -> None:
    run = _fit(config, speech_commands_root, tmp_path)
    checkpoints = sorted((run / "checkpoints").glob("best-*.ckpt"))
    assert checkpoints and (run / "checkpoints" / "last.ckpt").exists()
    metrics = (run / "metrics.csv").read_text()
    assert "val/acc" in metrics and "test/acc" in metrics

    reloaded = KeywordSpotter.load_from_checkpoint(checkpoints[0], weights_only=True)
    again = KeywordSpotter.load_from_checkpoint(checkpoints[0], weights_only=True)
    x = torch.randn(4, 1, reloaded.hparams.n_features, reloaded.hparams.n_frames)
    torch.testing.assert_close(_predictions(reloaded, x), _predictions(again, x))
    state = torch.load(checkpoints[0], weights_only=True)["state_dict"]
    for name, value in reloaded.state_dict().items():
        if isinstance(value, torch.Tensor):
            torch.testing.assert_close(value.reshape(-1), state[name].reshape(-1), msg=name)

    # the CLI evaluates a saved checkpoint with torch's default weights_only=True (issue 15 §4)
    main(["test", "--config", str(REPO / "recipes" / "configs" / config), "--data.root", str(speech_commands_root),
          "--trainer.limit_test_batches", "2", "--trainer.enable_progress_bar", "false",
          "--trainer.logger.init_args.save_dir", str(tmp_path / "evaluated"), "--ckpt_path", str(checkpoints[0])])
    assert "test/acc" in next((tmp_path / "evaluated").rglob("metrics.csv")).read_text()

    if config == "pcm_hwa.yaml":
        drift = json.loads((run / "drift.json").read_text())
        assert [row["time"] for row in drift["summary"]] == ["1 s", "1 h", "1 day", "1 month", "1 year"]
        energy = json.loads((run / "energy_train.json").read_text())
        assert energy["totals"]["analog_j"] > 0 and energy["totals"]["digital_j"] > 0
        assert (run / "drift.png").stat().st_size > 0


def test_comparison_writes_one_table(speech_commands_root: Path, tmp_path: Path) -> None:
    config = ComparisonConfig(
        root=str(speech_commands_root), presets=["digital", "pcm_hwa"], epochs=1,
        limit_train_batches=2, limit_eval_batches=1, drift_repeats=1, drift_times=["1 s", "1 day"],
        output_dir=str(tmp_path / "compare"), progress=False, start_from_digital=["pcm_hwa"], finetune_epochs=2,
    )
    rows = compare(config)
    assert [r["preset"] for r in rows] == ["digital", "pcm_hwa"]
    assert (rows[0]["started_from"], rows[0]["epochs"]) == ("scratch", 1)
    assert (rows[1]["started_from"], rows[1]["epochs"], rows[1]["train_steps"]) == ("digital", 2, 4)
    digital, analog = rows
    assert digital["parameters"] == analog["parameters"]  # both counted on the digital twin
    assert analog["train_energy_analog_j"] > 0 and analog["inference_energy_analog_j"] > 0
    assert digital["macs_per_inference"] == analog["macs_per_inference"] > 0
    assert "acc_after_1_day" in analog and "acc_after_1_day" not in digital
    for name in ("comparison.csv", "comparison.json", "comparison.md", "comparison.png"):
        assert (tmp_path / "compare" / name).stat().st_size > 0
    table = (tmp_path / "compare" / "comparison.md").read_text()
    assert "| digital |" in table and "| pcm_hwa |" in table
    hwa_line = next(line for line in table.splitlines() if line.startswith("| pcm_hwa |"))
    assert "after programming (1 s)" in table
    assert f"{100 * analog['acc_after_1_s']:.2f} %" in hwa_line  # the 1 s column holds the measured value
    assert "`pcm_hwa` started from the digital run's best weights and was trained 2 more epochs" in table
    # training energy next to accuracy: one history row per epoch, energy to the digital best - 1 point
    assert [len(r["history"]) for r in rows] == [1, 2]
    assert digital["history"][0]["analog_j"] is None
    assert digital["history"][-1]["cumulative_digital_j"] == pytest.approx(digital["train_energy_digital_j"])
    assert analog["history"][-1]["cumulative_analog_j"] == pytest.approx(analog["train_energy_analog_j"])
    assert digital["target_acc"] == pytest.approx(max(1e-6, digital["best_val_acc"] - 0.01))
    for row in rows:
        if row["target_reached"]:
            epoch = row["target_epoch"]
            assert row["history"][epoch]["accuracy"] >= row["target_acc"]
            assert all(h["accuracy"] < row["target_acc"] for h in row["history"][:epoch])
        else:
            assert row["energy_to_target_j"] is None
    assert "## Training energy at equal accuracy" in table
    assert "forward MVMs on PCM; backward and optimizer step digital" in table
    assert (tmp_path / "compare" / "accuracy_vs_training_energy.png").stat().st_size > 0
    assert rows[0]["test_clips"] > 0 and f"on {rows[0]['test_clips']:,} test clips" in table
    # an interrupted comparison resumes: presets with a result.json are read, not trained again
    again = compare(dataclasses.replace(config, reuse_results=True))
    assert [(r["preset"], r["fit_wall_s"], r["test_acc"]) for r in again] == [
        (r["preset"], r["fit_wall_s"], r["test_acc"]) for r in rows]


def test_comparison_target_accuracy_is_a_fraction() -> None:
    with pytest.raises(ValueError, match="target_acc must be a fraction"):
        ComparisonConfig(root=".", target_acc=82.5)
    with pytest.raises(ValueError, match="verify_tolerance_us must be > 0"):
        ComparisonConfig(root=".", verify_tolerance_us=-0.5)
    for pairs in (0, True, 1.5):
        with pytest.raises(ValueError, match="conductance_pairs must be an integer >= 1"):
            ComparisonConfig(root=".", conductance_pairs=pairs)  # type: ignore[arg-type]


def _digital_checkpoint(path: Path, n_features: int) -> KeywordSpotter:
    """Save a digital DS-CNN whose classifier weights no fresh model has; returns it."""
    digital = KeywordSpotter(model="dscnn", preset="digital", n_features=n_features)
    torch.nn.init.normal_(digital.network.classifier.weight)
    torch.save({"state_dict": digital.state_dict()}, path)
    return digital


def _assert_started_from(tuned: KeywordSpotter, digital: KeywordSpotter) -> None:
    weights = digitalize(copy.deepcopy(tuned.network)).classifier.weight
    torch.testing.assert_close(weights, digital.network.classifier.weight, atol=1e-5, rtol=1e-5)


def test_fine_tuning_starts_from_the_digital_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "digital.ckpt"
    digital = _digital_checkpoint(path, n_features=10)
    tuned = KeywordSpotter(model="dscnn", preset="pcm_hwa", n_features=10, init_from=str(path))
    _assert_started_from(tuned, digital)
    with pytest.raises(FileNotFoundError, match="init_from: no checkpoint"):
        KeywordSpotter(preset="pcm_hwa", init_from=str(tmp_path / "missing.ckpt"))
    with pytest.raises(ValueError, match="holds an analog model"):
        torch.save({"state_dict": tuned.state_dict()}, tmp_path / "analog.ckpt")
        KeywordSpotter(n_features=10, init_from=str(tmp_path / "analog.ckpt"))


@pytest.mark.parametrize(
    ("presets", "start", "message"),
    [
        (["pcm_hwa", "digital"], ["pcm_hwa"], "needs 'digital' earlier"),
        (["pcm_hwa"], ["pcm_hwa"], "needs 'digital' earlier"),
        (["digital", "pcm_hwa"], ["pcm_training"], "'pcm_training' is not one of the PCM presets compared"),
        (["digital", "pcm_hwa"], ["digital"], "'digital' is not one of the PCM presets"),
    ],
)
def test_comparison_config_checks_start_from_digital(presets: list[str], start: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ComparisonConfig(root=".", presets=presets, start_from_digital=start)
    with pytest.raises(ValueError, match="finetune_epochs must be >= 1"):
        ComparisonConfig(root=".", presets=["digital", "pcm_hwa"], start_from_digital=["pcm_hwa"], finetune_epochs=0)


def test_finetune_epochs_per_preset() -> None:
    from memtorch_power.kws.compare import finetune_epochs_of

    config = ComparisonConfig(root=".", presets=["digital", "pcm_hwa", "pcm_mixed_precision", "pcm_training"],
                              start_from_digital=["pcm_hwa", "pcm_mixed_precision"], epochs=7,
                              finetune_epochs={"pcm_hwa": 2, "pcm_mixed_precision": 1})
    assert [finetune_epochs_of(p, config) for p in ("pcm_hwa", "pcm_mixed_precision", "pcm_training")] == [2, 1, 7]
    assert finetune_epochs_of("pcm_hwa", ComparisonConfig(root=".", presets=["digital", "pcm_hwa"],
                                                          start_from_digital=["pcm_hwa"], finetune_epochs=3)) == 3
    with pytest.raises(ValueError, match="finetune_epochs must be >= 1, got 0 for pcm_hwa"):
        ComparisonConfig(root=".", presets=["digital", "pcm_hwa"], start_from_digital=["pcm_hwa"],
                         finetune_epochs={"pcm_hwa": 0})
    with pytest.raises(ValueError, match=r"do not start from digital: \['pcm_training'\]"):
        ComparisonConfig(root=".", presets=["digital", "pcm_hwa"], start_from_digital=["pcm_hwa"],
                         finetune_epochs={"pcm_training": 2})


def test_comparison_config_rejects_unknown_features(speech_commands_root: Path) -> None:
    with pytest.raises(ValueError, match="features must be 'mfcc' or 'logmel'"):
        ComparisonConfig(root=str(speech_commands_root), features="spectrogram")


KWS_CONFIGS = sorted(p.name for p in (Path(__file__).parents[2] / "recipes" / "configs").glob("*.yaml")
                     if p.name.startswith(("digital", "pcm_")))


@pytest.mark.parametrize("config", KWS_CONFIGS)
def test_every_recipe_config_builds_its_model_and_data(config: str, speech_commands_root: Path,
                                                       tmp_path: Path) -> None:
    """Each YAML parses and instantiates (model + data module) without training; a fine-tuning
    config starts from the digital checkpoint it is given."""
    from memtorch_power.kws.cli import KeywordSpottingCLI
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    path = Path(__file__).parents[2] / "recipes" / "configs" / config
    args = ["--config", str(path), "--data.root", str(speech_commands_root)]
    fine_tuning = config.endswith("_finetune.yaml")
    if fine_tuning:
        digital = _digital_checkpoint(tmp_path / "digital.ckpt", n_features=40)
        args += ["--model.init_from", str(tmp_path / "digital.ckpt")]
    cli = KeywordSpottingCLI(KeywordSpotter, SpeechCommandsDataModule, run=False, args=args)
    assert cli.model.hparams.n_features == cli.datamodule.n_features
    preset = config.removesuffix(".yaml").removesuffix("_finetune").removesuffix("_trainval").removesuffix("_logmel40")
    assert cli.model.hparams.preset == preset
    assert cli.datamodule.train_on_validation == ("_trainval" in config)
    x = cli.datamodule.example_input(2)
    assert cli.model(x).shape == (2, 12)
    if fine_tuning:
        _assert_started_from(cli.model, digital)


def test_fine_tuning_recipe_follows_the_digital_run(speech_commands_root: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The two commands of the fine-tuning recipe, as a user runs them from one folder: the
    digital run leaves its best checkpoint where the fine-tuning config looks for it."""
    monkeypatch.chdir(tmp_path)
    _fit("digital_logmel40.yaml", speech_commands_root, tmp_path / "logs")
    best = Path("runs/kws_digital_logmel40/checkpoints/best.ckpt")
    assert best.is_file()
    tuned_run = _fit("pcm_hwa_logmel40_finetune.yaml", speech_commands_root, tmp_path / "logs",
                     "--model.init_from", str(best))
    assert tuned_run.parent.name == "kws_pcm_hwa_logmel40_finetune"
    hparams = (tuned_run / "hparams.yaml").read_text()
    assert "init_from: runs/kws_digital_logmel40/checkpoints/best.ckpt" in hparams
    assert "input_range_std_alpha: 10.0" in hparams
    drift = json.loads((tuned_run / "drift.json").read_text())
    assert len(drift["runs"]) == 5 * 5  # 5 programmings x 5 drift times


def test_fine_tuning_config_without_its_digital_checkpoint_says_so(speech_commands_root: Path, tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The config starts from the shipped digital model by name, from any folder; pointed at a
    digital run that was never made, the error names the missing checkpoint."""
    from memtorch_power.kws.cli import KeywordSpottingCLI
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    path = REPO / "recipes" / "configs" / "pcm_hwa_logmel40_finetune.yaml"
    monkeypatch.chdir(tmp_path)
    cli = KeywordSpottingCLI(KeywordSpotter, SpeechCommandsDataModule, run=False,
                             args=["--config", str(path), "--data.root", str(speech_commands_root)])
    assert cli.model.hparams.init_from == "dscnn_logmel40"
    with pytest.raises(FileNotFoundError, match="init_from: no checkpoint at 'runs/kws_digital_logmel40/checkpoints/best.ckpt'"):
        KeywordSpottingCLI(KeywordSpotter, SpeechCommandsDataModule, run=False,
                           args=["--config", str(path), "--data.root", str(speech_commands_root),
                                 "--model.init_from", "runs/kws_digital_logmel40/checkpoints/best.ckpt"])


def test_comparison_from_the_shipped_digital_model(speech_commands_root: Path, tmp_path: Path) -> None:
    """The main job's shape on a few batches: the digital row tests the shipped weights (not
    trained here, its training energy from the recorded history), pcm_hwa fine-tunes from them."""
    from memtorch_power.kws import pretrained

    config = ComparisonConfig(
        root=str(speech_commands_root), presets=["digital", "pcm_hwa"], digital_from="dscnn_logmel40",
        start_from_digital=["pcm_hwa"], finetune_epochs=1, features="logmel", n_features=40,
        limit_train_batches=2, limit_eval_batches=2, drift_repeats=1, drift_times=["1 s"],
        drift_compensation="per_column", recalibration_batches=1, output_dir=str(tmp_path), progress=False,
    )
    digital, hwa = compare(config)
    recorded = pretrained.metadata("dscnn_logmel40")
    assert digital["started_from"] == "given weights" and digital["epochs"] == 0
    assert digital["weights_from"] == recorded["command"]
    assert [h["epoch"] for h in digital["history"]] == [e["epoch"] for e in recorded["history"]]
    assert digital["test_acc"] > 0.5  # the trained model, not an initialisation (2 batches of the test split)
    assert hwa["started_from"] == "digital" and hwa["epochs"] == 1
    report = (tmp_path / "comparison.md").read_text()
    assert "was not trained in this run" in report and "not trained here" in report
    assert "per-column drift compensation, batch-norm statistics re-estimated on 1 unlabelled" in report

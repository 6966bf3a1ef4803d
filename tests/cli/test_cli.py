"""The ``memtorch-power`` command: help, catalogue output, energy of a checkpoint, the demo,
and user errors (exit status 2 with a one-line message, no traceback)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import lightning
import pytest
import torch

from memtorch_power.cli import main
from memtorch_power.cli_commands import COMMANDS
from memtorch_power.kws.module import KeywordSpotter

REPO = Path(__file__).resolve().parents[2]
DATA_ENV_VAR = "MEMTORCH_POWER_SPEECH_COMMANDS"


def _data_root() -> Path:
    configured = os.environ.get(DATA_ENV_VAR)
    candidates = [Path(configured)] if configured else [REPO.parent / "shared/data/speech_commands_mini",
                                                         Path("/work/shared/data/speech_commands_mini")]
    for root in candidates:
        if (root / "yes").is_dir():
            return root
    pytest.skip(f"no Speech Commands data (set {DATA_ENV_VAR})")


def _spotter_checkpoint(path: Path, preset: str) -> Path:
    """A small (untrained) KeywordSpotter saved the way Lightning saves one."""
    module = KeywordSpotter(model="dscnn", preset=preset, n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": lightning.__version__}, path)
    return path


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("checkpoints")
    digital = KeywordSpotter(model="dscnn", preset="digital", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    torch.save(digital.network, folder / "whole_model.pt")
    torch.save(digital.network.state_dict(), folder / "state_dict.pt")
    (folder / "garbage.ckpt").write_bytes(b"not a checkpoint")
    return {
        "analog": _spotter_checkpoint(folder / "pcm_hwa.ckpt", "pcm_hwa"),
        "digital": _spotter_checkpoint(folder / "digital.ckpt", "digital"),
        "whole": folder / "whole_model.pt",
        "state_dict": folder / "state_dict.pt",
        "garbage": folder / "garbage.ckpt",
    }


def _user_error(capsys: pytest.CaptureFixture[str], argv: list[str], *expected: str) -> str:
    """Run ``argv``; it must exit with 2 and print one line on stderr holding every ``expected``."""
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for text in expected:
        assert text in err, err
    return err


# -- help ------------------------------------------------------------------------------------------
def test_top_level_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in COMMANDS:
        assert f"\n    {name}" in out, name
    assert "examples:" in out


def test_no_command_prints_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "COMMAND" in capsys.readouterr().out


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "train"])
def test_each_command_has_help_with_an_example(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert f"memtorch-power {command}" in out
    assert "example" in out


def test_train_help_shows_ours_then_the_lightning_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "memtorch-power train fit --config" in out  # our example
    assert "memtorch-power train [-c CONFIG] {fit,validate,test,predict}" in out  # then LightningCLI's


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["nope"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


# -- catalogues ------------------------------------------------------------------------------------
def test_presets_lists_every_preset(capsys: pytest.CaptureFixture[str]) -> None:
    from memtorch_power.presets import PRESETS

    assert main(["presets"]) == 0
    out = capsys.readouterr().out
    for name in PRESETS:
        assert name in out
    assert "digital" in out and "Rasch" in out  # a source
    assert "where the training phases run" in out and "Reference only" in out and "#236" in out
    from memtorch_power.presets import describe_presets

    rows = {row["name"]: row for row in describe_presets()}
    assert "backward and optimizer step digital" in rows["pcm_hwa"]["phases"]
    assert "update in the array by PCM pulses" in rows["pcm_training"]["phases"]
    assert "does not reach usable accuracy" in rows["pcm_training"]["caveat"] and not rows["pcm_hwa"]["caveat"]


def test_profiles_lists_both_kinds_with_figures_and_sources(capsys: pytest.CaptureFixture[str]) -> None:
    from memtorch_power.energy import list_profiles

    assert main(["profiles"]) == 0
    out = capsys.readouterr().out
    for name in list_profiles():
        assert name in out
    assert "TOPS/W" in out and "pJ/MAC" in out and "Le Gallo" in out

    assert main(["profiles", "--kind", "digital"]) == 0
    out = capsys.readouterr().out
    assert "a100_fp16" in out and "hermes" not in out


def test_one_profile_shows_every_constant(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["profiles", "hermes"]) == 0
    out = capsys.readouterr().out
    for field in ("adc_pj", "pulse_pj", "program_iterations"):
        assert field in out


# -- energy ----------------------------------------------------------------------------------------
def test_energy_of_a_checkpoint_prints_and_writes_the_table(checkpoints: dict[str, Path], tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    argv = ["energy", str(checkpoints["analog"]), "--training", "--batches", "3",
            "--csv", str(out_dir / "e.csv"), "--json", str(out_dir / "e.json"), "--plot", str(out_dir / "e.png")]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "KeywordSpotter dscnn (pcm_hwa)" in out and "TOTAL" in out and "classifier" in out
    assert "training, 3 batch(es), batch size 1" in out  # default shape 1,1,n_features,n_frames
    for name in ("e.csv", "e.json", "e.png"):
        assert (out_dir / name).stat().st_size > 0


def test_energy_of_a_digital_model_needs_a_preset(checkpoints: dict[str, Path],
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(capsys, ["energy", str(checkpoints["digital"])], "no analog layer", "--preset pcm_hwa")
    assert main(["energy", str(checkpoints["digital"]), "--preset", "pcm_hwa"]) == 0
    assert "layers put on pcm_hwa" in capsys.readouterr().out


def test_energy_of_a_saved_whole_model(checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(capsys, ["energy", str(checkpoints["whole"]), "--preset", "pcm_hwa"], "--input_shape")
    assert main(["energy", str(checkpoints["whole"]), "--preset", "pcm_hwa", "--input_shape", "2,1,10,98"]) == 0
    out = capsys.readouterr().out
    assert "DSCNN from" in out and "batch size 2" in out


@pytest.mark.parametrize("argv, expected", [
    (["energy", "missing.ckpt"], ("no checkpoint or model file at missing.ckpt",)),
    (["energy", "{state_dict}"], ("holds a state_dict, not a model",)),
    (["energy", "{garbage}"], ("cannot load",)),
    (["energy", "{analog}", "--analog", "nope"], ("unknown analog profile 'nope'", "hermes")),
    (["energy", "{analog}", "--digital", "hermes"], ("unknown digital profile 'hermes'", "a100_fp16")),
    (["energy", "{analog}", "--preset", "nope"], ("unknown preset 'nope'", "pcm_hwa")),
    (["energy", "{analog}", "--accelerator", "tpu"], ('Parser key "accelerator"',)),
    (["energy", "{analog}", "--input_shape", "1,1,5,5"], ("cannot run on example_input of shape (1, 1, 5, 5)",)),
])
def test_energy_user_errors(argv: list[str], expected: tuple[str, ...], checkpoints: dict[str, Path],
                            capsys: pytest.CaptureFixture[str]) -> None:
    argv = [a.format(**{k: str(v) for k, v in checkpoints.items()}) for a in argv]
    _user_error(capsys, argv, *expected)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message of a machine without a GPU")
def test_energy_on_a_gpu_without_one_says_so(checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(capsys, ["energy", str(checkpoints["analog"]), "--accelerator", "gpu"], "no CUDA device")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_energy_of_a_pure_pytorch_preset_on_the_gpu(checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["energy", str(checkpoints["analog"]), "--accelerator", "gpu"]) == 0
    assert "TOTAL" in capsys.readouterr().out
    _user_error(capsys, ["energy", str(checkpoints["analog"]), "--preset", "pcm_training", "--accelerator", "gpu"],
                "cannot run on accelerator 'gpu'")


def test_bad_input_shape_is_a_usage_error(checkpoints: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(capsys, ["energy", str(checkpoints["analog"]), "--input_shape", "abc"], "--input_shape",
                "such as 1,1,40,98")


# -- user errors of the data commands --------------------------------------------------------------
def test_missing_data_root_says_where_and_what_to_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    _user_error(capsys, ["compare", "--root", str(missing)], f"--root {missing}", "--download", DATA_ENV_VAR)


def test_missing_default_data_root_names_the_environment_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(DATA_ENV_VAR, str(tmp_path / "nowhere"))
    _user_error(capsys, ["compare"], f"${DATA_ENV_VAR}={tmp_path / 'nowhere'}", "--root PATH")


@pytest.mark.parametrize("argv, expected", [
    (["compare", "--presets", "[digital, nope]"], ("unknown preset 'nope'", "digital, ideal, pcm_fast_weight, pcm_hwa")),
    (["compare", "--analog_profile", "a100_fp16"], ("unknown analog profile 'a100_fp16'", "hermes, ibm14nm")),
    (["compare", "--drift_times", "[1 week]"], ("unknown drift time(s) '1 week'", "'1 day'")),
    (["compare", "--epochs", "0"], ("invalid comparison config: epochs must be >= 1",)),
    (["compare", "--epochs", "two"], ('Parser key "epochs"', "Expected a <class 'int'>")),
    (["compare", "--presets", "digital"], ('Parser key "presets"', "list")),
    (["compare", "--nope", "1"], ("unrecognized arguments: --nope 1",)),
    (["compare", "--target_acc", "85"], ("target_acc must be a fraction in (0, 1]",)),
    (["compare", "--finetune_epochs", "0"], ("finetune_epochs must be >= 1",)),
    (["compare", "--freq_masks", "-1"], ("freq_masks must be >= 0",)),
    (["compare", "--limit_train_batches", "0"], ("limit_train_batches must be > 0",)),
    (["compare", "--presets", "[pcm_hwa, digital]", "--start_from_digital", "[pcm_hwa]"],
     ("start_from_digital: 'pcm_hwa' needs 'digital' earlier in presets",)),
    (["compare", "--model", "resnet50"], ("unknown model 'resnet50'", "dscnn, res8, bcresnet")),
    (["compare", "--digital_from", "no_such_model"], ("digital_from:", "neither a shipped model", "dscnn_logmel40")),
    (["compare", "--presets", "[pcm_hwa]", "--digital_from", "dscnn_logmel40"], ("'digital' is not among the presets",)),
    (["compare", "--drift_compensation", "per_row"], ('Parser key "drift_compensation"',)),
    (["demo", "--preset", "nope"], ("unknown preset 'nope'", "pcm_hwa")),
    (["demo", "--preset", "digital"], ("unknown preset 'digital'",)),
    (["gating", "--checkpoint", "missing.ckpt"], ("no checkpoint at missing.ckpt",)),
    (["gating", "--nope", "1"], ("unrecognized arguments: --nope 1",)),
    (["gating", "--link", "lora"], ("unknown radio link 'lora'", "ble")),
    (["gating", "--quick_preset", "nope"], ("unknown preset 'nope'",)),
    (["gating", "--duration_s", "long"], ('Parser key "duration_s"', "float")),
    (["federated", "--config", "missing.yaml"], ("missing.yaml",)),
    (["federated", "--rounds"], ("--rounds", "expected one argument")),
    (["federated", "--rounds", "0"], ("invalid federated config: rounds must be >= 1",)),
    (["federated", "--analog_profile", "nope"], ("unknown analog profile 'nope'",)),
    (["federated", "--preset", "nope"], ("preset must be one of",)),
    (["federated", "--model_kwargs", "channels"], ('Parser key "model_kwargs"', "dict")),
    (["profiles", "nope"], ("unknown profile 'nope'", "hermes")),
    (["train"], ("train needs a LightningCLI subcommand",)),
])
def test_user_errors(argv: list[str], expected: tuple[str, ...], capsys: pytest.CaptureFixture[str]) -> None:
    _user_error(capsys, argv, *expected)


def test_unknown_key_in_a_config_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "federated.yaml"
    config.write_text("rounds: 1\nnodes: 3\n")
    _user_error(capsys, ["federated", "--config", str(config)], "Option 'nodes' is not accepted")


def test_a_wrongly_typed_value_in_a_config_file_names_the_key(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "comparison.yaml"
    config.write_text("epochs: many\n")
    _user_error(capsys, ["compare", "--config", str(config)], 'Parser key "epochs"', "many")


@pytest.mark.parametrize("command, config", [
    ("compare", None),
    ("compare", "recipes/configs/main_job.yaml"),
    ("federated", "recipes/configs/federated_kws.yaml"),
    ("gating", "recipes/configs/gating_report.yaml"),
])
def test_print_config_round_trips_through_a_config_file(command: str, config: str | None, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``--print_config`` prints YAML that the same command reads back with ``--config``, with
    the overrides given after the file applied (one configuration system for every command)."""
    argv = [command] + (["--config", str(REPO / config)] if config else []) + ["--seed", "7"]
    with pytest.raises(SystemExit) as exit_info:
        main(argv + ["--print_config"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    import yaml

    values = yaml.safe_load(printed)
    assert values["seed"] == 7 and "config" not in values
    saved = tmp_path / "printed.yaml"
    saved.write_text(printed)
    with pytest.raises(SystemExit):
        main([command, "--config", str(saved), "--print_config"])
    assert yaml.safe_load(capsys.readouterr().out) == values


def test_a_normal_command_prints_no_warning(capsys: pytest.CaptureFixture[str]) -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert main(["profiles", "--kind", "analog"]) == 0
    assert not caught, [str(w.message) for w in caught]


def test_train_with_a_missing_data_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere"
    _user_error(capsys, ["train", "fit", "--config", str(REPO / "recipes/configs/digital.yaml"),
                         "--data.root", str(missing), "--trainer.logger", "false",
                         "--trainer.enable_checkpointing", "false", "--trainer.callbacks", "[]"],
                str(missing), "--data.root PATH")


def test_train_cli_writes_checkpoints_atomically_without_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    import warnings

    monkeypatch.setattr(sys, "argv", ["memtorch-power train"])  # as the train command sets it
    from memtorch_power.checkpoint_io import AtomicCheckpointIO
    from memtorch_power.kws.cli import TRAINER_DEFAULTS, KeywordSpottingCLI
    from memtorch_power.kws.datamodule import SpeechCommandsDataModule

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # what a user sees (not Lightning's own deprecations)
        cli = KeywordSpottingCLI(KeywordSpotter, SpeechCommandsDataModule, run=False, trainer_defaults=TRAINER_DEFAULTS,
                                 args=["--config", str(REPO / "recipes/configs/digital.yaml"),
                                       "--data.root", str(_data_root()), "--trainer.logger", "false"])
    assert isinstance(cli.trainer.strategy.checkpoint_io, AtomicCheckpointIO)


# -- demo and recipes ------------------------------------------------------------------------------
def test_demo_runs_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--steps", "3"]) == 0
    out = capsys.readouterr().out
    assert "Layers swapped for PCM crossbars (preset pcm_hwa)" in out
    assert "after 3 steps" in out and "programmed, 1 year of drift" in out
    assert "TOTAL" in out  # the energy table


def test_demo_library_call() -> None:
    from memtorch_power.demo import run_demo

    result = run_demo("pcm_mixed_precision", steps=2, train_size=64, test_size=32)
    assert len(result.losses) == 2 and not result.drift  # no drift model for in-memory training
    assert [row["type"] for row in result.layers] == ["AnalogConv2d", "AnalogConv2d", "AnalogLinear"]
    assert result.energy(training=False).analog_j() > 0


@pytest.mark.parametrize("recipe", ["swap_layers.py", "federated_kws.py", "gating_report.py"])
def test_recipes_are_thin_wrappers_with_the_same_options(recipe: str) -> None:
    done = subprocess.run([sys.executable, str(REPO / "recipes" / recipe), "--help"],
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "--help" in done.stdout and "example" in done.stdout
    assert len((REPO / "recipes" / recipe).read_text().splitlines()) < 30


def test_console_script_entry_point() -> None:
    script = Path(sys.executable).parent / "memtorch-power"
    if not script.exists():
        pytest.skip(f"no console script at {script} (package not installed in this interpreter's environment)")
    done = subprocess.run([str(script), "presets"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "pcm_hwa" in done.stdout
    done = subprocess.run([str(script), "profiles", "nope"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("memtorch-power profiles: error: unknown profile")


# -- end to end on the bundled data ----------------------------------------------------------------
@pytest.fixture(scope="module")
def compare_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """``memtorch-power compare`` on two presets and a few batches: (run folder, what it printed)."""
    root = _data_root()
    out_dir = tmp_path_factory.mktemp("compare") / "run"
    argv = ["compare", "--root", str(root), "--presets", "[digital, pcm_hwa]", "--epochs", "2",
            "--features", "logmel", "--n_features", "16", "--freq_masks", "1",
            "--limit_train_batches", "2", "--limit_eval_batches", "1", "--drift_repeats", "1",
            "--drift_times", "[1 s, 1 year]", "--output_dir", str(out_dir), "--progress", "false",
            "--start_from_digital", "[pcm_hwa]"]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main(argv) == 0
    return out_dir, printed.getvalue()


@pytest.mark.slow
def test_compare_end_to_end(compare_run: tuple[Path, str], capsys: pytest.CaptureFixture[str]) -> None:
    out_dir, out = compare_run
    assert "| digital |" in out and "| pcm_hwa |" in out and f"report: {out_dir}" in out
    assert (out_dir / "comparison.csv").stat().st_size > 0
    config = json.loads((out_dir / "comparison.json").read_text())["config"]
    assert (config["features"], config["n_features"]) == ("logmel", 16)
    assert "on 16 log-mel bands with 1 frequency mask," in (out_dir / "comparison.md").read_text()
    assert config["start_from_digital"] == ["pcm_hwa"]
    assert "`pcm_hwa` started from the digital run's best weights and was trained 2 more epochs" in out

    # the comparison's best checkpoint feeds the energy command
    assert main(["energy", str(out_dir / "pcm_hwa" / "checkpoints" / "best.ckpt")]) == 0
    assert "TOTAL" in capsys.readouterr().out


@pytest.mark.slow
def test_reading_the_run_folder(compare_run: tuple[Path, str]) -> None:
    from memtorch_power.kws import results

    out_dir, _ = compare_run
    assert results.run_presets(out_dir) == ["digital", "pcm_hwa"]
    assert list(results.read_comparison(out_dir)["preset"]) == ["digital", "pcm_hwa"]
    curves = results.learning_curves(out_dir)
    assert sorted(curves.groupby("preset")["epoch"].apply(list).to_dict().items()) == [
        ("digital", [0, 1]), ("pcm_hwa", [0, 1])]
    assert curves["val/acc"].between(0, 1).all()
    drift = results.drift_curves(out_dir)
    assert list(drift["preset"]) == ["pcm_hwa", "pcm_hwa"] and list(drift["time"]) == ["1 s", "1 year"]
    energy = results.energy_breakdown(out_dir)
    assert set(energy["preset"]) == {"pcm_hwa"} and set(energy["phase"]) == {"forward", "backward", "update"}
    assert (energy["analog_j"] >= 0).all() and energy["digital_j"].sum() > 0

    checkpoint = results.best_checkpoint(out_dir, "pcm_hwa")
    spotter = results.load_keyword_spotter(checkpoint)
    assert spotter.hparams.preset == "pcm_hwa" and not spotter.training
    datamodule = results.datamodule_for(checkpoint, root=_data_root())
    counts = results.confusion_matrix(spotter, datamodule, split="testing")
    assert counts.shape == (12, 12) and counts.sum() == len(datamodule.datasets["testing"])
    with pytest.raises(FileNotFoundError, match="no best"):
        results.best_checkpoint(out_dir, "pcm_training")
    with pytest.raises(FileNotFoundError, match="comparison.json"):
        results.read_comparison(out_dir / "pcm_hwa")


@pytest.mark.slow
def test_gating_end_to_end(checkpoints: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _data_root()
    argv = ["gating", "--checkpoint", str(checkpoints["analog"]), "--data_root", str(root), "--duration_s", "30",
            "--hop_s", "0.5", "--thresholds", "[0.0, 1.0]", "--run_dir", str(tmp_path), "--no_progress"]
    assert main(argv) == 0
    assert "Wake-word gating" in capsys.readouterr().out
    assert (tmp_path / "gating.json").stat().st_size > 0


def test_compare_refuses_a_gpu_for_a_pulsed_preset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from memtorch_power.kws.compare import ComparisonConfig

    with pytest.raises(ValueError, match="pcm_mixed_precision.*cannot run on accelerator 'gpu'"):
        ComparisonConfig(root=str(tmp_path), presets=["digital", "pcm_mixed_precision"], accelerator="gpu")

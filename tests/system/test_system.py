"""The system report: ablation arithmetic on a hand-computable scenario, config validation, the
report files, and a small end-to-end run of ``memtorch-power system`` on a measured gating run."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import pytest

from memtorch_power.system import (
    DetectorQuality,
    Remedies,
    SystemConfig,
    UnitCosts,
    ablation,
    all_configurations,
    combination,
    device_day,
    write_report,
)
from memtorch_power.system.ablation import DAYS_PER_MONTH, detections_per_day

REPO = Path(__file__).resolve().parents[2]

# one hour of audio at 10 samples/s of 10 bits, one window per second, one round a day, one word spoken
CONFIG = SystemConfig(fleet_devices=2, listening_hours_per_day=1.0, speech_hours_per_day=1.0, words_per_minute=1 / 60,
                      wake_events_per_day=10.0,
                      command_seconds=1.0, training_clips_per_day=2.0, federated_rounds_per_month=DAYS_PER_MONTH,
                      local_epochs=1, adc_j_per_sample=1.0, sample_rate_hz=10, bits_per_sample=10, hop_s=1.0)
COSTS = UnitCosts(window_j={"analog": 1.0, "edge_digital": 10.0, "cloud_digital": 100.0},
                  training_clip_j={"analog": 2.0, "edge_digital": 20.0, "cloud_digital": 5.0},
                  reprogramming_j=3.0, model_bytes=1, tx_j_per_bit=1.0, rx_j_per_bit=0.5)
# 2 false alarms a day: the one spoken word sets it off, and one an hour on noise alone
QUALITY = DetectorQuality(hit_rate=0.5, false_accept_rate=1.0, false_accept_interval=(0.5, 1.0),
                          noise_false_alarms_per_hour=1.0, threshold=0.5, keywords=10, distractors=4, stream_hours=1.0,
                          preset="x", source="test")


def _total(remedies: Remedies) -> float:
    return math.fsum(device_day(CONFIG, COSTS, remedies, QUALITY).values())


def test_baseline_streams_everything_and_works_in_the_cloud() -> None:
    energy = device_day(CONFIG, COSTS, Remedies(), QUALITY)
    # 3600 s x 10 samples x 1 J; 3600 windows x 100 J; 3600 s x 100 bits x 1 J; 2 clips x 5 J
    assert energy == {"adc": 36000.0, "detector": 0.0, "radio": 360000.0, "cloud_inference": 360000.0,
                      "training": 10.0, "reprogramming": 0.0}


def test_each_remedy_alone_by_hand() -> None:
    # gating with a digital detector: every sample still digitised; 5 hits + 2 false alarms = 7 s sent,
    # plus 2 training clips uploaded (200 bits), the new model received (8 bits x 0.5 J)
    assert device_day(CONFIG, COSTS, Remedies(gating=True), QUALITY) == {
        "adc": 36000.0, "detector": 36000.0, "radio": 904.0, "cloud_inference": 700.0, "training": 10.0,
        "reprogramming": 0.0}
    assert _total(Remedies(analog=True)) == 36000 + 360000 + 3600 + 4
    # federated: the update sent (8 J) and the model received (4 J), training on the device processor
    assert _total(Remedies(federated=True)) == 36000 + 360000 + 12 + 360000 + 40


def test_all_three_by_hand() -> None:
    energy = device_day(CONFIG, COSTS, Remedies(True, True, True), QUALITY)
    assert energy == {"adc": 70.0, "detector": 3600.0, "radio": 712.0, "cloud_inference": 7.0, "training": 4.0,
                      "reprogramming": 3.0}


def test_factors_and_the_combination() -> None:
    rows = ablation(CONFIG, COSTS, {"analog": QUALITY, "digital": QUALITY})
    assert [r["configuration"] for r in rows] == [r.label for r in all_configurations()]
    assert rows[0]["configuration"] == "all-digital baseline" and rows[0]["factor"] == 1.0
    assert rows[-1]["configuration"] == "analog + gating + federated"
    baseline = 756010.0
    assert rows[0]["device_day_j"] == baseline
    assert rows[-1]["factor"] == pytest.approx(baseline / 4396.0)
    assert rows[0]["fleet_year_j"] == pytest.approx(baseline * 2 * 365.25)
    summary = combination(rows)
    alone = {"analog": baseline / 399604, "gating": baseline / 73614, "federated": baseline / 756052}
    assert summary["alone"] == pytest.approx(alone)
    assert summary["product"] == pytest.approx(math.prod(alone.values()))
    assert summary["synergy"] == pytest.approx((baseline / 4396) / math.prod(alone.values()))
    assert summary["dominant_stage"] == "detector"


def test_privacy_bytes() -> None:
    rows = {r["configuration"]: r for r in ablation(CONFIG, COSTS, {"analog": QUALITY, "digital": QUALITY})}
    assert rows["all-digital baseline"]["raw_audio_bytes_per_day"] == 3600 * 10 * 10 / 8
    assert rows["gating"]["raw_audio_bytes_per_day"] == (7 + 2) * 100 / 8  # commands + training uploads
    assert rows["gating + federated"]["raw_audio_bytes_per_day"] == 7 * 100 / 8


def _gating_report(path: Path, rows: list[dict]) -> str:
    path.write_text(json.dumps({"meta": {"duration_s": 7200.0, "preset": "pcm_hwa", "keywords": 50}, "sweep": rows}))
    return str(path)


def test_false_alarms_count_per_spoken_word(tmp_path: Path) -> None:
    from memtorch_power.system import read_detector_quality

    # a 2-hour stream with 100 other words: at 0.5 ten set it off (and 2 false alarms on noise), at 0.9 one
    rows = [{"threshold": t, "hit_rate": h, "keywords": 50, "distractors": 100, "distractors_triggered": k,
             "false_alarms_on_noise": n, "false_accept_rate_interval": [0.0, 0.2]}
            for t, h, k, n in ((0.5, 0.96, 10, 2), (0.9, 0.80, 1, 0), (0.99, 0.60, 0, 0))]
    path = _gating_report(tmp_path / "gating.json", rows)
    # at 150 words/min: 0.1 x 9000 + 1 = 901 and 0.01 x 9000 = 90 false alarms per hour of speech
    assert read_detector_quality(path, 0.5, 1.0, 150.0).false_alarms_per_speech_hour(150.0) == pytest.approx(901.0)
    assert read_detector_quality(path, None, 100.0, 150.0).threshold == 0.9
    assert read_detector_quality(path, None, 1.0, 150.0).threshold == 0.99  # no false accept measured
    assert read_detector_quality(path, None, 1.0, 150.0).false_accept_interval == (0.0, 0.2)
    # per device-day: 4 h x 60 x 150 words x 1 % + 0 on noise
    quality = read_detector_quality(path, 0.9, 1.0, 150.0)
    hits, false_alarms = detections_per_day(SystemConfig(), quality)
    assert (hits, false_alarms) == (pytest.approx(8.0), pytest.approx(360.0))
    old = _gating_report(tmp_path / "old.json", [{"threshold": 0.5, "hit_rate": 0.9, "false_alarms_per_hour": 1.0}])
    with pytest.raises(ValueError, match="distractors.*re-run"):
        read_detector_quality(old, None, 1.0, 150.0)


@pytest.mark.parametrize("field, value, message", [
    ("speech_hours_per_day", 30.0, "at most 24"),
    ("hop_s", 0.0, "hop_s must be > 0"),
    ("words_per_minute", 0.0, "words_per_minute must be > 0"),
    ("wake_events_per_day", -1.0, "wake_events_per_day must be >= 0"),
    ("threshold", 2.0, "threshold must be in [0, 1]"),
    ("gating_results", {"pcm": "x"}, "keys must be 'analog' and/or 'digital'"),
])
def test_bad_values_name_the_field(field: str, value: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        SystemConfig(**{field: value})


def test_every_assumption_has_a_source() -> None:
    names = {item["name"] for item in SystemConfig().assumptions()}
    assert {"speech_hours_per_day", "wake_events_per_day", "adc_j_per_sample", "federated_rounds_per_month", "link"} <= names
    assert all(item["source"] for item in SystemConfig().assumptions())


def test_report_files_are_written(tmp_path: Path) -> None:
    paths = write_report(CONFIG, COSTS, {"analog": QUALITY}, {}, tmp_path)
    assert set(paths) == {"json", "csv", "markdown", "stages", "sensitivity"}
    report = json.loads(paths["json"].read_text())
    assert len(report["ablation"]) == 8 and report["combination"]["combined"] > 1
    assert {row["assumption"] for row in report["sensitivity"]} >= {"speech_hours_per_day", "radio J/bit",
                                                                    "detector PCM vs digital", "words_per_minute",
                                                                    "detector false accepts per word (95 % interval)"}
    text = paths["markdown"].read_text()
    assert "not measured" in text and "Assumptions" in text and "Why" in text
    assert not list(tmp_path.glob(".*"))  # no temporary files left behind


def test_cli_rejects_a_bad_key_and_a_bad_unit(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from memtorch_power.cli import main

    config = tmp_path / "system.yaml"
    config.write_text("speech_hours: 4\n")
    assert main(["system", "--config", str(config)]) == 2
    assert "speech_hours" in capsys.readouterr().err
    assert main(["system", "--speech_hours_per_day", "4h"]) == 2
    assert 'Parser key "speech_hours_per_day"' in capsys.readouterr().err
    assert main(["system", "--gating_results", "{analog: missing.json}"]) == 2
    assert "no gating report at missing.json" in capsys.readouterr().err


@pytest.mark.slow
def test_system_end_to_end_on_a_measured_gating_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Score a short stream of the bundled test split with a small PCM spotter (the gating
    command), then build the system report from it and the estimator."""
    import lightning
    import torch

    from memtorch_power.cli import main
    from memtorch_power.kws.module import KeywordSpotter

    root = REPO.parent / "shared" / "data" / "speech_commands_mini"
    if not (root / "yes").is_dir():
        pytest.skip("no bundled Speech Commands data")
    module = KeywordSpotter(model="dscnn", preset="pcm_hwa", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    checkpoint = tmp_path / "spotter.ckpt"
    torch.save({"state_dict": module.state_dict(), "hyper_parameters": dict(module.hparams),
                "pytorch-lightning_version": lightning.__version__}, checkpoint)
    assert main(["gating", "--checkpoint", str(checkpoint), "--data_root", str(root), "--duration_s", "30",
                 "--hop_s", "0.5", "--thresholds", "[0.5, 1.0]", "--run_dir", str(tmp_path / "gating"),
                 "--no_progress"]) == 0
    out = tmp_path / "system"
    assert main(["system", "--config", str(REPO / "recipes/configs/system.yaml"), "--n_features", "10",
                 "--gating_results", f"{{analog: {tmp_path / 'gating' / 'gating.json'}}}",
                 "--output_dir", str(out)]) == 0
    report = json.loads((out / "system.json").read_text())
    assert report["measured"]["detectors"]["analog"]["preset"] == "pcm_hwa"
    analog_rows = [r for r in report["ablation"] if r["analog"] and r["gating"]]
    assert all(r["hit_rate"] is not None for r in analog_rows)
    assert "The three remedies together" in capsys.readouterr().out

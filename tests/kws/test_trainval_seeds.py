"""benchmarks/trainval_seeds.py: a seed's record comes from what its two recipe runs logged, and the
section judges issue 15's targets on the mean over the recorded seeds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import trainval_seeds  # noqa: E402


def _run(folder: Path, root: Path, test_acc: float | None, drift: dict | None, on_validation: bool = True,
         evaluation: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    data = {"root": str(root), "protocol": "12", "features": "logmel", "n_features": 40,
            "train_on_validation": on_validation}
    callback = {"class_path": "memtorch_power.kws.drift.DriftEvaluation",
                "init_args": evaluation if evaluation is not None else {"repeats": 5, "recalibration_batches": 10}}
    (folder / "config.yaml").write_text(yaml.safe_dump({"data": data, "trainer": {"callbacks": [callback]}}))
    rows = ["epoch,step,test/acc,val/acc", "0,10,,0.5"] + ([f"0,10,{test_acc},"] if test_acc is not None else [])
    (folder / "metrics.csv").write_text("\n".join(rows) + "\n")
    if drift is not None:
        (folder / "drift.json").write_text(json.dumps(drift))
    return folder


def _drift(means: dict[str, float], std: float = 0.004) -> dict:
    return {"reference_accuracy": 0.9,
            "summary": [{"time": t, "t_seconds": 1.0, "accuracy_mean": m, "accuracy_std": std, "repeats": 5}
                        for t, m in means.items()],
            "runs": []}


def test_a_seed_is_read_from_its_runs_and_judged(tiny_root: Path, tmp_path: Path) -> None:
    digital = _run(tmp_path / "d", tiny_root, 0.92, None)
    pcm = _run(tmp_path / "p", tiny_root, 0.9, _drift({"1 s": 0.915, "1 h": 0.91, "1 day": 0.905, "1 year": 0.875}))
    record = trainval_seeds.read_seed(3, digital, pcm)
    assert record["digital"] == 0.92 and record["hwa_forward"] == 0.9 and record["programmings"] == 5
    assert record["drift"] == {"1 s": [0.915, 0.004], "1 day": [0.905, 0.004], "1 year": [0.875, 0.004]}
    assert record["clips"] > 0  # the tiny copy's test items, counted from the data
    assert record["recalibration_batches"] == 10 and record["conductance_pairs"] == 1
    text = trainval_seeds.section([record, {**record, "seed": 4, "digital": 0.90}])
    assert "digital ≥ 91 %: 91.00 ± 1.41 % over 2 seed(s) ✓" in text
    # gaps: 0.5 / 1.5 / 4.5 points on seed 3, -1.5 / -0.5 / 2.5 on seed 4 -> means -0.5 / 0.5 / 3.5
    assert "after programming within 1 point(s) of digital: -0.50 ± 1.41 points below (negative: above) ✓" in text
    assert "after 1 year within 4 point(s) of digital: 3.50 ± 1.41 points below (negative: above) ✓" in text
    assert "spread between programmings at 1 day under 1 point: 0.40 ± 0.00 points" in text
    assert "- `global + BN` (2 seed(s)):" in text and "re-estimated on 10 unlabelled training batches" in text


def test_the_drift_evaluation_settings_name_the_option_judged(tiny_root: Path, tmp_path: Path) -> None:
    digital = _run(tmp_path / "d", tiny_root, 0.92, None)
    means = {"1 s": 0.915, "1 day": 0.905, "1 year": 0.875}
    paired = trainval_seeds.read_seed(0, digital, _run(
        tmp_path / "p2", tiny_root, 0.9, _drift(means), evaluation={"recalibration_batches": 20, "conductance_pairs": 2}))
    assert paired["conductance_pairs"] == 2
    text = trainval_seeds.section([paired])
    assert "- `global + BN + 2 pairs` (1 seed(s)):" in text and "each weight in 2 differential pairs of PCM devices" in text
    assert "re-estimated on 20 unlabelled training batches" in text
    single = trainval_seeds.read_seed(1, digital, _run(tmp_path / "p1", tiny_root, 0.9, _drift(means)))
    with pytest.raises(SystemExit, match="programmed with different options"):
        trainval_seeds.section([paired, single])
    with pytest.raises(SystemExit, match="did not re-estimate the batch norms"):
        trainval_seeds.read_seed(2, digital, _run(tmp_path / "p0", tiny_root, 0.9, _drift(means), evaluation={}))


@pytest.mark.parametrize(
    ("digital_kwargs", "pcm_kwargs", "message"),
    [({"test_acc": None}, {}, "no test/acc row"),
     ({"on_validation": False}, {}, "does not set data.train_on_validation"),
     ({}, {"drift": None}, "no drift.json"),
     ({}, {"drift": _drift({"1 s": 0.9, "1 day": 0.9})}, r"no drift time\(s\) \['1 year'\]")],
)
def test_incomplete_runs_are_named(tiny_root: Path, tmp_path: Path, digital_kwargs: dict, pcm_kwargs: dict,
                                   message: str) -> None:
    digital = _run(tmp_path / "d", tiny_root, **{"test_acc": 0.9, "drift": None, **digital_kwargs})
    pcm = _run(tmp_path / "p", tiny_root, **{"test_acc": 0.9, "drift": _drift({"1 s": 0.9, "1 day": 0.9, "1 year": 0.9}),
                                             **pcm_kwargs})
    with pytest.raises(SystemExit, match=message):
        trainval_seeds.read_seed(0, digital, pcm)


def test_every_retention_option_is_judged_once_all_seeds_have_a_drift_options_run(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainval_seeds, "RESULTS", tmp_path)
    drift = {"1 s": [0.9, 0.002], "1 day": [0.89, 0.002], "1 year": [0.87, 0.002]}
    records = [{"seed": s, "digital": 0.91, "hwa_forward": 0.9, "programmings": 5, "clips": 714,
                "recalibration_batches": 10, "digital_run": "d", "pcm_run": f"runs/p{s}/version_0", "drift": drift} for s in (0, 1)]
    assert "Every retention option" not in trainval_seeds.section(records)

    def options_run(seed: int, spread: float) -> dict:
        summary = [{"option": option, "time": t, "mean": 0.905, "std": spread}
                   for option in ("global + BN", "per_column + BN") for t in ("1 s", "1 day", "1 year")]
        return {"digital_accuracy": 0.91, "test_clips": 714, "repeats": 5, "recalibration_batches": 20, "summary": summary}

    (tmp_path / "drift_options_trainval_seed0.json").write_text(json.dumps(options_run(0, 0.003)))
    assert "Every retention option" not in trainval_seeds.section(records)  # seed 1 not measured yet
    (tmp_path / "drift_options_trainval_seed1.json").write_text(json.dumps(options_run(1, 0.012)))
    text = trainval_seeds.section(records)
    options = text.split("Every retention option", 1)[1]
    assert "- `per_column + BN` (2 seed(s)):" in options and "- `global + BN` (2 seed(s)):" in options
    assert "1 of 2 seeds under 1 (largest 1.20) ✗" in options and "on 20 unlabelled training batches" in options
    assert "after programming within 1 point(s) of digital: 0.50 ± 0.00 points below (negative: above) ✓" in options


def test_each_set_of_option_measurements_is_judged_on_its_own(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(trainval_seeds, "RESULTS", tmp_path)
    drift = {"1 s": [0.9, 0.002], "1 day": [0.89, 0.002], "1 year": [0.87, 0.002]}
    records = [{"seed": 0, "digital": 0.91, "hwa_forward": 0.9, "programmings": 5, "clips": 714,
                "recalibration_batches": 10, "digital_run": "d", "pcm_run": "runs/p0/version_0", "drift": drift}]

    def measured(options: dict[str, float], repeats: int) -> str:
        summary = [{"option": option, "time": t, "mean": 0.905, "std": spread}
                   for option, spread in options.items() for t in ("1 s", "1 day", "1 year")]
        return json.dumps({"digital_accuracy": 0.91, "test_clips": 714, "repeats": repeats,
                           "recalibration_batches": 20, "summary": summary})

    (tmp_path / "drift_pairs_trainval_seed0.json").write_text(
        measured({"global + BN": 0.011, "global + BN + 2 pairs": 0.006}, 10))
    text = trainval_seeds.section(records)
    assert "Every retention option" not in text  # that set has no file
    pairs = text.split("One differential pair of PCM devices per weight against two", 1)[1]
    assert "10 programmings per option and seed" in pairs and "--name drift_pairs_trainval_seed<N>" in pairs
    judged = pairs.split("- `global + BN + 2 pairs` (1 seed(s)):", 1)
    assert "1 of 1 seeds under 1 (largest 0.60) ✓" in judged[1]
    assert "0 of 1 seeds under 1 (largest 1.10) ✗" in judged[0]

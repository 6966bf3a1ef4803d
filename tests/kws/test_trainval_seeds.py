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


def _run(folder: Path, root: Path, test_acc: float | None, drift: dict | None, on_validation: bool = True) -> Path:
    folder.mkdir(parents=True)
    data = {"root": str(root), "protocol": "12", "features": "logmel", "n_features": 40,
            "train_on_validation": on_validation}
    (folder / "config.yaml").write_text(yaml.safe_dump({"data": data}))
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
    text = trainval_seeds.section([record, {**record, "seed": 4, "digital": 0.90}])
    assert "digital ≥ 91 %: 91.00 ± 1.41 % over 2 seed(s) ✓" in text
    # gaps: 0.5 / 1.5 / 4.5 points on seed 3, -1.5 / -0.5 / 2.5 on seed 4 -> means -0.5 / 0.5 / 3.5
    assert "after programming within 1 point(s) of digital: -0.50 ± 1.41 points below (negative: above) ✓" in text
    assert "after 1 year within 4 point(s) of digital: 3.50 ± 1.41 points below (negative: above) ✓" in text
    assert "spread between programmings at 1 day under 1 point: 0.40 ± 0.00 points" in text


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

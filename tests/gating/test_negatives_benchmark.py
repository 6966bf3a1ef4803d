"""benchmarks/gating_negatives.py: the other-word clips a detector learnt from are counted from its
checkpoint's data settings, the cost of the target's hit rate is read at the right threshold, and
the extrapolation is a plain log-log fit."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import torch

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import gating_negatives  # noqa: E402
import gating_rules  # noqa: E402

from memtorch_power.gating.detector import combine_stats  # noqa: E402
from memtorch_power.io import save_figure  # noqa: E402
from test_rules_benchmark import _chunk  # noqa: E402


def _folder(root: Path, keyword_clips: int, other_clips: int) -> Path:
    """Empty clip files in the release layout, every one in the training split."""
    for word, count in (("yes", keyword_clips), ("bed", other_clips)):
        (root / word).mkdir(parents=True)
        for index in range(count):
            (root / word / f"speaker{index}_nohash_0.wav").write_bytes(b"")
    (root / "validation_list.txt").write_text("")
    (root / "testing_list.txt").write_text("")
    return root


def _checkpoint(path: Path, **data: object) -> str:
    torch.save({"datamodule_hyper_parameters": data}, path)
    return str(path)


def test_other_word_clips_are_counted_with_the_checkpoints_share(tmp_path: Path) -> None:
    root = _folder(tmp_path / "sc", keyword_clips=20, other_clips=5)
    settings = {"root": str(root), "protocol": "12", "silence_share": 0.1, "seed": 3}
    small = gating_negatives.other_word_training_clips(_checkpoint(tmp_path / "a.ckpt", unknown_share=0.1, **settings))
    assert (small["other_word_clips"], small["other_word_clips_available"], small["keyword_clips"]) == (2, 5, 20)
    assert small["seed"] == 3 and small["unknown_share"] == 0.1
    capped = gating_negatives.other_word_training_clips(_checkpoint(tmp_path / "b.ckpt", unknown_share=0.5, **settings))
    assert capped["other_word_clips"] == 5  # ceil(0.5 * 20) = 10, but only 5 exist
    apart = gating_negatives.other_word_training_clips(
        _checkpoint(tmp_path / "c.ckpt", unknown_share=0.1, **dict(settings, protocol="36")))
    assert apart["other_word_clips"] == 5 and apart["protocol"] == "36"  # each word its own class: all kept


@pytest.mark.parametrize(("stored", "message"), [
    ({}, "no datamodule_hyper_parameters"),
    ({"datamodule_hyper_parameters": {"protocol": "35"}}, "other words and silence"),
    ({"datamodule_hyper_parameters": {"protocol": "12", "train_on_validation": True}}, "validation clips"),
])
def test_checkpoints_it_cannot_count_are_refused_by_name(tmp_path: Path, stored: dict, message: str) -> None:
    path = tmp_path / "bad.ckpt"
    torch.save(stored, path)
    with pytest.raises(ValueError, match=message):
        gating_negatives.other_word_training_clips(str(path))


def test_cost_of_the_target_hit_rate_is_read_at_the_highest_threshold_reaching_it() -> None:
    dense = [_chunk([0.99] * 8 + [0.85, 0.6], [0.9])]  # 10 keywords, 1 other word
    sparse = [_chunk([], [0.95, 0.8, 0.7], hours=2.0)]  # 3 other words
    thresholds = [0.5, 0.75, 0.88, 0.97]
    rows = [gating_rules.evaluate_rule(chunks, 1, 1, thresholds, 1.0, 0.25) for chunks in (dense, sparse)]
    both = combine_stats(rows)
    cost = gating_negatives.cost_of_hits(rows[0], both)
    # 90 % hits (9 of 10) first at 0.75; there 0.9 (dense) and 0.95, 0.8 (sparse) set it off: 3 of 4
    assert cost["threshold"] == 0.75 and cost["hit_rate"] == 0.9
    assert (cost["false_accepts"], cost["other_words"]) == (3, 4) and cost["false_accept_rate"] == 0.75
    low, high = cost["false_accept_rate_interval"]
    assert low < 0.75 < high
    unreachable = gating_negatives.cost_of_hits(rows[0], both, hit_rate=1.01)
    assert unreachable["threshold"] is None and unreachable["false_accept_rate"] is None


def test_power_law_recovers_its_slope_and_the_clips_the_target_needs() -> None:
    counts = [50, 100, 200]
    rates = [0.4 * (c / 50) ** -0.5 for c in counts]
    fit = gating_negatives.power_law(counts, rates)
    assert fit is not None and math.isclose(fit["slope"], -0.5, rel_tol=1e-9)
    target = fit["target_false_accept_rate"]
    assert math.isclose(target, 1.0 / 54.0)  # 1 false alarm an hour over 54 other words an hour
    assert gating_negatives.other_words_per_hour({"events_per_minute": 1.0, "distractor_share": 0.9}) == 54.0
    assert math.isclose(fit["clips_needed"], 50 * (target / 0.4) ** -2, rel_tol=1e-6)
    assert gating_negatives.power_law(counts[:2], rates[:2]) is None
    assert gating_negatives.power_law(counts, [0.1, 0.0, 0.05]) is None
    flat = gating_negatives.power_law(counts, [0.1, 0.1, 0.1])
    assert flat is not None and flat["clips_needed"] == math.inf  # a rate that does not fall never gets there


def test_report_and_plot_show_every_detector(tmp_path: Path) -> None:
    def row(clips: int, protocol: str, seed: int, cost: float | None) -> dict:
        reached = cost is not None
        return {"checkpoint": f"c{clips}{protocol}{seed}", "other_word_clips": clips, "other_word_clips_available": 238,
                "protocol": protocol, "seed": seed,
                "operating_point": {"threshold": 0.95, "false_alarm_target_met": seed == 1, "hit_rate": 0.6,
                                    "hit_rate_interval": [0.5, 0.7], "hits": 6, "keywords": 10,
                                    "false_alarms_per_hour": 1.0},
                "at_target_hit_rate": {"threshold": 0.6 if reached else None, "hit_rate": 0.9 if reached else None,
                                       "false_accepts": round(20 * cost) if reached else None, "other_words": 20 if reached else None,
                                       "false_accept_rate": cost,
                                       "false_accept_rate_interval": [0.05, 0.4] if reached else None},
                "curve": [{"threshold": 0.5, "hit_rate": 0.95, "false_accept_rate": cost or 0.5},
                          {"threshold": 0.9, "hit_rate": 0.6, "false_accept_rate": 0.0}]}

    rows = [row(62, "12", 1, 0.4), row(123, "12", 1, 0.2), row(238, "12", 2, 0.15), row(238, "36", 1, None)]
    fit = gating_negatives.power_law([62, 123, 238], [0.4, 0.2, 0.15])
    assert fit is not None
    fit.update(points=3, seeds=[1, 2])
    result = {"split": "validation", "dense_minutes": 40.0, "sparse_hours": 4.0, "distinct_other_word_clips": 43,
              "rule": {"smooth_windows": 1, "min_windows": 2}, "detectors": rows, "power_law": fit}
    text = gating_negatives.report_markdown(result, "plot.png")
    assert text.count("\n| ") == 5  # header and four detectors
    assert "| 62 of 238 | 12 | 1 | 60.0 % (6/10) [50.0, 70.0] (0.950) | 40.0 % (8/20) [5.0, 40.0] (0.600) |" in text
    assert "(none ≤ 1/h: highest threshold)" in text and "no threshold reaches 90 % hits" in text
    assert "through the 3 12-class points (seeds 1, 2;" in text and "43 distinct validation clips" in text
    image = tmp_path / "negatives.png"
    save_figure(gating_negatives.plot(result), image)
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and list(tmp_path.iterdir()) == [image]

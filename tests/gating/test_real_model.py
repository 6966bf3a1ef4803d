"""The real path: a KeywordSpotter checkpoint (aihwkit objects inside) scoring a real stream."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from memtorch_power.gating import GatingConfig, KeywordScorer, load_spotter, run_gating, train_quick_spotter
from memtorch_power.gating.stream import build_stream_from_folder

REPO = Path(__file__).resolve().parents[2]


def _root() -> Path:
    configured = os.environ.get("MEMTORCH_POWER_SPEECH_COMMANDS")
    for root in ([Path(configured)] if configured else [REPO.parent / "shared/data/speech_commands_mini",
                                                         Path("/work/shared/data/speech_commands_mini")]):
        if (root / "yes").is_dir():
            return root
    pytest.skip("no Speech Commands data (set MEMTORCH_POWER_SPEECH_COMMANDS)")


@pytest.mark.slow
def test_checkpoint_to_gating_report(tmp_path) -> None:
    root = _root()
    checkpoint = train_quick_spotter(root, tmp_path / "spotter.ckpt", preset="pcm_hwa", epochs=1, n_features=10,
                                     channels=8, blocks=1, limit_batches=2)
    spotter = load_spotter(checkpoint)
    assert spotter.preset == "pcm_hwa" and spotter.n_features == 10 and len(spotter.class_names) == 12
    stream = build_stream_from_folder(root, 30.0, max_clips=20, seed=1)
    scorer = KeywordScorer(spotter)
    windows = __import__("torch").from_numpy(stream.audio[:32000]).reshape(2, 16000)
    scores, posteriors = scorer(windows), scorer.posteriors(windows)
    assert scores.shape == (2,) and ((scores >= 0) & (scores <= 1)).all()
    assert posteriors.shape == (2, 10) and (posteriors.sum(axis=1) <= 1 + 1e-6).all()  # 10 keywords of 12 classes
    # the score is the highest keyword posterior (each analog forward has its own read noise)
    assert abs(posteriors.max(axis=1) - scores).max() < 0.05
    cfg = GatingConfig(checkpoint=str(checkpoint), data_root=str(root), duration_s=60, hop_s=0.5,
                       thresholds=[0.0, 0.2, 1.0])
    result = run_gating(cfg, tmp_path / "report", spotter=spotter, progress=False)
    rows = result.rows
    assert [r["threshold"] for r in rows] == [0.0, 0.2, 1.0]
    assert result.meta["keywords"] > 0 and result.meta["detector_j_per_window"] > 0
    everything, nothing = rows[0], rows[-1]
    assert everything["flagged_windows"] == everything["windows"]  # every posterior > 0
    assert everything["hit_rate"] == 1.0
    assert nothing["flagged_windows"] == 0 and nothing["hit_rate"] == 0.0 and nothing["false_alarms"] == 0
    assert nothing["savings"] > everything["savings"]
    assert all(r["distractors"] == result.meta["distractors"] for r in rows)  # every other word placed is counted
    assert "other words set off" in result.paths["markdown"].read_text()
    saved = json.loads(result.paths["json"].read_text())
    assert len(saved["sweep"]) == 3 and result.paths["png"].stat().st_size > 0
    # a longer stream in chunks: every chunk is scored and counted once
    chunked = run_gating(GatingConfig(checkpoint=str(checkpoint), data_root=str(root), duration_s=50, chunk_s=20,
                                      hop_s=0.5, thresholds=[0.0, 1.0]), tmp_path / "chunked", spotter=spotter,
                         progress=False)
    assert chunked.meta["chunks"] == 3 and chunked.meta["duration_s"] == pytest.approx(50.0)
    assert chunked.rows[0]["windows"] == chunked.rows[0]["flagged_windows"] == 39 + 39 + 19  # windows of 20 + 20 + 10 s at a 0.5 s hop
    assert "built and scored in 3 chunks" in chunked.paths["markdown"].read_text()
    # posteriors averaged over 3 windows: the same windows, and the smoothing is named in the report
    smooth = run_gating(GatingConfig(checkpoint=str(checkpoint), data_root=str(root), duration_s=60, hop_s=0.5,
                                     thresholds=[0.0, 0.2, 1.0], smooth_windows=3), tmp_path / "smooth",
                        spotter=spotter, progress=False)
    assert smooth.meta["smooth_windows"] == 3 and smooth.rows[0]["windows"] == rows[0]["windows"]
    assert "posteriors averaged over 3 windows" in smooth.paths["markdown"].read_text()
    with pytest.raises(ValueError, match="smooth_windows"):
        GatingConfig(smooth_windows=0)

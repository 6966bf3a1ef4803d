"""benchmarks/federated_scale.py: a new run borrows the centralised baseline of an earlier row of
the results file whose run folder is gone (``--keep-previous``), and only a baseline on the same
clips, model and seed."""

from __future__ import annotations

import json
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import federated_scale  # noqa: E402

from memtorch_power.federated import FederatedConfig  # noqa: E402

REPO = BENCHMARKS.parent


def _new_report(config_file: str, **changes) -> dict:
    config = FederatedConfig.from_yaml(REPO / config_file).to_dict() | changes
    return {"config_file": config_file, "config": config, "centralised": None, "comparison": {}}


def test_an_earlier_row_lends_its_centralised_baseline(monkeypatch) -> None:
    monkeypatch.chdir(REPO)
    rows = json.loads(federated_scale.RESULTS_FILE.read_text(encoding="utf-8"))["runs"]
    lenders = [federated_scale.report_from_summary(r) for r in rows]
    # rows that borrowed their baseline (or ran none) lend nothing
    assert all(lender["centralised"] is None for lender, row in zip(lenders, rows) if row["centralised_from"])
    own = [x for x in lenders if x["centralised"]]
    same = _new_report("recipes/configs/federated_kws_logmel40_local5_cosine.yaml")
    longer = _new_report("recipes/configs/federated_kws_logmel40_local5_cosine40.yaml")
    other_seed = _new_report("recipes/configs/federated_kws_logmel40_local5_cosine40.yaml", seed=5)
    federated_scale.borrow_centralised([same, longer, other_seed] + own)
    # the same clips, model, seed and budget: that run's own baseline, not another budget's
    donor = next(r for r in rows if r["config_file"] == same["config_file"])
    assert same["centralised_from"] == same["config_file"] and not same["centralised_budget_differs"]
    assert same["centralised"]["rounds"][-1]["test_acc"] == donor["centralised_acc"]
    assert same["comparison"]["centralised_total_j"] == donor["centralised_j"]
    # another budget: of the matching baselines (30 and 100 epochs) the longest-trained one
    assert longer["centralised_from"] == same["config_file"] and longer["centralised_budget_differs"]
    assert longer["centralised_epochs"] == 100 and longer["centralised_lr_schedule"] == "cosine"
    assert other_seed["centralised"] is None  # a different seed is not the same baseline

"""Federated keyword spotting at a useful scale (issue 17 §1), into BENCHMARKS.md.

Runs each ``--configs`` YAML (a ``FederatedConfig``) with ``run_federated`` into
``runs/federated_scale/<config stem>`` (``--reuse``: read the report already there instead),
then writes ``benchmarks/results/federated_scale.json`` and the BENCHMARKS.md section
``federated_scale``: per run the global test accuracy per round beside centralised training on
the same clips and epochs, 95 % Wilson intervals over the test items, the first round within
3 points of the centralised result and the node energy spent to get there, bytes and radio
energy, and the node failure.

    .venv/bin/python benchmarks/federated_scale.py --configs \\
        recipes/configs/federated_kws_logmel40.yaml recipes/configs/federated_kws_logmel40_pcm.yaml
    .venv/bin/python benchmarks/federated_scale.py --keep-previous --configs \\
        recipes/configs/federated_kws_logmel40_local5_cosine.yaml   # add one run to the earlier ones
    # the same run's own centralised baseline (same clips, epochs and schedule), trained afterwards:
    .venv/bin/python benchmarks/federated_scale.py --reuse --keep-previous --train-centralised --configs \\
        recipes/configs/federated_kws_logmel40_local5_cosine.yaml
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import save_results, update_summary  # noqa: E402

from memtorch_power.federated import FederatedConfig, run_federated  # noqa: E402
from memtorch_power.federated.centralised import run_centralised  # noqa: E402
from memtorch_power.federated.data import load_test_data  # noqa: E402
from memtorch_power.federated.history import FederatedHistory  # noqa: E402
from memtorch_power.federated.report import write_report  # noqa: E402
from memtorch_power.kws.compare_report import wilson_interval  # noqa: E402

#: issue 17: federated within this many points of centralised
TARGET_GAP_POINTS = 3.0
#: the results file this benchmark writes (``--keep-previous`` reads it back)
RESULTS_FILE = Path(__file__).resolve().parent / "results" / "federated_scale.json"
#: issue 17: centralised at least this accuracy
TARGET_CENTRALISED = 0.85


def run_or_reuse(config: Path, run_root: Path, reuse: bool, train_centralised: bool = False) -> dict[str, Any]:
    """The report of ``config``'s run (run now unless ``reuse`` finds one), with wall time.

    ``train_centralised``: a run without a centralised baseline (``centralised: false``) gets its
    own, trained here on the same clips, epochs and learning-rate schedule, and its run folder's
    report is rewritten with it (as if the run had had ``centralised: true``).
    """
    run_dir = run_root / config.stem
    report = run_dir / "federated.json"
    wall_s = None
    if not (reuse and report.is_file()):
        started = time.perf_counter()
        run_federated(FederatedConfig.from_yaml(config), run_dir=run_dir, progress=True)
        wall_s = time.perf_counter() - started
    payload = json.loads(report.read_text(encoding="utf-8"))
    if train_centralised and not payload.get("centralised"):
        cfg = dataclasses.replace(FederatedConfig.from_dict(payload["config"]), centralised=True)
        write_report(run_dir, cfg, FederatedHistory.from_dict(payload["federated"]), run_centralised(cfg))
        payload = json.loads(report.read_text(encoding="utf-8"))
    payload["config_file"], payload["wall_s"] = str(config), wall_s
    return payload


#: FederatedConfig fields that change the federated run but not its centralised baseline
FEDERATED_ONLY = ("server_lr", "server_momentum", "fail_node", "fail_round", "num_nodes", "partition",
                  "centralised", "run_dir", "round_timeout_s")


#: fields that set the training budget: a run that differs from a baseline's only in these (and in
#: :data:`FEDERATED_ONLY`) is compared with it, and the report says the budgets differ
BUDGET = ("rounds", "local_epochs", "lr_schedule")


def borrow_centralised(reports: list[dict[str, Any]]) -> None:
    """A run without a centralised baseline takes that of another run whose baseline would be the
    same (every field equal but :data:`FEDERATED_ONLY`: same clips, model, seed and epochs); failing
    that, of those that differ only in the budget (:data:`BUDGET`), the one trained for the most epochs,
    marked ``centralised_budget_differs``."""
    def key(report: dict[str, Any], ignore: tuple[str, ...] = ()) -> dict[str, Any]:
        cfg = FederatedConfig.from_dict(report["config"])
        values = {k: v for k, v in cfg.to_dict().items() if k not in FEDERATED_ONLY + ignore}
        values["data_root"] = str(Path(cfg.resolved_data_root).resolve())  # a CLI run records the path it resolved
        return values
    def epochs(report: dict[str, Any]) -> int:
        cfg = FederatedConfig.from_dict(report["config"])
        return cfg.rounds * cfg.local_epochs

    for report in reports:
        if report.get("centralised"):
            continue
        for ignore in ((), BUDGET):
            donors = [r for r in reports if r.get("centralised") and key(r, ignore) == key(report, ignore)]
            # of baselines with other budgets, the longest-trained one: the most demanding comparison
            donor = max(donors, key=epochs, default=None)
            if donor is not None:
                report["centralised"] = donor["centralised"]
                report["centralised_from"] = donor["config_file"]
                report["centralised_budget_differs"] = bool(ignore)
                report["centralised_epochs"] = epochs(donor)
                report["centralised_lr_schedule"] = FederatedConfig.from_dict(donor["config"]).lr_schedule
                report["comparison"]["raw_audio_bytes"] = donor["comparison"]["raw_audio_bytes"]
                report["comparison"]["centralised_total_j"] = donor["comparison"]["centralised_total_j"]
                break


def report_from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    """A stand-in report rebuilt from a row of an earlier ``federated_scale.json`` (whose run
    folder is gone): its config (read again from its YAML) and its centralised baseline, enough for
    :func:`borrow_centralised` to lend that baseline to a new run. Rows that borrowed their own
    baseline or have none lend nothing (``centralised`` None)."""
    config = FederatedConfig.from_yaml(summary["config_file"]).to_dict()
    own = summary.get("centralised_acc") is not None and not summary.get("centralised_from")
    rounds = [{"round": r["round"], "test_acc": r["centralised"]} for r in summary["per_round"]
              if r.get("centralised") is not None]
    return {"config_file": summary["config_file"], "config": config,
            "centralised": {"rounds": rounds} if own and rounds else None,
            "comparison": {"raw_audio_bytes": summary["raw_audio_bytes"],
                           "centralised_total_j": summary["centralised_j"]}}


def summarise(report: dict[str, Any]) -> dict[str, Any]:
    """Final accuracies with intervals, the round that came within the target, energy and bytes."""
    cfg = FederatedConfig.from_dict(report["config"])
    test_items = len(load_test_data(cfg).y)
    rounds = report["federated"]["rounds"]
    central = report["centralised"]
    same_budget = not report.get("centralised_budget_differs", False)  # else per-round columns are not at equal epochs
    central_acc = central["rounds"][-1]["test_acc"] if central else None
    cumulative, reached = 0.0, None
    for record in rounds:
        cumulative += record["total_j"]
        if central_acc is not None and reached is None and \
                record["round"] > 0 and 100 * (central_acc - record["test_acc"]) <= TARGET_GAP_POINTS:
            reached = {"round": record["round"], "node_j": cumulative}
    final = rounds[-1]["test_acc"]
    failed = [{"round": r["round"], "nodes_failed": r["nodes_failed"], "failures": r["failures"]}
              for r in rounds if r["nodes_failed"]]
    totals = report["federated"]["totals"]
    return {
        "config_file": report["config_file"], "wall_s": report["wall_s"], "test_items": test_items,
        "preset": cfg.preset, "nodes": cfg.num_nodes, "partition": cfg.partition, "rounds": cfg.rounds,
        "local_epochs": cfg.local_epochs, "lr_schedule": cfg.lr_schedule, "init_from": cfg.init_from, "server_momentum": cfg.server_momentum,
        "centralised_from": report.get("centralised_from"),
        "centralised_budget_differs": report.get("centralised_budget_differs", False),
        "centralised_epochs": report.get("centralised_epochs", cfg.rounds * cfg.local_epochs) if central else None,
        "centralised_lr_schedule": report.get("centralised_lr_schedule", cfg.lr_schedule) if central else None,
        "federated_acc": final, "federated_interval": wilson_interval(final, test_items),
        "centralised_acc": central_acc,
        "centralised_interval": wilson_interval(central_acc, test_items) if central_acc is not None else None,
        "gap_points": 100 * (central_acc - final) if central_acc is not None else None,
        "within_target": reached, "failures": failed,
        "per_round": [{"round": r["round"], "federated": r["test_acc"],
                       "centralised": central["rounds"][i]["test_acc"]
                       if central and same_budget and i < len(central["rounds"]) else None,
                       "nodes_ok": r["nodes_ok"], "node_j": r["total_j"]} for i, r in enumerate(rounds)],
        "federated_node_j": totals["total_j"], "federated_train_j": totals["train_j"],
        "federated_program_j": totals["program_j"], "federated_radio_j": totals["radio_j"],
        "federated_bytes": totals["down_bytes"] + totals["up_bytes"],
        "raw_audio_bytes": report["comparison"]["raw_audio_bytes"],
        "centralised_j": report["comparison"]["centralised_total_j"],
    }


def _pct(value: float | None, interval: Any = None) -> str:
    if value is None:
        return "not run"
    text = f"{100 * value:.2f} %"
    return text + (f" [{100 * interval[0]:.1f}, {100 * interval[1]:.1f}]" if interval else "")


def report_markdown(summaries: list[dict[str, Any]]) -> str:
    """The BENCHMARKS.md section (a wall-time column when a run was timed here, not reused)."""
    timed = any(s["wall_s"] is not None for s in summaries)
    lines = ["## Federated keyword spotting at scale (`benchmarks/federated_scale.py`)", "",
             "Bundled training speakers split over the nodes, test split evaluated by the server after every round "
             "(95 % Wilson intervals over the test items, silence and unknown included). Centralised: the same "
             "model trained on the pooled clips of all nodes for the same epochs (rounds x local epochs), priced "
             "on the cloud GPU profile plus the raw-audio upload. Node energy: training + re-programming + radio.", "",
             "| run | nodes | rounds x local epochs | federated | centralised | gap | within 3 points at | node J | "
             "federated bytes | raw audio bytes | centralised J |" + (" wall |" if timed else ""),
             "|---|---:|---|---|---|---:|---|---:|---:|---:|---:|" + ("---:|" if timed else "")]
    for s in summaries:
        reached = (f"round {s['within_target']['round']} ({s['within_target']['node_j']:.3g} J)"
                   if s["within_target"] else "not reached")
        gap = "-" if s["gap_points"] is None else f"{s['gap_points']:.2f}"
        wall = "-" if s["wall_s"] is None else f"{s['wall_s'] / 60:.1f} min"
        start = f", from `{s['init_from']}`" if s["init_from"] else ""
        start += f", server momentum {s['server_momentum']:g}" if s["server_momentum"] else ""
        central_j = "-" if s["centralised_j"] is None else f"{s['centralised_j']:.3g}"
        lines.append(f"| `{Path(s['config_file']).name}` ({s['preset']}, {s['partition']}{start}) | {s['nodes']} | "
                     f"{s['rounds']} x {s['local_epochs']}{', cosine lr' if s.get('lr_schedule') == 'cosine' else ''} | {_pct(s['federated_acc'], s['federated_interval'])} | "
                     f"{_pct(s['centralised_acc'], s['centralised_interval'])} | {gap} | {reached} | "
                     f"{s['federated_node_j']:.3g} | {s['federated_bytes']:.3g} | {s['raw_audio_bytes']:.3g} | "
                     f"{central_j} |" + (f" {wall} |" if timed else ""))
    lines += ["", f"Targets (issue 17): centralised ≥ {100 * TARGET_CENTRALISED:.0f} %, federated within "
                  f"{TARGET_GAP_POINTS:g} points of it.", ""]
    for s in summaries:
        failures = "; ".join(f"round {f['round']}: {f['nodes_failed']} node(s) failed ({', '.join(f['failures'])})"
                             for f in s["failures"]) or "none"
        borrowed = "" if not s["centralised_from"] else (
            f"; centralised column from `{Path(s['centralised_from']).name}` (same clips, model and seed; "
            + (f"a different budget: its {s['centralised_epochs']} epochs ({s.get('centralised_lr_schedule') or 'constant'} learning rate) against "
               f"{s['rounds']} x {s['local_epochs']} ({s.get('lr_schedule', 'constant')} over rounds) here, so the per-round columns are not at equal epochs)" if s.get("centralised_budget_differs")
               else "same epochs)"))
        wall_note = f"; wall time: {s['wall_note']}" if s.get("wall_note") else ""
        lines += [f"**`{Path(s['config_file']).name}`** ({s['test_items']} test items; failures: {failures}{borrowed}"
                  f"{wall_note})", "",
                  "| round | federated | centralised | nodes ok | node J |", "|---:|---:|---:|---:|---:|"]
        for r in s["per_round"]:
            lines.append(f"| {r['round']} | {_pct(r['federated'])} | {_pct(r['centralised'])} | {r['nodes_ok']} | "
                         f"{r['node_j']:.3g} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--configs", nargs="+", required=True, help="FederatedConfig YAML files")
    parser.add_argument("--run-root", default="runs/federated_scale", help="where the runs go")
    parser.add_argument("--reuse", action="store_true", help="read reports already in the run folders")
    parser.add_argument("--keep-previous", action="store_true",
                        help="keep the rows of benchmarks/results/federated_scale.json for configs not given here "
                             "(their run folders may be gone) and let them lend their centralised baselines")
    parser.add_argument("--wall-note", default="",
                        help="a sentence on the machine's load while the given configs ran, shown with each of them")
    parser.add_argument("--train-centralised", action="store_true",
                        help="give runs without a centralised baseline their own (same clips, epochs and schedule)")
    args = parser.parse_args()
    reports = [run_or_reuse(Path(c), Path(args.run_root), args.reuse, args.train_centralised) for c in args.configs]
    previous: list[dict[str, Any]] = []
    if args.keep_previous and RESULTS_FILE.is_file():
        given = {str(Path(c)) for c in args.configs}
        stored = json.loads(RESULTS_FILE.read_text(encoding="utf-8"))["runs"]
        previous = [row for row in stored if str(Path(row["config_file"])) not in given]
        timed = {str(Path(row["config_file"])): row["wall_s"] for row in stored if row.get("wall_s") is not None}
        for report in reports:  # a reused run keeps the wall time measured when it ran
            if report["wall_s"] is None:
                report["wall_s"] = timed.get(str(Path(report["config_file"])))
    lenders = [report_from_summary(row) for row in previous]
    borrow_centralised(reports + [lender for lender in lenders if lender["centralised"]])
    current = [summarise(r) for r in reports]
    if args.wall_note:  # what else ran beside these runs (their wall times, not their accuracies)
        for summary in current:
            summary["wall_note"] = args.wall_note
    summaries = previous + current
    save_results("federated_scale", {"runs": summaries})
    text = report_markdown(summaries)
    update_summary("federated_scale", text)
    print(text)


if __name__ == "__main__":
    main()

"""Reports of a federated run: JSON, a markdown table and a PNG (written atomically)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any


from matplotlib.figure import Figure

from memtorch_power.federated.centralised import CentralisedHistory  # noqa: E402
from memtorch_power.federated.config import FederatedConfig  # noqa: E402
from memtorch_power.federated.history import FederatedHistory  # noqa: E402
from memtorch_power.federated.radio import get_link  # noqa: E402
from memtorch_power.io import save_figure, write_json, write_text  # noqa: E402


def _j(value: float) -> str:
    if value == 0 or not math.isfinite(value):
        return f"{value:g} J"
    for scale, unit in ((1.0, "J"), (1e-3, "mJ"), (1e-6, "uJ"), (1e-9, "nJ"), (1e-12, "pJ")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value:.3g} J"


def _b(value: float) -> str:
    for scale, unit in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if value >= scale:
            return f"{value / scale:.2f} {unit}"
    return f"{int(value)} B"


def report_dict(cfg: FederatedConfig, history: FederatedHistory, central: CentralisedHistory | None) -> dict[str, Any]:
    """Everything of the run as one JSON-ready dictionary."""
    link = get_link(cfg.link)
    out: dict[str, Any] = {
        "config": cfg.to_dict(),
        "link": {"name": link.name, "description": link.description, "tx_j_per_bit": link.tx_j_per_bit,
                 "rx_j_per_bit": link.rx_j_per_bit, "sources": link.sources},
        "federated": history.to_dict(),
        "centralised": central.to_dict() if central else None,
    }
    totals = history.totals()
    raw = central.raw_audio_bytes if central else totals["raw_audio_bytes"]
    out["comparison"] = {
        "raw_audio_bytes": raw,
        "federated_bytes": totals["down_bytes"] + totals["up_bytes"],
        "upload_ratio_raw_over_federated_up": raw / totals["up_bytes"] if totals["up_bytes"] else math.inf,
        "federated_total_j": totals["total_j"],
        "centralised_total_j": central.totals()["total_j"] if central else None,
    }
    return out


def markdown(cfg: FederatedConfig, history: FederatedHistory, central: CentralisedHistory | None) -> str:
    """Per-round table and totals, federated against centralised."""
    link = get_link(cfg.link)
    lines = [
        f"# Federated keyword spotting: {cfg.num_nodes} nodes x {cfg.rounds} rounds, preset `{cfg.preset}`",
        "",
        f"Model `{cfg.model}` {cfg.model_kwargs or ''}, partition `{cfg.partition}`, {cfg.local_epochs} local "
        f"epoch(s)/round ({cfg.optimizer} lr {cfg.lr:g}, {cfg.lr_schedule} over rounds), radio `{link.name}` ({link.tx_j_per_bit * 1e9:.2f} nJ/bit up, "
        f"{link.rx_j_per_bit * 1e9:.2f} nJ/bit down), profiles `{cfg.analog_profile}` + `{cfg.edge_digital_profile}`.",
        f"One global model message: {_b(history.model_bytes)} on the wire ({history.parameters} values, "
        f"{_b(history.array_bytes)} of .npy data).",
        "",
        "| round | test acc | nodes ok/sent | bytes down | bytes up | radio | training | re-programming | round total | cumulative |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for record, cumulative in zip(history.rounds, history.cumulative_j()):
        lines.append(
            f"| {record.round} | {record.test_acc:.3f} | {record.nodes_ok}/{record.nodes_sampled} | "
            f"{_b(record.down_bytes)} | {_b(record.up_bytes)} | {_j(record.radio_j)} | {_j(record.train_j)} | "
            f"{_j(record.program_j)} | {_j(record.total_j)} | {_j(cumulative)} |"
        )
    failures = [(r.round, f) for r in history.rounds for f in r.failures]
    if failures:
        lines += ["", "Failed nodes (excluded from aggregation):"]
        lines += [f"- round {rnd}: {reason.splitlines()[-1] if reason else 'no reason'}" for rnd, reason in failures]
    totals = history.totals()
    lines += ["", "| | federated | centralised |", "|---|---|---|"]
    c = central.totals() if central else None
    raw = central.raw_audio_bytes if central else totals["raw_audio_bytes"]
    lines += [
        f"| bytes up (nodes -> cloud) | {_b(totals['up_bytes'])} | {_b(raw)} (raw .wav) |",
        f"| bytes down (cloud -> nodes) | {_b(totals['down_bytes'])} | 0 B |",
        f"| radio energy (nodes) | {_j(totals['radio_j'])} | {_j(c['upload_j']) if c else '-'} |",
        f"| training energy | {_j(totals['train_j'])} (nodes) | {_j(c['train_j']) if c else '-'} (cloud, `{cfg.cloud_digital_profile}`) |",
        f"| re-programming energy (nodes) | {_j(totals['program_j'])} | - |",
        f"| total energy | {_j(totals['total_j'])} | {_j(c['total_j']) if c else '-'} |",
        f"| final test accuracy | {totals['final_test_acc']:.3f} | {c['final_test_acc']:.3f} |" if c else
        f"| final test accuracy | {totals['final_test_acc']:.3f} | - |",
        "",
        "Radio figures are lower bounds (PHY rate, no protocol overhead); see docs/edge_to_cloud.md for sources.",
    ]
    return "\n".join(lines) + "\n"


def plot(history: FederatedHistory, central: CentralisedHistory | None, title: str = "") -> Figure:
    """Accuracy per round and cumulative energy (J, log scale), federated vs centralised."""
    fig = Figure(figsize=(10, 4))
    ax_acc, ax_j = fig.subplots(1, 2)
    rounds = [r.round for r in history.rounds]

    def positive(xs: list[int], ys: list[float]) -> tuple[list[int], list[float]]:
        kept = [(x, y) for x, y in zip(xs, ys) if y > 0]
        return [x for x, _ in kept], [y for _, y in kept]

    ax_acc.plot(rounds, [r.test_acc for r in history.rounds], "o-", label="federated")
    ax_j.plot(*positive(rounds, history.cumulative_j()), "o-", label="federated (nodes)")
    if central:
        central_rounds = [r.round for r in central.rounds]
        ax_acc.plot(central_rounds, [r.test_acc for r in central.rounds], "s--", label="centralised")
        ax_j.plot(*positive(central_rounds, central.cumulative_j()), "s--", label="centralised (upload + cloud)")
    ax_acc.set(xlabel="round", ylabel="test accuracy", title="global model accuracy")
    ax_j.set(xlabel="round", ylabel="cumulative energy (J)", title="energy", yscale="log")
    for ax in (ax_acc, ax_j):
        ax.grid(alpha=0.3)
        ax.legend()
        ax.set_xticks(rounds)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


#: the report files :func:`write_report` writes, by kind
REPORT_FILES = {"json": "federated.json", "markdown": "federated.md", "png": "federated.png"}


def write_report(run_dir: str | os.PathLike[str], cfg: FederatedConfig, history: FederatedHistory,
                 central: CentralisedHistory | None) -> dict[str, Path]:
    """Write ``federated.json``, ``federated.md`` and ``federated.png`` into ``run_dir``."""
    run_dir = Path(run_dir)
    paths = {
        "json": write_json(run_dir / REPORT_FILES["json"], report_dict(cfg, history, central)),
        "markdown": write_text(run_dir / REPORT_FILES["markdown"], markdown(cfg, history, central)),
    }
    figure = plot(history, central, f"{cfg.num_nodes} nodes, preset {cfg.preset}")
    paths["png"] = save_figure(figure, run_dir / REPORT_FILES["png"])
    return paths


__all__ = ["REPORT_FILES", "markdown", "plot", "report_dict", "write_report"]

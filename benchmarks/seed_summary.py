"""Digital vs mixed-precision PCM training over several seeds (issue 12): one table from the
``kws_accuracy`` result files of each seed.

Reads ``benchmarks/results/kws_accuracy.json`` (seed 0) and ``kws_accuracy_seed<N>.json`` for the
other seeds that exist, and writes the BENCHMARKS.md section ``kws_accuracy_seeds``: test
accuracy per seed (714 test clips each), the gap per seed, and the mean gap with its standard
deviation over seeds. The 2-point target of issue 12 is judged on the mean gap.

    .venv/bin/python benchmarks/seed_summary.py
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, update_summary  # noqa: E402

PRESET = "pcm_mixed_precision"


def _rows(path: Path) -> dict[str, dict]:
    return {row["preset"]: row for row in json.loads(path.read_text())["rows"]}


def main() -> None:
    files = [(0, RESULTS / "kws_accuracy.json")] + sorted(
        (int(p.stem.rsplit("seed", 1)[1]), p) for p in RESULTS.glob("kws_accuracy_seed*.json"))
    lines = ["| seed | digital test acc | mixed precision test acc | gap (points) | test clips |", "|---:|---:|---:|---:|---:|"]
    gaps = []
    for seed, path in files:
        rows = _rows(path)
        if "digital" not in rows or PRESET not in rows:
            continue
        digital, mixed = rows["digital"], rows[PRESET]
        gap = 100 * (digital["test_acc"] - mixed["test_acc"])
        gaps.append(gap)
        lines.append(f"| {seed} | {100 * digital['test_acc']:.2f} % | {100 * mixed['test_acc']:.2f} % | {gap:.2f} | "
                     f"{digital.get('test_clips', '')} |")
    if not gaps:
        sys.exit("no seed has both a digital and a mixed-precision row")
    mean = statistics.fmean(gaps)
    spread = statistics.stdev(gaps) if len(gaps) > 1 else float("nan")
    verdict = "✓" if mean <= 2.0 else "✗"
    update_summary(
        "kws_accuracy_seeds",
        "## Mixed precision against digital over seeds (`benchmarks/seed_summary.py`)\n\n"
        "40 epochs each, 12-class KWS test split; seed 0 is the `kws_accuracy` section, the others "
        "`kws_accuracy_seed<N>` (digital and mixed precision only).\n\n" + "\n".join(lines)
        + f"\n\nMean gap over {len(gaps)} seed(s): {mean:.2f} points"
        + ("" if len(gaps) < 2 else f" (standard deviation {spread:.2f})")
        + f"; issue 12's target is at most 2 points: {verdict}\n",
    )
    print("\n".join(lines))
    print(f"mean gap {mean:.2f} points over {len(gaps)} seed(s)")


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmarks: timing, machine description, atomic result files."""

from __future__ import annotations

import glob
import json
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import torch

RESULTS = Path(__file__).resolve().parent / "results"
BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"

#: Issue 15's drift targets: the most accuracy points a programmed PCM model may lie below the
#: digital model after each drift time (``drift_options.py`` and ``seed_summary.py`` judge by them).
DRIFT_TARGETS = {"1 s": 1.0, "1 day": 2.0, "1 year": 4.0}


def machine() -> dict[str, Any]:
    """Where the numbers were measured."""
    return {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.cuda.is_available(),
    }


def median_seconds(step: Callable[[], object], repeats: int, warmup: int = 1, budget_s: float = 60.0) -> dict[str, float]:
    """Median wall time of ``step`` in seconds over up to ``repeats`` runs within ``budget_s``."""
    for _ in range(warmup):
        step()
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < repeats and (not times or time.perf_counter() - started < budget_s):
        t0 = time.perf_counter()
        step()
        times.append(time.perf_counter() - t0)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": len(times)}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w") as stream:
        stream.write(text)
    os.replace(temporary, path)


def expand_paths(patterns: list[str]) -> list[str]:
    """Paths matching each glob pattern (a pattern that matches nothing is kept as a path, so
    that opening it names it in the error), sorted and without repeats."""
    return sorted({path for pattern in patterns for path in (glob.glob(pattern) or [pattern])})


def save_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``benchmarks/results/<name>.json`` (with the machine description)."""
    payload = {"benchmark": name, "machine": machine(), **payload}
    path = RESULTS / f"{name}.json"
    write_atomic(path, json.dumps(payload, indent=2) + "\n")
    return path


def update_summary(section: str, markdown: str) -> None:
    """Replace the block between ``<!-- section:start -->`` and ``<!-- section:end -->``
    of BENCHMARKS.md with ``markdown`` (appending the block if it is not there yet)."""
    start, end = f"<!-- {section}:start -->", f"<!-- {section}:end -->"
    text = BENCHMARKS_MD.read_text() if BENCHMARKS_MD.exists() else "# Benchmarks\n"
    block = f"{start}\n{markdown.rstrip()}\n{end}"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        _, after = rest.split(end, 1)
        text = before + block + after
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    write_atomic(BENCHMARKS_MD, text)

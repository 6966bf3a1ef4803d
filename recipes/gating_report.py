"""Wake-word gating report: always-on vs gated energy across detection thresholds.

    python recipes/gating_report.py --config recipes/configs/gating_report.yaml \
        --checkpoint runs/kws/.../best.ckpt
    python recipes/gating_report.py --config recipes/configs/gating_report.yaml   # trains a quick one

Without --checkpoint a small DS-CNN KeywordSpotter (preset `quick_preset`, `quick_epochs`
epochs, depthwise convs digital) is trained first and saved as quick_spotter.ckpt in the
run folder. Writes gating.json, gating.md and gating.png (default runs/gating/<time>).
Every step is a library call: memtorch_power.gating.run_gating.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from memtorch_power.gating import GatingConfig, run_gating


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML file with GatingConfig fields")
    parser.add_argument("--checkpoint", default=None, help="KeywordSpotter checkpoint (trusted: weights_only=False)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field (VALUE parsed as YAML), repeatable")
    parser.add_argument("--run-dir", default=None, help="report folder (default runs/gating/<time>)")
    args = parser.parse_args(argv)
    overrides = {k.strip(): yaml.safe_load(v) for k, _, v in (s.partition("=") for s in args.set)}
    if args.checkpoint:
        overrides["checkpoint"] = args.checkpoint
    cfg = GatingConfig.from_yaml(args.config, **overrides)
    run_dir = Path(args.run_dir or Path("runs") / "gating" / time.strftime("%Y%m%d-%H%M%S"))
    result = run_gating(cfg, run_dir)
    print(result.paths["markdown"].read_text(encoding="utf-8"))
    print(f"report: {run_dir}")


if __name__ == "__main__":
    main()

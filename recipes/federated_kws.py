"""Federated keyword spotting on simulated PCM edge nodes (Flower simulation on Ray).

    python recipes/federated_kws.py --config recipes/configs/federated_kws.yaml
    python recipes/federated_kws.py --config recipes/configs/federated_kws_quick.yaml \
        --set preset=digital --set rounds=2 --run-dir runs/federated_kws/digital

Writes federated.json, federated.md and federated.png into the run folder (default
runs/federated_kws/<time>). Every step is a library call: see
memtorch_power.federated.run_federated. The same apps run on Flower's deployment engine
(SuperLink + SuperNodes): docs/edge_to_cloud.md.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import yaml

from memtorch_power.federated import FederatedConfig, run_federated


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", required=True, help="YAML file with FederatedConfig fields")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="override a field (VALUE parsed as YAML), repeatable")
    parser.add_argument("--run-dir", default=None, help="report folder (default runs/federated_kws/<time>)")
    args = parser.parse_args(argv)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        overrides[key.strip()] = yaml.safe_load(value)
    cfg = FederatedConfig.from_yaml(args.config, **overrides)
    run_dir = Path(args.run_dir or Path("runs") / "federated_kws" / time.strftime("%Y%m%d-%H%M%S"))
    run = run_federated(cfg, run_dir=run_dir)
    print(run.paths["markdown"].read_text(encoding="utf-8"))
    print(f"report: {run_dir}")


if __name__ == "__main__":
    main()

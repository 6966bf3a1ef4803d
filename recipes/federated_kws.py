"""Federated keyword spotting on simulated PCM edge nodes (Flower simulation on Ray).

    python recipes/federated_kws.py --config recipes/configs/federated_kws.yaml
    python recipes/federated_kws.py --config recipes/configs/federated_kws_quick.yaml \\
        --preset digital --rounds 2 --run_dir runs/federated_kws/digital

Same as ``memtorch-power federated``. Writes federated.json, federated.md and federated.png
into the run folder (default runs/federated_kws/<time>). Every step is a library call: see
memtorch_power.federated.run_federated. The same apps run on Flower's deployment engine
(SuperLink + SuperNodes): docs/edge_to_cloud.md.
"""

import sys

from memtorch_power.cli_commands.federated import main

if __name__ == "__main__":
    sys.exit(main())

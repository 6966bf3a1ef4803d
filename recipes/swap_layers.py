"""Swap the layers of an ordinary PyTorch model for PCM crossbars, train a few steps, drift it.

    .venv/bin/python recipes/swap_layers.py [--preset pcm_hwa] [--steps 200]

Same as ``memtorch-power demo``: a small CNN on a synthetic 4-class pattern task (no data
needed); prints which layers were swapped, the loss before and after training on the chosen
preset, for inference presets the accuracy after programming and drift, and the energy of one
training batch per layer. The logic is :func:`memtorch_power.demo.run_demo`.
"""

import sys

from memtorch_power.cli_commands.demo import main

if __name__ == "__main__":
    sys.exit(main())

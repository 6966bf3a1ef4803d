"""Wake-word gating report: always-on vs gated energy across detection thresholds.

    python recipes/gating_report.py --config recipes/configs/gating_report.yaml \\
        --checkpoint runs/kws/.../best.ckpt
    python recipes/gating_report.py --config recipes/configs/gating_report.yaml   # trains a quick one

Same as ``memtorch-power gating``. Without --checkpoint a small DS-CNN KeywordSpotter (preset
`quick_preset`, `quick_epochs` epochs, depthwise convs digital) is trained first and saved as
quick_spotter.ckpt in the run folder. Writes gating.json, gating.md and gating.png (default
runs/gating/<time>). Every step is a library call: memtorch_power.gating.run_gating.
"""

import sys

from memtorch_power.cli_commands.gating import main

if __name__ == "__main__":
    sys.exit(main())

"""Export a digital keyword spotter trained by a recipe as a shipped model.

    python recipes/kws.py fit --config recipes/configs/digital_logmel40.yaml
    python recipes/export_pretrained.py --name dscnn_logmel40 \\
        --recipe recipes/configs/digital_logmel40.yaml \\
        --checkpoint runs/kws_digital_logmel40/checkpoints/best.ckpt \\
        --metrics runs/kws_digital_logmel40/version_0/metrics.csv

Tests the checkpoint on the test split of its data folder (the number of clips is recorded),
then writes memtorch_power/kws/pretrained_models/<name>.{pt,json}
(memtorch_power.kws.pretrained.export_digital).
"""

from __future__ import annotations

import argparse

from memtorch_power.kws.pretrained import FOLDER, export_digital
from memtorch_power.kws.results import accuracy, datamodule_for, load_keyword_spotter


def test_accuracy(checkpoint: str, root: str | None = None) -> tuple[float, int]:
    """Accuracy (fraction) of a KeywordSpotter checkpoint on its data's test split, and the clips."""
    return accuracy(load_keyword_spotter(checkpoint), datamodule_for(checkpoint, root, augment=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", required=True, help="the recipe run's best checkpoint")
    parser.add_argument("--name", required=True, help="name of the shipped model")
    parser.add_argument("--recipe", required=True, help="the recipe config that trained it")
    parser.add_argument("--metrics", default=None, help="the run's metrics.csv (per-epoch history)")
    parser.add_argument("--root", default=None, help="Speech Commands folder (default: the checkpoint's)")
    parser.add_argument("--folder", default=str(FOLDER), help="where to write (default: %(default)s)")
    args = parser.parse_args()
    accuracy, clips = test_accuracy(args.checkpoint, args.root)
    path = export_digital(args.checkpoint, args.name, args.recipe, args.metrics, accuracy, clips, args.folder)
    print(f"{path}: test accuracy {100 * accuracy:.2f} % on {clips} clips")


if __name__ == "__main__":
    main()

"""The LightningCLI of the keyword-spotting recipe (``recipes/kws.py`` is a thin entry point).

    python recipes/kws.py fit --config recipes/configs/pcm_hwa.yaml

``fit`` trains, then (unless ``--test_after_fit false``) tests the best checkpoint, which
triggers the callbacks configured in the YAML: drift evaluation and energy reports.
"""

from __future__ import annotations

from lightning.pytorch.cli import LightningArgumentParser, LightningCLI

from memtorch_power.checkpoint_io import AtomicCheckpointIO
from memtorch_power.kws.datamodule import SpeechCommandsDataModule
from memtorch_power.kws.module import KeywordSpotter


#: Trainer defaults of the recipe: checkpoints written atomically. The plugin is given as config
#: (``class_path``), not as an instance, so that the saved ``config.yaml`` can hold it
#: (an instance makes jsonargparse warn "Unable to serialize" on every run).
TRAINER_DEFAULTS = {"plugins": [{"class_path": f"{AtomicCheckpointIO.__module__}.{AtomicCheckpointIO.__name__}"}]}


class KeywordSpottingCLI(LightningCLI):
    """LightningCLI with the data module's shapes linked into the model."""

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        parser.link_arguments("data.num_classes", "model.num_classes", apply_on="instantiate")
        parser.link_arguments("data.n_features", "model.n_features", apply_on="instantiate")
        parser.link_arguments("data.n_frames", "model.n_frames", apply_on="instantiate")
        parser.add_argument("--test_after_fit", type=bool, default=True,
                            help="test the best checkpoint (with drift and energy reports) after fit")

    def after_fit(self) -> None:
        if self.config[self.subcommand].get("test_after_fit", True):
            checkpoint = getattr(self.trainer.checkpoint_callback, "best_model_path", "") or None
            self.trainer.test(self.model, datamodule=self.datamodule, ckpt_path=checkpoint)


def main(args: list[str] | None = None) -> KeywordSpottingCLI:
    """Run the keyword-spotting CLI (``args`` as on the command line; None reads sys.argv)."""
    return KeywordSpottingCLI(
        KeywordSpotter,
        SpeechCommandsDataModule,
        args=args,
        save_config_kwargs={"overwrite": True},
        trainer_defaults=TRAINER_DEFAULTS,
    )

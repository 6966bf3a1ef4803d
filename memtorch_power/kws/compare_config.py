"""What a keyword-spotting comparison runs (:class:`ComparisonConfig`) and each preset's optimizer
settings, from scratch (:data:`DEFAULT_TRAINING`) and when fine-tuning a trained digital model
(:data:`FINETUNE_TRAINING`); :mod:`memtorch_power.kws.compare` runs it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, get_args

from memtorch_power.kws.models import MODELS
from memtorch_power.kws.module import DIGITAL
from memtorch_power.kws.pretrained import resolve as resolve_pretrained
from memtorch_power.nn import DRIFT_TIMES_S, check_conductance_pairs
from memtorch_power.nn.inference import DriftCompensation
from memtorch_power.presets import get_preset

#: pcm_tiki_taka_adapt's steps, from scratch or fine-tuning alike: small steps for the trained batch
#: norms and for the transfers to PCM (benchmarks/results/pcm_tiki_taka_sweep.json, tt:finetune_omega_1.4)
_ADAPT_TRAINING: dict[str, Any] = {"optimizer": "sgd", "lr": 0.01, "analog_lr": 0.001, "momentum": 0.0}

#: Optimizer settings per preset, measured on speech_commands_mini (DS-CNN, 10 MFCC, 4 epochs).
#: The DS-CNN's batch norms make its digital parameters want a large SGD step: plain SGD at
#: lr 0.05 reached 17 % test, at lr 1.0 73 % (Adam 3e-3: 58 %). The in-memory presets update
#: their tiles by pulses at ``analog_lr`` and everything digital by SGD at ``lr``.
DEFAULT_TRAINING: dict[str, dict[str, Any]] = {
    DIGITAL: {"optimizer": "adam", "lr": 3e-3},
    "ideal": {"optimizer": "adam", "lr": 3e-3},
    # lr 3e-3 -> 21.7 % test, 1e-2 -> 51.1 % (before the input norm; weights are normalised
    # per column on the tile, so Adam's steps are relative to w_max)
    "pcm_hwa": {"optimizer": "adam", "lr": 1e-2},
    # lr 0.05 -> 6.6 % (one class), lr 1.0 with weight scaling -> 42 % (79 % in 40 epochs);
    # the tiles' step tuned on validation (benchmarks/results/pcm_mixed_precision_sweep.json):
    # 40 epochs, best validation 87.0 % at analog_lr 0.1, 85.0 % at 0.3 (70.1 % at 1.0 after 10)
    "pcm_mixed_precision": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
    # the tiles' RMS step per weight, tuned on validation at 10 epochs (pcm_mixed_precision_sweep.json,
    # mp:factored_tile_lr_*): 79.2 % at 0.001, 74.6 % at 0.003
    "pcm_mixed_precision_factored": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.001, "momentum": 0.0},
    # Adam's step size in weight units, as the digital run's 3e-3 (10 epochs, validation,
    # mp:adam_step_*: 74.7 % at 0.003 and at 0.001; Adam for the digital parameters too: 67.3 %)
    "pcm_mixed_precision_adam": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.003, "momentum": 0.0},
    # Tiki-Taka: the fast array steps at fast_lr 1.0; the tile lr scales the transfer to PCM
    # (0.1: 53 % validation after 10 epochs, 1.0: 42 %; benchmarks/results/pcm_tiki_taka_sweep.json)
    "pcm_tiki_taka": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
    "pcm_tiki_taka_adapt": _ADAPT_TRAINING,
    # the fast array steps at the tile lr (cosine); at gamma 1/3, lr 3.0 is the gamma-1 cell's step
    # in weight units: 81.1 % validation after 40 epochs, lr 1.0: 78.6 % (pcm_tiki_taka_sweep.json)
    "pcm_fast_weight": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 3.0, "momentum": 0.0},
    # no tile step tried learned in 4 epochs (analog_lr 1.0, 0.1, 0.01: 15-18 %); see
    # BENCHMARKS.md for why in-array SGD on PCM trails
    "pcm_training": {"optimizer": "sgd", "lr": 1.0, "analog_lr": 0.1, "momentum": 0.0},
}

#: Optimizer settings of a preset that starts from the digital run's trained weights
#: (``ComparisonConfig.start_from_digital``): hardware-aware fine-tuning takes a smaller step
#: than training from scratch, so that it adapts the trained weights to the noisy, quantised
#: forward instead of relearning them.
FINETUNE_TRAINING: dict[str, dict[str, Any]] = {
    # input ranges re-initialised at 10 standard deviations: at the preset's 3 the digitally trained
    # DS-CNN fell to 31 % validation before any weight update (docs/kws_accuracy_notes.md)
    "pcm_hwa": {"optimizer": "adam", "lr": 2e-3, "input_range_std_alpha": 10.0},
    "pcm_tiki_taka_adapt": _ADAPT_TRAINING,
    # the in-memory presets adapt trained weights with the small steps that keep pcm_tiki_taka_adapt's
    # programmed DS-CNN near digital (the from-scratch SGD lr 1.0 would undo the trained batch norms)
    "pcm_mixed_precision": _ADAPT_TRAINING,
    "pcm_training": _ADAPT_TRAINING,
    # the fast weights step at 0.03 (a hundredth of the from-scratch 3.0), the batch norms at SGD 0.01:
    # 2 epochs from dscnn_logmel40 (89.64 % test) kept 86.83 % test, 85.81 % best validation
    # (docs/kws_accuracy_notes.md)
    "pcm_fast_weight": {"optimizer": "sgd", "lr": 0.01, "analog_lr": 0.03, "momentum": 0.0},
}


@dataclass
class ComparisonConfig:
    """What to compare and on which budget.

    Attributes:
        root: Speech Commands folder (full release or the bundled mini set).
        presets: ``"digital"`` and/or preset names, trained in this order.
        model: architecture (``"dscnn"``, ``"res8"``, ``"bcresnet"``).
        features: ``"mfcc"`` (as Hello Edge and MLPerf Tiny's DS-CNN) or ``"logmel"``.
        n_features: MFCC coefficients or mel bands per frame (10 MFCC: the MLPerf Tiny shape,
            fast; 40 log-mel bands: the most accurate on speech_commands_mini, 4x the MACs).
        freq_masks: SpecAugment frequency masks per training example (of up to
            ``freq_mask_bins`` rows each); 2 masks of 6 bands took the 40-log-mel DS-CNN from
            89.5 % to 90.8 % test on speech_commands_mini. 0 (the default) disables them.
        freq_mask_bins: widest frequency mask, feature rows.
        epochs: training epochs for every preset (the same budget for all).
        batch_size: examples per batch.
        limit_train_batches: fraction (float) or number (int) of training batches per epoch.
        limit_eval_batches: fraction or number of validation and test batches (also bounds
            the drift evaluation); 1.0 = all.
        drift_repeats: programming runs per drift time (inference presets).
        drift_times: drift time labels evaluated (see ``memtorch_power.nn.DRIFT_TIMES_S``).
        drift_compensation: how the programmed chip rescales drifted outputs: ``"global"`` (one
            factor per tile), ``"per_column"`` (one per output column) or ``"none"``
            (:func:`memtorch_power.nn.set_drift_compensation`).
        recalibration_batches: re-estimate the batch norms' statistics on this many unlabelled
            training batches after each drift time (adaptive batch-norm statistics, Joshi et al.,
            Nature Communications 11, 2473, 2020); 0: off.
        verify_tolerance_us: program with a verify loop that re-programs every device more than
            this many µS off its target conductance (:mod:`memtorch_power.nn.program_verify`);
            None: each device programmed once.
        conductance_pairs: differential PCM pairs per weight the programmed chip stores (1:
            aihwkit's single pair; 2: the four-device unit cell of the ``hermes`` profile;
            :func:`memtorch_power.nn.set_conductance_pairs`); None keeps the preset's (one pair).
        analog_profile: energy profile of the PCM system.
        digital_profile: energy profile of the digital baseline.
        output_dir: run folder for checkpoints, logs and the comparison report.
        seed: global seed (same data order and initialisation for every preset).
        progress: show Lightning's progress bars.
        training: per-preset optimizer settings overriding :data:`DEFAULT_TRAINING` (and
            :data:`FINETUNE_TRAINING` for presets that start from the digital run).
        start_from_digital: presets that start from the digital run's best weights instead of
            from scratch (hardware-aware fine-tuning, as in Rasch et al., Nature Communications
            14, 5282, 2023); needs ``"digital"`` earlier in ``presets``. Their rows count only
            their own epochs and energy, not the digital pre-training's.
        finetune_epochs: epochs of the presets in ``start_from_digital`` (None: ``epochs``): one
            number for all, or one per preset (``{pcm_hwa: 2, pcm_mixed_precision: 1}``; a preset
            not named takes ``epochs``).
        digital_from: the digital row's weights instead of training it in this run: the name of a
            shipped model (:mod:`memtorch_power.kws.pretrained`, e.g. ``"dscnn_logmel40"``) or the
            path of a digital KeywordSpotter checkpoint or network ``state_dict``. The row is
            tested here; its training energy and curve are priced from the recorded per-epoch
            history of the run that made it (the shipped model's ``.json``), or left empty
            without one. The presets in ``start_from_digital`` fine-tune from these weights.
        target_acc: validation accuracy (fraction) at which training energy is compared;
            None: the digital run's best validation accuracy minus :data:`TARGET_MARGIN`.
        reuse_results: read a preset's row from ``<output_dir>/<preset>/result.json`` when an
            earlier run of the same comparison (same epochs and start) left one, instead of
            training it again: an interrupted comparison resumes with the presets it lacks.
        accelerator: where to train and evaluate, as Lightning's ``Trainer`` takes it
            (``"cpu"``, ``"gpu"``, ``"cuda"``, ``"auto"``). The pulsed presets run on CPU only:
            asking for a GPU with one of them is an error that names it.
        devices: device count or ids, as Lightning's ``Trainer`` takes them.
    """

    root: str
    presets: list[str] = field(default_factory=lambda: [DIGITAL, "pcm_hwa", "pcm_mixed_precision", "pcm_training"])
    model: str = "dscnn"
    features: str = "mfcc"
    n_features: int = 10
    freq_masks: int = 0
    freq_mask_bins: int = 6
    epochs: int = 3
    batch_size: int = 64
    limit_train_batches: float | int = 1.0
    limit_eval_batches: float | int = 1.0
    drift_repeats: int = 2
    drift_times: list[str] = field(default_factory=lambda: ["1 s", "1 h", "1 day", "1 month", "1 year"])
    drift_compensation: DriftCompensation = "global"
    recalibration_batches: int = 0
    verify_tolerance_us: float | None = None
    conductance_pairs: int | None = None
    analog_profile: str = "hermes"
    digital_profile: str = "a100_fp16"
    output_dir: str = "runs/compare"
    seed: int = 0
    progress: bool = True
    training: dict[str, dict[str, Any]] = field(default_factory=dict)
    start_from_digital: list[str] = field(default_factory=list)
    finetune_epochs: int | dict[str, int] | None = None
    digital_from: str | None = None
    target_acc: float | None = None
    reuse_results: bool = False
    accelerator: str = "cpu"
    devices: int | str = 1

    def __post_init__(self) -> None:
        for preset in self.presets:
            if preset != DIGITAL:  # unknown names and devices fail before any training
                get_preset(preset).check_device(self.accelerator)
        if self.target_acc is not None and not 0.0 < self.target_acc <= 1.0:
            raise ValueError(f"target_acc must be a fraction in (0, 1] (0.82 for 82 %), got {self.target_acc}")
        for preset in self.start_from_digital:
            if preset == DIGITAL or preset not in self.presets:
                raise ValueError(f"start_from_digital: {preset!r} is not one of the PCM presets compared "
                                 f"({', '.join(p for p in self.presets if p != DIGITAL) or 'none'})")
            if DIGITAL not in self.presets or self.presets.index(DIGITAL) > self.presets.index(preset):
                raise ValueError(f"start_from_digital: {preset!r} needs 'digital' earlier in presets, "
                                 f"got {self.presets}")
        if self.digital_from is not None:
            if DIGITAL not in self.presets:
                raise ValueError("digital_from: 'digital' is not among the presets compared")
            try:
                resolve_pretrained(self.digital_from)
            except FileNotFoundError as err:
                raise ValueError(f"digital_from: {err}") from None
        per_preset = self.finetune_epochs if isinstance(self.finetune_epochs, dict) else {"": self.finetune_epochs}
        for preset, epochs in per_preset.items():
            if epochs is not None and int(epochs) < 1:
                raise ValueError(f"finetune_epochs must be >= 1, got {epochs}" + (f" for {preset}" if preset else ""))
        if isinstance(self.finetune_epochs, dict):
            unknown = sorted(set(self.finetune_epochs) - set(self.start_from_digital))
            if unknown:
                raise ValueError(f"finetune_epochs names presets that do not start from digital: {unknown}")
        for name in ("epochs", "batch_size", "drift_repeats", "n_features"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.conductance_pairs is not None:
            check_conductance_pairs(self.conductance_pairs)
        if self.drift_compensation not in get_args(DriftCompensation):
            raise ValueError(f"drift_compensation must be one of {', '.join(map(repr, get_args(DriftCompensation)))}, "
                             f"got {self.drift_compensation!r}")
        if self.verify_tolerance_us is not None and not self.verify_tolerance_us > 0:
            raise ValueError(f"verify_tolerance_us must be > 0 µS or None, got {self.verify_tolerance_us}")
        if self.recalibration_batches < 0:
            raise ValueError(f"recalibration_batches must be >= 0, got {self.recalibration_batches}")
        if self.freq_masks < 0:
            raise ValueError(f"freq_masks must be >= 0, got {self.freq_masks}")
        for name in ("limit_train_batches", "limit_eval_batches"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0 (a fraction or a count), got {getattr(self, name)}")
        unknown = [t for t in self.drift_times if t not in DRIFT_TIMES_S]
        if unknown:
            raise ValueError(f"unknown drift time(s) {', '.join(map(repr, unknown))}; known: "
                             + ", ".join(repr(t) for t in DRIFT_TIMES_S))
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}; known models: {', '.join(MODELS)}")
        if self.features not in ("mfcc", "logmel"):
            raise ValueError(f"features must be 'mfcc' or 'logmel', got {self.features!r}")


#: Default energy-to-accuracy target: the digital run's best validation accuracy minus this
#: (a fraction: 0.01 = 1 point).
TARGET_MARGIN = 0.01


__all__ = ["ComparisonConfig", "DEFAULT_TRAINING", "FINETUNE_TRAINING", "TARGET_MARGIN"]

"""``KeywordSpotter``: the LightningModule of the keyword-spotting recipe, digital or on PCM."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torchmetrics
from torch import Tensor, nn

from memtorch_power.kws.models import build_model
from memtorch_power.kws.pretrained import digital_state_dict
from memtorch_power.nn import analog_layers, analogize, set_input_range_init, set_weight_noise_std, weight_noise_std
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import get_preset

DIGITAL = "digital"


class TeacherEnsemble(nn.Module):
    """Several frozen teachers as one: returns ``T * log(mean_i softmax(z_i / T))``, the logits
    whose temperature-``T`` softmax is the mean of the teachers' temperature-``T`` softmaxes
    (Hinton et al. 2015 distil from an ensemble's averaged soft targets).

    Args:
        teachers: networks of the same output size.
        temperature: the distillation temperature ``T`` (> 0).
    """

    def __init__(self, teachers: list[nn.Module], temperature: float) -> None:
        super().__init__()
        if not teachers:
            raise ValueError("TeacherEnsemble needs at least one teacher")
        if temperature <= 0:
            raise ValueError(f"TeacherEnsemble: temperature must be > 0, got {temperature}")
        self.teachers = nn.ModuleList(teachers)
        self.temperature = temperature

    def forward(self, x: Tensor) -> Tensor:  # [B, ...] -> [B, classes]
        t = self.temperature
        probabilities = torch.stack([torch.softmax(teacher(x) / t, dim=-1) for teacher in self.teachers]).mean(0)
        return t * probabilities.log()


class KeywordSpotter(L.LightningModule):
    """A keyword-spotting classifier trained digitally or on a PCM preset.

    Behaviour beyond training (energy accounting, drift evaluation, reports) comes from
    callbacks; this module only builds the network, trains it and measures accuracy.

    Args:
        model: architecture name for :func:`memtorch_power.kws.models.build_model`
            (``"dscnn"``, ``"res8"``, ``"bcresnet"``).
        preset: ``"digital"`` for plain torch layers, or a preset name
            (``"pcm_hwa"``, ``"pcm_training"``, ``"pcm_mixed_precision"``, ``"ideal"``).
        num_classes: output classes (linked from the data module by the recipe).
        n_features: feature bins per frame (linked from the data module).
        n_frames: feature frames per clip (linked from the data module).
        model_kwargs: extra architecture arguments (e.g. ``{"channels": 64}``).
        exclude: module-name patterns kept digital when the model is analogized.
        skip_grouped: keep depthwise/grouped convolutions digital (see
            :func:`memtorch_power.nn.analogize`); their energy is then priced as digital.
        optimizer: ``"sgd"``, ``"adam"`` or ``"adamw"`` (digital parameters; analog tiles
            of in-memory presets always use their own pulsed update).
        lr: learning rate.
        analog_lr: learning rate of the analog tiles' weights (the pulsed update of in-memory
            presets), when it should differ from ``lr``; None uses ``lr`` (see
            :func:`memtorch_power.optim.optimizer_for`).
        momentum: SGD momentum (digital parameters).
        weight_decay: weight decay (digital parameters).
        lr_schedule: ``"cosine"`` (to 0 over the run) or ``"constant"``.
        label_smoothing: share of the target probability spread over the other classes
            in the training loss (0 disables; validation and test losses never smooth).
        mixup_alpha: mixup (Zhang et al., ICLR 2018) of training batches: each example is
            blended with another of the batch with a weight drawn from Beta(alpha, alpha), and
            the loss blends the two labels alike; 0 disables it.
        init_from: optional path of a checkpoint (of this module) or of a ``state_dict`` of
            the digital network to start from, e.g. hardware-aware fine-tuning of a
            digitally trained model; or the name of a shipped digital model
            (:mod:`memtorch_power.kws.pretrained`, e.g. ``"dscnn_logmel40"``).
        distill_from: optional digital checkpoint (or ``state_dict``, or shipped model name) of
            the same architecture to distil from (knowledge distillation, Hinton et al. 2015, as
            used for hardware-aware training of analog models by Rasch et al., Nature
            Communications 14, 5282, 2023): the training loss adds
            ``distill_weight * T^2 * KL(teacher || student)`` on temperature-``T`` softmaxes. A
            list of several distils from their ensemble: the teacher distribution is the mean of
            the teachers' temperature-``T`` softmaxes (:class:`TeacherEnsemble`). Teachers are
            frozen, run digitally, and are not part of the checkpoint or of the energy report
            (their forward is training-host work).
        distill_weight: weight of the distillation term in [0, 1]; the label loss gets
            ``1 - distill_weight``. 0 disables distillation.
        distill_temperature: softmax temperature ``T`` (> 0) of teacher and student.
        input_range_std_alpha: re-initialise the hardware-aware tiles' input ranges from the
            first training batches at this many standard deviations of each layer's inputs
            (:func:`memtorch_power.nn.set_input_range_init`); None keeps the preset's (3 for
            ``pcm_hwa``). For fine-tuning a digitally trained network 10 keeps its accuracy where
            3 clips it away (docs/kws_accuracy_notes.md).
        noise_ramp_epochs: ramp the hardware-aware tiles' training weight noise up linearly over
            this many epochs: epoch ``e`` (from 0) trains at ``min(1, (e + 1) / noise_ramp_epochs)``
            of the preset's noise (:func:`memtorch_power.nn.set_weight_noise_std`); 0 (the
            default) trains at full noise from the first step.
    """

    def __init__(
        self,
        model: str = "dscnn",
        preset: str = DIGITAL,
        num_classes: int = 12,
        n_features: int = 40,
        n_frames: int = 98,
        model_kwargs: dict[str, Any] | None = None,
        exclude: list[str] | None = None,
        skip_grouped: bool = True,
        optimizer: str = "adam",
        lr: float = 1e-3,
        analog_lr: float | None = None,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        lr_schedule: str = "cosine",
        label_smoothing: float = 0.0,
        mixup_alpha: float = 0.0,
        init_from: str | None = None,
        distill_from: str | list[str] | None = None,
        distill_weight: float = 0.5,
        distill_temperature: float = 4.0,
        input_range_std_alpha: float | None = None,
        noise_ramp_epochs: int = 0,
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        if not 0.0 <= distill_weight <= 1.0:
            raise ValueError(f"distill_weight must be in [0, 1], got {distill_weight}")
        if distill_temperature <= 0:
            raise ValueError(f"distill_temperature must be > 0, got {distill_temperature}")
        if lr_schedule not in ("cosine", "constant"):
            raise ValueError(f"lr_schedule must be 'cosine' or 'constant', got {lr_schedule!r}")
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
        if mixup_alpha < 0:
            raise ValueError(f"mixup_alpha must be >= 0, got {mixup_alpha}")
        if preset != DIGITAL:
            get_preset(preset)  # unknown names fail here, before any work
        network = build_model(model, num_classes=num_classes, n_features=n_features, **(model_kwargs or {}))
        if init_from:
            network.load_state_dict(digital_state_dict(init_from))
        self.network = network if preset == DIGITAL else analogize(
            network, preset, exclude=exclude, skip_grouped=skip_grouped
        )
        if input_range_std_alpha is not None:
            if preset == DIGITAL:
                raise ValueError("input_range_std_alpha needs a hardware-aware preset such as 'pcm_hwa', not 'digital'")
            set_input_range_init(self.network, input_range_std_alpha)
        if noise_ramp_epochs < 0:
            raise ValueError(f"noise_ramp_epochs must be >= 0, got {noise_ramp_epochs}")
        # the preset's full training noise per tile, ramped towards in on_train_epoch_start
        self.__dict__["_full_noise"] = weight_noise_std(self.network) if noise_ramp_epochs else None
        # the frozen digital teacher: kept out of the module tree (not saved, not counted)
        self.__dict__["_teacher"] = None
        sources = [distill_from] if isinstance(distill_from, str) else list(distill_from or [])
        if sources:
            teachers = []
            for source in sources:
                teacher = build_model(model, num_classes=num_classes, n_features=n_features, **(model_kwargs or {}))
                teacher.load_state_dict(digital_state_dict(source))
                teachers.append(teacher)
            ensemble = teachers[0] if len(teachers) == 1 else TeacherEnsemble(teachers, distill_temperature)
            self.__dict__["_teacher"] = ensemble.eval().requires_grad_(False)
        self.loss = nn.CrossEntropyLoss()
        self.train_loss = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
        metric = dict(task="multiclass", num_classes=num_classes)
        self.train_accuracy = torchmetrics.Accuracy(**metric)
        self.val_accuracy = torchmetrics.Accuracy(**metric)
        self.test_accuracy = torchmetrics.Accuracy(**metric)
        self.test_confusion = torchmetrics.ConfusionMatrix(**metric)
        self.example_input_array = torch.zeros(1, 1, n_features, n_frames)

    @property
    def is_analog(self) -> bool:
        return bool(analog_layers(self.network))

    def forward(self, x: Tensor) -> Tensor:
        return self.network(x)

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, y = batch
        if self.hparams.mixup_alpha > 0:
            mix = torch.distributions.Beta(self.hparams.mixup_alpha, self.hparams.mixup_alpha).sample()
            partner = torch.randperm(len(y), device=y.device)
            x = mix * x + (1 - mix) * x[partner]  # the teacher, if any, sees the same mixed input
            logits = self(x)
            loss = mix * self.train_loss(logits, y) + (1 - mix) * self.train_loss(logits, y[partner])
        else:
            logits = self(x)
            loss = self.train_loss(logits, y)
        if self._teacher is not None and self.hparams.distill_weight > 0:
            loss = self._distilled(loss, logits, x)
        self.train_accuracy(logits, y)
        self.log("train/loss", loss, prog_bar=True, on_step=True, on_epoch=True, batch_size=len(y))
        self.log("train/acc", self.train_accuracy, prog_bar=True, on_step=False, on_epoch=True)
        return loss

    def distillation_loss(self, logits: Tensor, teacher_logits: Tensor) -> Tensor:
        """``T^2 * KL(softmax(teacher / T) || softmax(student / T))``, averaged over the batch."""
        t = self.hparams.distill_temperature
        return nn.functional.kl_div(torch.log_softmax(logits / t, dim=-1), torch.log_softmax(teacher_logits / t, dim=-1),
                                    reduction="batchmean", log_target=True) * t * t

    def _distilled(self, label_loss: Tensor, logits: Tensor, x: Tensor) -> Tensor:
        teacher = self._teacher.to(x.device)
        with torch.no_grad():
            teacher_logits = teacher(x)
        distill = self.distillation_loss(logits, teacher_logits)
        self.log("train/distill_loss", distill, on_step=False, on_epoch=True, batch_size=len(x))
        weight = self.hparams.distill_weight
        return (1 - weight) * label_loss + weight * distill

    def on_train_epoch_start(self) -> None:
        if self._full_noise is not None:
            share = min(1.0, (self.current_epoch + 1) / self.hparams.noise_ramp_epochs)
            set_weight_noise_std(self.network, [share * std for std in self._full_noise])
            self.log("train/noise_share", share, on_step=False, on_epoch=True)

    def validation_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.val_accuracy(logits, y)
        self.log("val/loss", self.loss(logits, y), prog_bar=True, batch_size=len(y))
        self.log("val/acc", self.val_accuracy, prog_bar=True)

    def test_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> None:
        x, y = batch
        logits = self(x)
        self.test_accuracy(logits, y)
        self.test_confusion.update(logits, y)
        self.log("test/loss", self.loss(logits, y), batch_size=len(y))
        self.log("test/acc", self.test_accuracy)

    def on_test_epoch_start(self) -> None:
        self.test_confusion.reset()

    def configure_optimizers(self) -> Any:
        hp = self.hparams
        extra: dict[str, Any] = {"weight_decay": hp.weight_decay}
        if hp.optimizer == "sgd":
            extra["momentum"] = hp.momentum
        # analog tiles of in-memory presets take the group's learning rate at every step,
        # so the schedule applies to them as well
        optimizer = optimizer_for(self.network, lr=hp.lr, optimizer=hp.optimizer,
                                  analog_lr=hp.analog_lr, **extra)
        if hp.lr_schedule == "constant":
            return optimizer
        total = self.trainer.estimated_stepping_batches
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, int(total)))
        return {"optimizer": optimizer, "lr_scheduler": {"scheduler": scheduler, "interval": "step"}}

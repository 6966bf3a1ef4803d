"""KeywordSpotter's training options: label smoothing, mixup and distillation."""

import pytest
import torch

from memtorch_power.kws.module import KeywordSpotter

SMALL = {"channels": 8, "blocks": 1}


def _module(**kwargs: object) -> KeywordSpotter:
    torch.manual_seed(0)
    return KeywordSpotter(model="dscnn", n_features=10, model_kwargs=SMALL, **kwargs)


def _batch() -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return torch.randn(8, 1, 10, 98, generator=generator), torch.arange(8) % 12


def test_label_smoothing_only_in_the_training_loss() -> None:
    module = _module(label_smoothing=0.2)
    x, y = _batch()
    logits = module(x)
    smoothed = torch.nn.functional.cross_entropy(logits, y, label_smoothing=0.2)
    torch.testing.assert_close(module.train_loss(logits, y), smoothed)
    torch.testing.assert_close(module.loss(logits, y), torch.nn.functional.cross_entropy(logits, y))


def test_mixup_blends_inputs_and_labels() -> None:
    module = _module(mixup_alpha=0.4)
    module.log = lambda *args, **kwargs: None  # no Trainer here
    x, y = _batch()
    torch.manual_seed(3)
    loss = module.training_step((x, y), 0)
    torch.manual_seed(3)  # the same draws by hand
    mix = torch.distributions.Beta(0.4, 0.4).sample()
    partner = torch.randperm(len(y))
    logits = module(mix * x + (1 - mix) * x[partner])
    expected = mix * module.train_loss(logits, y) + (1 - mix) * module.train_loss(logits, y[partner])
    torch.testing.assert_close(loss, expected)
    assert not torch.allclose(loss, module.train_loss(module(x), y))


def _teacher_file(tmp_path) -> str:  # type: ignore[no-untyped-def]
    torch.manual_seed(5)
    teacher = KeywordSpotter(model="dscnn", n_features=10, model_kwargs=SMALL)
    path = tmp_path / "teacher.pt"
    torch.save(teacher.network.state_dict(), path)
    return str(path)


def test_distillation_adds_the_weighted_teacher_term(tmp_path) -> None:  # type: ignore[no-untyped-def]
    teacher_file = _teacher_file(tmp_path)
    x, y = _batch()
    plain = _module(preset="pcm_hwa")
    plain.log = lambda *args, **kwargs: None
    torch.manual_seed(4)
    label_loss = plain.training_step((x, y), 0)
    for weight in (0.25, 1.0):
        student = _module(preset="pcm_hwa", distill_from=teacher_file, distill_weight=weight, distill_temperature=2.0)
        student.log = lambda *args, **kwargs: None
        torch.manual_seed(4)  # same PCM noise draws as the plain run
        loss = student.training_step((x, y), 0)
        torch.manual_seed(4)
        logits = student(x)
        with torch.no_grad():
            teacher_logits = student._teacher(x)
        kl = torch.nn.functional.kl_div(torch.log_softmax(logits / 2, -1), torch.softmax(teacher_logits / 2, -1),
                                        reduction="batchmean") * 4
        torch.testing.assert_close(loss, (1 - weight) * label_loss + weight * kl, rtol=1e-4, atol=1e-5)
    assert "_teacher" not in "".join(student.state_dict())  # not saved in checkpoints
    assert not any(p.requires_grad for p in student._teacher.parameters())


def test_distillation_from_several_teachers_uses_their_mean_soft_targets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    first = _teacher_file(tmp_path)
    torch.manual_seed(6)
    other = KeywordSpotter(model="dscnn", n_features=10, model_kwargs=SMALL)
    second = tmp_path / "second.pt"
    torch.save(other.network.state_dict(), second)
    x, y = _batch()
    student = _module(distill_from=[first, str(second)], distill_weight=1.0, distill_temperature=3.0)
    student.log = lambda *args, **kwargs: None
    student.eval()  # no dropout: the same student logits twice
    loss = student.training_step((x, y), 0)
    teachers = [_module(), _module()]
    teachers[0].network.load_state_dict(torch.load(first)), teachers[1].network.load_state_dict(torch.load(second))
    with torch.no_grad():
        mean = torch.stack([torch.softmax(t.network.eval()(x) / 3, -1) for t in teachers]).mean(0)
        single = torch.softmax(teachers[0].network(x) / 3, -1)
    logits = student(x)
    kl = torch.nn.functional.kl_div(torch.log_softmax(logits / 3, -1), mean, reduction="batchmean") * 9
    torch.testing.assert_close(loss, kl, rtol=1e-4, atol=1e-5)
    alone = torch.nn.functional.kl_div(torch.log_softmax(logits / 3, -1), single, reduction="batchmean") * 9
    assert not torch.allclose(loss, alone)  # the second teacher counts
    assert "_teacher" not in "".join(student.state_dict())


@pytest.mark.parametrize(("option", "value", "message"), [
    ("distill_weight", 1.5, "distill_weight must be in"),
    ("distill_temperature", 0.0, "distill_temperature must be > 0"),
    ("label_smoothing", 1.0, "label_smoothing must be in"),
    ("label_smoothing", -0.1, "label_smoothing must be in"),
    ("mixup_alpha", -1.0, "mixup_alpha must be >= 0"),
])
def test_bad_training_options(option: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _module(**{option: value})


def test_input_range_width_is_set_for_fine_tuning_and_refused_for_digital() -> None:
    from memtorch_power.kws.module import KeywordSpotter

    module = KeywordSpotter(preset="pcm_hwa", n_features=10, model_kwargs={"channels": 8, "blocks": 1},
                            input_range_std_alpha=10.0)
    from memtorch_power.nn.convert import analog_tiles

    tiles = analog_tiles(module.network)
    assert tiles and all(t.rpu_config.pre_post.input_range.init_std_alpha == 10.0 for t in tiles)
    default = KeywordSpotter(preset="pcm_hwa", n_features=10, model_kwargs={"channels": 8, "blocks": 1})
    assert all(t.rpu_config.pre_post.input_range.init_std_alpha == 3.0 for t in analog_tiles(default.network))
    with pytest.raises(ValueError, match="input_range_std_alpha needs a hardware-aware preset"):
        KeywordSpotter(preset="digital", n_features=10, input_range_std_alpha=10.0)


def test_noise_ramp_up_scales_the_training_noise_per_epoch(monkeypatch: pytest.MonkeyPatch) -> None:
    from memtorch_power.nn import weight_noise_std

    module = _module(preset="pcm_hwa", noise_ramp_epochs=4)
    module.log = lambda *args, **kwargs: None
    full = 0.06  # pcm_hwa's weight noise
    for epoch, share in ((0, 0.25), (2, 0.75), (3, 1.0), (9, 1.0)):
        monkeypatch.setattr(KeywordSpotter, "current_epoch", property(lambda self, e=epoch: e))
        module.on_train_epoch_start()
        assert weight_noise_std(module.network) == pytest.approx([share * full] * len(weight_noise_std(module.network)))
    with pytest.raises(ValueError, match="noise_ramp_epochs must be >= 0"):
        _module(preset="pcm_hwa", noise_ramp_epochs=-1)
    with pytest.raises(ValueError, match="no analog layer"):
        _module(noise_ramp_epochs=3)  # digital: no training noise to ramp

"""KeywordSpotter's training options: label smoothing and mixup."""

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


@pytest.mark.parametrize(("option", "value", "message"), [
    ("label_smoothing", 1.0, "label_smoothing must be in"),
    ("label_smoothing", -0.1, "label_smoothing must be in"),
    ("mixup_alpha", -1.0, "mixup_alpha must be >= 0"),
])
def test_bad_training_options(option: str, value: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _module(**{option: value})

"""Fixtures shared by the tests of this project's aihwkit tiles."""

from typing import Callable

import pytest
import torch
from aihwkit.simulator.tiles.periphery import TileWithPeriphery

Updates = list[tuple[torch.Tensor, torch.Tensor]]


@pytest.fixture
def capture_aihwkit_updates(monkeypatch: pytest.MonkeyPatch) -> Callable[[], Updates]:
    """Call it to replace aihwkit's tile update by a recorder from then on; it returns the list of
    ``(x, d)`` pairs the tiles hand aihwkit, in call order."""

    def capture() -> Updates:
        seen: Updates = []
        monkeypatch.setattr(TileWithPeriphery, "update", lambda self, x, d: seen.append((x, d)))
        return seen

    return capture


ToyResult = tuple[float, float, float]


@pytest.fixture
def train_toy_task() -> Callable[..., ToyResult]:
    """Train an 8-input, 3-class analog model on a fixed linear toy task with the preset's analog
    optimizer (``lr`` 0.1 unless given, mini-batches of 20); returns (loss before, loss after,
    accuracy after).
    Checks first that the optimizer holds no weight matrix: only the tiles can change those."""
    from aihwkit.optim.context import AnalogContext

    from memtorch_power.optim import optimizer_for

    def train(model: torch.nn.Module, epochs: int, lr: float = 0.1) -> ToyResult:
        generator = torch.Generator().manual_seed(0)
        x = torch.randn(600, 8, generator=generator)
        y = (x @ torch.randn(8, 3, generator=generator)).argmax(1)
        optimizer = optimizer_for(model, lr=lr)
        digital = [p for group in optimizer.param_groups for p in group["params"] if not isinstance(p, AnalogContext)]
        assert all(p.dim() == 1 for p in digital)  # biases only
        with torch.no_grad():
            start = torch.nn.functional.cross_entropy(model(x), y).item()
        for _ in range(epochs):
            for i in range(0, len(x), 20):
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x[i:i + 20]), y[i:i + 20]).backward()
                optimizer.step()
        with torch.no_grad():
            end = torch.nn.functional.cross_entropy(model(x), y).item()
            accuracy = (model(x).argmax(1) == y).float().mean().item()
        return start, end, accuracy

    return train


@pytest.fixture
def tiny_analog_module() -> type:
    """A LightningModule of one bias-free 4 -> 3 analog linear layer of a given preset (``net``),
    trained on the sum of its squared outputs with the preset's optimizer at lr 0.5."""
    import lightning.pytorch as pl

    from memtorch_power.nn import analogize
    from memtorch_power.optim import optimizer_for

    class TinyAnalogModule(pl.LightningModule):
        def __init__(self, preset: object) -> None:
            super().__init__()
            self.net = analogize(torch.nn.Sequential(torch.nn.Linear(4, 3, bias=False)), preset)

        def training_step(self, batch, batch_idx):  # type: ignore[no-untyped-def]
            return self.net(batch[0]).pow(2).sum()

        def configure_optimizers(self):  # type: ignore[no-untyped-def]
            return optimizer_for(self, lr=0.5)

    return TinyAnalogModule

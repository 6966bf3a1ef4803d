"""The swap-layers demo: an ordinary PyTorch CNN on PCM crossbars, trained, programmed and aged.

Needs no data: a small CNN learns a synthetic 4-class task (noisy 8x8 images of oriented bars).
:func:`run_demo` converts it with :func:`memtorch_power.nn.analogize`, trains it a few steps
with :func:`memtorch_power.optim.optimizer_for`, and, for inference presets, programs it and
measures the accuracy after each drift time; :func:`print_demo` shows the result as tables.
``memtorch-power demo`` and ``recipes/swap_layers.py`` are thin wrappers around these calls.

    from memtorch_power.demo import run_demo, print_demo
    result = run_demo("pcm_hwa", steps=200)
    print_demo(result)
    result.energy()          # EnergyReport of one training batch, analog vs digital
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import torch
from torch import Tensor, nn

from memtorch_power.nn import DRIFT_TIMES_S, analog_layers, analogize, drift, program
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import get_preset

__all__ = ["DemoResult", "accuracy", "pattern_data", "print_demo", "run_demo", "small_cnn"]


def small_cnn(classes: int = 4) -> nn.Module:
    """Two 3x3 convolutions and a linear classifier: an ordinary torch model (8x8 inputs)."""
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, classes),
    )


def pattern_data(n: int, generator: torch.Generator, noise: float = 0.4) -> tuple[Tensor, Tensor]:
    """``n`` noisy 8x8 images ``[n, 1, 8, 8]`` of 4 oriented bars (horizontal, vertical, two
    diagonals) and their labels ``[n]``."""
    patterns = torch.zeros(4, 8, 8)
    patterns[0, 3:5, :] = 1
    patterns[1, :, 3:5] = 1
    patterns[2] = torch.eye(8)
    patterns[3] = torch.eye(8).flip(1)
    labels = torch.randint(0, 4, (n,), generator=generator)
    images = patterns[labels] + noise * torch.randn(n, 8, 8, generator=generator)
    return images.unsqueeze(1), labels


@torch.no_grad()
def accuracy(model: nn.Module, x: Tensor, y: Tensor) -> float:
    """Share of ``x`` that ``model`` classifies as ``y``."""
    return (model(x).argmax(1) == y).float().mean().item()


@dataclass
class DemoResult:
    """What :func:`run_demo` did and measured.

    Attributes:
        preset: the preset every Linear/Conv layer was converted to.
        model: the trained analog model (programmed and drifted to the last drift time, for
            inference presets).
        layers: one row per swapped layer: ``name``, ``type``, ``crossbar`` (rows x cols),
            ``groups``.
        losses: training loss at every step.
        before, after: ``{"loss", "accuracy"}`` on the test set before and after training.
        drift: drift-time label -> test accuracy after programming (empty for presets without
            a programming/drift model).
        example: a test batch (the energy example input).
    """

    preset: str
    model: nn.Module
    layers: list[dict[str, Any]]
    losses: list[float]
    before: dict[str, float]
    after: dict[str, float]
    drift: dict[str, float] = field(default_factory=dict)
    example: Tensor | None = None

    def rows(self) -> list[dict[str, Any]]:
        """The results as rows ``{"stage", "test_loss", "test_accuracy"}`` (e.g. for pandas)."""
        out = [
            {"stage": "before training", "test_loss": self.before["loss"], "test_accuracy": self.before["accuracy"]},
            {"stage": f"after {len(self.losses)} steps", "test_loss": self.after["loss"],
             "test_accuracy": self.after["accuracy"]},
        ]
        out += [{"stage": f"programmed, {label} of drift", "test_loss": float("nan"), "test_accuracy": acc}
                for label, acc in self.drift.items()]
        return out

    def energy(self, analog: str = "hermes", digital: str = "a100_fp16", training: bool = True,
               batches: int = 1) -> Any:
        """:func:`memtorch_power.energy.estimate` of ``batches`` batches like :attr:`example`."""
        from memtorch_power.energy import estimate

        assert self.example is not None
        return estimate(self.model, self.example, analog, digital, training=training, batches=batches)


def run_demo(
    preset: str = "pcm_hwa",
    steps: int = 200,
    lr: float = 0.1,
    batch_size: int = 64,
    train_size: int = 2048,
    test_size: int = 512,
    drift_times: Mapping[str, float] = DRIFT_TIMES_S,
    seed: int = 0,
    model: nn.Module | None = None,
    progress: bool = False,
) -> DemoResult:
    """Analogize ``model`` (default :func:`small_cnn`) with ``preset``, train it ``steps`` steps
    on the pattern task, then program it and measure accuracy after each drift time.

    Digital-update presets (``ideal``, ``pcm_hwa``) train with SGD momentum 0.9, in-memory
    presets with plain SGD (their tiles apply the pulsed update).

    Raises:
        ValueError: unknown preset, ``steps < 0`` or sizes < 1.
    """
    resolved = get_preset(preset)
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    if min(batch_size, train_size, test_size) < 1:
        raise ValueError("batch_size, train_size and test_size must be >= 1")
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x_train, y_train = pattern_data(train_size, generator)
    x_test, y_test = pattern_data(test_size, generator)
    analog = analogize(model if model is not None else small_cnn(), preset=preset)
    layers = [{"name": name, "type": type(layer).__name__, "crossbar": f"{layer.rows} x {layer.cols}",
               "groups": layer.groups} for name, layer in analog_layers(analog)]
    momentum = 0.9 if resolved.update == "digital" else 0.0
    optimizer = optimizer_for(analog, lr=lr, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()

    def evaluate() -> dict[str, float]:
        analog.eval()
        with torch.no_grad():
            return {"loss": loss_fn(analog(x_test), y_test).item(), "accuracy": accuracy(analog, x_test, y_test)}

    before = evaluate()
    losses: list[float] = []
    analog.train()
    iterator: Any = range(steps)
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc=f"training on {preset}", unit="step", leave=False)
    for _ in iterator:
        index = torch.randint(0, train_size, (batch_size,), generator=generator)
        optimizer.zero_grad()
        loss = loss_fn(analog(x_train[index]), y_train[index])
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    after = evaluate()
    drifted: dict[str, float] = {}
    if resolved.supports_programming and drift_times:
        program(analog)
        for label, seconds in drift_times.items():
            drift(analog, seconds)
            drifted[label] = accuracy(analog, x_test, y_test)
    return DemoResult(preset, analog, layers, losses, before, after, drifted, x_test[:batch_size])


def print_demo(result: DemoResult, console: Any = None, energy: bool = False,
               analog: str = "hermes", digital: str = "a100_fp16") -> None:
    """Print the swapped layers and the results (and the energy of one training batch) as tables."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    swapped = Table(title=f"Layers swapped for PCM crossbars (preset {result.preset})")
    for column in ("layer", "type", "crossbar rows x cols", "groups"):
        swapped.add_column(column)
    for row in result.layers:
        swapped.add_row(row["name"], row["type"], row["crossbar"], str(row["groups"]))
    console.print(swapped)
    console.print(f"preset: {get_preset(result.preset).models}")
    table = Table(title=f"{len(result.losses)} training steps on {result.preset}")
    table.add_column("")
    table.add_column("test loss", justify="right")
    table.add_column("test accuracy", justify="right")
    for row in result.rows():
        loss = row["test_loss"]
        table.add_row(row["stage"], "" if loss != loss else f"{loss:.3f}", f"{row['test_accuracy']:.1%}")
    console.print(table)
    if energy:
        report = result.energy(analog, digital)
        console.print(report.to_text(), markup=False, highlight=False, soft_wrap=True)

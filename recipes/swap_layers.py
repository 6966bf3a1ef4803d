"""Swap the layers of an ordinary PyTorch model for PCM crossbars, train a few steps, drift it.

    .venv/bin/python recipes/swap_layers.py [--preset pcm_hwa] [--steps 60]

Uses a small CNN on a synthetic 4-class pattern task (no data needed) and prints which
layers were swapped, the loss before and after training on the chosen preset, and, for
inference presets, the accuracy after programming and drift.
"""

from __future__ import annotations

import argparse

import torch
from rich.console import Console
from rich.table import Table
from torch import nn

from memtorch_power.nn import DRIFT_TIMES_S, analog_layers, analogize, drift, program
from memtorch_power.optim import optimizer_for
from memtorch_power.presets import PRESETS, get_preset


def small_cnn(classes: int = 4) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
        nn.Flatten(), nn.Linear(16, classes),
    )


def pattern_data(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy 8x8 images of 4 oriented bar patterns (horizontal, vertical, two diagonals)."""
    patterns = torch.zeros(4, 8, 8)
    patterns[0, 3:5, :] = 1
    patterns[1, :, 3:5] = 1
    patterns[2] = torch.eye(8)
    patterns[3] = torch.eye(8).flip(1)
    labels = torch.randint(0, 4, (n,), generator=generator)
    images = patterns[labels] + 0.4 * torch.randn(n, 8, 8, generator=generator)
    return images.unsqueeze(1), labels


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        return (model(x).argmax(1) == y).float().mean().item()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="pcm_hwa", choices=sorted(PRESETS))
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--lr", type=float, default=0.05)
    args = parser.parse_args()
    console = Console()
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    x_train, y_train = pattern_data(2048, generator)
    x_test, y_test = pattern_data(512, generator)

    model = analogize(small_cnn(), preset=args.preset)
    swapped = Table(title=f"Layers swapped for PCM crossbars (preset {args.preset})")
    for column in ("layer", "type", "crossbar rows x cols", "groups"):
        swapped.add_column(column)
    for name, layer in analog_layers(model):
        swapped.add_row(name, type(layer).__name__, f"{layer.rows} x {layer.cols}", str(layer.groups))
    console.print(swapped)
    console.print(f"preset: {get_preset(args.preset).models}")

    optimizer = optimizer_for(model, lr=args.lr, momentum=0.9 if args.preset in ("ideal", "pcm_hwa") else 0.0)
    loss_fn = nn.CrossEntropyLoss()
    model.eval()
    start_loss = loss_fn(model(x_test), y_test).item()
    start_acc = accuracy(model, x_test, y_test)
    model.train()
    for step in range(args.steps):
        index = torch.randint(0, len(x_train), (64,), generator=generator)
        optimizer.zero_grad()
        loss = loss_fn(model(x_train[index]), y_train[index])
        loss.backward()
        optimizer.step()
    model.eval()
    results = Table(title=f"{args.steps} training steps on {args.preset}")
    results.add_column("")
    results.add_column("test loss", justify="right")
    results.add_column("test accuracy", justify="right")
    results.add_row("before", f"{start_loss:.3f}", f"{start_acc:.1%}")
    with torch.no_grad():
        results.add_row("after", f"{loss_fn(model(x_test), y_test).item():.3f}", f"{accuracy(model, x_test, y_test):.1%}")
    if get_preset(args.preset).supports_programming:
        program(model)
        for label, seconds in DRIFT_TIMES_S.items():
            drift(model, seconds)
            results.add_row(f"programmed, {label} of drift", "", f"{accuracy(model, x_test, y_test):.1%}")
    console.print(results)


if __name__ == "__main__":
    main()

"""Shared helpers of the energy tests: small models and a tiny Lightning module."""

from __future__ import annotations

import pytest
import torch
from torch import nn


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)


def small_cnn() -> nn.Sequential:
    """Conv (stride, padding) -> BN -> ReLU -> pool -> depthwise conv -> flatten -> Linear."""
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, stride=1, padding=1),
        nn.BatchNorm2d(8),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1, groups=8),
        nn.Flatten(),
        nn.Linear(8 * 4 * 4, 5),
    )


@pytest.fixture
def cnn() -> nn.Sequential:
    return small_cnn()

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

"""aihwkit tile classes adjusted for this project.

``TorchInferenceTile`` registers a *local* function as a gradient hook when it sets its
weight scales; a model holding such tiles cannot be pickled (``torch.save(model)`` fails
with "Can't pickle local object"), and the hook is lost when a tile is unpickled. The
subclass below computes exactly the same gradient correction with a picklable hook object
and re-attaches it after unpickling.
"""

from __future__ import annotations

from typing import Any

from aihwkit.simulator.tiles.inference_torch import TorchInferenceTile
from torch import Tensor


class ScaleGradientCompensation:
    """Gradient hook ``grad / scales**2`` (per output row), as aihwkit's local hook."""

    def __init__(self, scales: Tensor) -> None:
        self.scales = scales

    def __call__(self, grad: Tensor) -> Tensor:
        return grad / self.scales.to(grad.device).view(-1, 1) ** 2


class PicklableTorchInferenceTile(TorchInferenceTile):
    """``TorchInferenceTile`` that survives ``torch.save``/``torch.load`` of a whole model."""

    def set_scales(self, scales: Tensor) -> None:
        super(TorchInferenceTile, self).set_scales(scales)
        if self._backward_hook_handle is not None:
            self._backward_hook_handle.remove()
            self._backward_hook_handle = None
        self._compensation = ScaleGradientCompensation(scales)
        if self.tile.weight.requires_grad:
            self._backward_hook_handle = self.tile.register_weight_hook(self._compensation)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state = dict(state)
        state["_backward_hook_handle"] = None  # hooks are re-registered in __setstate__
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        compensation = getattr(self, "_compensation", None)
        if compensation is not None and self.tile.weight.requires_grad:
            self._backward_hook_handle = self.tile.register_weight_hook(compensation)

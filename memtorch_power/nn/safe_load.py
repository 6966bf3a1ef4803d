"""Let analog checkpoints load with ``torch.load(weights_only=True)``.

An analog layer's state holds its aihwkit tile: the tile's configuration (dataclasses and enums of
``aihwkit.simulator.parameters``/``configs``, noise and drift models of ``aihwkit.inference``) and
the tile object itself. ``torch.load(weights_only=True)`` refuses every class it does not know,
so Lightning's CLI (``test``/``validate``/``predict --ckpt_path``) could not read a checkpoint a
recipe wrote. :func:`register_checkpoint_classes` finds the classes a preset's state really
contains (by reading the pickle of a one-cell layer with :mod:`pickletools`, nothing executed)
and registers them with :func:`torch.serialization.add_safe_globals`. Only classes from
``aihwkit`` and ``memtorch_power`` are ever registered: a checkpoint that contains anything else
still fails to load, with torch's message naming it.
"""

from __future__ import annotations

import functools
import importlib
import io
import pickletools
import zipfile

import torch

from memtorch_power.presets import PRESETS, PresetLike, get_preset

#: Packages whose classes may be registered as safe to unpickle.
TRUSTED_PACKAGES = ("aihwkit.", "memtorch_power.")


def _pickled_globals(payload: bytes) -> set[str]:
    """``module.name`` of every global a ``torch.save`` payload refers to (read, not executed)."""
    names: set[str] = set()
    with zipfile.ZipFile(io.BytesIO(payload)) as archive:
        data = next(name for name in archive.namelist() if name.endswith("data.pkl"))
        stack: list[object] = []
        for opcode, arg, _ in pickletools.genops(archive.read(data)):
            if opcode.name == "GLOBAL":
                names.add(str(arg).replace(" ", "."))
            elif opcode.name in ("SHORT_BINUNICODE", "BINUNICODE", "UNICODE"):
                stack.append(arg)
            elif opcode.name == "STACK_GLOBAL" and len(stack) >= 2:
                names.add(f"{stack[-2]}.{stack[-1]}")
    return names


def checkpoint_classes(preset: PresetLike) -> list[type]:
    """The aihwkit/memtorch_power classes in the saved state of a layer of ``preset``."""
    from memtorch_power.nn.linear import AnalogLinear  # a layer to save (nn imports this module)

    buffer = io.BytesIO()
    torch.save(AnalogLinear(1, 1, preset=get_preset(preset)).state_dict(), buffer)
    classes = []
    for name in sorted(_pickled_globals(buffer.getvalue())):
        if not name.startswith(TRUSTED_PACKAGES):
            continue
        module, _, attribute = name.rpartition(".")
        value = getattr(importlib.import_module(module), attribute)
        if isinstance(value, type):
            classes.append(value)
    return classes


def register_checkpoint_classes(preset: PresetLike) -> list[type]:
    """Allow the classes of ``preset``'s layers in ``torch.load(weights_only=True)``; returns them.

    Called for every built-in preset when :mod:`memtorch_power.nn` is imported; call it for a
    preset you register yourself (a custom aihwkit RPUConfig) before loading its checkpoints.
    """
    classes = checkpoint_classes(preset)
    torch.serialization.add_safe_globals(classes)
    return classes


@functools.cache
def register_builtin_presets() -> int:
    """Register the classes of every built-in preset (once), and the drift compensations
    :func:`memtorch_power.nn.set_drift_compensation` can switch to; returns how many there are."""
    from aihwkit.inference.compensation.drift import GlobalDriftCompensation, PerColumnDriftCompensation

    seen: set[type] = {GlobalDriftCompensation, PerColumnDriftCompensation}
    torch.serialization.add_safe_globals(list(seen))
    for name in list(PRESETS):
        seen.update(register_checkpoint_classes(name))
    return len(seen)

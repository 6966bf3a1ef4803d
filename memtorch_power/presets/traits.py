"""What the energy model reads from a preset (:class:`PresetTraits`): converter resolutions,
array size, the PCM device's step and range, devices per weight, the transfer schedule and the
digital unit's step rule, all read from the preset's ``RPUConfig`` so that the workload the
estimator prices is the one the simulator runs."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from aihwkit.simulator.configs import MappingParameter
from aihwkit.simulator.configs.compounds import OneSidedUnitCell, TransferCompound
from aihwkit.simulator.parameters.base import RPUConfigBase

from memtorch_power.closed_loop import ClosedLoopTransferCompound
from memtorch_power.presets.registry import PresetLike, UpdateMode, get_preset
from memtorch_power.tiles import AdamStepTile, FactoredStepTile


@dataclass(frozen=True)
class PresetTraits:
    """What the energy model needs to know about a preset, read from its ``RPUConfig``.

    Attributes:
        update: where the weight update happens.
        dac_bits: input (DAC) resolution in bits of the forward MVM; ``None`` if ideal.
        adc_bits: output (ADC) resolution in bits of the forward MVM; ``None`` if ideal.
        array_rows: physical array rows (inputs) per tile; 0 means unlimited.
        array_cols: physical array columns (outputs) per tile; 0 means unlimited.
        dw_min: mean weight change of one PCM pulse, in the preset's weight units
            (``None`` where no pulses are applied during training).
        w_max: largest weight a device pair represents, in the same units.
        update_bl: maximum pulse-train length of one stochastic update (pulsed presets).
        devices_per_weight: PCM devices holding one weight (2 for a differential pair).
        transfer_every: ``transfer`` presets: mini-batches (or mat-vecs) between transfers.
        transfer_reads: ``transfer`` presets: fast-array columns read per transfer.
        transfer_in_mbatch: whether ``transfer_every`` counts mini-batches (else mat-vecs).
        factored_step: ``mixed_precision`` presets whose digital unit scales the gradient by
            factored second moments before accumulating it (:class:`~memtorch_power.tiles.FactoredStepTile`).
        adam_step: ``mixed_precision`` presets whose digital unit keeps Adam's moments of the
            gradient and accumulates Adam's step (:class:`~memtorch_power.tiles.AdamStepTile`).
        closed_loop_transfer: ``transfer`` presets whose transfer programs each read weight into
            its PCM pair by program-and-verify instead of pulse trains
            (:class:`~memtorch_power.closed_loop.ClosedLoopTransferCompound`).
    """

    update: UpdateMode
    dac_bits: float | None
    adc_bits: float | None
    array_rows: int
    array_cols: int
    dw_min: float | None
    w_max: float | None
    update_bl: int | None
    devices_per_weight: int
    transfer_every: float | None = None
    transfer_reads: int | None = None
    transfer_in_mbatch: bool = True
    factored_step: bool = False
    adam_step: bool = False
    closed_loop_transfer: bool = False


def _bits(resolution: float) -> float | None:
    """aihwkit expresses resolution either as a step (<1) or as a number of levels (>1)."""
    if resolution <= 0:
        return None
    levels = 1.0 / resolution if resolution < 1.0 else resolution
    return math.log2(levels + 2.0)


def _cell_leaf(cell: Any) -> tuple[Any, int, float, float]:
    """The pulsed device of a (possibly nested) aihwkit unit cell, the number of devices that
    hold one weight, the weight change of a one-unit change of the device the update programs
    (its read-out factor) and the sum of the read-out factors of one sign's devices.

    A ``OneSidedUnitCell`` is a pair (G+ - G-) built from its first device; a ``VectorUnitCell``
    reads device ``i`` at ``gamma_vec[i]`` (aihwkit: ``1/n`` each when not given)."""
    devices = getattr(cell, "unit_cell_devices", None)
    if not devices:
        return cell, 1, 1.0, 1.0
    if isinstance(cell, OneSidedUnitCell):
        leaf, count, read_out, summed = _cell_leaf(devices[0])
        return leaf, 2 * count, read_out, summed
    gammas = list(getattr(cell, "gamma_vec", None) or [1.0 / len(devices)] * len(devices))
    leaves = [_cell_leaf(device) for device in devices]
    leaf, _, read_out, _ = leaves[0]
    return (leaf, sum(count for _, count, _, _ in leaves), read_out * gammas[0],
            sum(g * summed for g, (_, _, _, summed) in zip(gammas, leaves)))


def traits_of(spec: PresetLike) -> PresetTraits:
    """Read the energy-relevant traits of a preset (see :class:`PresetTraits`)."""
    preset = get_preset(spec)
    config = preset.rpu_config()
    forward = getattr(config, "forward", None)
    perfect = forward is None or getattr(forward, "is_perfect", False)
    mapping = getattr(config, "mapping", MappingParameter())
    dw_min = w_max = None
    update_bl = None
    devices = 2  # differential pair (G+ - G-) for every PCM preset here
    device = getattr(config, "device", None)
    inner = getattr(device, "device", None)  # MixedPrecisionCompound wraps the unit cell
    cell = inner if inner is not None else device
    unit_devices = getattr(cell, "unit_cell_devices", None)
    transfer: dict = {}
    if isinstance(device, ClosedLoopTransferCompound):  # the tile transfers every program_every updates
        transfer = dict(transfer_every=float(device.program_every), transfer_reads=int(device.program_columns),
                        transfer_in_mbatch=True, closed_loop_transfer=True)
        cell = unit_devices[-1]
    elif isinstance(device, TransferCompound):  # fast array first, slow (PCM) store second
        transfer = dict(transfer_every=float(device.transfer_every), transfer_reads=int(device.n_reads_per_transfer),
                        transfer_in_mbatch=bool(device.units_in_mbatch))
        cell = unit_devices[-1]
    if preset.update != "digital" and cell is not None:
        leaf, leaf_devices, read_out, summed = _cell_leaf(cell)
        if hasattr(leaf, "dw_min"):
            dw_min = float(leaf.dw_min) * read_out
            w_max = float(getattr(leaf, "w_max", 1.0)) * summed
        if transfer or getattr(cell, "unit_cell_devices", None):
            devices = leaf_devices
    if preset.update in ("in_memory", "transfer"):
        update_bl = int(getattr(config.update, "desired_bl", 31))
    return PresetTraits(
        update=preset.update,
        dac_bits=None if perfect else _bits(forward.inp_res),
        adc_bits=None if perfect else _bits(forward.out_res),
        array_rows=int(mapping.max_input_size),
        array_cols=int(mapping.max_output_size),
        dw_min=dw_min,
        w_max=w_max,
        update_bl=update_bl,
        devices_per_weight=devices,
        factored_step=_tile_class_is(config, FactoredStepTile),
        adam_step=_tile_class_is(config, AdamStepTile),
        **transfer,
    )


def _tile_class_is(config: RPUConfigBase, tile_class: type) -> bool:
    """Whether ``config`` builds its tiles from ``tile_class`` (or a subclass of it)."""
    configured = getattr(config, "tile_class", None)
    return isinstance(configured, type) and issubclass(configured, tile_class)

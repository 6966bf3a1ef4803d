"""How a layer's matrices are placed on physical arrays, and what one MVM costs there.

**Which array size governs.** Tile counts and energies use the *profile's* physical array
(``AnalogProfile.array_rows x array_cols``): energy is a property of the hardware. The
preset's 256 x 256 mapping only decides how aihwkit splits the matrix for the *simulation*
(its noise and quantisation); when the two differ, the report says so in its notes.

**Tiles.** A group's ``rows x cols`` matrix needs ``ceil(rows/array_rows) * ceil(cols/array_cols)``
tiles. The partial sums of the ``ceil(rows/array_rows)`` row blocks are added digitally:
``ceil(rows/array_rows) - 1`` adds per output.

**Grouped convolutions.** Groups have different inputs *and* outputs, so several groups share
one array only block-diagonally: ``k = min(array_rows // rows, array_cols // cols)`` groups per
array when a group fits, and ``tiles = ceil(groups / k)``. The off-diagonal cells hold zero
weights and are neither driven nor converted: one group's MVM drives its own ``rows`` rows and
converts its own ``cols`` columns, whatever it shares the array with. A group larger than an
array is not packed (``groups * row_blocks * col_blocks`` tiles).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from memtorch_power.energy.profiles import AnalogProfile

#: Component names of one analog MVM (see :func:`mvm_energy_pj`).
MVM_COMPONENTS = ("dac", "array", "adc", "shift_add", "accumulate", "periphery", "movement")


@dataclass(frozen=True)
class TileMapping:
    """Placement of ``groups`` matrices of ``rows x cols`` on ``array_rows x array_cols`` arrays.

    Attributes:
        rows: inputs per MVM per group.
        cols: outputs per MVM per group.
        groups: matrices (one per convolution group).
        array_rows: physical rows per array.
        array_cols: physical columns per array.
        row_blocks: arrays a group's rows span (``ceil(rows / array_rows)``).
        col_blocks: arrays a group's columns span (``ceil(cols / array_cols)``).
        groups_per_array: groups packed block-diagonally on one array (1 if not packed).
        tiles: physical arrays used.
    """

    rows: int
    cols: int
    groups: int
    array_rows: int
    array_cols: int
    row_blocks: int
    col_blocks: int
    groups_per_array: int
    tiles: int

    @property
    def weights(self) -> int:
        """Weights stored (all groups)."""
        return self.groups * self.rows * self.cols

    @property
    def utilisation(self) -> float:
        """Fraction of the used arrays' cells that hold a weight (0..1)."""
        return self.weights / (self.tiles * self.array_rows * self.array_cols)

    @property
    def adds_per_output(self) -> int:
        """Digital additions per output to combine the row blocks' partial sums."""
        return self.row_blocks - 1


def map_tiles(rows: int, cols: int, groups: int, array_rows: int, array_cols: int) -> TileMapping:
    """Tile mapping of ``groups`` matrices of ``rows x cols`` (see the module docstring).

    Raises:
        ValueError: if any size is not positive.
    """
    for label, value in (("rows", rows), ("cols", cols), ("groups", groups),
                         ("array_rows", array_rows), ("array_cols", array_cols)):
        if value <= 0:
            raise ValueError(f"map_tiles: {label} must be positive, got {value}")
    row_blocks = math.ceil(rows / array_rows)
    col_blocks = math.ceil(cols / array_cols)
    if row_blocks == 1 and col_blocks == 1:
        per_array = min(array_rows // rows, array_cols // cols, groups)
        tiles = math.ceil(groups / per_array)
    else:
        per_array = 1
        tiles = groups * row_blocks * col_blocks
    return TileMapping(rows, cols, groups, array_rows, array_cols, row_blocks, col_blocks, per_array, tiles)


def mvm_energy_pj(
    profile: AnalogProfile,
    mapping: TileMapping,
    in_bits: float | None,
    out_bits: float | None,
    transposed: bool = False,
) -> dict[str, float]:
    """Energy in pJ of one MVM of one group, per component.

    The input vector is driven into every column block (``rows * col_blocks`` row drives), every
    weight cell is read once, every column of every row block is converted
    (``cols * row_blocks`` conversions), row blocks are summed digitally, and the inputs and
    outputs move on chip (``in_bits``/``out_bits`` per value). ``transposed`` prices the backward
    MVM of in-memory training (inputs on the columns, outputs on the rows).

    Args:
        profile: the analog hardware.
        mapping: the layer's tile mapping.
        in_bits: input (DAC) resolution; ``None`` uses ``profile.input_bits``.
        out_bits: ADC resolution; ``None`` uses ``profile.adc_bits``.
        transposed: price ``W^T d`` instead of ``W x``.
    """
    b_in = profile.input_bits if in_bits is None else float(in_bits)
    b_out = profile.adc_bits if out_bits is None else float(out_bits)
    n_in, n_out = (mapping.cols, mapping.rows) if transposed else (mapping.rows, mapping.cols)
    in_blocks, out_blocks = (
        (mapping.row_blocks, mapping.col_blocks) if not transposed else (mapping.col_blocks, mapping.row_blocks)
    )
    # in_blocks: arrays an input vector's elements are spread over (partial sums to add);
    # out_blocks: arrays that each need the whole input driven.
    drives = n_in * out_blocks
    cells = mapping.rows * mapping.cols
    conversions = n_out * in_blocks
    adc_scale = 2.0 ** (b_out - profile.adc_bits)
    if profile.input_encoding == "pwm":
        time_scale = 2.0 ** (b_in - profile.input_bits)
        cycles = 1.0
    else:
        time_scale = b_in  # one 1-bit cycle per input bit
        cycles = b_in
    return {
        "dac": drives * profile.dac_pj * time_scale,
        "array": cells * profile.cell_read_pj * time_scale,
        "adc": conversions * cycles * profile.adc_pj * adc_scale,
        "shift_add": conversions * cycles * profile.shift_add_pj,
        "accumulate": n_out * (in_blocks - 1) * profile.accumulate_pj,
        "periphery": n_out * profile.periphery_pj,
        "movement": (drives * b_in + conversions * b_out) / 8.0 * profile.movement_pj_per_byte,
    }


def line_pulse_pj(profile: AnalogProfile) -> float:
    """Energy of one update pulse on one row/column line, in pJ (derived, not cited).

    PWM drivers: one time slot of the row driver (``dac_pj / 2**input_bits``); bit-serial
    drivers: one 1-bit DAC drive (``dac_pj``).
    """
    if profile.input_encoding == "pwm":
        return profile.dac_pj / 2.0**profile.input_bits
    return profile.dac_pj


def full_tile_tops_per_watt(profile: AnalogProfile) -> float:
    """TOPS/W of one full-array MVM at the profile's own input/ADC resolution (2 ops per MAC)."""
    mapping = map_tiles(profile.array_rows, profile.array_cols, 1, profile.array_rows, profile.array_cols)
    energy_pj = sum(mvm_energy_pj(profile, mapping, None, None).values())
    return 2.0 * mapping.weights / energy_pj

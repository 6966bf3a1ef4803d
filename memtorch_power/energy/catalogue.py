"""The named energy profiles, each constant with its source.

Every number below is either quoted from a publication/datasheet (the comment says where) or
*derived* from quoted numbers in code (the derivation is the code). Where a publication gives
only a total (energy per MVM of a whole core), the split into components is **calibrated**:
the proportions come from ISAAC's component table and the sum is set to the published total.
That is said in the profile's ``sources`` and in ``docs/energy_profiles.md``.

Analog: ``hermes``, ``ibm14nm``, ``isaac``.
Digital: ``horowitz45_fp32``, ``horowitz45_fp16``, ``horowitz45_int8``, ``a100_fp16``,
``a100_fp32``, ``h100_fp16``, ``h100_fp32``, ``cortex_m4``.
"""

from __future__ import annotations

from memtorch_power.energy.profiles import AnalogProfile, DigitalProfile, register_profile

PJ = 1e12  # joules -> picojoules

# ==== ISAAC: Shafiee et al., "ISAAC: A Convolutional Neural Network Accelerator with In-Situ
# Analog Arithmetic in Crossbars", ISCA 2016, table of IMA/tile component power (32 nm).
# One IMA: 8 crossbars of 128x128 cells, read in 100 ns cycles of 1-bit inputs.
ISAAC_CYCLE_S = 100e-9  # crossbar read cycle per input bit (ISAAC Sec. 5/6: 100 ns)
ISAAC_XBARS = 8  # crossbars per IMA
ISAAC_SIZE = 128  # rows = columns per crossbar
ISAAC_ADC_W = 16e-3  # 8 ADCs per IMA, 8 bit, 1.28 GS/s, 16 mW in total
ISAAC_ADC_RATE = 8 * 1.28e9  # conversions per second per IMA (8 ADCs x 1.28 GS/s)
ISAAC_DAC_W = 4e-3  # 8 x 128 one-bit DACs per IMA, 4 mW in total
ISAAC_XBAR_W = 2.4e-3  # 8 memristor crossbars, 2.4 mW in total
ISAAC_SHIFT_ADD_W = 0.2e-3  # 4 shift-and-add units per IMA, 0.2 mW in total
# eDRAM buffer and bus per-access energies derived from the same table in the Accelergy
# hwcomponents ISAAC library (power x time / accesses): 20.45 pJ per 256-bit eDRAM access,
# 0.054 pJ per bit on the eDRAM-IMA bus.
ISAAC_EDRAM_PJ_PER_BYTE = 20.45 / 32
ISAAC_BUS_PJ_PER_BYTE = 0.054 * 8

ISAAC_ADC_PJ = ISAAC_ADC_W / ISAAC_ADC_RATE * PJ  # 1.5625 pJ per 8-bit conversion
ISAAC_DAC_PJ = ISAAC_DAC_W * ISAAC_CYCLE_S / (ISAAC_XBARS * ISAAC_SIZE) * PJ  # per row, per bit
ISAAC_CELL_PJ = ISAAC_XBAR_W * ISAAC_CYCLE_S / (ISAAC_XBARS * ISAAC_SIZE**2) * PJ  # per cell, per bit
ISAAC_SHIFT_ADD_PJ = ISAAC_SHIFT_ADD_W / ISAAC_ADC_RATE * PJ  # per conversion

# ==== Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014,
# energy table (Fig. 1.1.9), 45 nm, 0.9 V; energies in pJ.
H45_INT8_ADD = 0.03
H45_INT32_ADD = 0.1
H45_INT8_MULT = 0.2
H45_FP16_ADD = 0.4
H45_FP16_MULT = 1.1
H45_FP32_ADD = 0.9
H45_FP32_MULT = 3.7
H45_SRAM_8KB_PJ_PER_64BIT = 10.0  # 64-bit read of an 8 KB cache
H45_SRAM_1MB_PJ_PER_64BIT = 100.0  # 64-bit read of a 1 MB cache
H45_DRAM_PJ_PER_64BIT = 1300.0  # 64-bit DRAM access, 1.3-2.6 nJ: the lower end is used

# ==== PCM device programming (shared by the analog profiles).
# Yu & Chen, "Emerging memory technologies: recent trends and prospects", IEEE Solid-State
# Circuits Magazine 8(2), 43-56, 2016, Table 1: PCM write energy ~10 pJ per cell write.
PCM_PULSE_PJ = 10.0
# Iterative program-and-verify (Papandreou et al., ISCAS 2011) is how PCM weights are
# programmed on HERMES (Le Gallo et al. 2023) and the 14 nm chip (Ambrogio et al. 2023). The
# mean number of iterations per device is not given in the sources we could check: 10 is an
# explicit ASSUMPTION (override with AnalogProfile.replace(program_iterations=...)).
PCM_PROGRAM_ITERATIONS = 10.0

# ==== HERMES: Le Gallo et al., "A 64-core mixed-signal in-memory compute chip based on
# phase-change memory for deep neural network inference", Nature Electronics 6, 680-693, 2023.
HERMES_ARRAY = 256  # 256 x 256 unit cells per core (abstract)
HERMES_CHIP_TOPS_W = 9.76  # 8-bit input/output MVMs, one-phase read (abstract)
# Khaddam-Aljameh et al., "HERMES-Core: a 1.59-TOPS/mm2 PCM on 14-nm CMOS in-memory compute
# core using 300-ps/LSB linearized CCO-based ADCs", IEEE JSSC 57(4), 2022: the same core
# alone (PWM inputs, 256 CCO-ADCs, local digital processing unit) measures 10.5 TOPS/W (abstract).
HERMES_CORE_TOPS_W = 10.5
HERMES_DEVICES_PER_WEIGHT = 4  # unit cell of 4 PCM devices, 2 per sign (Le Gallo 2023, Fig. 1)

# ==== IBM 14 nm analog-AI chip: Ambrogio et al., "An analog-AI chip for energy-efficient
# speech recognition and transcription", Nature 620, 768-775, 2023.
IBM14_ROWS, IBM14_COLS = 512, 2048  # 512 x 2,048 PCMs per tile (Fig. 1f)
IBM14_TOPS_W = 12.4  # chip-sustained, 8-bit inputs as pulse durations (abstract, Fig. 1d)


# ==== On-chip digital periphery: where the analog system runs its layers that are not analog
# (norms, activations, pooling, depthwise convolutions). HERMES implements "the digital
# activation functions and additional processing involved in individual convolutional layers
# and LSTM units" on chip (Le Gallo et al. 2023, abstract): a local digital processing unit per
# core and global digital processing units. No energy per digital operation of these units is
# published in the sources used, so Horowitz's 45 nm figures are used UNSCALED: an ASSUMPTION
# and an upper bound at 14 nm / 32 nm (no technology-node scaling is applied).
PERIPHERY_OP_PJ = H45_INT32_ADD  # one elementwise operation in 32-bit fixed point
PERIPHERY_MAC_PJ = H45_INT8_MULT + H45_INT32_ADD  # 8-bit multiply, 32-bit accumulate
PERIPHERY_SRAM_PJ_PER_BYTE = H45_SRAM_8KB_PJ_PER_64BIT / 8  # small local SRAM per core


def _periphery_sources(unit: str, sram: str | None = None) -> dict[str, str]:
    """Citations of the three periphery fields; ``unit`` says which on-chip unit runs them."""
    h45 = "Horowitz, ISSCC 2014, Fig. 1.1.9 (45 nm): "
    upper = " (ASSUMPTION: 45 nm figure UNSCALED, an upper bound at the chip's node)"
    return {
        "periphery_op_pj": f"{unit}; {h45}32-bit integer add 0.1 pJ per elementwise op{upper}",
        "periphery_mac_pj": f"{unit}; {h45}8-bit multiply 0.2 pJ + 32-bit add 0.1 pJ{upper}",
        "periphery_sram_pj_per_byte": sram or f"{unit}; {h45}8 KB SRAM, 10 pJ per 64-bit access "
        "(ASSUMPTION: a small local SRAM per core; 45 nm figure UNSCALED, an upper bound at the "
        "chip's node)",
    }


_HERMES_UNIT = ("Le Gallo et al. 2023 (abstract): activation functions and the other digital "
                "processing of conv/LSTM layers run on chip (local and global digital processing units)")
_IBM_UNIT = ("ASSUMPTION: the chip's two on-chip processing elements (Ambrogio et al. 2023, Fig. 1c; "
             "not used there: its OLP sends 8-bit outputs off chip, Fig. 1d) run the digital layers")
_ISAAC_UNIT = ("Shafiee et al., ISCA 2016: each tile has digital sigmoid and max-pool units next to "
               "its eDRAM buffer (ASSUMPTION: priced at the generic figure below, not at their powers)")


def _mvm_ops(rows: int, cols: int) -> float:
    """Operations of one full-array MVM: 2 per multiply-accumulate."""
    return 2.0 * rows * cols


def _isaac_split(total_pj: float, rows: int, cols: int) -> tuple[float, float, float]:
    """Split ``total_pj`` of one full ``rows x cols`` MVM into (DAC per row, cell, ADC per column)
    in the proportions of ISAAC's component table (one input cycle: rows DACs, rows*cols cells,
    cols conversions). This is a CALIBRATION: the sum equals the published total."""
    weight = rows * ISAAC_DAC_PJ + rows * cols * ISAAC_CELL_PJ + cols * ISAAC_ADC_PJ
    scale = total_pj / weight
    return ISAAC_DAC_PJ * scale, ISAAC_CELL_PJ * scale, ISAAC_ADC_PJ * scale


_ISAAC_SPLIT_NOTE = (
    "CALIBRATED: proportions of ISAAC's DAC/crossbar/ADC powers (Shafiee et al., ISCA 2016) "
    "scaled so that a full {rows}x{cols} 8-bit MVM costs {what}"
)

# ---- hermes -------------------------------------------------------------------------------
_hermes_core_pj = _mvm_ops(HERMES_ARRAY, HERMES_ARRAY) / (HERMES_CORE_TOPS_W * 1e12) * PJ
_hermes_chip_pj = _mvm_ops(HERMES_ARRAY, HERMES_ARRAY) / (HERMES_CHIP_TOPS_W * 1e12) * PJ
_hermes_dac, _hermes_cell, _hermes_adc = _isaac_split(_hermes_core_pj, HERMES_ARRAY, HERMES_ARRAY)
# chip minus core: communication and data movement of the 8-bit inputs and outputs.
_hermes_move = (_hermes_chip_pj - _hermes_core_pj) / (2 * HERMES_ARRAY)
_hermes_what = "the HERMES core's 10.5 TOPS/W (Khaddam-Aljameh et al., IEEE JSSC 2022)"

HERMES = AnalogProfile(
    name="hermes",
    description="IBM HERMES-like 64-core PCM chip, 14 nm, 256x256 cores, PWM inputs, CCO ADCs",
    array_rows=HERMES_ARRAY,
    array_cols=HERMES_ARRAY,
    input_encoding="pwm",
    input_bits=8,
    adc_bits=8,
    dac_pj=_hermes_dac,
    cell_read_pj=_hermes_cell,
    adc_pj=_hermes_adc,
    shift_add_pj=0.0,
    periphery_pj=0.0,
    accumulate_pj=H45_INT32_ADD,
    movement_pj_per_byte=_hermes_move,
    pulse_pj=PCM_PULSE_PJ,
    program_iterations=PCM_PROGRAM_ITERATIONS,
    devices_per_weight=HERMES_DEVICES_PER_WEIGHT,
    periphery_op_pj=PERIPHERY_OP_PJ,
    periphery_mac_pj=PERIPHERY_MAC_PJ,
    periphery_sram_pj_per_byte=PERIPHERY_SRAM_PJ_PER_BYTE,
    sources={
        "array_rows": "Le Gallo et al., Nature Electronics 2023 (256x256 unit cells per core)",
        "array_cols": "Le Gallo et al., Nature Electronics 2023 (256x256 unit cells per core)",
        "input_bits": "Le Gallo et al. 2023: 8-bit input/output MVMs (PWM inputs)",
        "adc_bits": "Le Gallo et al. 2023: 8-bit input/output MVMs (CCO-based ADCs)",
        "dac_pj": _ISAAC_SPLIT_NOTE.format(rows=256, cols=256, what=_hermes_what),
        "cell_read_pj": _ISAAC_SPLIT_NOTE.format(rows=256, cols=256, what=_hermes_what),
        "adc_pj": _ISAAC_SPLIT_NOTE.format(rows=256, cols=256, what=_hermes_what)
        + "; includes the core's local digital processing unit (affine scaling, ReLU)",
        "shift_add_pj": "0: PWM inputs, one conversion per MVM (no bit-serial recombination)",
        "periphery_pj": "0: affine scaling is inside the measured core energy (LDPU, JSSC 2022)",
        "accumulate_pj": "Horowitz, ISSCC 2014, Fig. 1.1.9: 32-bit integer add, 0.1 pJ at 45 nm "
        "(an upper bound at 14 nm)",
        "movement_pj_per_byte": "CALIBRATED: chip (9.76 TOPS/W, Le Gallo 2023) minus core "
        "(10.5 TOPS/W, JSSC 2022) energy per 256x256 MVM, spread over its 256+256 bytes of 8-bit I/O",
        "pulse_pj": "Yu & Chen, IEEE SSC Magazine 8(2), 2016, Table 1: PCM write energy ~10 pJ",
        "program_iterations": "ASSUMPTION: 10 program-and-verify iterations per device "
        "(iterative programming: Papandreou et al., ISCAS 2011; used by Le Gallo et al. 2023)",
        "devices_per_weight": "Le Gallo et al. 2023: unit cell of 4 PCM devices (2 per sign)",
        **_periphery_sources(_HERMES_UNIT),
    },
)

# ---- ibm14nm ------------------------------------------------------------------------------
_ibm_tile_pj = _mvm_ops(IBM14_ROWS, IBM14_COLS) / (IBM14_TOPS_W * 1e12) * PJ
_ibm_dac, _ibm_cell, _ibm_adc = _isaac_split(_ibm_tile_pj, IBM14_ROWS, IBM14_COLS)
_ibm_what = "12.4 TOPS/W chip-sustained (Ambrogio et al., Nature 2023)"

IBM14NM = AnalogProfile(
    name="ibm14nm",
    description="IBM 14 nm analog-AI chip, 34 tiles of 512x2048 PCMs, duration-coded 8-bit I/O",
    array_rows=IBM14_ROWS,
    array_cols=IBM14_COLS,
    input_encoding="pwm",
    input_bits=8,
    adc_bits=8,
    dac_pj=_ibm_dac,
    cell_read_pj=_ibm_cell,
    adc_pj=_ibm_adc,
    shift_add_pj=0.0,
    periphery_pj=0.0,
    accumulate_pj=H45_INT32_ADD,
    movement_pj_per_byte=0.0,
    pulse_pj=PCM_PULSE_PJ,
    program_iterations=PCM_PROGRAM_ITERATIONS,
    devices_per_weight=None,
    periphery_op_pj=PERIPHERY_OP_PJ,
    periphery_mac_pj=PERIPHERY_MAC_PJ,
    periphery_sram_pj_per_byte=PERIPHERY_SRAM_PJ_PER_BYTE,
    sources={
        "array_rows": "Ambrogio et al., Nature 2023, Fig. 1f: 512 x 2,048 PCMs per tile "
        "(taken as 512 inputs x 2048 outputs; the 2-/4-PCM-per-weight modes of Fig. 1g,h hold "
        "fewer weights: use replace(array_cols=...))",
        "array_cols": "Ambrogio et al., Nature 2023, Fig. 1f: 512 x 2,048 PCMs per tile",
        "input_bits": "Ambrogio et al. 2023, Fig. 1d: 8-bit inputs as pulse durations",
        "adc_bits": "Ambrogio et al. 2023, Fig. 1d: outputs back to 8 bits at the OLP",
        "dac_pj": _ISAAC_SPLIT_NOTE.format(rows=512, cols=2048, what=_ibm_what),
        "cell_read_pj": _ISAAC_SPLIT_NOTE.format(rows=512, cols=2048, what=_ibm_what),
        "adc_pj": _ISAAC_SPLIT_NOTE.format(rows=512, cols=2048, what=_ibm_what)
        + " (charge integration + duration conversion instead of an ADC)",
        "shift_add_pj": "0: duration-coded inputs, one integration per MVM",
        "periphery_pj": "0: the chip-sustained figure includes the peripheral circuitry",
        "accumulate_pj": "Horowitz, ISSCC 2014, Fig. 1.1.9: 32-bit integer add, 0.1 pJ at 45 nm",
        "movement_pj_per_byte": "0: the chip-sustained 12.4 TOPS/W already includes inter-tile "
        "transport (no tile/transport split is published in the abstract)",
        "pulse_pj": "Yu & Chen, IEEE SSC Magazine 8(2), 2016, Table 1: PCM write energy ~10 pJ",
        "program_iterations": "ASSUMPTION: 10 program-and-verify iterations per device "
        "(row-wise iterative programming, Ambrogio et al. 2023 ref. 4)",
        "devices_per_weight": "None: the preset's devices per weight (2, differential pair)",
        **_periphery_sources(_IBM_UNIT),
    },
)

# ---- isaac --------------------------------------------------------------------------------
_isaac_src = "Shafiee et al., ISCA 2016, ISAAC component table (32 nm): "
ISAAC = AnalogProfile(
    name="isaac",
    description="ISAAC-style component set (32 nm): 128x128 arrays, bit-serial 1-bit DACs, 8-bit ADCs",
    array_rows=ISAAC_SIZE,
    array_cols=ISAAC_SIZE,
    input_encoding="bit_serial",
    input_bits=16,
    adc_bits=8,
    dac_pj=ISAAC_DAC_PJ,
    cell_read_pj=ISAAC_CELL_PJ,
    adc_pj=ISAAC_ADC_PJ,
    shift_add_pj=ISAAC_SHIFT_ADD_PJ,
    periphery_pj=0.0,
    accumulate_pj=ISAAC_SHIFT_ADD_PJ,
    movement_pj_per_byte=ISAAC_EDRAM_PJ_PER_BYTE + ISAAC_BUS_PJ_PER_BYTE,
    pulse_pj=PCM_PULSE_PJ,
    program_iterations=PCM_PROGRAM_ITERATIONS,
    devices_per_weight=None,
    periphery_op_pj=PERIPHERY_OP_PJ,
    periphery_mac_pj=PERIPHERY_MAC_PJ,
    periphery_sram_pj_per_byte=ISAAC_EDRAM_PJ_PER_BYTE + ISAAC_BUS_PJ_PER_BYTE,
    sources={
        "array_rows": _isaac_src + "128x128 crossbars",
        "array_cols": _isaac_src + "128x128 crossbars",
        "input_bits": _isaac_src + "16-bit inputs fed 1 bit per 100 ns cycle",
        "adc_bits": _isaac_src + "8-bit ADCs",
        "dac_pj": _isaac_src + "4 mW for 8x128 1-bit DACs x 100 ns cycle / 1024 DACs",
        "cell_read_pj": _isaac_src + "2.4 mW for 8 crossbars x 100 ns / (8x128x128 cells)",
        "adc_pj": _isaac_src + "16 mW / (8 ADCs x 1.28 GS/s) = 1.5625 pJ at 8 bits "
        "(Kull et al., ISSCC 2013 SAR ADC); other bits scale x2 per bit (Walden FOM)",
        "shift_add_pj": _isaac_src + "0.2 mW shift-and-add / 10.24 G conversions/s",
        "periphery_pj": "0: activations are counted as digital layers",
        "accumulate_pj": _isaac_src + "same shift-and-add unit per partial-sum add",
        "movement_pj_per_byte": _isaac_src + "eDRAM 20.45 pJ/256 bit + bus 0.054 pJ/bit, per-access "
        "energies as derived in the Accelergy hwcomponents ISAAC library",
        "pulse_pj": "Yu & Chen, IEEE SSC Magazine 8(2), 2016, Table 1: PCM write energy ~10 pJ "
        "(PCM cells instead of ISAAC's memristors)",
        "program_iterations": "ASSUMPTION: 10 program-and-verify iterations per device",
        "devices_per_weight": "None: the preset's devices per weight (2, differential pair)",
        **_periphery_sources(_ISAAC_UNIT, _isaac_src + "the tile's eDRAM buffer + bus, "
                             "20.45 pJ/256 bit + 0.054 pJ/bit (as movement_pj_per_byte)"),
    },
)


# ---- digital baselines ----------------------------------------------------------------------
def _horowitz(name: str, mult: float, add: float, op: float, nbytes: int, text: str) -> DigitalProfile:
    src = "Horowitz, ISSCC 2014, Fig. 1.1.9 (45 nm, 0.9 V): "
    return DigitalProfile(
        name=name,
        description=f"45 nm ASIC, {text} MACs, weights from DRAM, activations in a 1 MB SRAM",
        mac_pj=mult + add,
        op_pj=op,
        bytes_per_value=nbytes,
        weight_pj_per_byte=H45_DRAM_PJ_PER_64BIT / 8,
        activation_pj_per_byte=H45_SRAM_1MB_PJ_PER_64BIT / 8,
        sources={
            "mac_pj": src + f"{text} multiply {mult} pJ + accumulate {add} pJ",
            "op_pj": src + f"one {text} add ({op} pJ)",
            "bytes_per_value": f"{text}: {nbytes} byte(s) per value",
            "weight_pj_per_byte": src + "DRAM 1.3 nJ per 64-bit access (lower end of 1.3-2.6 nJ)",
            "activation_pj_per_byte": src + "1 MB SRAM cache, 100 pJ per 64-bit access",
        },
    )


HOROWITZ45_FP32 = _horowitz("horowitz45_fp32", H45_FP32_MULT, H45_FP32_ADD, H45_FP32_ADD, 4, "fp32")
HOROWITZ45_FP16 = _horowitz("horowitz45_fp16", H45_FP16_MULT, H45_FP16_ADD, H45_FP16_ADD, 2, "fp16")
# int8 MAC: 8-bit multiply + 32-bit accumulate (products are accumulated at 32 bits).
HOROWITZ45_INT8 = _horowitz("horowitz45_int8", H45_INT8_MULT, H45_INT32_ADD, H45_INT8_ADD, 1, "int8")

# NVIDIA A100 Tensor Core GPU datasheet (SXM4 80GB): FP16 Tensor Core 312 TFLOPS dense (624 with
# sparsity), FP32 19.5 TFLOPS, max TDP 400 W. NVIDIA H100 Tensor Core GPU datasheet (SXM5):
# FP16 Tensor Core 1,979 TFLOPS *with sparsity* (989.5 dense), FP32 67 TFLOPS, max TDP 700 W.
A100_FP16_TFLOPS, A100_FP32_TFLOPS, A100_TDP_W = 312.0, 19.5, 400.0
H100_FP16_TFLOPS, H100_FP32_TFLOPS, H100_TDP_W = 1979.0 / 2, 67.0, 700.0
# HBM access energy: ~3.9 pJ/bit for HBM2 (O'Connor et al., "Fine-grained DRAM", MICRO 2017),
# used for the A100's HBM2e and the H100's HBM3 (neither datasheet gives energy per bit).
HBM_PJ_PER_BIT = 3.9


def _gpu(name: str, gpu: str, tflops: float, fp32_tflops: float, tdp_w: float, nbytes: int,
         what: str) -> DigitalProfile:
    """Board power at peak throughput: pJ per FLOP = TDP / FLOP/s; one MAC = 2 FLOPs."""
    pj_per_flop = tdp_w / (tflops * 1e12) * PJ
    op_pj = tdp_w / (fp32_tflops * 1e12) * PJ
    sheet = f"NVIDIA {gpu} datasheet: "
    return DigitalProfile(
        name=name,
        description=f"NVIDIA {gpu}, {what}, board power at peak throughput, HBM traffic",
        mac_pj=2 * pj_per_flop,
        op_pj=op_pj,
        bytes_per_value=nbytes,
        weight_pj_per_byte=HBM_PJ_PER_BIT * 8,
        activation_pj_per_byte=HBM_PJ_PER_BIT * 8,
        sources={
            "mac_pj": sheet + f"{what} {tflops:g} TFLOPS dense at {tdp_w:g} W TDP -> "
            f"{tdp_w:g} / {tflops:g}e12 = {pj_per_flop:.3f} pJ/FLOP, x2 FLOP per MAC",
            "op_pj": sheet + f"FP32 (CUDA cores) {fp32_tflops:g} TFLOPS at {tdp_w:g} W -> one "
            "elementwise op per FLOP",
            "bytes_per_value": f"{what}: {nbytes} bytes per value",
            "weight_pj_per_byte": "O'Connor et al., MICRO 2017: HBM2 ~3.9 pJ/bit (x8 per byte)",
            "activation_pj_per_byte": "O'Connor et al., MICRO 2017: HBM2 ~3.9 pJ/bit "
            "(activations between kernels go through HBM)",
        },
    )


A100_FP16 = _gpu("a100_fp16", "A100 SXM4", A100_FP16_TFLOPS, A100_FP32_TFLOPS, A100_TDP_W, 2,
                 "FP16 Tensor Core")
A100_FP32 = _gpu("a100_fp32", "A100 SXM4", A100_FP32_TFLOPS, A100_FP32_TFLOPS, A100_TDP_W, 4,
                 "FP32 (no TF32)")
H100_FP16 = _gpu("h100_fp16", "H100 SXM5", H100_FP16_TFLOPS, H100_FP32_TFLOPS, H100_TDP_W, 2,
                 "FP16 Tensor Core")
H100_FP32 = _gpu("h100_fp32", "H100 SXM5", H100_FP32_TFLOPS, H100_FP32_TFLOPS, H100_TDP_W, 4,
                 "FP32 (no TF32)")

# Edge MCU: STMicroelectronics STM32L476 (Arm Cortex-M4F, 80 MHz) datasheet DS10198, run mode
# ~100 uA/MHz (LDO, code from flash) at VDD = 3.0 V -> 300 pJ per cycle (the datasheet's headline;
# ST's STM32L4 training slides give ~120 uA/MHz at 80 MHz, second-hand).
MCU_UA_PER_MHZ, MCU_VDD = 100.0, 3.0
# Cycles per MAC of a real int8 network, not the core's peak (SMLAD: 2 MACs per cycle, which
# predicted 446 uJ for MLPerf Tiny's KWS DS-CNN against 4,636 uJ measured on a Cortex-M4):
# MLPerf Tiny v0.7 (mlcommons/tiny_results_v0.7), closed division, Plumerai Inference Engine on
# a CY8CPROTO-062-4343W (PSoC 62, Cortex-M4F at 150 MHz; systems/cy8cproto_062_4343w.json):
# 15.707 inferences/s of the keyword-spotting DS-CNN (results/cy8cproto_062_4343w/kws/performance/
# performance_results.txt), whose 2,656,768 MACs are computed from mlcommons/tiny's
# keras_model.py (49x10 MFCC input, 25x5 maps after the first conv). Every cycle of the whole
# network (im2col, depthwise, requantisation, pooling) is charged to its MACs.
MLPERF_KWS_MACS = 2_656_768
MCU_KWS_CLOCK_HZ, MCU_KWS_INF_PER_S = 150e6, 15.707
MCU_CYCLES_PER_MAC = MCU_KWS_CLOCK_HZ / MCU_KWS_INF_PER_S / MLPERF_KWS_MACS  # 3.59
_mcu_cycle_pj = MCU_UA_PER_MHZ * 1e-6 * MCU_VDD / 1e6 * PJ
CORTEX_M4 = DigitalProfile(
    name="cortex_m4",
    description="Arm Cortex-M4 MCU (STM32L476 class), int8 kernels at a measured 3.6 cycles/MAC, on-chip SRAM/flash",
    mac_pj=_mcu_cycle_pj * MCU_CYCLES_PER_MAC,
    op_pj=_mcu_cycle_pj,
    bytes_per_value=1,
    weight_pj_per_byte=_mcu_cycle_pj / 4,
    activation_pj_per_byte=_mcu_cycle_pj / 4,
    sources={
        "mac_pj": "STM32L476 datasheet DS10198: ~100 uA/MHz run mode at 3.0 V = 300 pJ/cycle; "
        f"x {MCU_CYCLES_PER_MAC:.2f} cycles per MAC measured for a whole int8 DS-CNN on a 150 MHz "
        "Cortex-M4F (MLPerf Tiny v0.7 KWS, Plumerai on CY8CPROTO-062-4343W: 15.707 inferences/s "
        "of 2,656,768 MACs; mlcommons/tiny_results_v0.7)",
        "op_pj": "300 pJ/cycle (DS10198), one elementwise op per cycle",
        "bytes_per_value": "int8 (CMSIS-NN q7 kernels)",
        "weight_pj_per_byte": "one 1-cycle 32-bit LDR (Cortex-M4 TRM) per 4 bytes at 300 pJ/cycle",
        "activation_pj_per_byte": "one 1-cycle 32-bit LDR/STR per 4 bytes at 300 pJ/cycle",
    },
)

CATALOGUE: tuple[AnalogProfile | DigitalProfile, ...] = (
    HERMES,
    IBM14NM,
    ISAAC,
    HOROWITZ45_FP32,
    HOROWITZ45_FP16,
    HOROWITZ45_INT8,
    A100_FP16,
    A100_FP32,
    H100_FP16,
    H100_FP32,
    CORTEX_M4,
)

for _profile in CATALOGUE:
    register_profile(_profile, overwrite=True)

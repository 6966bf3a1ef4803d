"""Turn counted workload into joules, per layer, phase and component.

**Digital baseline** (every layer, analog ones priced as their digital twin), with ``b`` bytes
per value of the digital profile:

* forward: ``MACs * mac_pj + ops * op_pj``; weights fetched once per call; input and output
  activations read/written once;
* backward (training): input-gradient and weight-gradient MACs (each equal to the forward
  MACs of the calls that need them), weights re-read, the weight gradient written, saved
  inputs and output gradients read, input gradients written;
* update: one SGD step per optimizer step: 1 MAC and 3 weight accesses (read w, read g,
  write w) per parameter.

**Inference rules** (forward priced as inference, :func:`inference_counts`): dropout costs
nothing; a batch norm folded into the conv/linear it directly follows costs nothing (on the
baseline its scale and shift go into that layer's weights and bias; on the analog system into
the per-column affine scaling the periphery already applies); an unfolded batch norm with
running statistics costs 2 operations per element. Training forwards are priced as counted.

**Analog system**: analog layers on the profile's arrays (:func:`mvm_energy_pj`). The forward of
the layers that are not analog runs where ``digital_layers_on`` says (:func:`placement`):

* ``"periphery"`` (default): on the analog chip's own on-chip digital periphery
  (:func:`periphery_energy`: ``periphery_op_pj``/``periphery_mac_pj`` and local SRAM traffic),
  except dense digital Linear/Conv layers (``groups == 1``), which need a MAC array and
  weight storage the periphery does not have: they run on the digital baseline as a host;
* ``"baseline"``: on the digital profile (a digital co-processor next to the analog chip).

The backward and optimizer step of layers that are not analog, and the digital parts of
training analog layers, run on the digital profile (the training host). By update mode:

* ``digital`` (``pcm_hwa``, ``ideal``): analog forward; backward and optimizer step digital,
  as on the digital baseline; inference then runs on PCM after a one-off programming
  (:func:`programming_energy_pj`);
* ``in_memory`` (``pcm_training``): analog forward and transposed backward MVMs; the update
  is PCM pulses (measured, or ``pulses_per_weight_step`` per weight per step) plus the
  stochastic pulse trains on the lines (``BL`` pulses per line per vector) and their digital
  pulse-probability computation;
* ``mixed_precision``: analog forward and backward; the weight gradient is computed digitally
  and accumulated in ``chi`` (fp32, one read-modify-write per weight per step), and whole
  PCM pulses are applied where ``chi`` crosses ``dw_min``; with a factored step
  (``pcm_mixed_precision_factored``) also its statistics and the scaling of inputs and errors;
  with Adam's step (``pcm_mixed_precision_adam``) also the moments' arithmetic and their memory
  (``ADAM_OPS_PER_WEIGHT``, ``ADAM_MOMENT_ACCESSES``);
* ``transfer`` (``pcm_tiki_taka``): analog forward and transposed backward MVMs on the PCM
  array; the update drives stochastic pulse trains into a fast (capacitor-like) array as
  ``in_memory`` does; every transfer reads ``transfer_reads`` fast-array columns (one forward
  MVM each, one-hot input, priced as a full MVM of the layer: an upper bound for layers that
  span several arrays) and adds them to the PCM array by pulse trains on ``1 + cols`` lines;
  the PCM pulses are the measured (or expected) ones. A closed-loop transfer
  (``pcm_fast_weight_config``) instead programs each moved weight into its PCM pair by
  program-and-verify: ``program_iterations`` pulses and verify reads (``cell_read_pj + adc_pj``)
  on one device and a RESET pulse on the other (:func:`closed_loop_programmed`); it drives no
  pulse trains. The charge moved into a capacitor cell per coincidence (about C V^2 = 1 fJ for
  a few-fF cell at 1 V, an ASSUMPTION) is left out: it is three orders of magnitude below the
  line drivers' energy.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from memtorch_power.energy.counting import LayerCounts, LayerInfo, Tally, shape_text
from memtorch_power.energy.mapping import TileMapping, line_pulse_pj, map_tiles, mvm_energy_pj
from memtorch_power.energy.profiles import AnalogProfile, DigitalProfile
from memtorch_power.energy.rows import PHASES, LayerEnergy
from memtorch_power.presets import PULSED_UPDATES

PJ_TO_J = 1e-12
CHI_BYTES = 4  # mixed precision accumulates chi in fp32
#: operations per weight per step of the factored step (``FactoredStepTile``), counted from the
#: algorithm: square the gradient, accumulate it into its row and its column mean, and a
#: multiply-accumulate of the scaled square for the update's RMS (clipping); plus one multiply per
#: input and error element that scales them
FACTORED_OPS_PER_WEIGHT = 5
#: operations per weight per step of Adam's step in the digital unit (``AdamStepTile``), counted
#: from the algorithm: first moment (multiply, multiply-add), second moment (square, multiply,
#: multiply-add), the step (two bias corrections, square root, epsilon, division)
ADAM_OPS_PER_WEIGHT = 10
#: fp32 moment accesses per weight per step of that step: read and write the first and second moment
ADAM_MOMENT_ACCESSES = 4

#: Expected PCM pulses per weight per optimizer step when nothing was measured: an
#: ASSUMPTION (|dW| ~ lr*|grad| ~ 0.01*0.1 = 1e-3 per step, i.e. 0.1 device steps of
#: dw_min = 0.01). Measure the real figure with EnergyMonitor (|dW|/dw_min per step).
DEFAULT_PULSES_PER_WEIGHT_STEP = 0.1

Energy = dict[str, dict[str, float]]

DigitalPlacement = Literal["periphery", "baseline"]
#: Where the analog system runs the forward of its layers that are not analog.
DIGITAL_PLACEMENTS: tuple[str, ...] = ("periphery", "baseline")


def _empty() -> Energy:
    return {phase: {} for phase in PHASES}


def _add(energy: Energy, phase: str, component: str, pj: float) -> None:
    if pj:
        energy[phase][component] = energy[phase].get(component, 0.0) + pj * PJ_TO_J


def _digital_forward(info: LayerInfo, t: Tally, d: DigitalProfile) -> tuple[float, float, float]:
    """(compute, weight memory, activation memory) in pJ of the forward calls in ``t``."""
    b = d.bytes_per_value
    return (
        t.macs * d.mac_pj + t.ops * d.op_pj,
        t.calls * info.streamed_params * b * d.weight_pj_per_byte,
        (t.in_elems + t.out_elems) * b * d.activation_pj_per_byte,
    )


def _digital_backward(info: LayerInfo, gi: Tally, gw: Tally, d: DigitalProfile) -> tuple[float, float, float]:
    """(compute, weight memory, activation memory) in pJ of the backward pass."""
    b = d.bytes_per_value
    grad_w_ops = gw.out_elems if info.other_params else 0  # bias / affine gradients
    compute = (gi.macs + gw.macs) * d.mac_pj + (gi.ops + grad_w_ops) * d.op_pj
    weights = (gi.calls * info.streamed_params + gw.calls * info.params) * b * d.weight_pj_per_byte
    acts = (gi.in_elems + gi.out_elems + gw.in_elems + gw.out_elems) * b * d.activation_pj_per_byte
    return compute, weights, acts


def _sgd_step(params: int, steps: int, d: DigitalProfile) -> tuple[float, float]:
    """(compute, memory) in pJ of ``steps`` SGD steps on ``params`` parameters."""
    return steps * params * d.mac_pj, steps * params * 3 * d.bytes_per_value * d.weight_pj_per_byte


def digital_energy(info: LayerInfo, counts: LayerCounts, d: DigitalProfile, training: bool) -> Energy:
    """Energy of the layer on the digital baseline (J, by phase and component)."""
    energy = _empty()
    compute, weights, acts = _digital_forward(info, counts.forward, d)
    _add(energy, "forward", "compute", compute)
    _add(energy, "forward", "weight_memory", weights)
    _add(energy, "forward", "activation_memory", acts)
    if training:
        compute, weights, acts = _digital_backward(info, counts.input_grad, counts.weight_grad, d)
        _add(energy, "backward", "compute", compute)
        _add(energy, "backward", "weight_memory", weights)
        _add(energy, "backward", "activation_memory", acts)
        compute, memory = _sgd_step(info.params, counts.steps, d)
        _add(energy, "update", "compute", compute)
        _add(energy, "update", "weight_memory", memory)
    return energy


def inference_counts(info: LayerInfo, counts: LayerCounts) -> LayerCounts:
    """The counts with the layer's inference rule applied to its forward (see module docstring)."""
    rule = info.inference
    forward = counts.forward
    if rule.free:
        forward = Tally()
    elif rule.foldable:
        forward = forward.minus(counts.folded)
    if rule.ops_per_element is not None:
        forward = forward.scaled(1)
        forward.ops = forward.out_elems * rule.ops_per_element
    return dataclasses.replace(counts, forward=forward)


def placement(info: LayerInfo, a: AnalogProfile, digital_layers_on: str) -> str:
    """Where the analog system runs a layer's forward: ``"pcm"`` (analog layers), ``"periphery"``
    (the analog chip's digital periphery) or ``"baseline"`` (the digital profile)."""
    if info.kind == "analog":
        return "pcm"
    if digital_layers_on == "periphery" and a.has_periphery and not info.dense_digital:
        return "periphery"
    return "baseline"


def periphery_energy(info: LayerInfo, counts: LayerCounts, a: AnalogProfile, d: DigitalProfile,
                     training: bool) -> Energy:
    """Energy of a layer that is not analog on the analog chip's digital periphery (J).

    Forward: ``MACs * periphery_mac_pj + ops * periphery_op_pj``, and the layer's parameters (once
    per call) and input and output activations through the local SRAM
    (``periphery_sram_pj_per_byte``, ``input_bits / 8`` bytes per value). In training, the backward
    and update run on the digital profile ``d`` (the training host), as for the analog layers.
    """
    if a.periphery_op_pj is None or a.periphery_mac_pj is None or a.periphery_sram_pj_per_byte is None:
        raise ValueError(f"analog profile {a.name!r} gives no periphery energies")
    energy = _empty()
    t = counts.forward
    values = t.calls * info.streamed_params + t.in_elems + t.out_elems
    _add(energy, "forward", "periphery_compute", t.macs * a.periphery_mac_pj + t.ops * a.periphery_op_pj)
    _add(energy, "forward", "periphery_memory",
         values * a.periphery_bytes_per_value * a.periphery_sram_pj_per_byte)
    if training:
        host = _as_co_processor(digital_energy(info, counts, d, training))
        energy["backward"], energy["update"] = host["backward"], host["update"]
    return energy


def _as_co_processor(energy: Energy) -> Energy:
    """Digital-baseline components renamed as the analog system's digital co-processor."""
    out = _empty()
    for phase, parts in energy.items():
        for component, joules in parts.items():
            name = "digital_compute" if component == "compute" else "digital_memory"
            out[phase][name] = out[phase].get(name, 0.0) + joules
    return out


def expected_pulses(info: LayerInfo, counts: LayerCounts, pulses_per_weight_step: float) -> float:
    """PCM pulses of the layer's updates: measured if available, else the expectation."""
    if counts.pulses is not None:
        return counts.pulses
    if info.update not in PULSED_UPDATES:
        return 0.0
    return pulses_per_weight_step * info.matrix_weights * counts.steps


def transfer_reads(info: LayerInfo, counts: LayerCounts) -> int:
    """Fast-array columns read and added to the PCM array by a ``transfer`` layer's updates:
    ``floor(updates / transfer_every) * transfer_reads``, where updates are optimizer steps
    (``transfer_in_mbatch``) or the update's mat-vecs."""
    traits = info.traits
    if info.update != "transfer" or traits is None or not traits.transfer_every:
        return 0
    updates = counts.steps if traits.transfer_in_mbatch else counts.weight_grad.mvms
    return int(updates // traits.transfer_every) * int(traits.transfer_reads or 1)


def closed_loop_programmed(info: LayerInfo, counts: LayerCounts, reads: int) -> float:
    """Weights a closed-loop transfer layer programmed into PCM: measured from its tiles'
    counters, else every weight of every read column (``reads * cols``, what a transfer without a
    threshold programs); 0 for other layers."""
    if info.update != "transfer" or info.traits is None or not info.traits.closed_loop_transfer:
        return 0.0
    if counts.weights_reprogrammed is not None:
        return float(counts.weights_reprogrammed)
    return float(reads * info.cols)


def analog_energy(
    info: LayerInfo,
    counts: LayerCounts,
    mapping: TileMapping,
    a: AnalogProfile,
    d: DigitalProfile,
    training: bool,
    pulses: float,
    reads: int = 0,
    programmed: float = 0.0,
) -> Energy:
    """Energy of an analog layer on the analog system (J, by phase and component); ``pulses``
    are its PCM pulses, ``reads`` its transfer reads (:func:`transfer_reads`) and ``programmed``
    the weights its closed-loop transfers programmed (:func:`closed_loop_programmed`)."""
    traits = info.traits
    assert traits is not None
    energy = _empty()
    fwd_mvm = mvm_energy_pj(a, mapping, traits.dac_bits, traits.adc_bits)
    for component, pj in fwd_mvm.items():
        _add(energy, "forward", component, pj * counts.forward.mvms)
    if not training:
        return energy
    gi, gw, steps = counts.input_grad, counts.weight_grad, counts.steps
    b, act = d.bytes_per_value, d.activation_pj_per_byte
    if info.update == "digital":
        compute, weights, acts = _digital_backward(info, gi, gw, d)
        _add(energy, "backward", "digital_compute", compute)
        _add(energy, "backward", "digital_memory", weights + acts)
        compute, memory = _sgd_step(info.params, steps, d)
        _add(energy, "update", "digital_compute", compute)
        _add(energy, "update", "digital_memory", memory)
        return energy
    bwd_mvm = mvm_energy_pj(a, mapping, traits.dac_bits, traits.adc_bits, transposed=True)
    for component, pj in bwd_mvm.items():
        _add(energy, "backward", component, pj * gi.mvms)
    compute, memory = _sgd_step(info.other_params, steps, d)  # digital bias
    _add(energy, "update", "digital_compute", compute)
    _add(energy, "update", "digital_memory", memory)
    _add(energy, "update", "pcm_pulses", pulses * a.pulse_pj)
    lines = info.rows + info.cols
    if info.update in ("in_memory", "transfer"):
        bl = traits.update_bl or 1
        _add(energy, "update", "update_drivers", gw.mvms * lines * bl * line_pulse_pj(a))
        _add(energy, "update", "digital_compute", gw.mvms * lines * d.op_pj)
        if reads:
            for component, pj in fwd_mvm.items():
                _add(energy, "update", f"transfer_{component}", pj * reads)
            if traits.closed_loop_transfer:  # program-and-verify: a verify read after every pulse
                _add(energy, "update", "transfer_verify", programmed * a.program_iterations * (a.cell_read_pj + a.adc_pj))
            else:
                _add(energy, "update", "update_drivers", reads * (1 + info.cols) * bl * line_pulse_pj(a))
    else:  # mixed precision: digital outer product into chi, then whole pulses
        _add(energy, "backward", "digital_compute", gw.macs * d.mac_pj)
        _add(energy, "backward", "digital_memory", (gw.in_elems + gw.out_elems) * b * act)
        _add(energy, "update", "digital_compute", steps * info.matrix_weights * 2 * d.op_pj)
        _add(energy, "update", "digital_memory", steps * info.matrix_weights * 2 * CHI_BYTES * act)
        if traits.factored_step:  # the statistics (fp32 row and column means) and the scaled x and d
            ops = steps * info.matrix_weights * FACTORED_OPS_PER_WEIGHT + gw.in_elems + gw.out_elems
            _add(energy, "update", "digital_compute", ops * d.op_pj)
            _add(energy, "update", "digital_memory", steps * lines * 2 * CHI_BYTES * act)
        if traits.adam_step:  # the moments (two fp32 matrices beside chi) and the step computed from them
            _add(energy, "update", "digital_compute", steps * info.matrix_weights * ADAM_OPS_PER_WEIGHT * d.op_pj)
            moment_bytes = steps * info.matrix_weights * ADAM_MOMENT_ACCESSES * CHI_BYTES
            _add(energy, "update", "digital_memory", moment_bytes * act)
    return energy


def layer_energy(
    info: LayerInfo,
    counts: LayerCounts,
    a: AnalogProfile,
    d: DigitalProfile,
    training: bool,
    pulses_per_weight_step: float = DEFAULT_PULSES_PER_WEIGHT_STEP,
    digital_layers_on: str = "periphery",
) -> LayerEnergy:
    """One report row: the layer's workload and its energy on both systems.

    ``training=False`` prices the forward as inference (:func:`inference_counts`);
    ``digital_layers_on`` is where the analog system runs the layers that are not analog.
    """
    counted = counts.forward
    if not training:
        counts = inference_counts(info, counts)
    baseline = digital_energy(info, counts, d, training)
    gi, gw = counts.input_grad, counts.weight_grad
    runs_on = placement(info, a, digital_layers_on)
    if info.kind == "digital" and counted.calls and not _has_work(counts.forward):
        runs_on = "folded" if info.inference.foldable and not training else "free"
    if info.kind == "analog":
        mapping = map_tiles(info.rows, info.cols, info.groups, a.array_rows, a.array_cols)
        reads = transfer_reads(info, counts) if training else 0
        programmed = closed_loop_programmed(info, counts, reads) if training else 0.0
        if not training:
            pulses = 0.0
        elif info.traits is not None and info.traits.closed_loop_transfer:  # program pulses + one RESET
            pulses = programmed * (a.program_iterations + 1)
        else:
            pulses = expected_pulses(info, counts, pulses_per_weight_step)
        system = analog_energy(info, counts, mapping, a, d, training, pulses, reads, programmed)
        tiles, utilisation, adds = mapping.tiles, mapping.utilisation, mapping.adds_per_output
        analog_bwd = training and info.update in PULSED_UPDATES
        mvms_backward = gi.mvms if analog_bwd else 0
    else:
        if runs_on == "periphery":
            system = periphery_energy(info, counts, a, d, training)
        else:
            system = _as_co_processor(baseline)
        tiles, utilisation, adds, pulses, mvms_backward, reads = 0, None, 0, 0.0, 0, 0
    return LayerEnergy(
        name=info.name,
        kind=info.kind,
        type_name=info.type_name,
        preset=info.preset,
        update=info.update,
        shape=shape_text(info, counts),
        tiles=tiles,
        utilisation=utilisation,
        adds_per_output=adds,
        macs_forward=counts.forward.macs,
        macs_backward=(gi.macs + gw.macs) if training else 0,
        ops=counts.forward.ops,
        mvms_forward=counts.forward.mvms,
        mvms_backward=mvms_backward,
        weight_updates=counts.steps if training else 0,
        pcm_pulses=pulses,
        pulses_measured=counts.pulses is not None,
        exact=info.exact,
        analog=system,
        digital=baseline,
        runs_on=runs_on,
        transfer_reads=reads,
    )


def _has_work(t: Tally) -> bool:
    """Whether a tally has any arithmetic or traffic."""
    return bool(t.macs or t.ops or t.in_elems or t.out_elems)


def programming_energy_pj(info: LayerInfo, a: AnalogProfile) -> float:
    """Programming the layer's weights once by iterative program-and-verify, in pJ.

    ``weights * devices_per_weight * program_iterations * (pulse_pj + verify)``, where one
    verify reads the device through the array and one ADC conversion
    (``cell_read_pj + adc_pj``). Devices per weight: the profile's, else the preset's.
    """
    if info.kind != "analog" or info.traits is None:
        return 0.0
    devices = a.devices_per_weight or info.traits.devices_per_weight
    per_iteration = a.pulse_pj + a.cell_read_pj + a.adc_pj
    return info.matrix_weights * devices * a.program_iterations * per_iteration

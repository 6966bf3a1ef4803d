"""Energy profiles: what one operation costs on an analog PCM system or on digital hardware.

Two dataclasses describe hardware, and one registry holds them by name:

* :class:`AnalogProfile`: the components of a PCM in-memory-compute system (row drivers /
  DACs, array read, ADCs, digital periphery, on-chip data movement, PCM pulses), in pJ, and
  the on-chip digital periphery that runs the layers left digital (norms, activations,
  pooling, depthwise convolutions), in pJ per operation, per MAC and per byte of local SRAM.
* :class:`DigitalProfile`: a digital baseline: energy per MAC and per elementwise operation
  at one precision, plus memory traffic per byte for weights and activations, in pJ.

Every numeric field of a catalogue profile carries its source in ``sources`` (field name ->
citation); ``docs/energy_profiles.md`` shows the same table. Users add their own profiles with
:func:`register_profile`; a field without a source is reported as "user-defined".
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal, Mapping, Union

InputEncoding = Literal["pwm", "bit_serial"]
"""How an analog array receives its input vector.

* ``pwm``: every input is one pulse whose duration encodes its value (HERMES, IBM 14 nm);
  one ADC conversion per column per MVM. Row-driver and array-read energies are quoted at
  ``input_bits`` and scale as ``2**(bits - input_bits)`` (the integration time doubles per bit).
* ``bit_serial``: one 1-bit input cycle per input bit (ISAAC); every cycle drives the rows,
  reads the array, converts every column and shifts-and-adds the result.
"""

_USER = "user-defined (no source given)"


@dataclass(frozen=True)
class AnalogProfile:
    """Component energies of a PCM in-memory-compute system (all energies in pJ).

    Attributes:
        name: registry key.
        description: one line on the hardware.
        array_rows: physical array rows (inputs) per tile.
        array_cols: physical array columns (outputs) per tile.
        input_encoding: ``"pwm"`` or ``"bit_serial"`` (see :data:`InputEncoding`).
        input_bits: input (DAC) resolution at which ``dac_pj``/``cell_read_pj`` are quoted;
            also used when the preset is ideal (no quantisation).
        adc_bits: ADC resolution at which ``adc_pj`` is quoted; scaled by ``2**(bits - adc_bits)``
            (constant Walden figure of merit) for other resolutions.
        dac_pj: row driver / DAC energy per active row, per MVM (pwm) or per input bit (bit-serial).
        cell_read_pj: array read energy per active weight cell, per MVM (pwm) or per input bit.
        adc_pj: ADC energy per conversion at ``adc_bits``.
        shift_add_pj: recombination of bit-serial partial results, per conversion (0 for pwm).
        periphery_pj: digital periphery per output of an MVM (affine scaling, bias) not already
            inside the figures above.
        accumulate_pj: one digital addition of partial sums across tiles (per add).
        movement_pj_per_byte: on-chip movement of input and output activations, per byte.
        pulse_pj: one PCM programming pulse (SET/RESET/partial-SET) on one device.
        program_iterations: mean program-and-verify iterations per device when a model is
            programmed onto the arrays.
        devices_per_weight: PCM devices programmed per weight; ``None`` uses the preset's.
        periphery_op_pj: the chip's on-chip digital periphery: one elementwise operation (add,
            compare, scale, activation step) of a layer that is not analog; ``None``: the
            profile has no periphery figures and such layers run on the digital baseline.
        periphery_mac_pj: the periphery: one multiply-accumulate (depthwise/grouped convolutions
            left digital); ``None`` as above.
        periphery_sram_pj_per_byte: the periphery's local SRAM: reading or writing one byte of
            an activation or weight (values are ``input_bits / 8`` bytes); ``None`` as above.
        sources: field name -> citation.
    """

    name: str
    description: str
    array_rows: int
    array_cols: int
    input_encoding: InputEncoding
    input_bits: float
    adc_bits: float
    dac_pj: float
    cell_read_pj: float
    adc_pj: float
    shift_add_pj: float
    periphery_pj: float
    accumulate_pj: float
    movement_pj_per_byte: float
    pulse_pj: float
    program_iterations: float
    devices_per_weight: int | None = None
    periphery_op_pj: float | None = None
    periphery_mac_pj: float | None = None
    periphery_sram_pj_per_byte: float | None = None
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name(self.name)
        if self.array_rows <= 0 or self.array_cols <= 0:
            raise ValueError(
                f"analog profile {self.name!r}: array_rows and array_cols must be positive, "
                f"got {self.array_rows}x{self.array_cols}"
            )
        if self.input_encoding not in ("pwm", "bit_serial"):
            raise ValueError(
                f"analog profile {self.name!r}: input_encoding must be 'pwm' or 'bit_serial', "
                f"got {self.input_encoding!r}"
            )
        if self.devices_per_weight is not None and self.devices_per_weight <= 0:
            raise ValueError(f"analog profile {self.name!r}: devices_per_weight must be positive")
        _check_non_negative(self, _ANALOG_NUMBERS)
        _check_non_negative(self, _PERIPHERY_NUMBERS, optional=True)
        if self.input_bits <= 0 or self.adc_bits <= 0:
            raise ValueError(f"analog profile {self.name!r}: input_bits and adc_bits must be positive")

    def source_of(self, field_name: str) -> str:
        """The citation of one field (``"user-defined"`` if none was given)."""
        return self.sources.get(field_name, _USER)

    @property
    def has_periphery(self) -> bool:
        """Whether the profile gives the energies of its on-chip digital periphery."""
        return all(getattr(self, name) is not None for name in _PERIPHERY_NUMBERS)

    @property
    def periphery_bytes_per_value(self) -> float:
        """Bytes of one activation or weight in the periphery: the array input resolution / 8."""
        return self.input_bits / 8.0

    def replace(self, **changes: Any) -> "AnalogProfile":
        """A copy with some fields changed (e.g. a different array size)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class DigitalProfile:
    """Energy of digital hardware at one precision (all energies in pJ).

    Attributes:
        name: registry key.
        description: one line on the hardware.
        mac_pj: one multiply-accumulate (= 2 operations) at this precision.
        op_pj: one elementwise operation (add, compare, scale, activation step).
        bytes_per_value: bytes per weight or activation at this precision.
        weight_pj_per_byte: fetching weights (and writing weight gradients), per byte.
        activation_pj_per_byte: reading/writing activations and their gradients, per byte.
        sources: field name -> citation.
    """

    name: str
    description: str
    mac_pj: float
    op_pj: float
    bytes_per_value: float
    weight_pj_per_byte: float
    activation_pj_per_byte: float
    sources: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_name(self.name)
        _check_non_negative(self, _DIGITAL_NUMBERS)
        if self.bytes_per_value <= 0:
            raise ValueError(f"digital profile {self.name!r}: bytes_per_value must be positive")

    @property
    def tops_per_watt(self) -> float:
        """Peak efficiency of the MAC datapath: 2 operations per ``mac_pj`` (TOPS/W)."""
        return 2.0 / self.mac_pj if self.mac_pj > 0 else math.inf

    def source_of(self, field_name: str) -> str:
        """The citation of one field (``"user-defined"`` if none was given)."""
        return self.sources.get(field_name, _USER)

    def replace(self, **changes: Any) -> "DigitalProfile":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


Profile = Union[AnalogProfile, DigitalProfile]

_ANALOG_NUMBERS = (
    "input_bits",
    "adc_bits",
    "dac_pj",
    "cell_read_pj",
    "adc_pj",
    "shift_add_pj",
    "periphery_pj",
    "accumulate_pj",
    "movement_pj_per_byte",
    "pulse_pj",
    "program_iterations",
)
_PERIPHERY_NUMBERS = ("periphery_op_pj", "periphery_mac_pj", "periphery_sram_pj_per_byte")
_DIGITAL_NUMBERS = (
    "mac_pj",
    "op_pj",
    "bytes_per_value",
    "weight_pj_per_byte",
    "activation_pj_per_byte",
)

#: Fields of each profile kind that are physical constants and must cite a source.
CITED_FIELDS: dict[type, tuple[str, ...]] = {
    AnalogProfile: ("array_rows", "array_cols", *_ANALOG_NUMBERS, *_PERIPHERY_NUMBERS),
    DigitalProfile: _DIGITAL_NUMBERS,
}


def _check_name(name: str) -> None:
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"a profile needs a non-empty name, got {name!r}")


def _check_non_negative(profile: Profile, names: tuple[str, ...], optional: bool = False) -> None:
    for name in names:
        value = getattr(profile, name)
        if optional and value is None:
            continue
        if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            allowed = " (or None)" if optional else ""
            raise ValueError(
                f"profile {profile.name!r}: {name} must be a finite number >= 0{allowed}, got {value!r}"
            )


# -- registry ----------------------------------------------------------------------------------
_REGISTRY: dict[str, Profile] = {}


def register_profile(profile: Profile, *, overwrite: bool = False) -> Profile:
    """Add ``profile`` to the catalogue under ``profile.name`` and return it.

    Raises:
        TypeError: if ``profile`` is neither an :class:`AnalogProfile` nor a :class:`DigitalProfile`.
        ValueError: if the name is taken and ``overwrite`` is false.
    """
    if not isinstance(profile, (AnalogProfile, DigitalProfile)):
        raise TypeError(
            f"register_profile expects an AnalogProfile or DigitalProfile, got {type(profile).__name__}"
        )
    if profile.name in _REGISTRY and not overwrite:
        raise ValueError(
            f"a profile named {profile.name!r} is already registered (pass overwrite=True to replace it)"
        )
    _REGISTRY[profile.name] = profile
    return profile


def unregister_profile(name: str) -> None:
    """Remove a profile from the catalogue (no error if it is absent)."""
    _REGISTRY.pop(name, None)


def list_profiles(kind: Literal["analog", "digital"] | None = None) -> list[str]:
    """Names of the registered profiles, optionally only ``"analog"`` or ``"digital"`` ones."""
    wanted = {"analog": AnalogProfile, "digital": DigitalProfile}.get(kind or "", (AnalogProfile, DigitalProfile))
    return [name for name, p in _REGISTRY.items() if isinstance(p, wanted)]


def get_analog_profile(spec: str | AnalogProfile) -> AnalogProfile:
    """Resolve a name or an :class:`AnalogProfile`.

    Raises:
        ValueError: for an unknown name or the name of a digital profile (lists the known ones).
    """
    return _resolve(spec, AnalogProfile, "analog")


def get_digital_profile(spec: str | DigitalProfile) -> DigitalProfile:
    """Resolve a name or a :class:`DigitalProfile`.

    Raises:
        ValueError: for an unknown name or the name of an analog profile (lists the known ones).
    """
    return _resolve(spec, DigitalProfile, "digital")


def _resolve(spec: object, cls: type, kind: Literal["analog", "digital"]):  # type: ignore[no-untyped-def]
    if isinstance(spec, cls):
        return spec
    known = ", ".join(list_profiles(kind))
    if isinstance(spec, str):
        profile = _REGISTRY.get(spec)
        if isinstance(profile, cls):
            return profile
        if profile is None:
            raise ValueError(f"unknown {kind} profile {spec!r}; known {kind} profiles: {known}")
        raise ValueError(f"profile {spec!r} is not an {kind} profile; known {kind} profiles: {known}"
                         if kind == "analog" else
                         f"profile {spec!r} is not a {kind} profile; known {kind} profiles: {known}")
    raise ValueError(
        f"expected {kind} profile name or {cls.__name__}, got {type(spec).__name__}; "
        f"known {kind} profiles: {known}"
    )

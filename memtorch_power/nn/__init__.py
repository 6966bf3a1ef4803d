"""Analog twins of ``torch.nn`` layers on simulated PCM crossbars, and model conversion."""

from memtorch_power.nn.attention import AnalogMultiheadAttention
from memtorch_power.nn.base import AnalogLayer
from memtorch_power.nn.conv import AnalogConv1d, AnalogConv2d
from memtorch_power.nn.conv_transpose import AnalogConvTranspose1d, AnalogConvTranspose2d
from memtorch_power.nn.convert import (
    ANALOG_TWINS,
    ConversionSummary,
    analog_layers,
    analogize,
    conversion_plan,
    digitalize,
    twin_of,
)
from memtorch_power.nn.crossbar import Crossbar
from memtorch_power.nn.inference import (
    DRIFT_TIMES_S,
    check_conductance_pairs,
    drift,
    program,
    program_verified,
    recalibrate_batchnorm,
    set_conductance_pairs,
    set_drift_compensation,
)
from memtorch_power.nn.input_range import set_input_range_init
from memtorch_power.nn.program_verify import ProgramVerify
from memtorch_power.nn.training_noise import set_weight_noise_std, weight_noise_std
from memtorch_power.nn.linear import AnalogLinear
from memtorch_power.nn.recurrent import AnalogGRU, AnalogLSTM, AnalogRNN
from memtorch_power.nn.safe_load import register_builtin_presets, register_checkpoint_classes

__all__ = [
    "ANALOG_TWINS",
    "AnalogConv1d",
    "AnalogConv2d",
    "AnalogConvTranspose1d",
    "AnalogConvTranspose2d",
    "AnalogLayer",
    "AnalogGRU",
    "AnalogLSTM",
    "AnalogLinear",
    "AnalogMultiheadAttention",
    "AnalogRNN",
    "Crossbar",
    "DRIFT_TIMES_S",
    "ConversionSummary",
    "analog_layers",
    "conversion_plan",
    "analogize",
    "digitalize",
    "twin_of",
    "drift",
    "program",
    "program_verified",
    "ProgramVerify",
    "recalibrate_batchnorm",
    "set_conductance_pairs",
    "check_conductance_pairs",
    "set_drift_compensation",
    "set_input_range_init",
    "set_weight_noise_std",
    "weight_noise_std",
    "register_checkpoint_classes",
]

register_builtin_presets()  # analog checkpoints load with torch.load(weights_only=True)

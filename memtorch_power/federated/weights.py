"""What crosses the wire: a model's weights in torch layout, analog or not.

An analog model's ``state_dict`` holds aihwkit tile objects that cannot be averaged; what
nodes exchange instead is

* the arrays of :func:`memtorch_power.nn.digitalize` (every weight and bias in the layout of
  the torch twin, with the tiles' output scales folded in, plus batch-norm parameters and
  running statistics), and
* per crossbar, the *digital periphery parameters* that training learns:
  ``input_range`` (the DAC clipping range of ``pcm_hwa``) and ``input_range_update_idx``
  (how many batches initialised it), under ``<layer>.crossbars.<i>.<name>``.

:func:`load_arrays` writes such arrays back: weights into the PCM arrays (``set_weights``,
the re-programming whose energy a node pays), the rest into digital registers.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Mapping

import numpy as np
import torch
from torch import nn

from memtorch_power.federated.config import FederatedConfig
from memtorch_power.kws.labels import class_names
from memtorch_power.kws.models import build_model
from memtorch_power.kws.pretrained import digital_state_dict
from memtorch_power.nn import analog_layers, analogize, digitalize, set_input_range_init

#: Tile parameters that are digital state learned during training (sent with the weights).
PERIPHERY_PARAMETERS = ("input_range", "input_range_update_idx")


def depthwise_names(model: nn.Module) -> list[str]:
    """Qualified names of grouped convolutions (``groups > 1``), e.g. DS-CNN's depthwise layers."""
    return [name for name, m in model.named_modules() if isinstance(m, nn.Conv2d) and m.groups > 1]


def build_node_model(cfg: FederatedConfig) -> nn.Module:
    """The keyword-spotting network of ``cfg``, analogized with ``cfg.preset`` (seeded init, or
    the digital weights of ``cfg.init_from``).

    Grouped convolutions stay digital when ``cfg.exclude_depthwise``; ``cfg.exclude``
    patterns too. ``cfg.input_range_std_alpha`` re-initialises the input ranges of
    hardware-aware tiles at that width.

    Raises:
        FileNotFoundError: ``cfg.init_from`` is neither a shipped model nor a file.
        ValueError: its weights do not fit the network (the message names the keys).
    """
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(cfg.seed)
    try:
        network = build_model(
            cfg.model, num_classes=len(class_names(cfg.protocol)), n_features=cfg.n_features,
            **cfg.model_kwargs,
        )
    finally:
        torch.random.set_rng_state(generator_state)
    if cfg.init_from:
        load_digital_weights(network, cfg.init_from)
    device = "cpu" if cfg.accelerator == "cpu" else "cuda"
    if cfg.preset == "digital":
        return network.to(device)
    exclude = list(cfg.exclude) + (depthwise_names(network) if cfg.exclude_depthwise else [])
    model = analogize(network, cfg.preset, exclude=exclude or None)
    if cfg.input_range_std_alpha is not None:
        set_input_range_init(model, cfg.input_range_std_alpha)
    return model.to(device)


def load_digital_weights(network: nn.Module, name_or_path: str) -> nn.Module:
    """Load a shipped model's (a digital KeywordSpotter checkpoint's, a ``state_dict`` file's)
    weights into the digital ``network`` (:func:`memtorch_power.kws.pretrained.digital_state_dict`).

    Raises:
        FileNotFoundError: neither a shipped model nor a file.
        ValueError: an analog model's file, missing or unexpected keys, or shapes that differ (named).
    """
    state = digital_state_dict(name_or_path)
    try:
        network.load_state_dict(state)
    except RuntimeError as err:
        raise ValueError(f"init_from {name_or_path!r} does not fit the configured model: {err}") from err
    return network


def _periphery(model: nn.Module) -> list[tuple[str, torch.Tensor]]:
    out = []
    for name, layer in analog_layers(model):
        for index, crossbar in enumerate(layer.analog_crossbars()):
            tile = crossbar.analog_module
            for attribute in PERIPHERY_PARAMETERS:
                value = getattr(tile, attribute, None)
                if isinstance(value, torch.Tensor):
                    out.append((f"{name}.crossbars.{index}.{attribute}", value))
    return out


@torch.no_grad()
def model_arrays(model: nn.Module) -> "OrderedDict[str, np.ndarray]":
    """The arrays a node sends (see the module docstring), as CPU numpy copies."""
    arrays: OrderedDict[str, np.ndarray] = OrderedDict(
        (key, value.detach().cpu().numpy().copy()) for key, value in digitalize(model).state_dict().items()
    )
    for key, value in _periphery(model):
        arrays[key] = value.detach().cpu().numpy().copy()
    return arrays


def array_spec(model: nn.Module) -> dict[str, tuple[tuple[int, ...], str]]:
    """Expected ``key -> (shape, dtype)`` of :func:`model_arrays` for this model."""
    return {key: (tuple(a.shape), str(a.dtype)) for key, a in model_arrays(model).items()}


@torch.no_grad()
def load_arrays(model: nn.Module, arrays: Mapping[str, np.ndarray]) -> nn.Module:
    """Write ``arrays`` (as from :func:`model_arrays`) into ``model``; returns the model.

    Analog weights go through ``set_weights`` (programming the PCM arrays); every other
    entry is copied into its parameter or buffer (cast to its dtype).

    Raises:
        ValueError: missing or unexpected keys, or a shape mismatch (naming them).
    """
    expected = array_spec(model)
    missing = sorted(set(expected) - set(arrays))
    unexpected = sorted(set(arrays) - set(expected))
    if missing or unexpected:
        raise ValueError(f"load_arrays: missing keys {missing[:5]}, unexpected keys {unexpected[:5]}")
    arrays = {key: np.asarray(value) for key, value in arrays.items()}
    for key, (shape, _) in expected.items():
        if tuple(arrays[key].shape) != shape:
            if shape == () and arrays[key].size == 1:  # Flower ships 0-d arrays as shape (1,)
                arrays[key] = arrays[key].reshape(())
                continue
            raise ValueError(f"load_arrays: {key} has shape {arrays[key].shape}, expected {shape}")
    analog = dict(analog_layers(model))
    for name, layer in analog.items():
        weight = torch.as_tensor(np.asarray(arrays[f"{name}.weight"], dtype=np.float32))
        bias_key = f"{name}.bias"
        bias = torch.as_tensor(np.asarray(arrays[bias_key], dtype=np.float32)) if bias_key in arrays else None
        layer.set_weights(weight, bias)
    periphery = dict(_periphery(model))
    state = model.state_dict(keep_vars=True)
    for key, value in arrays.items():
        if key in periphery:
            target = periphery[key]
        elif any(key.startswith(f"{name}.") for name in analog):
            continue  # analog weights and biases: written above
        else:
            target = state[key]
        target.data.copy_(torch.as_tensor(np.asarray(value)).to(target.dtype))
    return model


__all__ = [
    "PERIPHERY_PARAMETERS",
    "array_spec",
    "build_node_model",
    "depthwise_names",
    "load_arrays",
    "load_digital_weights",
    "model_arrays",
]

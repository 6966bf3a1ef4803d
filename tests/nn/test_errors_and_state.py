"""Bad input gets errors that name the problem; models survive save/load and .to()."""

import io

import pytest
import torch
from torch import nn

from memtorch_power.nn import AnalogConv1d, AnalogConv2d, AnalogLinear, analogize
from memtorch_power.presets import PRESETS, get_preset


def test_wrong_input_shapes_are_named() -> None:
    with pytest.raises(ValueError, match=r"AnalogLinear expects input of shape \[\*, 8\], got \(4, 7\)"):
        AnalogLinear(8, 2, preset="ideal")(torch.randn(4, 7))
    with pytest.raises(ValueError, match="expects 3 input channels"):
        AnalogConv2d(3, 4, 3, preset="ideal")(torch.randn(1, 2, 8, 8))
    with pytest.raises(ValueError, match=r"\[N, C, H, W\] or \[C, H, W\]"):
        AnalogConv2d(3, 4, 3, preset="ideal")(torch.randn(3, 8))
    with pytest.raises(ValueError, match="smaller than the dilated kernel"):
        AnalogConv1d(1, 1, 5, dilation=2, preset="ideal")(torch.randn(1, 1, 6))


def test_unknown_preset_and_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown preset 'pcm_magic'; known presets: ideal"):
        AnalogLinear(2, 2, preset="pcm_magic")
    with pytest.raises(ValueError, match="unknown preset"):
        analogize(nn.Linear(2, 2), preset="nope")
    with pytest.raises(TypeError, match="preset must be"):
        get_preset(3.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="dtype=torch.float64 is not supported"):
        AnalogLinear(2, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        AnalogConv2d(2, 2, 3, padding_mode="mirror")
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        AnalogConv2d(3, 6, 3, groups=2)
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        AnalogConv1d(2, 2, 3, stride=2, padding="same")


def test_any_aihwkit_rpu_config_is_accepted() -> None:
    from aihwkit.simulator.configs import InferenceRPUConfig

    layer = AnalogLinear(4, 3, preset=InferenceRPUConfig())
    assert layer.preset.name == "custom:InferenceRPUConfig" and layer.preset.update == "digital"
    assert layer(torch.randn(2, 4)).shape == (2, 3)


def _round_trip(obj: object) -> object:
    buffer = io.BytesIO()
    torch.save(obj, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=False)  # whole pickled modules: never weights-only


def _model(preset: str) -> nn.Module:
    digital = nn.Sequential(nn.Conv1d(2, 4, 3, groups=2), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6, 3))
    return analogize(digital, preset)


def _seeded(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    torch.manual_seed(11)
    with torch.no_grad():
        return model(x)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_torch_save_and_state_dict_round_trip(preset: str) -> None:
    model = _model(preset)
    x = torch.randn(5, 2, 8)
    optimizer_steps(model)
    model.eval()
    if get_preset(preset).supports_programming:
        from memtorch_power.nn import drift, program

        program(model)
        drift(model, 86_400.0)
    for tile in _tiles(model):  # raise both devices of the first pair alike: a state the weights cannot show
        hidden = tile.get_hidden_parameters()
        names = [n for n in hidden if n.startswith("hidden_weights_") and n != "hidden_weights_chi"]
        if len(names) >= 2:
            for name in names:
                hidden[name].view(-1)[0] += 0.05
            tile.set_hidden_parameters(hidden)
    loaded = _round_trip(model).eval()
    fresh = _model(preset)
    fresh.load_state_dict(_round_trip(model.state_dict()))
    fresh.eval()
    for other in (loaded, fresh):
        for (name, a), (_, b) in zip(model.state_dict().items(), other.state_dict().items()):
            if isinstance(a, torch.Tensor):
                torch.testing.assert_close(a.reshape(-1), b.reshape(-1), msg=f"{preset}: {name} differs")
        if preset in ("ideal", "pcm_hwa"):  # torch tiles: seeded forward is reproducible
            torch.testing.assert_close(_seeded(other, x), _seeded(model, x))
        # the devices' state (PCM pairs, accumulators, fast arrays) comes back, not a re-programming
        for tile, loaded_tile in zip(_tiles(model), _tiles(other), strict=True):
            saved, restored = tile.get_hidden_parameters(), loaded_tile.get_hidden_parameters()
            assert list(saved) == list(restored)
            for name in saved:
                if name == "hidden_weights_chi":  # aihwkit 1.1.0 cannot set mixed precision's accumulator
                    continue
                torch.testing.assert_close(restored[name], saved[name], msg=f"{preset}: hidden {name} differs")


def _tiles(model: nn.Module) -> list:
    return [tile for layer in model.modules() if hasattr(layer, "analog_tiles") for tile in layer.analog_tiles()
            if hasattr(tile, "get_hidden_parameters")]


def optimizer_steps(model: nn.Module) -> None:
    from memtorch_power.optim import optimizer_for

    optimizer = optimizer_for(model, lr=0.05)
    for _ in range(2):
        optimizer.zero_grad()
        model(torch.randn(4, 2, 8)).pow(2).mean().backward()
        optimizer.step()


def test_to_device_keeps_working() -> None:
    model = _model("pcm_hwa").to("cpu").to(torch.device("cpu"))
    assert model(torch.randn(2, 2, 8)).shape == (2, 3)
    assert all(p.device.type == "cpu" for p in model.parameters())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_to_cuda_for_torch_tiles() -> None:
    model = _model("pcm_hwa").cuda()
    assert model(torch.randn(2, 2, 8, device="cuda")).device.type == "cuda"


@pytest.mark.parametrize("preset", ["pcm_training", "pcm_mixed_precision", "pcm_tiki_taka"])
def test_pulsed_presets_refuse_a_gpu_by_name(preset: str) -> None:
    with pytest.raises(ValueError, match=rf"preset '{preset}' cannot run on accelerator 'gpu'.*CPU only"):
        get_preset(preset).check_device("gpu")
    get_preset(preset).check_device("cpu")


@pytest.mark.parametrize("preset", ["ideal", "pcm_hwa"])
def test_pure_pytorch_presets_may_run_on_a_gpu(preset: str) -> None:
    assert get_preset(preset).runs_on_gpu
    get_preset(preset).check_device("gpu")

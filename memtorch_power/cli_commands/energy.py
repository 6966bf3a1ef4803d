"""``memtorch-power energy``: the per-layer energy of a trained model, analog against digital."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Literal, Optional

from memtorch_power.cli_commands.common import (
    UserError,
    check_presets,
    check_profile,
    existing_file,
    parse_shape,
)

HELP = "per-layer energy of a checkpoint or saved model on PCM vs digital hardware"
DESCRIPTION = """\
Load a keyword-spotting checkpoint (a Lightning .ckpt of KeywordSpotter: its hyper-parameters
rebuild the network) or a whole model saved with torch.save(model, path), run one batch of
zeros of --input_shape through it, and price the workload each layer ran on an analog PCM
profile and on a digital baseline (memtorch_power.energy.estimate). Prints the per-layer table;
--csv, --json and --plot write it to files. Files are loaded with weights_only=False (they hold
aihwkit objects): load only files you trust.

examples:
  memtorch-power energy runs/compare/pcm_hwa/checkpoints/best.ckpt
  memtorch-power energy runs/compare/pcm_hwa/checkpoints/best.ckpt --training --batches 100 \\
      --analog ibm14nm --digital h100_fp16 --csv energy.csv --plot energy.png
  memtorch-power energy my_model.pt --input_shape 8,3,32,32 --preset pcm_hwa
"""


def configure(parser: Any) -> None:
    from memtorch_power.cli_commands.common import add_flag

    parser.add_argument("model", type=str, metavar="CHECKPOINT_OR_MODEL",
                        help="KeywordSpotter .ckpt, or a whole model saved with torch.save")
    parser.add_argument("--input_shape", type=Optional[str], default=None, metavar="B,C,H,W",
                        help="shape of the example batch, batch first (null for a KeywordSpotter "
                             "checkpoint: 1,1,<n_features>,<n_frames>; required for a saved model)")
    parser.add_argument("--analog", type=str, default="hermes", help="analog energy profile")
    parser.add_argument("--digital", type=str, default="a100_fp16", help="digital baseline profile")
    add_flag(parser, "training", False, "price training batches (forward, backward, update), not inference")
    parser.add_argument("--batches", type=int, default=1, help="number of such batches")
    parser.add_argument("--preset", type=Optional[str], default=None,
                        help="price the model with its Linear/Conv layers on this PCM preset (needed for a "
                             "digital model; re-maps an analog one)")
    parser.add_argument("--csv", type=Optional[str], default=None, help="write the per-layer table as CSV")
    parser.add_argument("--json", type=Optional[str], default=None, help="write the report as JSON")
    parser.add_argument("--plot", type=Optional[str], default=None,
                        help="save the stacked-bar plot (png, pdf, svg)")
    parser.add_argument("--accelerator", type=Literal["cpu", "gpu", "cuda", "auto"], default="cpu",
                        help="where the counted batch runs (Lightning's names); the pulsed presets need cpu")


def load_model(path: str) -> tuple[Any, tuple[int, ...] | None, str]:
    """``(network, default input shape or None, description)`` from a KeywordSpotter checkpoint
    or a ``torch.save``d model. User errors become :class:`UserError`."""
    import pickle

    import torch
    from torch import nn

    file = existing_file(path, "checkpoint or model file")
    try:
        loaded = torch.load(file, map_location="cpu", weights_only=False)
    except (pickle.UnpicklingError, RuntimeError, EOFError, AttributeError, ModuleNotFoundError) as err:
        raise UserError(f"cannot load {file}: {err}".splitlines()[0]) from err
    if isinstance(loaded, nn.Module):
        return loaded.eval(), None, f"{type(loaded).__name__} from {file}"
    if isinstance(loaded, dict) and "state_dict" in loaded and "model" in (loaded.get("hyper_parameters") or {}):
        from memtorch_power.kws.results import load_keyword_spotter

        module = load_keyword_spotter(file)
        hp = module.hparams
        shape = (1, 1, int(hp["n_features"]), int(hp["n_frames"]))
        return module, shape, f"KeywordSpotter {hp['model']} ({hp['preset']}) from {file}"
    if isinstance(loaded, dict) and loaded and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        raise UserError(f"{file} holds a state_dict, not a model: save the whole model with "
                        "torch.save(model, path), or pass a KeywordSpotter checkpoint")
    raise UserError(f"{file} holds a {type(loaded).__name__}, neither a torch model nor a "
                    "KeywordSpotter checkpoint")


def run(args: Any) -> int:
    check_profile(args.analog, "analog")
    check_profile(args.digital, "digital")
    if args.preset:
        check_presets([args.preset], allow_digital=False)
    if args.batches < 1:
        raise UserError(f"--batches must be >= 1, got {args.batches}")
    model, default_shape, description = load_model(args.model)
    try:
        shape = parse_shape(args.input_shape) if args.input_shape else default_shape
    except argparse.ArgumentTypeError as err:
        raise UserError(f"--input_shape: {err}") from None
    if shape is None:
        raise UserError(f"{args.model} is a plain torch model: pass --input_shape (batch first, e.g. 1,3,32,32)")

    import copy

    import torch

    from memtorch_power.energy import estimate
    from memtorch_power.nn import analog_layers, analogize, digitalize

    network = getattr(model, "network", model)
    if args.preset:  # (re-)map every Linear/Conv onto the preset, as a KeywordSpotter would
        hparams = getattr(model, "hparams", None) or {}
        network = analogize(digitalize(copy.deepcopy(network)), args.preset, exclude=hparams.get("exclude"),
                            skip_grouped=bool(hparams.get("skip_grouped", False)))
        description += f", layers put on {args.preset}"
    elif not analog_layers(network):
        raise UserError(f"{args.model} has no analog layer (a digital model): pass --preset pcm_hwa "
                        "(or another preset, see `memtorch-power presets`) to price it on PCM crossbars")
    device = _device(args.accelerator, network)
    try:
        report = estimate(network.to(device), torch.zeros(*shape, device=device), args.analog, args.digital,
                          training=args.training, batches=args.batches)
    except ValueError as err:
        raise UserError(str(err).splitlines()[0]) from err
    print(description)
    print(report.to_text())
    if report.batch_size:
        per_sample = report.batches * report.batch_size
        print(f"per sample: {report.analog_j() / per_sample:.4g} J analog, "
              f"{report.digital_j() / per_sample:.4g} J digital")
    for option, write in (("csv", report.to_csv), ("json", report.to_json), ("plot", _plot(report))):
        target = getattr(args, option)
        if target:
            write(target)
            print(f"{option}: {Path(target)}")
    return 0


def _device(accelerator: str, network: Any) -> Any:
    """The torch device of ``accelerator``; a :class:`UserError` when it is missing or when a
    layer's preset cannot run there."""
    import torch

    from memtorch_power.nn import analog_layers

    wants_gpu = accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available())
    if not wants_gpu:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserError(f"--accelerator {accelerator}: no CUDA device on this machine")
    for _, layer in analog_layers(network):
        try:
            layer.preset.check_device(accelerator)
        except ValueError as err:
            raise UserError(str(err)) from None
    return torch.device("cuda")


def _plot(report: Any) -> Any:
    def save(path: str) -> None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        report.plot(path)

    return save

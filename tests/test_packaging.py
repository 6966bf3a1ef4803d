"""Packaging (issue 16): the core imports without the extras, the torch/aihwkit pairing is checked,
and a built wheel installs and runs outside the source tree."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from memtorch_power.compat import check_stack

REPO = Path(__file__).resolve().parents[1]
EXTRAS = ("lightning", "pytorch_lightning", "flwr", "torchaudio", "torchmetrics", "jsonargparse", "pandas",
          "matplotlib", "rich", "soundfile", "yaml", "tqdm")


def _run(code: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_core_imports_and_runs_without_the_extras(tmp_path: Path) -> None:
    result = _run(f"""
        import sys
        for name in {EXTRAS!r}:
            sys.modules[name] = None  # as if not installed: import fails, find_spec says absent
        import torch
        from torch import nn
        from memtorch_power.nn import analogize
        from memtorch_power.energy import estimate
        from memtorch_power.optim import optimizer_for
        model = analogize(nn.Sequential(nn.Linear(8, 4), nn.ReLU(), nn.Linear(4, 2)), "pcm_hwa")
        optimizer_for(model, lr=0.1)
        print(estimate(model, torch.randn(3, 8)).analog_j() > 0)
        print(sorted(m for m, v in sys.modules.items() if v is not None and m.split(".")[0] in {EXTRAS!r}))
    """, REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["True", "[]"]


def test_a_known_bad_torch_aihwkit_pair_is_one_clear_error() -> None:
    check_stack("2.10.0+cu128", "1.1.0")
    with pytest.raises(ImportError, match=r"aihwkit 1.1.0 is built for torch 2.10.x, but torch 2.13.0"):
        check_stack("2.13.0", "1.1.0")


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_source_tree(tmp_path: Path) -> None:
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "dist"), str(REPO)], capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stderr[-2000:]
    wheel = next((tmp_path / "dist").glob("memtorch_power-*.whl"))
    target = tmp_path / "site"
    install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                              str(wheel)], capture_output=True, text=True, timeout=600)
    assert install.returncode == 0, install.stderr[-2000:]
    assert (target / "memtorch_power" / "py.typed").exists()
    shipped = target / "memtorch_power" / "kws" / "pretrained_models"
    assert (shipped / "dscnn_logmel40.pt").is_file() and (shipped / "dscnn_logmel40.json").is_file()
    import os

    env = {**os.environ, "PYTHONPATH": str(target)}
    result = _run("""
        import torch, memtorch_power
        from torch import nn
        from memtorch_power.nn import analogize
        from memtorch_power.energy import estimate
        print(memtorch_power.__file__)
        print(estimate(analogize(nn.Sequential(nn.Linear(4, 2)), "ideal"), torch.randn(2, 4)).analog_j() > 0)
    """, tmp_path, env)
    assert result.returncode == 0, result.stderr[-2000:]
    location, ok = result.stdout.split()
    assert location.startswith(str(target)) and ok == "True"

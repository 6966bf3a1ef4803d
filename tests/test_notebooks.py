"""The notebooks: each runs top to bottom on the bundled data (nbclient, a ``python3`` kernel of
this very interpreter), and none is committed with outputs."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
NEEDS_DATA = {"02_keyword_spotting", "03_edge_pipeline"}
RUN_DIR_VARS = ("MEMTORCH_POWER_RUN_DIR", "MEMTORCH_POWER_FEDERATED_DIR", "MEMTORCH_POWER_GATING_DIR")


def test_the_notebooks_are_there() -> None:
    assert [p.stem for p in NOTEBOOKS] == ["01_swap_layers", "02_keyword_spotting", "03_edge_pipeline", "04_system"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata.kernelspec.name == "python3"
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: cell {index} has outputs (run scripts/strip_notebooks.py)"
            assert cell.execution_count is None, f"{path.name}: cell {index} has an execution count"


@pytest.fixture(scope="module")
def jupyter_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a ``python3`` kernelspec that starts this interpreter (``sys.executable``):
    first on ``JUPYTER_PATH``, it wins over any other ``python3`` kernel installed on the machine."""
    from ipykernel.kernelspec import install

    prefix = tmp_path_factory.mktemp("jupyter")
    install(kernel_name="python3", prefix=str(prefix))
    return prefix / "share" / "jupyter"


@pytest.fixture
def kernel_env(jupyter_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Environment of the kernel: our kernelspec, temporary files in a fresh folder that is
    removed afterwards, and no run folders named (each notebook then runs its own small
    experiment). The folder has a short path: Ray puts its sockets there (at most 107 bytes)."""
    tmp_path = Path(tempfile.mkdtemp(prefix="mtp-nb-"))
    monkeypatch.setenv("JUPYTER_PATH", os.pathsep.join([str(jupyter_path), os.environ.get("JUPYTER_PATH", "")]))
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # figures as outputs
    for name in RUN_DIR_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MEMTORCH_POWER_RUN_DIR", str(tmp_path / "no_run_here"))
    yield tmp_path
    shutil.rmtree(tmp_path, ignore_errors=True)


def _execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 600) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(cwd)}})
    client.execute()
    return notebook


def test_the_kernel_is_this_interpreter(kernel_env: Path) -> None:
    notebook = nbformat.v4.new_notebook()
    notebook.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    _execute(notebook, kernel_env, timeout=120)
    printed = notebook.cells[0].outputs[0]["text"].strip()
    assert Path(printed) == Path(sys.executable)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs_top_to_bottom(path: Path, kernel_env: Path) -> None:
    if path.stem in NEEDS_DATA:
        from memtorch_power.federated import default_data_root

        if not (Path(default_data_root()) / "yes").is_dir():
            pytest.skip("no Speech Commands data (set MEMTORCH_POWER_SPEECH_COMMANDS)")
    notebook = _execute(nbformat.read(path, as_version=4), path.parent)
    errors = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs
              if o.output_type == "error"]
    assert not errors
    figures = sum("image/png" in o.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                  for o in cell.outputs)
    assert figures >= 2, f"{path.name}: expected its plots, got {figures} images"

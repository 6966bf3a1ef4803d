"""Strip outputs and execution counts from notebooks before committing them.

    .venv/bin/python scripts/strip_notebooks.py            # every notebooks/*.ipynb
    .venv/bin/python scripts/strip_notebooks.py a.ipynb    # these files

tests/test_notebooks.py fails on a committed notebook that still has outputs.
"""

import sys
from pathlib import Path

import nbformat


def strip(path: Path) -> bool:
    """Clear outputs, execution counts and per-cell execution metadata; True if the file changed."""
    notebook = nbformat.read(path, as_version=4)
    before = nbformat.writes(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    after = nbformat.writes(notebook)
    if after != before:
        path.write_text(after, encoding="utf-8")
    return after != before


if __name__ == "__main__":
    root = Path(__file__).resolve().parents[1]
    paths = [Path(p) for p in sys.argv[1:]] or sorted((root / "notebooks").glob("*.ipynb"))
    for path in paths:
        print(f"{'stripped' if strip(path) else 'clean   '} {path}")

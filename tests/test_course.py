"""The course notebooks (docs/course/) run top to bottom, exercises' solutions included, on the
suite's `tiny` dataset; a cell that raises fails the test with the cell's error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"
SLOW = {"03_stains_and_function.ipynb"}  # four NEURON re-simulations of the circuit


@pytest.mark.parametrize("name", [pytest.param(p.name, marks=[pytest.mark.slow] if p.name in SLOW else [])
                                  for p in sorted(COURSE.glob("*.ipynb"))])
def test_notebook_runs(name, tiny_dataset, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    repo = str(COURSE.parents[1])
    monkeypatch.setenv("NPP_COURSE_DATASET", str(tiny_dataset))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [repo, os.environ.get("PYTHONPATH")])))  # the kernel imports this checkout
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend turns figures into outputs
    nb = nbformat.read(COURSE / name, as_version=4)
    NotebookClient(nb, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    assert any(o.get("output_type") == "display_data" for o in outputs)  # every notebook draws


def test_every_notebook_has_exercises_with_solutions():
    import nbformat

    books = sorted(COURSE.glob("*.ipynb"))
    assert len(books) >= 3
    for p in books:
        cells = nbformat.read(p, as_version=4).cells
        ex = [i for i, c in enumerate(cells) if c.cell_type == "markdown" and "### Exercise" in c.source]
        assert ex, p.name
        assert all(i + 1 < len(cells) and cells[i + 1].source.startswith("# Solution") for i in ex), p.name

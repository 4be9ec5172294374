"""The course notebooks (docs/course/) run top to bottom, exercises' solutions included, on the
suite's `tiny` dataset; a cell that raises fails the test with the cell's error."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

COURSE = Path(__file__).resolve().parents[1] / "docs" / "course"


# every notebook runs in `make test`; 03's four NEURON re-simulations use its stated quick setting
# (function section only, the first 60 held-out inputs: ~17 s of CPU for the whole notebook)
@pytest.mark.parametrize("name", [p.name for p in sorted(COURSE.glob("*.ipynb"))])
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


def test_the_course_dataset_is_one_absolute_directory_whatever_the_cwd(tmp_path, monkeypatch):
    """Notebooks 01-04 share one dataset: ~/.cache/neural-pretty-printer/course/tiny-seed0 by default
    (or under $NEURAL_PRETTY_PRINTER_CACHE, or $NPP_COURSE_DATASET), not a path relative to the cwd."""
    from pretty_printer.dataset.course import course_dataset_dir

    for var in ("NPP_COURSE_DATASET", "NEURAL_PRETTY_PRINTER_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "elsewhere").mkdir()
    seen = set()
    for cwd in (tmp_path, tmp_path / "elsewhere"):
        monkeypatch.chdir(cwd)
        seen.add(course_dataset_dir())
    assert seen == {(tmp_path / "home" / ".cache" / "neural-pretty-printer" / "course" / "tiny-seed0").resolve()}
    monkeypatch.setenv("NEURAL_PRETTY_PRINTER_CACHE", "cache")  # relative: fixed at the cwd of the call
    assert course_dataset_dir() == (tmp_path / "elsewhere" / "cache" / "course" / "tiny-seed0").resolve()
    monkeypatch.setenv("NPP_COURSE_DATASET", "../mine")
    assert course_dataset_dir() == (tmp_path / "mine").resolve()
    assert not (tmp_path / "home").exists()  # nothing created by asking


def test_the_course_dataset_is_generated_only_when_missing(tiny_dataset, monkeypatch):
    from pretty_printer.dataset.course import course_dataset

    monkeypatch.setenv("NPP_COURSE_DATASET", str(tiny_dataset))
    before = sorted(p.name for p in tiny_dataset.iterdir())
    assert course_dataset(progress=False) == tiny_dataset.resolve()
    assert sorted(p.name for p in tiny_dataset.iterdir()) == before

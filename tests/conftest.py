"""Shared fixtures: one `tiny` dataset per test session (generated once, read by many tests), its
perfect submission, and that submission's full scorecard (scored once, read by many tests).

Under pytest-xdist (``make test`` runs ``-n 2``) each worker is its own process with its own
session, so these fixtures are built once per *run*: the first worker to need one builds it under a
file lock in the run's shared temporary directory, the others wait for it and read the same files
(pytest-xdist docs, "Making session-scoped fixtures execute only once").  Without xdist they are
ordinary session fixtures.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
TINY_SEED = 7


def _shared_root(tmp_path_factory) -> Path | None:
    """The directory all xdist workers of this run share, or None outside xdist."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    return tmp_path_factory.getbasetemp().parent


def _once(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A directory ``name`` filled by ``build(directory)`` once per test run.

    Under xdist the first worker builds it while holding ``name.lock``; a ``name.done`` marker
    written after a successful build tells the others it is complete (a failed build leaves no
    marker, so the next worker that needs it builds it again and reports its own error).
    """
    root = _shared_root(tmp_path_factory)
    if root is None:
        path = tmp_path_factory.mktemp(name)
        build(path)
        return path
    from filelock import FileLock

    path, done = root / name, root / f"{name}.done"
    with FileLock(str(root / f"{name}.lock")):
        if not done.exists():
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir()
            build(path)
            done.touch()
    return path


@pytest.fixture(scope="session")
def tiny_seed():
    return TINY_SEED


@pytest.fixture(scope="session")
def stage_cache_dir(tmp_path_factory):
    """The stage cache ``tiny_dataset`` fills: later generates of the same preset and seed reuse its
    compiled circuit, phantom and calibration (only scans are recomputed).  Shared by xdist workers
    (the cache's entries are written atomically and verified on read)."""
    root = _shared_root(tmp_path_factory)
    if root is None:
        return tmp_path_factory.mktemp("stage-cache")
    (root / "stage-cache").mkdir(exist_ok=True)
    return root / "stage-cache"


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, stage_cache_dir):
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    # chunk tasks in this process: the suite's workers already fill the cores (a dask cluster of
    # its own is tested in tests/pretty_printer/dataset/test_engine_cache.py and test_sweep.py)
    def build(d: Path) -> None:
        generate(load_preset("tiny"), d / "ds", TINY_SEED, progress=False, engine=EngineConfig(workers=1),
                 cache=StageCache(stage_cache_dir))

    return _once(tmp_path_factory, "tiny", build) / "ds"


@pytest.fixture(scope="session")
def truth_submission(tiny_dataset, tmp_path_factory):
    from pretty_printer.cli.main import main

    def build(d: Path) -> None:
        argv = ["reconstruct", str(tiny_dataset), "--method", "truth", "--modality", "em", "--out", str(d / "truth-em")]
        assert main(argv) == 0

    return _once(tmp_path_factory, "sub", build) / "truth-em"


@pytest.fixture(scope="session")
def truth_scorecard(tiny_dataset, truth_submission, tmp_path_factory):
    """The perfect submission's full scorecard, function section included (it re-simulates the
    rebuilt circuit in NEURON, so it is computed once per run; xdist workers share it as a pickle,
    which keeps every type).  Treat it as read-only."""
    from pretty_printer.scoring.score import score

    def build(d: Path) -> None:
        (d / "card.pickle").write_bytes(pickle.dumps(score(tiny_dataset, truth_submission)))

    return pickle.loads((_once(tmp_path_factory, "scorecard", build) / "card.pickle").read_bytes())


"""Shared fixtures: one `tiny` dataset per test session (generated once, read by many tests; its
compiled xor circuit is the one the compiler's tests read), its perfect submission, that
submission's full scorecard (scored once, read by many tests) and the EM baseline's submission on it.

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


# The order test files start in under `make test` (pytest-xdist --dist loadfile
# --no-loadscope-reorder: each worker is handed one file, and another whenever it has at most two
# tests left, in collection order).  First the file that builds the session's `tiny` dataset: one
# worker spends ~115 CPU seconds there, the first ~50 measuring the wang_buzsaki f-I surface (cached
# per user, measured once per clean run under a lock).  Then every heavy file that does NOT need
# `tiny` (~250 CPU seconds), so the other worker has work while the dataset is built instead of
# waiting on its lock (with a `tiny` user third, that worker sat idle for ~130 s of a 12-minute
# run): first those that need no f-I surface either (~65 s, which also compile the numba kernels
# the dataset then loads), so the sweep and the training, which need it, start once it is measured
# instead of waiting ~50 s on its lock.  Then the files that read `tiny`, heaviest first, so no long
# file starts last while the other worker sits idle.  CPU seconds measured on a clean clone,
# 2026-12-01 (`/tmp/suite16/prof_final.sh`).  Files not listed follow in their usual order; a
# renamed file only loses its place here.
BUILDS_TINY = ("tests/test_end_to_end.py",)  # builds tiny_dataset, truth_scorecard, em_baseline_submission
NO_TINY_HEAVY = (
    "tests/phantoms/test_phantom_growth.py",  # ~17 s
    "tests/pretty_printer/dataset/test_growth_hint.py",  # ~15 s
    "tests/phantoms/test_fly_and_sites.py",  # ~13 s
    "tests/phantoms/test_phantom_export.py",  # ~8 s
    "tests/pretty_printer/viz/test_show.py",  # ~8 s
    "tests/phantoms/test_organelles.py",  # ~8 s
    "tests/pretty_printer/studies/test_sweep.py",  # ~75 s (without the f-I surface), its own small preset
    "tests/pretty_printer/task/test_training.py",  # ~23 s
    "tests/test_architecture.py",  # ~6 s
    "tests/scanners/test_render.py",  # ~5 s
    "tests/phantoms/test_growth_progress.py",  # ~4 s
    "tests/phantoms/test_neuropil.py",  # ~4 s
    "tests/phantoms/test_phantom_rasterize.py",  # ~4 s
)
READ_TINY_HEAVY = (
    "tests/test_course.py",  # ~60 s, four notebooks
    "tests/test_error_injection.py",  # ~40 s
    "tests/pretty_printer/dataset/test_engine_cache.py",  # ~28 s
    "tests/pretty_printer/submission/test_corpus.py",  # ~20 s
    "tests/pretty_printer/reconstruct/test_baselines.py",  # ~17 s
    "tests/pretty_printer/scoring/test_trust.py",  # ~15 s
    "tests/pretty_printer/cli/test_cli_compile.py",  # ~14 s, compiles tiny's seed again
    "tests/pretty_printer/export/test_neuroml.py",  # ~12 s
    "tests/test_excitability_end_to_end.py",  # ~8 s
    "tests/pretty_printer/circuit/test_compiler.py",  # ~7 s, reads tiny's compiled circuit
)
RUN_FIRST = BUILDS_TINY + NO_TINY_HEAVY + READ_TINY_HEAVY


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(RUN_FIRST)}
    root = Path(str(config.rootpath))
    items.sort(key=lambda it: rank.get(Path(str(it.path)).relative_to(root).as_posix(), len(rank)))  # stable


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


def _reconstruct_once(tmp_path_factory, dataset: Path, method: str, name: str, out: str) -> Path:
    """``reconstruct DATASET --method METHOD --modality em --out NAME/OUT`` on the command line, once per run."""
    from pretty_printer.cli.main import main

    def build(d: Path) -> None:
        argv = ["reconstruct", str(dataset), "--method", method, "--modality", "em", "--out", str(d / out)]
        assert main(argv) == 0

    return _once(tmp_path_factory, name, build) / out


def _pickled_once(tmp_path_factory, name: str, make: Callable[[], object]):
    """``make()`` once per run; xdist workers share the result as a pickle, which keeps every type."""
    def build(d: Path) -> None:
        (d / "value.pickle").write_bytes(pickle.dumps(make()))

    return pickle.loads((_once(tmp_path_factory, name, build) / "value.pickle").read_bytes())


@pytest.fixture(scope="session")
def truth_submission(tiny_dataset, tmp_path_factory):
    return _reconstruct_once(tmp_path_factory, tiny_dataset, "truth", "sub", "truth-em")


@pytest.fixture(scope="session")
def truth_scorecard(tiny_dataset, truth_submission, tmp_path_factory):
    """The perfect submission's full scorecard, function section included (it re-simulates the
    rebuilt circuit in NEURON, so it is computed once per run).  Treat it as read-only."""
    from pretty_printer.scoring.score import score

    return _pickled_once(tmp_path_factory, "scorecard", lambda: score(tiny_dataset, truth_submission))


@pytest.fixture(scope="session")
def em_baseline_submission(tiny_dataset, tmp_path_factory):
    """The EM baseline's submission for ``tiny_dataset``, written by the command line once per run
    (``reconstruct --method baseline --modality em``); read by the end-to-end and baseline tests."""
    return _reconstruct_once(tmp_path_factory, tiny_dataset, "baseline", "em-baseline", "em")

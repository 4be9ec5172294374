"""Shared fixtures: one `tiny` dataset per test session (generated once, read by many tests), its
perfect submission, and that submission's full scorecard (scored once, read by many tests)."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
TINY_SEED = 7


@pytest.fixture(scope="session")
def tiny_seed():
    return TINY_SEED


@pytest.fixture(scope="session")
def stage_cache_dir(tmp_path_factory):
    """The stage cache ``tiny_dataset`` fills: later generates of the same preset and seed reuse its
    compiled circuit, phantom and calibration (only scans are recomputed)."""
    return tmp_path_factory.mktemp("stage-cache")


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory, stage_cache_dir):
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    out = tmp_path_factory.mktemp("tiny") / "ds"
    generate(load_preset("tiny"), out, TINY_SEED, progress=False, cache=StageCache(stage_cache_dir))
    return out


@pytest.fixture(scope="session")
def truth_submission(tiny_dataset, tmp_path_factory):
    from pretty_printer.cli.main import main

    sub = tmp_path_factory.mktemp("sub") / "truth-em"
    assert main([ "reconstruct", str(tiny_dataset), "--method", "truth", "--modality", "em", "--out", str(sub)]) == 0
    return sub


@pytest.fixture(scope="session")
def truth_scorecard(tiny_dataset, truth_submission):
    """The perfect submission's full scorecard, function section included (it re-simulates the
    rebuilt circuit in NEURON, so it is computed once).  Treat it as read-only."""
    from pretty_printer.scoring.score import score

    return score(tiny_dataset, truth_submission)

"""The suite's start order (tests/conftest.py RUN_FIRST) stays true to what it claims.

The files run while the `tiny` dataset is being built must not need it, or a worker waits on the
dataset's lock instead of working (that cost ~130 s of a 12-minute clean-clone run); and every
listed file must exist, or a rename silently drops it from the order.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load_top_conftest():
    """tests/conftest.py as a module of its own name (``import conftest`` would find whichever
    conftest.py pytest put first on sys.path, e.g. tests/scanners/conftest.py)."""
    spec = importlib.util.spec_from_file_location("npp_top_conftest", ROOT / "tests" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_order = _load_top_conftest()
BUILDS_TINY, NO_TINY_HEAVY, READ_TINY_HEAVY = _order.BUILDS_TINY, _order.NO_TINY_HEAVY, _order.READ_TINY_HEAVY
RUN_FIRST = _order.RUN_FIRST
TINY_FIXTURES = re.compile(r"\b(tiny_dataset|truth_submission|truth_scorecard|em_baseline_submission)\b")


def test_every_listed_file_exists_once():
    assert len(set(RUN_FIRST)) == len(RUN_FIRST)
    missing = [f for f in RUN_FIRST if not (ROOT / f).is_file()]
    assert missing == []


def test_files_run_during_the_tiny_build_do_not_use_tiny():
    uses = [f for f in NO_TINY_HEAVY if TINY_FIXTURES.search((ROOT / f).read_text())]
    assert uses == []


def test_the_builder_and_the_readers_do_use_tiny():
    for f in BUILDS_TINY + READ_TINY_HEAVY:
        assert TINY_FIXTURES.search((ROOT / f).read_text()), f

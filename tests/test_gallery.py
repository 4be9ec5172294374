"""Every gallery script runs at its small size and writes at least one non-empty PNG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((ROOT / "gallery").glob("plot_*.py"))


def test_gallery_has_its_scripts():
    assert len(SCRIPTS) >= 8
    for script in SCRIPTS:
        text = script.read_text()
        assert text.startswith('"""') and "# %%" in text, f"{script.name}: expected sphinx-gallery form"


@pytest.fixture(scope="session")
def gallery_dataset(tiny_dataset):
    """The session's `tiny` dataset, shared by the scripts that need a whole dataset."""
    return tiny_dataset


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_gallery_script_writes_a_png(script, tmp_path, gallery_dataset):
    env = dict(os.environ, GALLERY_OUT=str(tmp_path), GALLERY_DATASET=str(gallery_dataset), MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    pngs = [p for p in tmp_path.rglob("*.png") if p.stat().st_size > 0]
    assert any(p.name == f"{script.stem}.png" for p in pngs), f"{script.name} wrote {[p.name for p in pngs]}"
    assert (tmp_path / f"{script.stem}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

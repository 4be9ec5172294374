"""Scale: chunk tasks on dask write the same files; the stage cache is keyed and verified."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pytest

from pretty_printer.dataset.cache import StageCache, stage_key
from pretty_printer.dataset.engine import (Engine, EngineConfig, as_path, check_aligned, chunk_boxes, labels_task,
                                           scan_task)
from pretty_printer.dataset.layout import create_ome_zarr
from pretty_printer.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scanners"))
from scanner_tissues import random_cells  # noqa: E402


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _scan_and_label(engine_cfg, out: Path) -> None:
    """An EM scan and its labels of a small synthetic tissue, one engine task per Zarr chunk."""
    import scanners

    scanner = scanners.make_scanner({"preset": "sbem", "voxel_nm": [40, 16, 16]})
    shape = (12, 96, 80)
    size = np.asarray(shape) * scanner.voxel_nm
    tissue = random_cells(n_cells=6, size_nm=tuple(size), seed=3)
    chunk = (8, 32, 48)
    img = create_ome_zarr(out / "em.zarr", shape=(1, *shape), chunks=chunk, dtype=scanner.dtype,
                          voxel_nm=scanner.voxel_nm, name="em")
    lab = create_ome_zarr(out / "labels.zarr", shape=(1, *shape), chunks=chunk, dtype="uint32",
                          voxel_nm=scanner.voxel_nm, name="labels")
    job = scanner.prepare(tissue, (0, 0, 0), size, seed=5, chunk_shape=chunk)
    check_aligned(job.chunks(), img.chunks[1:], shape)
    with Engine(engine_cfg) as eng:
        eng.map(scan_task, (scanner, tissue, job), job.chunks(), fixed=(as_path(out / "em.zarr"),))
        eng.map(labels_task, (tissue,), list(chunk_boxes(shape, lab.chunks[1:])),
                fixed=(np.zeros(3), scanner.voxel_nm, as_path(out / "labels.zarr")))
    whole = scanner.render_volume(tissue, (0, 0, 0), size, seed=5, chunk_shape=None)
    assert np.array_equal(img[...], whole)


def test_local_cluster_writes_the_same_files(tmp_path):
    distributed = pytest.importorskip("distributed")
    _scan_and_label(EngineConfig(workers=1), tmp_path / "one")
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        _scan_and_label(EngineConfig(scheduler=cluster.scheduler_address), tmp_path / "two")
    assert _files(tmp_path / "one") == _files(tmp_path / "two")


def test_corrupt_entry_is_detected_and_rebuilt(tmp_path):
    cache = StageCache(tmp_path)
    key = stage_key("demo", {"x": 1})
    calls = []

    def build(d):
        calls.append(1)
        (d / "a.bin").write_bytes(b"payload")
        (d / "sub").mkdir()
        (d / "sub" / "b.txt").write_text("more")

    entry = cache.fetch_or_build("demo", key, build)
    assert cache.fetch_or_build("demo", key, build) == entry and len(calls) == 1
    (entry / "sub" / "b.txt").write_text("mor3")  # same size, different bytes
    assert cache.entry("demo", key) is None and not entry.exists()
    entry = cache.fetch_or_build("demo", key, build)
    assert len(calls) == 2 and (entry / "sub" / "b.txt").read_text() == "more"
    (entry / "a.bin").unlink()  # a missing file
    assert cache.entry("demo", key) is None
    cache.fetch_or_build("demo", key, build)
    (entry / "entry.json").write_text("{not json")
    assert cache.entry("demo", key) is None
    assert cache.hits == ["demo"] and cache.misses == ["demo"] * 3


def test_keys_depend_on_exactly_their_inputs():
    a = stage_key("growth", {"tissue": {"block_nm": [1, 2, 3]}, "seed": 0})
    assert a == stage_key("growth", {"seed": 0, "tissue": {"block_nm": [1, 2, 3]}})
    assert a != stage_key("growth", {"tissue": {"block_nm": [1, 2, 3]}, "seed": 1})
    assert a != stage_key("compile", {"tissue": {"block_nm": [1, 2, 3]}, "seed": 0})


def test_disabled_cache_never_stores(tmp_path):
    cache = StageCache(None)
    d = cache.fetch_or_build("demo", "k", lambda d: (d / "f").write_text("x"))
    assert (d / "f").read_text() == "x" and cache.entry("demo", "k") is None


def test_task_regions_must_sit_on_the_zarr_grid():
    boxes = list(chunk_boxes((50, 70, 70), (32, 64, 64)))
    check_aligned(boxes, (32, 64, 64), (50, 70, 70))
    with pytest.raises(ValueError, match="chunk grid"):
        check_aligned(list(chunk_boxes((50, 70, 70), (16, 64, 64))), (32, 64, 64), (50, 70, 70))


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_workers_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match="--workers"):
        EngineConfig(workers=bad)

"""Scale: chunk tasks on dask write the same files; the stage cache is reused, keyed and verified."""

from __future__ import annotations

import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from pretty_printer.dataset.cache import StageCache, stage_key
from pretty_printer.dataset.engine import Engine, EngineConfig, as_path, check_aligned, chunk_boxes, scan_task
from pretty_printer.dataset.generate import generate
from pretty_printer.dataset.layout import create_ome_zarr
from pretty_printer.dataset.presets import load_preset
from pretty_printer.dataset.scans import frame_labels_task
from pretty_printer.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scanners"))
from scanner_tissues import random_cells  # noqa: E402


def _files(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _scan_and_label(engine_cfg, out: Path, chunk=(8, 32, 48)) -> None:
    """An EM scan and its labels (image frame) of a small synthetic tissue, one engine task per Zarr chunk."""
    import scanners

    scanner = scanners.make_scanner({"preset": "sbem", "voxel_nm": [40, 16, 16]})
    shape = (12, 96, 80)
    size = np.asarray(shape) * scanner.voxel_nm
    tissue = random_cells(n_cells=6, size_nm=tuple(size), seed=3)
    img = create_ome_zarr(out / "em.zarr", shape=(1, *shape), chunks=chunk, dtype=scanner.dtype,
                          voxel_nm=scanner.voxel_nm, name="em")
    lab = create_ome_zarr(out / "labels.zarr", shape=(1, *shape), chunks=chunk, dtype="uint32",
                          voxel_nm=scanner.voxel_nm, name="labels")
    job = scanner.prepare(tissue, (0, 0, 0), size, seed=5, chunk_shape=chunk)
    check_aligned(job.chunks(), img.chunks[1:], shape)
    with Engine(engine_cfg) as eng:
        eng.map(scan_task, (scanner, tissue, job), job.chunks(), fixed=(as_path(out / "em.zarr"),))
        eng.map(frame_labels_task, (scanner, tissue, job), list(chunk_boxes(shape, lab.chunks[1:])),
                fixed=(as_path(out / "labels.zarr"),))
    whole = scanner.render_volume(tissue, (0, 0, 0), size, seed=5, chunk_shape=None)
    assert np.array_equal(img[...], whole)
    (_, frame), = scanner.labels_on_frame(tissue, (0, 0, 0), size, seed=5, chunk_shape=None)
    assert np.array_equal(lab[0], frame)


def test_chunk_tasks_equal_the_whole_render_for_any_chunk(tmp_path):
    """Images written task by task equal one whole-volume render; labels do not depend on the chunk."""
    import zarr

    _scan_and_label(EngineConfig(workers=1), tmp_path / "a", chunk=(8, 32, 48))
    _scan_and_label(EngineConfig(workers=1), tmp_path / "b", chunk=(12, 96, 16))
    a, b = (zarr.open_group(str(tmp_path / k / "labels.zarr"), mode="r")["0"][...] for k in "ab")
    assert np.array_equal(a, b) and a.any()


def _em_only(overrides=()):
    preset = load_preset("tiny", list(overrides))
    return replace(preset, scan={"em": preset.scan["em"]})


@pytest.fixture(scope="module")
def em_single(tiny_dataset, stage_cache_dir, tiny_seed, tmp_path_factory):
    """An EM-only generate in this process, its stages taken from the session's cache."""
    cache = StageCache(stage_cache_dir)
    out = generate(_em_only(), tmp_path_factory.mktemp("em1") / "ds", tiny_seed, progress=False,
                   engine=EngineConfig(workers=1), cache=cache)
    return out, cache


def test_cache_hit_gives_identical_stage_files(tiny_dataset, em_single):
    out, cache = em_single
    assert cache.hits == ["compile", "growth", "morphology"] and cache.misses == []
    full, em = _files(tiny_dataset / "truth"), _files(out / "truth")
    assert any(k.startswith("meshes/") for k in em) and any(k.startswith("phantom/") for k in em)
    # every truth file of the EM-only run (stages from the cache, EM labels, semantic volumes and
    # artifacts rendered again) equals the full run's; seed.json records the scanned modalities
    assert [k for k in em if k != "seed.json" and em[k] != full.get(k)] == []
    assert _files(out / "public" / "em.zarr") == _files(tiny_dataset / "public" / "em.zarr")


def test_local_cluster_generate_writes_the_same_files(tiny_dataset, stage_cache_dir, tiny_seed, tmp_path):
    """A generate whose chunk tasks run on a 2-process dask.distributed LocalCluster (the
    --scheduler path) writes the same bytes as the single-process run.  Both scan EM at coarse
    voxels (2 x 2 chunks in y, x, so both workers get tasks); the stages come from the session's cache."""
    distributed = pytest.importorskip("distributed")
    coarse = _em_only(["scan.em.voxel_nm=[80.0,32.0,32.0]"])
    single = generate(coarse, tmp_path / "one", tiny_seed, progress=False, engine=EngineConfig(workers=1),
                      cache=StageCache(stage_cache_dir))
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        out = generate(coarse, tmp_path / "ds", tiny_seed, progress=False,
                       engine=EngineConfig(scheduler=cluster.scheduler_address), cache=StageCache(stage_cache_dir))
    assert _files(out) == _files(single)
    assert len([k for k in _files(out) if k.startswith("public/em.zarr/0/")]) >= 4


def test_changed_scanner_key_reuses_the_phantom(tiny_dataset, stage_cache_dir, tiny_seed, tmp_path):
    cache = StageCache(stage_cache_dir)
    out = generate(_em_only(["scan.em.dose_e_per_nm2=30"]), tmp_path / "ds", tiny_seed, progress=False,
                   engine=EngineConfig(workers=1), cache=cache)
    assert cache.misses == [] and "growth" in cache.hits
    assert _files(out / "truth" / "phantom") == _files(tiny_dataset / "truth" / "phantom")
    assert _files(out / "public" / "em.zarr") != _files(tiny_dataset / "public" / "em.zarr")


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
    cache.close()  # the scratch directory the stage was built in is gone
    assert not d.exists()


def test_task_regions_must_sit_on_the_zarr_grid():
    boxes = list(chunk_boxes((50, 70, 70), (32, 64, 64)))
    check_aligned(boxes, (32, 64, 64), (50, 70, 70))
    with pytest.raises(ValueError, match="chunk grid"):
        check_aligned(list(chunk_boxes((50, 70, 70), (16, 64, 64))), (32, 64, 64), (50, 70, 70))


@pytest.mark.parametrize("bad", [0, -2, 1.5, True])
def test_workers_must_be_a_positive_integer(bad):
    with pytest.raises(ConfigError, match="--workers"):
        EngineConfig(workers=bad)


def test_cli_rejects_bad_workers_before_any_work(tmp_path, capsys):
    from pretty_printer.cli.main import main

    rc = main(["generate", "--preset", "tiny", "--out", str(tmp_path / "d"), "--workers", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "--workers" in err and not (tmp_path / "d").exists()


def _add(a, b):
    return a + b


def test_a_local_cluster_does_not_warn_when_port_8787_is_taken():
    """Another dask cluster (or anything) on the dashboard's default port 8787: the engine's own
    cluster starts without the "Port 8787 is already in use" warning."""
    import socket
    import warnings

    holder = socket.socket()
    try:
        holder.bind(("127.0.0.1", 8787))
        holder.listen(1)
    except OSError:  # already held by someone else: the condition under test holds anyway
        pass
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with Engine(EngineConfig(workers=2)) as eng:
                assert eng.distributed and eng.map(_add, (1,), [1, 2, 3]) == [2, 3, 4]
    finally:
        holder.close()
    assert not [w for w in caught if "already in use" in str(w.message)]

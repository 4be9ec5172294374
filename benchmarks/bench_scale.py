"""Scale benchmarks (issue 13), each a ratio measured side by side in one run.

Run: ``PYTHONPATH=. python benchmarks/bench_scale.py [--preset tiny] [--parts render,workers,sweep,memory]``

* ``render``: EM, ExM and X-ray render time on the preset's grown phantom against this machine's
  floor for the same channel-voxels (one Gaussian blur plus one normal draw), tissue
  rasterization timed separately;
* ``workers``: ``generate`` wall time on a ``dask.distributed.LocalCluster`` of 1 and of 2
  single-threaded processes, stages taken from a warm cache (so the run is scan-dominated), with
  a check that the files are identical;
* ``sweep``: a 3-point scanner-only sweep (EM dose) with no cache and with a warm cache (every
  stage stored by an earlier generate of the same preset and seed), and whether the scores are
  identical;
* ``memory``: peak resident memory (summed over the process and its workers) and wall time of
  ``generate`` (no cache) at 1x, 8x and 64x (``--factors``) the preset's block volume, with the
  dataset's size (cells, um^3, voxels per modality).

The machine is shared: the load average is printed with every figure.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load() -> str:
    return "load %.1f %.1f %.1f" % os.getloadavg()


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(Path(root).rglob("*")):
        if p.is_file():
            h.update(str(p.relative_to(root)).encode() + b"\0" + hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def warm_dataset(preset_name: str, work: Path, seed: int):
    """A dataset of the preset whose stages fill ``work/cache`` (done once, not timed)."""
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    ds = work / "warm"
    if not (ds / "public" / "manifest.json").is_file():
        (work / "warm.started").touch()
        generate(load_preset(preset_name), ds, seed, force=True, progress=False,
                 engine=EngineConfig(workers=1), cache=StageCache(work / "cache"))
    return ds


def grown_phantom(preset, work: Path, seed: int):
    """The preset's grown phantom (compile and growth stages through ``work/cache``), no meshes."""
    import contextlib
    from dataclasses import replace as dc_replace

    from pretty_printer.dataset import generate as g
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import Engine, EngineConfig
    from pretty_printer.progress import Progress

    preset = dc_replace(preset, meshes=False)
    cache, truth = StageCache(work / "cache"), Path(tempfile.mkdtemp(prefix="truth-", dir=work))
    with contextlib.closing(cache), Engine(EngineConfig(workers=1)) as eng:
        compiled = g._compile_stage(preset, seed, truth, cache)
        phantom, _ = g._growth_stage(preset, seed, compiled["circuit"], compiled["key"], truth, cache, eng,
                                     Progress(1, enabled=False))
    print(f"phantom of {preset.name!r}: stages {cache.hits} from the cache, {cache.misses} computed")
    return phantom


# --------------------------------------------------------------------------- render / floor
from bench_scanners import TimedTissue  # noqa: E402  (the scanner benchmark's timing wrapper, one copy)


def floor_seconds(shape, sigma) -> float:
    from scipy import ndimage

    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    t = time.perf_counter()
    ndimage.gaussian_filter(x, sigma)
    np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    return time.perf_counter() - t


def numba_start_seconds() -> float:
    """Seconds of the first compiled call of the process (numba's typing registries and one kernel
    loaded from its cache); every later kernel loads in ~10 ms.  Before this split it fell into
    whichever render ran first (EM)."""
    from phantoms.packing_kernel import boxes_meeting

    t = time.perf_counter()
    boxes_meeting(np.zeros((1, 3)), np.ones((1, 3)), np.zeros(3), np.ones(3))
    return time.perf_counter() - t


def bench_render(preset_name: str, work: Path, seed: int) -> None:
    import phantoms
    from scanners.psf import sigma_vox

    from pretty_printer.dataset import stages
    from pretty_printer.dataset.scans import scan_region, scanner_chunk
    from pretty_printer.dataset.presets import load_preset

    preset = load_preset(preset_name)
    phantom = grown_phantom(preset, work, seed)  # only the phantom is needed (no scans)
    origin, size = scan_region(phantom)
    print(f"render / floor on {preset_name!r} ({load()})")
    print(f"  numba runtime start (once per process, shared by every modality; not in the renders below): "
          f"{numba_start_seconds():.2f} s")
    for modality in preset.scan:
        scanner = stages.make_scanner(preset, modality)
        shape = scanner.output_shape(size)
        tissue = TimedTissue(phantoms.tissue_function(phantom))
        t, cpu = time.perf_counter(), time.process_time()
        for _ in scanner.render(tissue, origin, size, seed=0, chunk_shape=scanner_chunk(scanner, preset.chunk, shape)):
            pass
        total, cpu = time.perf_counter() - t, time.process_time() - cpu
        c = scanner.config
        fwhm = ((0.0, c.psf_fwhm_nm, c.psf_fwhm_nm) if modality == "em"
                else np.broadcast_to(np.asarray(c.resolution_nm, float), (3,)))
        sig = sigma_vox(fwhm, scanner.voxel_nm)
        floors = [shape[0] * floor_seconds(shape[1:], sig) for _ in range(3)]  # per channel-voxel
        floor = floors[0]
        print(f"  {modality}: {shape} render {total:.2f} s (CPU {cpu:.2f} s; tissue {tissue.seconds:.2f} s, scanner "
              f"{total - tissue.seconds:.2f} s); floor {floor:.2f} s; render/floor {total / floor:.1f}x, "
              f"scanner/floor {(total - tissue.seconds) / floor:.1f}x; floor's least of 3 {min(floors):.2f} s: "
              f"render/floor {total / min(floors):.1f}x")


# --------------------------------------------------------------------------- workers
def bench_workers(preset_name: str, work: Path, seed: int) -> None:
    from distributed import Client, LocalCluster, get_task_stream

    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.dataset.generate import generate
    from pretty_printer.dataset.presets import load_preset

    warm_dataset(preset_name, work, seed)
    preset = load_preset(preset_name)
    print(f"generate {preset_name!r} with warm stage cache (scan-dominated), LocalCluster processes")
    times, hashes = {}, {}
    for n in (1, 2):  # once each (the machine is shared: the load is printed with each)
        with LocalCluster(n_workers=n, processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
                Client(cluster, set_as_default=False) as client:
            out = work / f"workers-{n}"
            before = load()
            cpu0 = sum(client.run(_cpu_seconds).values())
            t = time.perf_counter()
            with get_task_stream(client=client) as stream:  # every task the scheduler ran meanwhile
                generate(preset, out, seed, force=True, progress=False,
                         engine=EngineConfig(scheduler=cluster.scheduler_address), cache=StageCache(work / "cache"))
            times[n] = time.perf_counter() - t
            cpu = sum(client.run(_cpu_seconds).values()) - cpu0
            hashes[n] = tree_hash(out)
            busy = sum(s["stop"] - s["start"] for r in stream.data for s in r["startstops"] if s["action"] == "compute")
            # load-independent: how much of n workers x wall the tasks filled (the rest is this
            # process between tasks, transfers, and workers idle at the graph's ends); and the
            # workers' CPU seconds over that wall: the cores the machine actually gave them
            print(f"  {n} process(es): {times[n]:.1f} s ({before} before, {load()} after); {len(stream.data)} tasks "
                  f"computing {busy:.1f} s = {100 * busy / (n * times[n]):.0f} % of {n} x wall; workers' CPU "
                  f"{cpu:.1f} s = {cpu / times[n]:.2f} cores")
    print(f"  1 -> {times[1]:.1f} s, 2 -> {times[2]:.1f} s, speed-up {times[1] / times[2]:.2f}x; "
          f"files identical: {hashes[1] == hashes[2]}")


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process (run on each worker)."""
    t = os.times()
    return t.user + t.system


# --------------------------------------------------------------------------- sweep
def bench_sweep(preset_name: str, work: Path, seed: int) -> None:
    from pretty_printer.dataset.cache import StageCache
    from pretty_printer.dataset.engine import EngineConfig
    from pretty_printer.studies.sweep import SweepConfig, read_table, run_sweep

    cfg = SweepConfig(preset=preset_name, vary=(("scan.em.dose_e_per_nm2", (10.0, 15.0, 30.0)),), seed=seed)
    print(f"3-point scanner-only sweep on {preset_name!r} (scan.em.dose_e_per_nm2 = 10, 15, 30; EM; function scored)")
    # no cache: every point computes every stage; warm cache: every stage stored (as after an
    # earlier generate or sweep of the same preset and seed: ``warm_dataset``, which another
    # part of this benchmark may be writing at the same time; waited for, not timed)
    arms = {"no cache": lambda: None, "warm cache": lambda: _warm_cache(preset_name, work, seed)}
    rows, times = {}, {}
    for name, make_cache in arms.items():
        cache = make_cache()
        out = work / f"sweep-{name.replace(' ', '-')}"
        before = load()
        t = time.perf_counter()
        run_sweep(cfg, out, progress=False, force=True, plots=False, engine=EngineConfig(workers=1), cache=cache)
        times[name] = time.perf_counter() - t
        rows[name] = [{k: v for k, v in r.items()} for r in read_table(out)]
        print(f"  {name}: {times[name]:.1f} s ({before} before, {load()} after)", flush=True)
    same = all(json.dumps(rows[n], sort_keys=True, default=str) == json.dumps(rows["no cache"], sort_keys=True, default=str)
               for n in rows)
    print(f"  speed-up with the warm cache {times['no cache'] / times['warm cache']:.2f}x; scores identical: {same}")


def _warm_cache(preset_name: str, work: Path, seed: int):
    from pretty_printer.dataset.cache import StageCache

    manifest = work / "warm" / "public" / "manifest.json"
    lock = work / "warm.started"
    if lock.exists():  # another part is generating it: wait
        while not manifest.is_file():
            time.sleep(10)
    else:
        warm_dataset(preset_name, work, seed)
    return StageCache(work / "cache")


# --------------------------------------------------------------------------- memory
def peak_rss(cmd: list[str], log: Path) -> tuple[float, float]:
    """Run ``cmd``; return (peak summed RSS of it and its descendants in GB, wall seconds).

    Its whole stderr goes to ``log``; a failure raises ``RuntimeError`` with the log's last lines
    (the first exception of a long run can be far above them: read the log).
    """
    import psutil

    t = time.perf_counter()
    with open(log, "w") as err_file:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err_file, text=True, cwd=ROOT,
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        peak = [0]

        def poll():
            p = psutil.Process(proc.pid)
            while proc.poll() is None:
                try:
                    rss = sum(c.memory_info().rss for c in [p] + p.children(recursive=True))
                    peak[0] = max(peak[0], rss)
                except psutil.Error:
                    pass
                time.sleep(0.2)

        th = threading.Thread(target=poll, daemon=True)
        th.start()
        proc.wait()
        th.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed (whole stderr in {log}): {log.read_text()[-2000:]}")
    return peak[0] / 1e9, time.perf_counter() - t


def bench_memory(preset_name: str, work: Path, seed: int, factors) -> None:
    from pretty_printer.dataset.presets import load_preset

    block = np.asarray(load_preset(preset_name).tissue.get("block_nm"), float)
    print(f"peak memory and wall time of generate {preset_name!r} (all modalities, default workers, no cache)")
    for f in factors:
        b = block * f ** (1 / 3)
        cmd = [sys.executable, "-m", "pretty_printer.cli.main", "generate", "--preset", preset_name, "--quiet",
               "--out", str(work / f"mem-{f}"), "--seed", str(seed), "--force", "--no-cache",
               "--set", f"tissue.block_nm=[{b[0]:.1f},{b[1]:.1f},{b[2]:.1f}]"]
        before = load()
        gb, s = peak_rss(cmd, work / f"mem-{f}.stderr")
        print(f"  {f}x block ({b[0] / 1000:.1f} x {b[1] / 1000:.1f} x {b[2] / 1000:.1f} um): peak {gb:.2f} GB, "
              f"{s:.0f} s ({before} before, {load()} after); {dataset_size(work / f'mem-{f}')}", flush=True)
        shutil.rmtree(work / f"mem-{f}", ignore_errors=True)


def dataset_size(ds: Path) -> str:
    """Cells, block volume and voxels per modality of a generated dataset."""
    from pretty_printer.dataset.layout import Dataset

    d = Dataset(ds)
    m = d.manifest
    vol = float(np.prod(m["block_size_nm"])) / 1e9
    ph = d.phantom()
    cells = f"{len(ph.cell_ids)} circuit + {len(ph.background_ids)} background cells"
    vox = ", ".join(f"{k} {int(np.prod(v['shape'][1:])):,} x {v['shape'][0]} ch" for k, v in m["modalities"].items())
    return f"{cells}, {vol:.0f} um^3, voxels: {vox}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--preset", default="tiny")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--parts", default="render,workers,sweep,memory")
    p.add_argument("--factors", default="1,8,64", help="block volume factors for the memory part")
    p.add_argument("--work", type=Path, default=None, help="scratch directory (default: a temporary one)")
    a = p.parse_args()
    work = a.work or Path(tempfile.mkdtemp(prefix="bench-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, shared with other jobs; scratch {work}")
    parts = a.parts.split(",")
    if "render" in parts:
        bench_render(a.preset, work, a.seed)
    if "workers" in parts:
        bench_workers(a.preset, work, a.seed)
    if "sweep" in parts:
        bench_sweep(a.preset, work, a.seed)
    if "memory" in parts:
        bench_memory(a.preset, work, a.seed, [int(f) for f in a.factors.split(",")])


if __name__ == "__main__":
    main()

"""Benchmark: growth time and 512^3 label-chunk rasterization time (target: < 10 s, one core).

Run:  python benchmarks/bench_rasterize.py [--big]
Prints one line per figure.  ``--big`` also grows the ~52-cell dense circuit (32/16/4).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core, as the target says

import numpy as np  # noqa: E402

import phantoms  # noqa: E402


def timed(label, fn):
    t = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - t:.2f} s")
    return out


def chunk_bench(ph, voxel_nm, name):
    shape = (512, 512, 512)
    centre = ph.block_origin_nm + 0.5 * ph.block_size_nm
    origin = centre - 0.5 * np.asarray(shape) * voxel_nm
    out = timed(f"{name}: rasterize 512^3 labels at {voxel_nm} nm", lambda: phantoms.rasterize(ph, origin, shape, voxel_nm))
    frac = np.count_nonzero(out["labels"]) / out["labels"].size
    print(f"{name}: 512^3 chunk at {voxel_nm} nm is {100 * frac:.1f}% cell voxels")
    del out
    timed(f"{name}: rasterize 512^3 labels+membrane at {voxel_nm} nm",
          lambda: phantoms.rasterize(ph, origin, shape, voxel_nm, ("labels", "membrane")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--big", action="store_true")
    args = ap.parse_args()
    tiny = timed("grow tiny (xor: 2/5/1 cells, block 2x5x5 um)",
                 lambda: phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 0))
    print(f"tiny: {len(tiny.cell_ids)} cells, {len(tiny.spec.edges)} connections, {len(tiny.synapses)} synapses")
    shape = np.round(tiny.block_size_nm / 16).astype(int)
    timed(f"tiny: whole block {tuple(shape)} at 16 nm, all fields",
          lambda: phantoms.rasterize(tiny, tiny.block_origin_nm, shape, 16.0, phantoms.RASTER_FIELDS))
    chunk_bench(tiny, 10.0, "tiny")
    chunk_bench(tiny, 4.0, "tiny")
    if args.big:
        spec = phantoms.layered_spec(32, 16, 4, inhibitory_hidden=4, density=0.5, rng=0)
        cfg = phantoms.GrowthConfig(block_nm=(4000.0, 12000.0, 12000.0))
        big = timed(f"grow dense ({len(spec.cells)} cells, {len(spec.edges)} connections, block 4x12x12 um)",
                    lambda: phantoms.grow(spec, cfg, 0))
        print(f"dense: {len(big.synapses)} synapses, {big.meta['synapses_dropped_extra']} extra synapses merged")
        chunk_bench(big, 8.0, "dense")


if __name__ == "__main__":
    main()

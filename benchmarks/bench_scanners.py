"""Scanner benchmarks: EM throughput against this machine's floor, and peak memory of a big render.

Run: ``PYTHONPATH=. python benchmarks/bench_scanners.py [--shape Z Y X] [--memory-shape Z Y X]``

* throughput: an SBEM render of ``--shape`` voxels (tissue time reported separately) against the
  floor, one Gaussian blur (the same in-plane sigma) plus one noise draw over the same voxels;
* memory: a chunked render of ``--memory-shape`` (default 256 x 2048 x 2048) streamed chunk by
  chunk (blocks are dropped as a zarr writer would), peak resident memory reported.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "scanners"))
import scanners  # noqa: E402
from scanner_tissues import random_cells  # noqa: E402


class TimedTissue:
    """Wraps a tissue function and accumulates the time spent rasterizing."""

    def __init__(self, tissue):
        self.tissue = tissue
        self.seconds = 0.0
        self.origin_nm, self.size_nm = tissue.origin_nm, tissue.size_nm
        self.n_barcode_proteins = tissue.n_barcode_proteins

    def __call__(self, *args):
        t = time.perf_counter()
        out = self.tissue(*args)
        self.seconds += time.perf_counter() - t
        return out

    def sections(self, *args):
        """A stack of boxes (``scanners.tissue.tissue_sections``: the wrapped tissue's own stacked
        call where it has one), timed the same way."""
        from scanners.tissue import tissue_sections

        t = time.perf_counter()
        out = tissue_sections(self.tissue, *args)
        self.seconds += time.perf_counter() - t
        return out


def throughput(shape):
    s = scanners.make_scanner({"preset": "sbem"})
    size = np.asarray(shape) * s.voxel_nm
    tissue = TimedTissue(random_cells(n_cells=40, size_nm=tuple(size), seed=0))
    t = time.perf_counter()
    for _ in s.render(tissue, (0, 0, 0), size, seed=0, chunk_shape=(32, 256, 256)):
        pass
    total = time.perf_counter() - t
    scanner_s = total - tissue.seconds
    x = np.random.default_rng(0).random(shape, dtype=np.float32)
    sig = s.config.psf_fwhm_nm / 2.3548 / s.voxel_nm[1]
    t = time.perf_counter()
    ndimage.gaussian_filter(x, (0, sig, sig))
    np.random.default_rng(1).standard_normal(shape, dtype=np.float32)
    floor_normal = time.perf_counter() - t
    t = time.perf_counter()
    np.random.default_rng(1).poisson(100.0, shape)
    poisson = time.perf_counter() - t
    n = np.prod(shape)
    print(f"EM throughput, {shape} = {n / 1e6:.1f} Mvoxels")
    print(f"  render total {total:.2f} s (tissue rasterization {tissue.seconds:.2f} s, scanner {scanner_s:.2f} s)")
    print(f"  floor: blur + normal draw {floor_normal:.2f} s; blur + poisson draw {floor_normal + poisson - 0:.2f} s")
    print(f"  scanner / floor(normal) = {scanner_s / floor_normal:.2f}x; "
          f"scanner / floor(poisson) = {scanner_s / (floor_normal + poisson):.2f}x")


def memory(shape):
    s = scanners.make_scanner({"preset": "sbem", "voxel_nm": [40, 16, 16]})
    size = np.asarray(shape) * s.voxel_nm
    tissue = random_cells(n_cells=60, size_nm=tuple(size), seed=1, with_synapses=False)
    t = time.perf_counter()
    n = 0
    for _, block in s.render(tissue, (0, 0, 0), size, seed=0, chunk_shape=(32, 512, 512)):
        n += block.size
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"EM memory, {shape}: {n / 1e6:.0f} Mvoxels in {time.perf_counter() - t:.0f} s, peak RSS {peak_gb:.2f} GB")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", type=int, nargs=3, default=(64, 512, 512))
    p.add_argument("--memory-shape", type=int, nargs=3, default=(256, 2048, 2048))
    p.add_argument("--skip-memory", action="store_true")
    a = p.parse_args()
    throughput(tuple(a.shape))
    if not a.skip_memory:
        memory(tuple(a.memory_shape))


if __name__ == "__main__":
    main()

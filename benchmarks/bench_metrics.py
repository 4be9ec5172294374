"""Benchmark: VI + ARAND of ``pretty_printer.scoring.metrics`` vs scikit-image on a 256^3 pair.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_metrics.py [--size 256] [--repeats 3]``

The pair is realistic rather than adversarial: ground truth is a Voronoi tessellation of
``--cells`` random seeds with a thin extracellular gap (label 0) between cells; the submission
splits every cell along a random plane (false splits), merges pairs of neighbours (false merges)
and leaves a few blocks unassigned (label 0).  Labels are uint32 as on disk.  Conventions are
aligned before comparing values: the submission's 0 voxels become singleton labels for
scikit-image, and ARAND is computed with ``count_self_pairs=False`` (scikit-image counts pairs
of distinct voxels); speed-up is for our default :func:`segmentation_scores`.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree


def make_pair(size: int, n_cells: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    seeds = rng.uniform(0, size, (n_cells, 3))
    grid = np.stack(np.meshgrid(*(np.arange(size, dtype=np.float32),) * 3, indexing="ij"), -1)
    d, idx = cKDTree(seeds).query(grid.reshape(-1, 3), k=2, workers=-1)
    gt = (idx[:, 0] + 1).astype(np.uint32)
    gt[(d[:, 1] - d[:, 0]) < 1.0] = 0  # extracellular gap between cells
    gt = gt.reshape((size,) * 3)

    seg = gt.copy()
    # Splits: every cell cut by a random plane through its seed.
    normals = rng.normal(size=(n_cells, 3))
    side = np.einsum("ij,ij->i", grid.reshape(-1, 3) - seeds[idx[:, 0]], normals[idx[:, 0]]) > 0
    seg = seg.reshape(-1)
    seg[side & (seg > 0)] += np.uint32(n_cells)
    # Merges: 10% of cells take the label of their nearest other cell.
    _, nn = cKDTree(seeds).query(seeds, k=2)
    merged = rng.choice(n_cells, n_cells // 10, replace=False)
    lut = np.arange(2 * n_cells + 1, dtype=np.uint32)
    lut[merged + 1] = nn[merged, 1] + 1
    seg = lut[seg]
    seg = seg.reshape((size,) * 3)
    # Unassigned blocks.
    for _ in range(8):
        z, y, x = rng.integers(0, size - 16, 3)
        seg[z:z + 16, y:y + 16, x:x + 16] = 0
    return gt, seg


def main() -> None:
    from skimage.metrics import adapted_rand_error, variation_of_information

    from pretty_printer.scoring.metrics.segmentation import contingency, scores_from_contingency, segmentation_scores

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256)
    p.add_argument("--cells", type=int, default=400)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    gt, seg = make_pair(args.size, args.cells, np.random.default_rng(args.seed))
    print(f"pair: {gt.shape} uint32, {len(np.unique(gt)) - 1} GT cells, "
          f"{len(np.unique(seg)) - 1} segments, {int(((seg == 0) & (gt > 0)).sum())} unassigned voxels inside cells")

    def best(fn):
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            out = fn()
            times.append(time.perf_counter() - t0)
        return min(times), out

    t_ours, ours = best(lambda: segmentation_scores(gt, seg))

    # scikit-image, with our conventions aligned: submission 0 -> singletons, GT 0 ignored.
    seg_sk = seg.astype(np.int64)
    zero = seg_sk == 0
    seg_sk[zero] = seg_sk.max() + 1 + np.arange(int(zero.sum()))

    def skimage_both():
        vi = variation_of_information(gt, seg_sk, ignore_labels=[0])
        ar = adapted_rand_error(gt, seg_sk, ignore_labels=[0])
        return vi, ar

    t_sk, (vi_sk, ar_sk) = best(skimage_both)
    aligned = scores_from_contingency(contingency(gt, seg), count_self_pairs=False)

    print(f"ours    : {t_ours:7.3f} s  vi_split={ours['vi_split']:.6f} vi_merge={ours['vi_merge']:.6f} "
          f"arand={ours['arand']:.6f}")
    print(f"skimage : {t_sk:7.3f} s  vi_split={vi_sk[0]:.6f} vi_merge={vi_sk[1]:.6f} "
          f"arand={ar_sk[0]:.6f} (pairs without self-pairs)")
    print(f"|diff| aligned: vi_split {abs(ours['vi_split'] - vi_sk[0]):.2e}, "
          f"vi_merge {abs(ours['vi_merge'] - vi_sk[1]):.2e}, arand {abs(aligned['arand'] - ar_sk[0]):.2e}")
    print(f"speed-up: {t_sk / t_ours:.1f}x (best of {args.repeats}; the skimage side excludes "
          f"the relabelling of unassigned voxels)")

    # Same pair with ids scattered over 2^40 (as agglomeration ids often are): forces the
    # sort-based path instead of the bincount one.
    scatter = np.uint64(2**40 // (2 * args.cells + 2))
    gw, sw = gt.astype(np.uint64) * scatter, seg.astype(np.uint64) * scatter
    t_w, wide = best(lambda: segmentation_scores(gw, sw))
    assert abs(wide["vi_split"] - ours["vi_split"]) < 1e-12
    print(f"ours, ids scattered up to 2^40 (sort path): {t_w:.3f} s, speed-up {t_sk / t_w:.1f}x")

    # The adversarial case, for honesty: i.i.d. random labels (no spatial coherence).
    rng = np.random.default_rng(args.seed + 1)
    g2 = rng.integers(0, 50, gt.shape).astype(np.uint32)
    s2 = rng.integers(1, 60, gt.shape).astype(np.uint32)
    t2, _ = best(lambda: segmentation_scores(g2, s2))
    t2s, _ = best(lambda: (variation_of_information(g2, s2, ignore_labels=[0]),
                            adapted_rand_error(g2, s2, ignore_labels=[0])))
    print(f"random labels (worst case): ours {t2:.3f} s, skimage {t2s:.3f} s, speed-up {t2s / t2:.1f}x")


if __name__ == "__main__":
    main()

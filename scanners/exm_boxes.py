"""The boxes an ExM chunk really needs: what the warp reads, and where a sparse stain is not zero.

* :func:`warp_reach`: the raster box the warp's trilinear interpolation reads (the least and
  greatest corner of any round), instead of the chunk plus a halo as wide as the largest
  displacement the deformation could ever make.
* :func:`warp_sparse` and :func:`blur_sparse`: a receptor or channel stain is non-zero at a few
  synapses of a chunk.  Where all eight corners of an output voxel are zero its interpolated value
  is ``+0.0``, and a Gaussian pass over zeros gives ``+0.0``, so only the box around the non-zero
  voxels is warped and blurred (a margin of the kernel radius plus one keeps every pass reading
  the same values, zeros beyond the box, as over the whole grid); everything else is zero.  The
  bits are those of warping and blurring the whole grid (``tests/scanners/test_fast_paths.py``).
"""

from __future__ import annotations

import numpy as np

from .exm_kernel import nonzero_box
from .psf import blur
from .warp_kernel import trilinear_shifted


def warp_reach(ud: np.ndarray, shifts) -> tuple[np.ndarray, np.ndarray]:
    """The box ``[lo, hi)`` (3 ints each, relative to the sampling grid's first voxel) that
    trilinear sampling at ``float64(ud[d] + sd[d]) + index_d`` reads, for every ``sd`` in ``shifts``.

    ``lo`` is the least ``floor`` of a coordinate and ``hi - 1`` the greatest ``floor`` plus one,
    so inside the box no corner is clamped: values sampled from it are those sampled from any larger
    box of the same tissue (the coordinates differ by an exact integer).  float32 addition is
    monotone, so per index the extreme coordinate comes from the extreme displacement.
    """
    lo, hi = np.empty(3, int), np.empty(3, int)
    for d in range(3):
        other = tuple(a for a in range(3) if a != d)
        idx = np.arange(ud.shape[1 + d], dtype=np.float64)
        umin, umax = ud[d].min(axis=other), ud[d].max(axis=other)
        lo[d] = int(np.floor(min(((umin + sd[d]).astype(np.float64) + idx).min() for sd in shifts)))
        hi[d] = int(np.floor(max(((umax + sd[d]).astype(np.float64) + idx).max() for sd in shifts))) + 2
    return lo, hi


def warp_sparse(values: np.ndarray, ud: np.ndarray, sd: np.ndarray, off: np.ndarray, ud_range,
                dense_fraction: float = 0.5):
    """``trilinear_shifted(values[None], ud, sd, off)[0]`` computed only where it can be non-zero.

    Parameters
    ----------
    values : float32 (z, y, x)
        One channel on the raster box.
    ud, sd, off
        As :func:`scanners.warp_kernel.trilinear_shifted` (``off`` float64).
    ud_range : (3, 2) float32
        Least and greatest of ``ud[d]`` over the grid, per axis.
    dense_fraction : float
        If the non-zero voxels' box holds more than this fraction of the raster box, return None
        (warp the channel with the others).

    Returns
    -------
    (warped, region) or None
        ``warped`` float32 of ``ud.shape[1:]``; ``region`` the (start, stop) per axis outside which
        it is zero.
    """
    a, b = nonzero_box(values)
    m = np.array(ud.shape[1:])
    out = np.zeros(tuple(m), np.float32)
    if np.any(b <= a):
        return out, ((0, 0),) * 3
    if np.prod(b - a) > dense_fraction * values.size:
        return None
    # output i reads rows floor(c), floor(c) + 1 with c in [i + off + tmin, i + off + tmax]
    # (float32 addition is monotone): both outside [a, b - 1] unless i lies in [i0, i1)
    tmin = np.array([np.float32(ud_range[d][0] + sd[d]) for d in range(3)], np.float64)
    tmax = np.array([np.float32(ud_range[d][1] + sd[d]) for d in range(3)], np.float64)
    i0 = np.maximum(0, np.floor(a - 2 - off - tmax).astype(int))
    i1 = np.minimum(m, np.floor(b + 1 - off - tmin).astype(int) + 2)
    if np.any(i1 <= i0):
        return out, ((0, 0),) * 3
    box = tuple(slice(p, q) for p, q in zip(i0, i1))
    part = np.ascontiguousarray(ud[(slice(None),) + box])
    out[box] = trilinear_shifted(values[None], part, sd, np.asarray(off, np.float64) + i0)[0]
    return out, tuple(zip(i0, i1))


def blur_sparse(img: np.ndarray, sigma, radius, inner, region) -> np.ndarray:
    """``blur(img, sigma, inner)`` for an ``img`` that is zero outside ``region`` ((start, stop) per
    axis): only the region grown by ``radius + 1`` (each axis' kernel radius) is filtered."""
    shape = tuple(s.stop - s.start for s in inner)
    out = np.zeros(shape, np.float32)
    box, keep, dst = [], [], []
    for (p, q), r, s, n in zip(region, radius, inner, img.shape):
        if q <= p:
            return out
        p, q = max(0, p - r - 1), min(n, q + r + 1)
        lo, hi = max(p, s.start), min(q, s.stop)
        if hi <= lo:
            return out
        box.append(slice(p, q))
        keep.append(slice(lo - p, hi - p))
        dst.append(slice(lo - s.start, hi - s.start))
    out[tuple(dst)] = blur(img[tuple(box)], sigma, tuple(keep))
    return out

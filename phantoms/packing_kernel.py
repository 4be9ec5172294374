"""The nearest-surface kernel of dense neuropil, compiled with numba (one loop per primitive).

For every voxel centre inside a primitive's bounds, ``s = |x - axis point| - r(t)`` of that
round cone is folded into the two smallest values of *different* cells.  Values at or beyond
``cap`` carry no information and are skipped: a voxel outside a primitive's bounds always has
``s >= cap``, so which primitives a chunk visits never changes a voxel's result.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _fold(zc, yc, xc, a, b, ra, rb, cid, lo, hi, cap, s1, id1, s2, id2):  # pragma: no cover - compiled
    for p in range(a.shape[0]):
        i0, i1 = np.searchsorted(zc, lo[p, 0]), np.searchsorted(zc, hi[p, 0], side="right")
        j0, j1 = np.searchsorted(yc, lo[p, 1]), np.searchsorted(yc, hi[p, 1], side="right")
        k0, k1 = np.searchsorted(xc, lo[p, 2]), np.searchsorted(xc, hi[p, 2], side="right")
        dz, dy, dx = b[p, 0] - a[p, 0], b[p, 1] - a[p, 1], b[p, 2] - a[p, 2]
        L2 = dz * dz + dy * dy + dx * dx
        inv = 1.0 / L2 if L2 > 0.0 else 0.0
        r0, dr, c = ra[p], rb[p] - ra[p], cid[p]
        if L2 == 0.0:  # a zero-length segment is a sphere of its larger radius
            r0, dr = max(ra[p], rb[p]), 0.0
        for i in range(i0, i1):
            pz = zc[i] - a[p, 0]
            for j in range(j0, j1):
                py = yc[j] - a[p, 1]
                for k in range(k0, k1):
                    px = xc[k] - a[p, 2]
                    t = (pz * dz + py * dy + px * dx) * inv
                    t = min(max(t, 0.0), 1.0)
                    ez, ey, ex = pz - t * dz, py - t * dy, px - t * dx
                    s = np.sqrt(ez * ez + ey * ey + ex * ex) - (r0 + t * dr)
                    if s >= cap:
                        continue
                    if id1[i, j, k] == c:
                        if s < s1[i, j, k]:
                            s1[i, j, k] = s
                    elif s < s1[i, j, k]:
                        s2[i, j, k], id2[i, j, k] = s1[i, j, k], id1[i, j, k]
                        s1[i, j, k], id1[i, j, k] = s, c
                    elif s < s2[i, j, k]:
                        s2[i, j, k], id2[i, j, k] = s, c


def fold_nearest(centers, a, b, ra, rb, cid, lo, hi, cap: float):
    """``(s1, id1, s2, id2)`` on the grid ``centers`` (three 1-D float64 axes), ``cap`` where none."""
    shape = tuple(len(c) for c in centers)
    s1 = np.full(shape, cap, np.float64)
    s2 = np.full(shape, cap, np.float64)
    id1 = np.zeros(shape, np.uint32)
    id2 = np.zeros(shape, np.uint32)
    if len(a):
        _fold(*(np.ascontiguousarray(c, np.float64) for c in centers), np.ascontiguousarray(a, np.float64),
              np.ascontiguousarray(b, np.float64), np.ascontiguousarray(ra, np.float64),
              np.ascontiguousarray(rb, np.float64), np.ascontiguousarray(cid, np.uint32),
              np.ascontiguousarray(lo, np.float64), np.ascontiguousarray(hi, np.float64),
              float(cap), s1, id1, s2, id2)
    return s1, id1, s2, id2


@njit(cache=True)
def _depth(s1, s2, fill, gap, cap, has_cap, out):  # pragma: no cover - compiled
    for i in range(s1.size):
        a, b = s1.flat[i], s2.flat[i]
        d = min(fill - a, 0.5 * (b - a - gap))
        if has_cap:
            if b >= cap:
                d = fill - a
            if a >= cap:
                d = -np.inf
        out.flat[i] = np.float32(d)


def dense_depth_kernel(s1, s2, fill: float, gap: float, cap) -> np.ndarray | None:
    """:func:`phantoms.rasterize.dense_depth` in one compiled pass (same float64 steps, one
    rounding to float32), or None if the inputs are not two float64 arrays of one shape."""
    if not (isinstance(s1, np.ndarray) and isinstance(s2, np.ndarray) and s1.shape == s2.shape
            and s1.dtype == np.float64 and s2.dtype == np.float64):
        return None
    out = np.empty(s1.shape, np.float32)
    _depth(np.ascontiguousarray(s1), np.ascontiguousarray(s2), float(fill), float(gap),
           0.0 if cap is None else float(cap), cap is not None, out)
    return out


@njit(cache=True)
def _meeting(lo, hi, blo, bhi, start, stop):  # pragma: no cover - compiled
    out = np.empty(max(stop - start, 0), np.int64)
    n = 0
    for p in range(start, stop):
        if (hi[p, 0] >= blo[0] and hi[p, 1] >= blo[1] and hi[p, 2] >= blo[2]
                and lo[p, 0] <= bhi[0] and lo[p, 1] <= bhi[1] and lo[p, 2] <= bhi[2]):
            out[n] = p
            n += 1
    return out[:n]


def boxes_meeting(lo, hi, box_lo, box_hi, start: int = 0, stop: int | None = None) -> np.ndarray:
    """Increasing indices ``i`` in ``[start, stop)`` with ``all(hi[i] >= box_lo) and
    all(lo[i] <= box_hi)`` ((N, 3) bounds): the per-call prefilter in one compiled pass
    (``np.flatnonzero`` of the same comparisons made six whole-column temporaries per call)."""
    lo = np.ascontiguousarray(lo, np.float64).reshape(-1, 3)
    hi = np.ascontiguousarray(hi, np.float64).reshape(-1, 3)
    stop = len(lo) if stop is None else stop
    return _meeting(lo, hi, np.asarray(box_lo, np.float64).reshape(3), np.asarray(box_hi, np.float64).reshape(3),
                    int(start), int(stop))

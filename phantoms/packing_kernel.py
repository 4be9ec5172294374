"""The nearest-surface kernel of dense neuropil, compiled with numba (one loop per primitive).

For every voxel centre inside a primitive's bounds, ``s = |x - axis point| - r(t)`` of that
round cone is folded into the two smallest values of *different* cells.  Values at or beyond
``cap`` carry no information and are skipped: a voxel outside a primitive's bounds always has
``s >= cap``, so which primitives a chunk visits never changes a voxel's result.

Two cuts leave every bit as the plain fold (``tests/phantoms/test_fast_kernels.py``): each row
of voxels (fixed z, y) is visited only where it passes within ``cap + max radius`` (padded by
1 nm) of the segment, as ``s >= |x - segment| - max radius`` is ``cap`` or more elsewhere; and a
value ``s >= s2`` (``s2 <= cap``) is dropped before the cell-id tests, as it changes neither.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _row_span(pz, py, lim, ux, uy, uz, L, sphere):  # pragma: no cover - compiled
    """``(lo, hi)``: the ``px = x - a_x`` of a row of voxel centres (fixed ``pz``, ``py``) that can
    lie within ``lim`` of the segment from 0 to ``L * u`` (all of it when the bound is not
    finite): the row inside the cylinder of radius ``lim`` round the segment's line, cut to the
    slab ``-lim <= (p . u) <= L + lim``.  A superset of the points within ``lim``."""
    if sphere:
        c = lim * lim - pz * pz - py * py
        if c < 0.0:
            return 1.0, -1.0
        h = np.sqrt(c)
        return -h, h
    q = pz * uz + py * uy  # p . u without its x part
    A = 1.0 - ux * ux
    B = -2.0 * q * ux
    C = pz * pz + py * py - q * q - lim * lim
    lo, hi = -np.inf, np.inf
    if A > 1e-12:
        disc = B * B - 4.0 * A * C
        if disc < 0.0:
            return 1.0, -1.0
        h = np.sqrt(disc)
        lo, hi = (-B - h) / (2.0 * A), (-B + h) / (2.0 * A)
    elif C > 0.0:  # the row runs parallel to the line, outside the cylinder
        return 1.0, -1.0
    if abs(ux) > 1e-12:  # the slab along the line: -lim <= q + px * ux <= L + lim
        s0, s1 = (-lim - q) / ux, (L + lim - q) / ux
        lo, hi = max(lo, min(s0, s1)), min(hi, max(s0, s1))
    elif q < -lim or q > L + lim:
        return 1.0, -1.0
    return lo, hi


@njit(cache=True, inline="always")
def _x_range(xc, xlo, xhi, k0, k1, x_first, x_inv):  # pragma: no cover - compiled
    """``(ka, kb)`` within ``[k0, k1)`` holding every centre of ``xc`` (increasing) in
    ``[xlo, xhi]``: guessed from the mean spacing, then walked out until the next centre lies
    outside (so exact for any increasing axis, and a voxel wider where the guess overshoots)."""
    ka, kb = k0, k1
    if xlo > -np.inf:
        ka = min(max(k0, int(np.floor((xlo - x_first) * x_inv)) - 1), k1)
        while ka > k0 and xc[ka - 1] >= xlo:
            ka -= 1
    if xhi < np.inf:
        kb = max(min(k1, int(np.ceil((xhi - x_first) * x_inv)) + 2), k0)
        while kb < k1 and xc[kb] <= xhi:
            kb += 1
    return ka, kb


@njit(cache=True)
def _fold(zc, yc, xc, a, b, ra, rb, cid, lo, hi, cap, s1, id1, s2, id2):  # pragma: no cover - compiled
    x_first = xc[0] if xc.shape[0] else 0.0
    x_inv = (xc.shape[0] - 1) / (xc[-1] - xc[0]) if xc.shape[0] > 1 and xc[-1] > xc[0] else 0.0
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
        # rows are cut to where s < cap is possible: s >= |x - segment| - max radius; the bound
        # is padded (1 nm + 1e-9 relative) far beyond rounding, so no voxel with s < cap is cut
        L = np.sqrt(L2)
        lim = cap + max(ra[p], rb[p])
        lim = lim + 1.0 + 1e-9 * abs(lim)
        Ls = L if L > 0.0 else 1.0
        ux, uy, uz = dx / Ls, dy / Ls, dz / Ls
        for i in range(i0, i1):
            pz = zc[i] - a[p, 0]
            for j in range(j0, j1):
                py = yc[j] - a[p, 1]
                xlo, xhi = _row_span(pz, py, lim, ux, uy, uz, L, L2 == 0.0)
                if xhi < xlo:
                    continue
                ka, kb = _x_range(xc, a[p, 2] + xlo, a[p, 2] + xhi, k0, k1, x_first, x_inv)
                for k in range(ka, kb):
                    px = xc[k] - a[p, 2]
                    t = (pz * dz + py * dy + px * dx) * inv
                    t = min(max(t, 0.0), 1.0)
                    ez, ey, ex = pz - t * dz, py - t * dy, px - t * dx
                    s = np.sqrt(ez * ez + ey * ey + ex * ex) - (r0 + t * dr)
                    if s >= s2[i, j, k]:  # s2 <= cap: neither value changes
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

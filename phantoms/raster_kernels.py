"""Compiled (numba) loops of the rasterizer's per-object fields: the same float32 formulas as
their numpy versions, without a Python iteration and a dozen temporaries per object."""

from __future__ import annotations

import numpy as np
from numba import njit

from .packing_kernel import _depth, _fold, _meeting


@njit(cache=True, inline="always")
def _span(lo, hi, origin, voxel, n):  # pragma: no cover - compiled
    """``_Grid.window`` along one axis: ``(i0, i1)``, empty if ``i1 <= i0``."""
    i0 = max(0, int(np.floor((lo - origin) / voxel - 0.5)))
    i1 = min(n, int(np.ceil((hi - origin) / voxel + 0.5)) + 1)
    return i0, i1


@njit(cache=True, inline="always")
def _box(lo, hi, origin, voxel, shape):  # pragma: no cover - compiled
    """:func:`_span` on the three axes of the box ``lo``-``hi`` (nm, rows of 3):
    ``(z0, z1, y0, y1, x0, x1)``; empty where any ``i1 <= i0``."""
    z0, z1 = _span(lo[0], hi[0], origin[0], voxel[0], shape[0])
    y0, y1 = _span(lo[1], hi[1], origin[1], voxel[1], shape[1])
    x0, x1 = _span(lo[2], hi[2], origin[2], voxel[2], shape[2])
    return z0, z1, y0, y1, x0, x1


@njit(cache=True, inline="always")
def _dist2_t(dz, dy, dx, d0, d1, d2, inv, sphere):  # pragma: no cover - compiled
    """Squared distance (float32) from the offset ``(dz, dy, dx)`` (voxel centre minus the cone's
    start) to the segment ``(d0, d1, d2)``, and the clamped position ``t`` along it
    (``inv = float32(1 / |d|^2)``; a sphere: ``t = 0``): :func:`phantoms.raster_geometry._cone_eval`'s
    float32 steps."""
    if sphere:
        return dz * dz + dy * dy + dx * dx, np.float32(0.0)
    t = (dz * d0 + dy * d1 + dx * d2) * inv
    t = min(max(t, np.float32(0.0)), np.float32(1.0))
    ez = dz - t * d0
    ey = dy - t * d1
    ex = dx - t * d2
    return ez * ez + ey * ey + ex * ex, t


@njit(cache=True)
def vesicle_fill(out, zc, yc, xc, origin, voxel, centres, radii, rr, flat, axes, ff):  # pragma: no cover
    """Set ``out`` to 1 inside each vesicle (centre, radius; ``rr = float32(r * r)``; a flattened
    one (``flat < 1``) with its short ``axes`` row and ``ff = float32((flat * r) ** 2)``), as
    :func:`phantoms.raster_synapses._vesicles` does with numpy."""
    for v in range(centres.shape[0]):
        c0, c1, c2, r = centres[v, 0], centres[v, 1], centres[v, 2], radii[v]
        z0, z1 = _span(c0 - r, c0 + r, origin[0], voxel[0], out.shape[0])
        y0, y1 = _span(c1 - r, c1 + r, origin[1], voxel[1], out.shape[1])
        x0, x1 = _span(c2 - r, c2 + r, origin[2], voxel[2], out.shape[2])
        if z1 <= z0 or y1 <= y0 or x1 <= x0:
            continue
        e0, e1, e2 = np.float32(axes[v, 0]), np.float32(axes[v, 1]), np.float32(axes[v, 2])
        for i in range(z0, z1):
            dz = np.float32(zc[i] - c0)
            for j in range(y0, y1):
                dy = np.float32(yc[j] - c1)
                for k in range(x0, x1):
                    dx = np.float32(xc[k] - c2)
                    d2 = dz * dz + dy * dy + dx * dx
                    if flat[v] >= 1.0:
                        if d2 < rr[v]:
                            out[i, j, k] = 1.0
                    else:
                        along = dz * e0 + dy * e1 + dx * e2
                        q = (d2 - along * along) / rr[v] + along * along / ff[v]
                        if q < 1.0:
                            out[i, j, k] = 1.0


@njit(cache=True)
def cones_depth_max(depth, zc, yc, xc, A, B, RA, RB):  # pragma: no cover - compiled
    """``depth = maximum(depth, r(t) - d)`` for each round cone (rows of A, B, RA, RB) at the
    voxel centres ``zc x yc x xc``: :func:`phantoms.raster_geometry._cone_eval` (depth form)
    folded with ``np.maximum``, the same float32 steps voxel by voxel."""
    for p in range(A.shape[0]):
        a0, a1, a2 = A[p, 0], A[p, 1], A[p, 2]
        d0, d1, d2 = np.float32(B[p, 0] - a0), np.float32(B[p, 1] - a1), np.float32(B[p, 2] - a2)
        L2 = np.float64(d0 * d0 + d1 * d1 + d2 * d2)
        ra, rb = RA[p], RB[p]
        sphere = L2 == 0.0
        inv = np.float32(1.0 / L2) if not sphere else np.float32(0.0)
        r_s = np.float32(max(ra, rb))
        r_a, dr = np.float32(ra), np.float32(rb - ra)
        for i in range(zc.shape[0]):
            dz = np.float32(zc[i] - a0)
            for j in range(yc.shape[0]):
                dy = np.float32(yc[j] - a1)
                for k in range(xc.shape[0]):
                    dx = np.float32(xc[k] - a2)
                    dist2, t = _dist2_t(dz, dy, dx, d0, d1, d2, inv, sphere)
                    if sphere:
                        r = r_s
                    else:
                        r = r_a if ra == rb else r_a + t * dr
                    v = r - np.sqrt(dist2)
                    old = depth[i, j, k]
                    if not (old >= v or np.isnan(old)):  # np.maximum(old, v)
                        depth[i, j, k] = v


@njit(cache=True)
def organelle_fill(mito, nuc, ids, depth, zc, yc, xc, origin, voxel, idx, A, B, R, lo, hi, is_nuc):  # pragma: no cover
    """:func:`phantoms.organelle_fields.organelle_fields`'s loop, compiled: for each organelle
    ``p`` in ``idx`` (increasing), over its window (``_Grid.window`` of ``lo[p], hi[p]``),
    ``val = r - d`` of its round cone (``_cone_eval``'s float32 steps, ``ra == rb``); where
    ``val > 0``: ``nuc`` or ``mito`` = 1 and ``ids`` = p + 1; ``depth = maximum(depth, val)``
    (``depth`` of shape (0, 0, 0): not wanted)."""
    want_depth = depth.shape[0] > 0
    for n in range(idx.shape[0]):
        p = idx[n]
        z0, z1, y0, y1, x0, x1 = _box(lo[p], hi[p], origin, voxel, ids.shape)
        if z1 <= z0 or y1 <= y0 or x1 <= x0:
            continue
        a0, a1, a2 = A[p, 0], A[p, 1], A[p, 2]
        d0, d1, d2 = np.float32(B[p, 0] - a0), np.float32(B[p, 1] - a1), np.float32(B[p, 2] - a2)
        L2 = np.float64(d0 * d0 + d1 * d1 + d2 * d2)
        sphere = L2 == 0.0
        inv = np.float32(1.0 / L2) if not sphere else np.float32(0.0)
        r = np.float32(R[p])
        target = nuc if is_nuc[p] else mito
        for i in range(z0, z1):
            dz = np.float32(zc[i] - a0)
            for j in range(y0, y1):
                dy = np.float32(yc[j] - a1)
                for k in range(x0, x1):
                    dx = np.float32(xc[k] - a2)
                    dist2, _ = _dist2_t(dz, dy, dx, d0, d1, d2, inv, sphere)
                    v = r - np.sqrt(dist2)
                    if v > 0:
                        target[i, j, k] = 1.0
                        ids[i, j, k] = p + 1
                    if want_depth:
                        old = depth[i, j, k]
                        if not (old >= v or np.isnan(old)):  # np.maximum(old, v)
                            depth[i, j, k] = v


@njit(cache=True)
def membrane_shell(depth, w, t, half, out):  # pragma: no cover - compiled
    """:func:`phantoms.raster_geometry._membrane` voxel by voxel (float32 ``w``, ``t``, ``half``):
    where ``depth > -half``, ``clip((min(d + half, t) - max(d - half, 0)) / w, 0, 1)``, else 0."""
    zero, one = np.float32(0.0), np.float32(1.0)
    for i in range(depth.size):
        d = depth.flat[i]
        if d > -half:
            a = d + half
            lo = d - half
            f = ((a if a < t else t) - (lo if lo > zero else zero)) / w
            out.flat[i] = zero if f < zero else (one if f > one else f)


@njit(cache=True)
def _run_depth(depth, zc, yc, xc, start, stop, A, B, RA, RB, LO, HI, margin):  # pragma: no cover - compiled
    """:func:`phantoms.raster_geometry._cell_depth_window` for a cell whose cones are rows
    ``start:stop``: the rows whose boxes meet the window's centres padded by ``margin``, folded in order."""
    lo0, lo1, lo2 = zc[0] - margin, yc[0] - margin, xc[0] - margin
    hi0, hi1, hi2 = zc[zc.shape[0] - 1] + margin, yc[yc.shape[0] - 1] + margin, xc[xc.shape[0] - 1] + margin
    for p in range(start, stop):
        if (HI[p, 0] >= lo0 and HI[p, 1] >= lo1 and HI[p, 2] >= lo2
                and LO[p, 0] <= hi0 and LO[p, 1] <= hi1 and LO[p, 2] <= hi2):
            cones_depth_max(depth, zc, yc, xc, A[p:p + 1], B[p:p + 1], RA[p:p + 1], RB[p:p + 1])


@njit(cache=True)
def synapse_fill(cleft, psd, zc, yc, xc, origin, voxel, idx, lo, hi, post, u, r2, reach, psd_nm, pre_nm, runs,
                 A, B, RA, RB, LO, HI, margin, want_cleft, want_psd):  # pragma: no cover - compiled
    """Clefts and pre/post densities of synapses ``idx``, as :func:`phantoms.raster_synapses._synaptic`
    does with numpy: over each synapse's window, in its disc (``r2 = float32(r * r)`` round the
    post point along ``u``), cleft where both cells' depths lie in ``(reach, 0]``, density where the
    post depth is in ``(0, psd_nm]`` or the pre depth in ``(0, pre_nm]`` (float32 thresholds).
    ``runs[i]``: the rows of the post and the pre cell's cones, ``(start, stop, start, stop)``;
    ``margin[i]``: the cells' depth margin (``raster_synapses._depth_margin``)."""
    for n in range(idx.shape[0]):
        i = idx[n]
        z0, z1, y0, y1, x0, x1 = _box(lo[i], hi[i], origin, voxel, cleft.shape)
        if z1 <= z0 or y1 <= y0 or x1 <= x0:
            continue
        wz, wy, wx = zc[z0:z1], yc[y0:y1], xc[x0:x1]
        d_post = np.full((z1 - z0, y1 - y0, x1 - x0), -np.inf, np.float32)
        d_pre = np.full((z1 - z0, y1 - y0, x1 - x0), -np.inf, np.float32)
        _run_depth(d_post, wz, wy, wx, runs[i, 0], runs[i, 1], A, B, RA, RB, LO, HI, margin[i])
        _run_depth(d_pre, wz, wy, wx, runs[i, 2], runs[i, 3], A, B, RA, RB, LO, HI, margin[i])
        u0, u1, u2 = np.float32(u[i, 0]), np.float32(u[i, 1]), np.float32(u[i, 2])
        zero = np.float32(0.0)
        for a in range(z0, z1):
            dz = np.float32(zc[a] - post[i, 0])
            for b in range(y0, y1):
                dy = np.float32(yc[b] - post[i, 1])
                for c in range(x0, x1):
                    dx = np.float32(xc[c] - post[i, 2])
                    axial = dz * u0 + dy * u1 + dx * u2
                    ez = dz - axial * u0
                    ey = dy - axial * u1
                    ex = dx - axial * u2
                    if not ((ez * ez + ey * ey + ex * ex) <= r2[i]):
                        continue
                    dp, dq = d_post[a - z0, b - y0, c - x0], d_pre[a - z0, b - y0, c - x0]
                    if want_cleft and dp <= zero and dq <= zero and dp > reach[i] and dq > reach[i]:
                        cleft[a, b, c] = 1.0
                    if want_psd and ((dp > zero and dp <= psd_nm[i]) or (dq > zero and dq <= pre_nm[i])):
                        psd[a, b, c] = 1.0


# --------------------------------------------------------------------------- stacks of sections
# A scanner imaging sections one by one (EM) rasterizes boxes of one shape and voxel at corners of
# their own (each section has its own misalignment shift).  These loops run the per-box kernels over
# such a stack in one call: for box ``q`` the objects are picked by the same bounds test as the
# per-box prefilter (``packing_kernel.boxes_meeting`` on box q), in the same increasing order, and
# passed to the same kernel on box q's own centres, so each box gets the bits of its own call.


@njit(cache=True)
def dense_sections(zc, yc, xc, blo, bhi, a, b, ra, rb, cid, lo, hi, cap, fill, gap, reach, labels,
                   depth):  # pragma: no cover - compiled
    """``packing_kernel.fold_nearest`` on each box ``q`` of a stack (centres ``zc[q]``, ``yc[q]``,
    ``xc[q]``: rows of (K, n) float64 arrays; bounds ``blo[q]``-``bhi[q]``), then ``rasterize.dense_depth`` (``cap = reach``) and the labels
    (``where(depth > 0, id1, 0)``) of each box, through one box's scratch ``s1, id1, s2, id2``
    (set to ``cap`` / 0 for each box, as ``fold_nearest`` does): fills ``labels`` (uint32) and
    ``depth`` (float32), both (K, nz, ny, nx)."""
    shape = labels.shape[1:]
    s1, s2 = np.empty(shape, np.float64), np.empty(shape, np.float64)
    id1, id2 = np.empty(shape, np.uint32), np.empty(shape, np.uint32)
    for q in range(zc.shape[0]):
        s1[:] = cap
        s2[:] = cap
        id1[:] = 0
        id2[:] = 0
        sel = _meeting(lo, hi, blo[q], bhi[q], 0, lo.shape[0])
        if sel.shape[0]:
            _fold(zc[q], yc[q], xc[q], a[sel], b[sel], ra[sel], rb[sel], cid[sel], lo[sel], hi[sel], cap,
                  s1, id1, s2, id2)
        dq, lq = depth[q], labels[q]
        _depth(s1, s2, fill, gap, reach, True, dq)
        for i in range(dq.size):
            lq.flat[i] = id1.flat[i] if dq.flat[i] > 0 else np.uint32(0)


@njit(cache=True)
def organelle_fill_sections(mito, nuc, ids, depth, zc, yc, xc, origin, voxel, blo, bhi, A, B, R, lo, hi,
                            is_nuc):  # pragma: no cover - compiled
    """:func:`organelle_fill` on each box ``q`` of a stack (``origin[q]``: its corner; ``depth`` of
    shape (K, 0, 0, 0): not wanted)."""
    for q in range(zc.shape[0]):
        idx = _meeting(lo, hi, blo[q], bhi[q], 0, lo.shape[0])
        if idx.shape[0]:
            organelle_fill(mito[q], nuc[q], ids[q], depth[q], zc[q], yc[q], xc[q], origin[q], voxel, idx, A, B, R,
                           lo, hi, is_nuc)


@njit(cache=True)
def boxes_meet_any(lo, hi, blo, bhi):  # pragma: no cover - compiled
    """(K,) bool: whether any box ``lo[i]``-``hi[i]`` meets box ``blo[q]``-``bhi[q]`` (the
    ``boxes_meeting`` test)."""
    out = np.zeros(blo.shape[0], np.bool_)
    for q in range(blo.shape[0]):
        out[q] = _meeting(lo, hi, blo[q], bhi[q], 0, lo.shape[0]).shape[0] > 0
    return out

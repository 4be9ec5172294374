"""The geometry under rasterization: a phantom's round cones as flat arrays, the voxel-centre
lattice of a box, and the per-voxel depth of a round cone, a cell or a membrane shell.

Every formula here is elementwise in the voxel's own (snapped) coordinates, which is what makes a
chunked rasterization equal to the whole one (see :mod:`phantoms.rasterize`).
"""

from __future__ import annotations

import numpy as np

from .packing_kernel import boxes_meeting
from .phantom import SWC_SOMA, Phantom

_SNAP = 1024.0


class _Primitives:
    """All round cones of a phantom as flat arrays (cell order, then node order).

    ``lo``/``hi`` bound where a primitive can decide a voxel: its round cone, plus (dense
    tissue) ``fill_nm + gap_nm``, the farthest a cell's label reaches beyond its skeleton radius.
    """

    def __init__(self, ph: Phantom):
        a, b, ra, rb, cid = [], [], [], [], []
        somata = [(sk.nodes_nm[0], sk.radii_nm[0]) for sk in ph.background_skeletons]
        centers = list(ph.soma_centers) + [c for c, _ in somata]
        radii = list(ph.soma_radii) + [r for _, r in somata]
        for c, center, R, sk in zip(ph.all_cell_ids, centers, radii, ph.all_skeletons):
            center = np.asarray(center, float)
            a.append(center[None]), b.append(center[None]), ra.append([R]), rb.append([R]), cid.append([c])
            child = np.flatnonzero(sk.parent >= 0)
            # segments hanging off the soma node start inside the soma sphere: the sphere stands in
            child = child[sk.types[sk.parent[child]] != SWC_SOMA]
            par = sk.parent[child]
            a.append(sk.nodes_nm[par]), b.append(sk.nodes_nm[child])
            ra.append(sk.radii_nm[par]), rb.append(sk.radii_nm[child]), cid.append(np.full(len(child), c))
        self.a = np.concatenate(a).reshape(-1, 3)
        self.b = np.concatenate(b).reshape(-1, 3)
        self.ra = np.concatenate(ra).astype(float)
        self.rb = np.concatenate(rb).astype(float)
        self.cid = np.concatenate(cid).astype(np.uint32)
        self.reach = float(ph.packing.get("fill_nm", 0.0) + ph.packing.get("gap_nm", 0.0)) if ph.packing else 0.0
        rmax = np.maximum(self.ra, self.rb)[:, None] + self.reach
        self.lo = np.minimum(self.a, self.b) - rmax
        self.hi = np.maximum(self.a, self.b) + rmax
        # each cell's cones are one run of rows (cell order): cid -> [(start, stop), ...]
        cut = [0] + list(np.flatnonzero(self.cid[1:] != self.cid[:-1]) + 1) + [len(self.cid)]
        self._runs = {}
        for s0, s1 in zip(cut[:-1], cut[1:]):
            if s1 > s0:
                self._runs.setdefault(int(self.cid[s0]), []).append((int(s0), int(s1)))

    def cell_range(self, cid: int) -> tuple[int, int] | None:
        """``(start, stop)``: the rows of cell ``cid``'s cones if they are one run (``(0, 0)``: it
        has none; None: several runs)."""
        runs = self._runs.get(int(cid), [])
        return (0, 0) if not runs else runs[0] if len(runs) == 1 else None


def primitives(ph: Phantom) -> _Primitives:
    cached = ph.__dict__.get("_primitives")
    if cached is None:
        cached = _Primitives(ph)
        object.__setattr__(ph, "_primitives", cached)
    return cached


class _Grid:
    """Voxel-centre coordinates of the box, per axis."""

    def __init__(self, origin_nm, shape, voxel_nm):
        self.origin = np.asarray(origin_nm, float).reshape(3)
        self.shape = tuple(int(s) for s in shape)
        self.voxel = np.broadcast_to(np.asarray(voxel_nm, float), (3,)).copy()
        if len(self.shape) != 3 or min(self.shape) < 0:
            raise ValueError(f"shape: expected 3 non-negative ints (z, y, x), got {shape!r}")
        if np.any(self.voxel <= 0):
            raise ValueError(f"voxel_nm: expected positive sizes, got {voxel_nm!r}")
        self.centers = [np.round((self.origin[k] + (np.arange(self.shape[k]) + 0.5) * self.voxel[k]) * _SNAP) / _SNAP
                        for k in range(3)]

    def window(self, lo, hi):
        """Index slices of the voxels whose centres may lie in ``[lo, hi]`` (None if none)."""
        sl = []
        for k in range(3):
            i0 = max(0, int(np.floor((lo[k] - self.origin[k]) / self.voxel[k] - 0.5)))
            i1 = min(self.shape[k], int(np.ceil((hi[k] - self.origin[k]) / self.voxel[k] + 0.5)) + 1)
            if i1 <= i0:
                return None
            sl.append(slice(i0, i1))
        return tuple(sl)

    def rel(self, sl, point):
        """Per-axis float32 offsets of voxel centres from ``point``, shaped for broadcasting."""
        out = []
        for k in range(3):
            v = (self.centers[k][sl[k]] - point[k]).astype(np.float32)
            shape = [1, 1, 1]
            shape[k] = len(v)
            out.append(v.reshape(shape))
        return out


def _cone_eval(g: _Grid, sl, a, b, ra, rb, want_depth: bool):
    """``r(t)^2 - d^2`` or ``r(t) - d`` of a round cone at the voxel centres of window ``sl``."""
    dz, dy, dx = g.rel(sl, a)
    d = (b - a).astype(np.float32)
    L2 = float(d[0] * d[0] + d[1] * d[1] + d[2] * d[2])
    if L2 == 0.0:  # a zero-length segment is a sphere of its larger radius (e.g. a varicosity)
        dist2 = dz * dz + dy * dy + dx * dx
        r = np.float32(max(ra, rb))
    else:
        t = (dz * d[0] + dy * d[1] + dx * d[2]) * np.float32(1.0 / L2)
        np.clip(t, 0.0, 1.0, out=t)
        ez = dz - t * d[0]
        ey = dy - t * d[1]
        ex = dx - t * d[2]
        dist2 = ez * ez + ey * ey + ex * ex
        r = np.float32(ra) if ra == rb else np.float32(ra) + t * np.float32(rb - ra)
    if want_depth:
        return r - np.sqrt(dist2)
    return r * r - dist2


def _membrane(depth: np.ndarray, g: _Grid, thickness: float) -> np.ndarray:
    """Fraction of each voxel (a box filter of the voxel's width along the normal) in the shell."""
    w = np.float32((g.voxel[0] + g.voxel[1] + g.voxel[2]) / 3.0)  # np.mean's sum and division, without its overhead
    t = np.float32(thickness)
    half = np.float32(0.5) * w
    if depth.dtype == np.float32 and depth.flags.c_contiguous:  # compiled, the same float32 steps
        from .raster_kernels import membrane_shell

        out = np.zeros(depth.shape, np.float32)
        membrane_shell(depth, w, t, half, out)
        return out
    near = depth > -half  # only voxels this close to a surface can hold membrane
    d = depth[near]
    frac = (np.minimum(d + half, t) - np.maximum(d - half, np.float32(0.0))) / w
    np.clip(frac, 0.0, 1.0, out=frac)
    out = np.zeros(depth.shape, np.float32)
    out[near] = frac
    return out


def _cell_depth_window(ph: Phantom, g: _Grid, sl, cid: int, margin: float = 0.0) -> np.ndarray:
    """``r(t) - d`` of cell ``cid`` (max over its round cones) at the voxel centres of window ``sl``.

    Exact wherever it exceeds ``-margin`` (nm): the cones tested are those whose bounds meet the
    window's centres padded by ``margin``; any other is below ``-margin`` at every centre.
    """
    P = primitives(ph)
    lo = np.array([g.centers[k][sl[k]][0] for k in range(3)]) - margin
    hi = np.array([g.centers[k][sl[k]][-1] for k in range(3)]) + margin
    depth = np.full(tuple(s.stop - s.start for s in sl), -np.inf, np.float32)
    run = P.cell_range(cid)
    if run is not None:
        hit = boxes_meeting(P.lo, P.hi, lo, hi, *run)
    else:
        hit = np.flatnonzero((P.cid == cid) & np.all(P.hi >= lo, axis=1) & np.all(P.lo <= hi, axis=1))
    if len(hit):  # compiled: _cone_eval's float32 steps and np.maximum, voxel by voxel
        from .raster_kernels import cones_depth_max

        cones_depth_max(depth, *(np.ascontiguousarray(g.centers[k][sl[k]]) for k in range(3)),
                        np.ascontiguousarray(P.a[hit]), np.ascontiguousarray(P.b[hit]), P.ra[hit], P.rb[hit])
    return depth


def cell_depth(phantom: Phantom, cid: int, points_nm) -> np.ndarray:
    """How deep each point lies inside cell ``cid``: ``max over its round cones of r(t) - d``.

    Positive inside, negative outside; near the surface it is the signed distance to the
    membrane (exactly so for spheres and cylinders).  ``points_nm``: (M, 3).
    """
    P = primitives(phantom)
    idx = np.flatnonzero(P.cid == cid)
    pts = np.asarray(points_nm, float).reshape(-1, 3)
    a, b = P.a[idx], P.b[idx]
    d = b - a
    L2 = np.einsum("ij,ij->i", d, d)
    rel = pts[:, None, :] - a[None]
    t = np.where(L2 > 0, np.einsum("mij,ij->mi", rel, d) / np.where(L2 > 0, L2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    dist = np.linalg.norm(rel - t[..., None] * d[None], axis=2)
    r = P.ra[idx][None] + t * (P.rb[idx] - P.ra[idx])[None]
    r = np.where((L2 > 0)[None], r, np.maximum(P.ra[idx], P.rb[idx])[None])
    return np.max(r - dist, axis=1)

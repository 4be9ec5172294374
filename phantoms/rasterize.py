"""Rasterize any box of a phantom at any voxel size, identical whatever the chunking.

Shapes
------
A cell is the union of its soma sphere and one *round cone* per skeleton segment (radius
interpolated along the segment, spherical ends).  A point's membership is decided from its own
coordinates only: voxel centres come from the global lattice ``origin + (i + 0.5) * voxel``,
are snapped to 1/1024 nm (so that a chunk's and the whole box's centres are the same numbers),
and every per-voxel formula is elementwise (no reductions), so a voxel gets the same value in
any chunk.  Work is limited to each primitive's bounding box: cost scales with tissue, not box.

Fields (names and dtypes as in ``scanners/tissue.py``)
-------------------------------------------------------
``labels`` (uint32, 0 = extracellular), ``membrane`` (float32: fraction of the voxel, along the
surface normal, inside a ``membrane_nm`` shell under the surface), ``cleft`` (float32: 1 in the
synaptic cleft, the extracellular gap between the two membranes; labels there are 0), ``psd``
(float32: 1 in the post-synaptic density and the thin pre-synaptic density; thick on
glutamatergic Gray type I synapses, thin on GABAergic Gray type II; presynaptic T-bars where
``cfg.tbar``), ``vesicles`` (float32: 1 inside
vesicles; round on type I, flattened on type II), ``receptor:<type>`` (float32, receptors per
voxel: each synapse's count spread evenly over its PSD slab), ``barcode`` (float32, (N, z, y, x):
1 where the voxel's cell expresses protein n), ``mito`` / ``nucleus`` (float32: 1 inside a
mitochondrion / nucleus, :mod:`phantoms.organelles`), ``organelle_membrane`` (float32: fraction of
the voxel in the ``membrane_nm`` shell inside an organelle's surface), ``organelles`` (uint32
organelle instance id, 0 = none), ``semantic`` (uint8 class, ``SEMANTIC_CLASSES``), ``channel:<species>`` (float32, pS of tonic channel
conductance per voxel on the membrane shell; see ``phantoms/raster_channels.py``).
Extra, for checks: ``overlap`` (uint8: 1 where a voxel centre lies inside two different cells).

Synapse and vesicle work is limited per call to the synapses and vesicles whose bounding boxes
meet the box (a chunk tests only what it can contain).

Dense neuropil (``phantom.packing`` set, see docs/tissue.md)
------------------------------------------------------------
Each voxel goes to the cell whose *surface* is nearest: with ``s_c = min over c's round cones of
(d - r(t))`` (distance to the axis minus the local radius), ``s1 <= s2`` the two smallest values
of different cells, the voxel's depth is ``min(fill - s1, (s2 - s1 - gap) / 2)`` and it is labelled
with the nearest cell where the depth is positive: cells grow up to ``fill_nm`` beyond their
skeleton's radius and meet their neighbours across a ``gap_nm`` band of extracellular space (a
power-diagram-like partition; the band is ``gap_nm`` wide along the line joining two surfaces).
Still per voxel, from its own coordinates: chunked == whole.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .phantom import RECEPTOR_TYPES, SWC_SOMA, Phantom
from .raster_channels import CHANNEL_FIELDS, channel_fields

from . import organelle_fields as _of

FIELDS = ("labels", "membrane", "cleft", "psd", "vesicles", "receptor:AMPA", "receptor:NMDA",
          "receptor:GABA_A", "barcode", "overlap") + _of.ORGANELLE_FIELDS + ("semantic",) + CHANNEL_FIELDS
SEMANTIC_CLASSES = _of.SEMANTIC_CLASSES
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


def rasterize(phantom: Phantom, origin_nm: Sequence[float], shape: Sequence[int], voxel_nm,
              fields: Sequence[str] = ("labels",), *, cells: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Rasterize the box ``[origin, origin + shape * voxel)`` of ``phantom``.

    Parameters
    ----------
    phantom : Phantom
    origin_nm : (3,) float
        Corner of voxel (0, 0, 0); voxel ``i`` covers ``[origin + i * voxel, origin + (i+1) * voxel)``
        and takes its value at its centre.
    shape : (3,) int
    voxel_nm : float or (3,) float
    fields : sequence of str
        Any of ``FIELDS``.
    cells : sequence of int, optional
        Only these cells (for per-cell meshes); synapse fields ignore it.

    Returns
    -------
    dict
        Field name -> array of ``shape`` (``barcode``: (N,) + shape).
    """
    fields = tuple(fields)
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise ValueError(f"fields: unknown field {bad[0]!r}; expected any of {', '.join(FIELDS)}")
    g = _Grid(origin_nm, shape, voxel_nm)
    out: dict[str, np.ndarray] = {}
    need_channels = any(f in CHANNEL_FIELDS for f in fields)
    need_labels = any(f in fields for f in ("labels", "barcode", "overlap"))
    need_depth = "membrane" in fields
    if need_labels or need_depth:
        labels, overlap, depth = _cells(phantom, g, need_depth, "overlap" in fields, cells)
        if "labels" in fields:
            out["labels"] = labels
        if "overlap" in fields:
            out["overlap"] = overlap
        if need_depth:
            out["membrane"] = _membrane(depth, g, phantom.cfg.membrane_nm)
        if "barcode" in fields:
            out["barcode"] = _barcode(phantom, labels)
    if need_channels:  # each cell's own membrane shell carries its channels
        out.update(channel_fields(
            phantom, lambda c: _membrane(_cells(phantom, g, True, False, [c])[2], g, phantom.cfg.membrane_nm),
            g.voxel, fields, cells))
        for f in fields:
            if f.startswith("channel:") and f not in out:
                out[f] = np.zeros(g.shape, np.float32)
    need = set(fields)
    if "semantic" in need:
        need |= {"labels", "cleft", "psd", "vesicles", "mito", "nucleus"}
        if "labels" not in out:
            out["labels"] = _cells(phantom, g, False, False, None)[0]
    if need & {"cleft", "psd"} or any(f.startswith("receptor:") for f in fields):
        out.update(_synaptic(phantom, g, tuple(need)))
    if "vesicles" in need:
        out["vesicles"] = _vesicles(phantom, g)
    if need & set(_of.ORGANELLE_FIELDS):
        out.update(_of.organelle_fields(phantom, g, need, _cone_eval, _membrane))
    if "semantic" in fields:
        out["semantic"] = _of.semantic(phantom, out)
    return {f: out[f] for f in fields}


def _cells(ph: Phantom, g: _Grid, need_depth: bool, need_overlap: bool, cells):
    if ph.packing:
        return _dense_cells(ph, g, need_depth, need_overlap, cells)
    P = primitives(ph)
    labels = np.zeros(g.shape, np.uint32)
    overlap = np.zeros(g.shape, np.uint8) if need_overlap else None
    depth = np.full(g.shape, -np.inf, np.float32) if need_depth else None
    # membrane partial volume needs depth a little outside the surface too
    pad = (0.5 * float(np.max(g.voxel)) + 1.0) if need_depth else 0.0
    box_lo = g.origin - pad
    box_hi = g.origin + np.asarray(g.shape) * g.voxel + pad
    hit = np.all(P.hi >= box_lo, axis=1) & np.all(P.lo <= box_hi, axis=1)
    if cells is not None:
        hit &= np.isin(P.cid, np.asarray(list(cells), np.uint32))
    for i in np.flatnonzero(hit):
        sl = g.window(P.lo[i] - pad, P.hi[i] + pad)
        if sl is None:
            continue
        cid = P.cid[i]
        val = _cone_eval(g, sl, P.a[i], P.b[i], P.ra[i], P.rb[i], need_depth)
        inside = val > 0
        lab = labels[sl]
        if need_overlap:
            overlap[sl] |= (inside & (lab != 0) & (lab != cid)).astype(np.uint8)
        lab[inside] = cid
        if need_depth:
            np.maximum(depth[sl], val, out=depth[sl])
    return labels, overlap, depth


def nearest_surfaces(P: _Primitives, g: _Grid, only=None):
    """Per voxel: the smallest ``s = d - r`` of two different cells, ``(s1, id1, s2, id2)``.

    ``s`` is capped at the primitives' reach (``fill + gap``; id 0 there): beyond it a cell
    cannot claim a voxel.  Only primitives whose bounds meet the box are visited (per-chunk
    work follows what the chunk holds) and a voxel's result depends on its coordinates only.
    """
    from .packing_kernel import fold_nearest

    box_lo = g.origin
    box_hi = g.origin + np.asarray(g.shape) * g.voxel
    hit = np.all(P.hi >= box_lo, axis=1) & np.all(P.lo <= box_hi, axis=1)
    if only is not None:  # these cells' primitives only
        hit &= np.isin(P.cid, np.asarray(list(only), np.uint32))
    hit = np.flatnonzero(hit)
    return fold_nearest(g.centers, P.a[hit], P.b[hit], P.ra[hit], P.rb[hit], P.cid[hit], P.lo[hit], P.hi[hit],
                        max(P.reach, 1e-6))


def dense_depth(s1, s2, fill: float, gap: float, cap: float | None = None) -> np.ndarray:
    """Depth inside the nearest cell's label: ``min(fill - s1, (s2 - s1 - gap) / 2)`` (nm).

    Where no cell is within reach (``s1 >= cap``) the depth is ``-inf`` (deep extracellular space);
    where no second cell is, it is ``fill - s1``.
    """
    d = np.minimum(fill - s1, 0.5 * (s2 - s1 - gap))
    if cap is not None:
        d = np.where(s2 >= cap, fill - s1, d)  # no second cell within reach: only the fill bounds it
        d[s1 >= cap] = -np.inf
    return d.astype(np.float32)


def _dense_cells(ph: Phantom, g: _Grid, need_depth: bool, need_overlap: bool, cells):
    P = primitives(ph)
    fill, gap = float(ph.packing["fill_nm"]), float(ph.packing["gap_nm"])
    s1, id1, s2, id2 = nearest_surfaces(P, g)
    depth = dense_depth(s1, s2, fill, gap, P.reach)
    labels = np.where(depth > 0, id1, np.uint32(0)).astype(np.uint32)
    if cells is not None:
        want = np.isin(id1, np.asarray(list(cells), np.uint32))
        labels[~want] = 0
        if need_depth:  # the wanted cells' own depth field, continuous across their neighbours
            sc = nearest_surfaces(P, g, cells)[0]
            other = np.where(want, s2, s1)
            depth = dense_depth(sc, other, fill, gap, P.reach)
    overlap = ((s1 < 0) & (s2 < 0)).astype(np.uint8) if need_overlap else None
    return labels, overlap, (depth.astype(np.float32) if need_depth else None)


def _membrane(depth: np.ndarray, g: _Grid, thickness: float) -> np.ndarray:
    """Fraction of each voxel (a box filter of the voxel's width along the normal) in the shell."""
    w = np.float32(np.mean(g.voxel))
    t = np.float32(thickness)
    half = np.float32(0.5) * w
    near = depth > -half  # only voxels this close to a surface can hold membrane
    d = depth[near]
    frac = (np.minimum(d + half, t) - np.maximum(d - half, np.float32(0.0))) / w
    np.clip(frac, 0.0, 1.0, out=frac)
    out = np.zeros(depth.shape, np.float32)
    out[near] = frac
    return out


def _barcode(ph: Phantom, labels: np.ndarray) -> np.ndarray:
    n = ph.n_barcode_proteins
    ids = np.asarray(ph.all_cell_ids, np.int64)
    lut = np.zeros((n, int(ids.max()) + 1 if len(ids) else 1), np.float32)
    for c in ph.all_cell_ids:
        lut[:, c] = ph.barcodes[c]
    return lut[:, labels]


def _synaptic(ph: Phantom, g: _Grid, fields) -> dict[str, np.ndarray]:
    """Cleft gaps, pre/post densities and PSD receptor slabs of the synapses that meet the box."""
    S = ph.synapses
    want_cleft, want_psd = "cleft" in fields, "psd" in fields
    kinds = [f.split(":", 1)[1] for f in fields if f.startswith("receptor:")]
    for k in kinds:
        if k not in RECEPTOR_TYPES:
            raise ValueError(f"fields: unknown receptor {k!r}; expected one of {RECEPTOR_TYPES}")
    out = {}
    if want_cleft:
        out["cleft"] = np.zeros(g.shape, np.float32)
    if want_psd:
        out["psd"] = np.zeros(g.shape, np.float32)
    for k in kinds:
        out[f"receptor:{k}"] = np.zeros(g.shape, np.float32)
    if len(S) == 0:
        return out
    geo = _of.synapse_geometry(ph)
    post, pre = S.post_nm, S.pre_nm
    t_slab = ph.cfg.psd_thickness_nm  # receptors sit in the nominal PSD slab whatever the type
    vox_vol = float(np.prod(g.voxel))
    for i in _of.meeting(geo.lo, geo.hi, g):
        P, gap, r = post[i], float(geo.gap[i]), float(geo.radius[i])
        sl = g.window(geo.lo[i], geo.hi[i])
        if sl is None:
            continue
        dz, dy, dx = g.rel(sl, P)
        uf = geo.u[i].astype(np.float32)
        axial = dz * uf[0] + dy * uf[1] + dx * uf[2]
        ez = dz - axial * uf[0]
        ey = dy - axial * uf[1]
        ex = dx - axial * uf[2]
        in_disc = (ez * ez + ey * ey + ex * ex) <= np.float32(r * r)
        if want_cleft or want_psd:
            # densities follow the membranes (curved spine heads and boutons), not the disc's plane
            d_post = _cell_depth_window(ph, g, sl, int(S["post_cell"][i]))
            d_pre = _cell_depth_window(ph, g, sl, int(S["pre_cell"][i]))
        if want_cleft:
            reach = np.float32(-(gap + _CLEFT_SLACK_NM))
            gap_vox = in_disc & (d_post <= 0) & (d_pre <= 0) & (d_post > reach) & (d_pre > reach)
            out["cleft"][sl][gap_vox] = 1.0
        if want_psd:
            post_d = in_disc & (d_post > 0) & (d_post <= np.float32(geo.psd_nm[i]))
            pre_d = in_disc & (d_pre > 0) & (d_pre <= np.float32(geo.pre_density_nm[i]))
            out["psd"][sl][post_d | pre_d] = 1.0
        if kinds:
            slab = in_disc & (axial > np.float32(-t_slab)) & (axial <= 0)
            for k in kinds:
                n = S[f"n_{k}"][i]
                if n:
                    density = np.float32(n / (np.pi * r * r * t_slab) * vox_vol)
                    out[f"receptor:{k}"][sl][slab] += density
    if want_psd:
        _of.draw_tbars(ph, g, out["psd"], lambda sl, cid: _cell_depth_window(ph, g, sl, cid))
    return out


_CLEFT_SLACK_NM = 6.0  # the cleft: outside both cells, within the gap (+ this) of both membranes


def _cell_depth_window(ph: Phantom, g: _Grid, sl, cid: int) -> np.ndarray:
    """``r(t) - d`` of cell ``cid`` (max over its round cones) at the voxel centres of window ``sl``."""
    P = primitives(ph)
    lo = np.array([g.centers[k][sl[k]][0] for k in range(3)])
    hi = np.array([g.centers[k][sl[k]][-1] for k in range(3)])
    depth = np.full(tuple(s.stop - s.start for s in sl), -np.inf, np.float32)
    for j in np.flatnonzero((P.cid == cid) & np.all(P.hi >= lo, axis=1) & np.all(P.lo <= hi, axis=1)):
        np.maximum(depth, _cone_eval(g, sl, P.a[j], P.b[j], P.ra[j], P.rb[j], True), out=depth)
    return depth


def _vesicles(ph: Phantom, g: _Grid) -> np.ndarray:
    """Vesicles meeting the box: spheres (type I) or flattened ellipsoids (type II)."""
    out = np.zeros(g.shape, np.float32)
    V = _of.vesicle_geometry(ph)
    for i in _of.meeting(V.lo, V.hi, g):
        c, r = ph.vesicles_nm[i, :3], float(ph.vesicles_nm[i, 3])
        sl = g.window(c - r, c + r)
        if sl is None:
            continue
        dz, dy, dx = g.rel(sl, c)
        d2 = dz * dz + dy * dy + dx * dx
        f = float(V.flatten[i])
        if f >= 1.0:
            out[sl][d2 < np.float32(r * r)] = 1.0
        else:
            e = V.axis[i].astype(np.float32)
            along = dz * e[0] + dy * e[1] + dx * e[2]
            q = (d2 - along * along) / np.float32(r * r) + along * along / np.float32((f * r) ** 2)
            out[sl][q < 1.0] = 1.0
    return out


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

"""Synapses and vesicles in a rasterized box: cleft gaps, pre/post densities, receptor slabs,
and vesicles (round on Gray type I synapses, flattened on type II)."""

from __future__ import annotations

import numpy as np

from . import organelle_fields as _of
from .phantom import RECEPTOR_TYPES, Phantom
from .raster_geometry import _SNAP, _cell_depth_window, _Grid, primitives

_CLEFT_SLACK_NM = 6.0  # the cleft: outside both cells, within the gap (+ this) of both membranes


def _depth_margin(geo) -> np.ndarray:
    """(S,) nm: how far outside a cell its depth still decides a synapse's voxels (the cleft's
    reach, ``gap + _CLEFT_SLACK_NM``, + 1 nm for float32 rounding).  A cone farther than this from
    every centre of the window is below every threshold there, so the cells' depths test their
    cones against the window padded by it (:func:`raster_geometry._cell_depth_window`)."""
    return np.asarray(geo.gap, np.float64) + _CLEFT_SLACK_NM + 1.0


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
    idx = _of.meeting(geo.lo, geo.hi, g, windows=True)  # a synapse paints its whole window
    if not kinds and (want_cleft or want_psd) and len(idx):  # compiled where both cells are one run of cones
        idx = _synapses_compiled(ph, g, idx, out, want_cleft, want_psd)
    _synapses_numpy(ph, g, idx, out, kinds)
    if want_psd:
        _of.draw_tbars(ph, g, out["psd"], lambda sl, cid: _cell_depth_window(ph, g, sl, cid))
    return out


def _synapse_runs(ph: Phantom) -> np.ndarray:
    """(S, 4) int64: the rows of each synapse's post and pre cell's cones, ``(start, stop, start,
    stop)``; -1 where a cell's cones are not one run (kept on the phantom)."""
    def build(ph):
        P = primitives(ph)
        out = np.full((len(ph.synapses), 4), -1, np.int64)
        for i, (a, b) in enumerate(zip(ph.synapses["post_cell"].tolist(), ph.synapses["pre_cell"].tolist())):
            ra, rb = P.cell_range(a), P.cell_range(b)
            if ra is not None and rb is not None:
                out[i] = (*ra, *rb)
        return out
    return _of._cached(ph, "_synapse_runs", build)


def _synapses_compiled(ph: Phantom, g: _Grid, idx, out: dict, want_cleft: bool, want_psd: bool) -> np.ndarray:
    """Clefts and densities of the synapses ``idx`` whose cells are one run of cones each, in one
    compiled loop (``raster_kernels.synapse_fill``: :func:`_synapses_numpy`'s float32 steps);
    returns the synapses left to the numpy loop."""
    from .raster_kernels import synapse_fill

    runs = _synapse_runs(ph)
    one = (runs[idx, 0] >= 0) & (runs[idx, 2] >= 0)
    geo, P, S = _of.synapse_geometry(ph), primitives(ph), ph.synapses
    cleft = out["cleft"] if want_cleft else np.zeros(g.shape, np.float32)  # a field not wanted: scratch
    psd = out["psd"] if want_psd else np.zeros(g.shape, np.float32)
    gap = np.asarray(geo.gap, np.float64)
    rad = np.asarray(geo.radius, np.float64)
    synapse_fill(cleft, psd, *g.centers, g.origin, g.voxel, np.ascontiguousarray(idx[one]), geo.lo, geo.hi,
                 np.ascontiguousarray(S.post_nm, np.float64), geo.u, (rad * rad).astype(np.float32),
                 (-(gap + _CLEFT_SLACK_NM)).astype(np.float32), np.asarray(geo.psd_nm).astype(np.float32),
                 np.asarray(geo.pre_density_nm).astype(np.float32), runs, P.a, P.b, P.ra, P.rb, P.lo, P.hi,
                 _depth_margin(geo), want_cleft, want_psd)
    return idx[~one]


def _synapses_numpy(ph: Phantom, g: _Grid, idx, out: dict, kinds) -> None:
    """Clefts, densities and receptor slabs of synapses ``idx``, one at a time with numpy (the
    definition :func:`_synapses_compiled` matches)."""
    S = ph.synapses
    want_cleft, want_psd = "cleft" in out, "psd" in out
    geo = _of.synapse_geometry(ph)
    post = S.post_nm
    t_slab = ph.cfg.psd_thickness_nm  # receptors sit in the nominal PSD slab whatever the type
    margin = _depth_margin(geo)
    for i in idx:
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
            d_post = _cell_depth_window(ph, g, sl, int(S["post_cell"][i]), margin[i])
            d_pre = _cell_depth_window(ph, g, sl, int(S["pre_cell"][i]), margin[i])
        if want_cleft:
            reach = np.float32(-(gap + _CLEFT_SLACK_NM))
            gap_vox = in_disc & (d_post <= 0) & (d_pre <= 0) & (d_post > reach) & (d_pre > reach)
            out["cleft"][sl][gap_vox] = 1.0
        if want_psd:
            post_d = in_disc & (d_post > 0) & (d_post <= np.float32(geo.psd_nm[i]))
            pre_d = in_disc & (d_pre > 0) & (d_pre <= np.float32(geo.pre_density_nm[i]))
            out["psd"][sl][post_d | pre_d] = 1.0
        if kinds:
            _receptor_slab(S, i, kinds, out, g, sl, _slab(g.rel(sl, P), uf, r, t_slab),
                           _slab_lattice(g, geo.lo[i], geo.hi[i], P, uf, r, t_slab))


def _slab(rel, uf, r: float, t_slab: float) -> np.ndarray:
    """Voxel centres (offsets ``rel`` from the PSD centre) in a synapse's receptor slab: the disc
    of radius ``r`` and thickness ``t_slab`` on the postsynaptic side of the cleft (normal ``uf``)."""
    dz, dy, dx = rel
    axial = dz * uf[0] + dy * uf[1] + dx * uf[2]
    ez, ey, ex = dz - axial * uf[0], dy - axial * uf[1], dx - axial * uf[2]
    in_disc = (ez * ez + ey * ey + ex * ex) <= np.float32(r * r)
    return in_disc & (axial > np.float32(-t_slab)) & (axial <= 0)


def _slab_lattice(g: _Grid, lo, hi, P, uf, r: float, t_slab: float) -> tuple[int, np.ndarray]:
    """How many centres of the box's voxel lattice, extended beyond the box, lie in the slab; and
    the global index (3,) of the voxel holding the slab's centre.

    Counted on the unclipped lattice with the box's own centre formula, so every chunk of a
    rasterization counts the same voxels as the whole block does.
    """
    rel = []
    for k in range(3):
        i0 = int(np.floor((lo[k] - g.origin[k]) / g.voxel[k] - 0.5))
        i1 = int(np.ceil((hi[k] - g.origin[k]) / g.voxel[k] + 0.5)) + 1
        c = np.round((g.origin[k] + (np.arange(i0, i1) + 0.5) * g.voxel[k]) * _SNAP) / _SNAP
        shape = [1, 1, 1]
        shape[k] = i1 - i0
        rel.append((c - P[k]).astype(np.float32).reshape(shape))
    centre = np.floor((np.asarray(P) - 0.5 * t_slab * uf - g.origin) / g.voxel).astype(np.int64)
    return int(np.count_nonzero(_slab(rel, uf, r, t_slab))), centre


def _receptor_slab(S, i: int, kinds, out: dict, g: _Grid, sl, slab: np.ndarray, lattice) -> None:
    """Add synapse ``i``'s receptors, spread evenly over its slab's voxels (``lattice``:
    :func:`_slab_lattice`), so that they sum to its count at any voxel size (a 40 nm slab sampled
    every 60 nm holds zero to two voxel layers; spreading by the slab's volume lost or doubled up
    to half of a synapse's receptors at the ExM grid).  A slab that holds no voxel centre puts
    them all in the voxel holding its centre."""
    n_vox, centre = lattice
    if n_vox == 0 and not all(0 <= c < n for c, n in zip(centre, g.shape)):
        return
    for k in kinds:
        n = S[f"n_{k}"][i]
        if not n:
            continue
        if n_vox:
            out[f"receptor:{k}"][sl][slab] += np.float32(n / n_vox)
        else:
            out[f"receptor:{k}"][tuple(centre)] += np.float32(n)


def _vesicles(ph: Phantom, g: _Grid) -> np.ndarray:
    """Vesicles meeting the box: spheres (type I) or flattened ellipsoids (type II)."""
    out = np.zeros(g.shape, np.float32)
    V = _of.vesicle_geometry(ph)
    idx = _of.meeting(V.lo, V.hi, g)
    if len(idx) and ph.vesicles_nm.dtype == np.float64:  # compiled, the same float32 formulas
        from .raster_kernels import vesicle_fill

        r = ph.vesicles_nm[idx, 3].astype(np.float64)
        f = V.flatten[idx].astype(np.float64)
        rr = np.array([np.float32(float(x) * float(x)) for x in r], np.float32)
        ff = np.array([np.float32((float(a) * float(x)) ** 2) for a, x in zip(f, r)], np.float32)
        vesicle_fill(out, *g.centers, g.origin, g.voxel, np.ascontiguousarray(ph.vesicles_nm[idx, :3], np.float64),
                     r, rr, f, np.ascontiguousarray(V.axis[idx], np.float64), ff)
        return out
    return _vesicles_numpy(ph, g, V, idx, out)


def _vesicles_numpy(ph: Phantom, g: _Grid, V, idx, out: np.ndarray) -> np.ndarray:
    """:func:`_vesicles` one vesicle at a time with numpy (the definition the compiled fill matches)."""
    for i in idx:
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

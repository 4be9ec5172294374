"""Synapses and vesicles in a rasterized box: cleft gaps, pre/post densities, receptor slabs,
and vesicles (round on Gray type I synapses, flattened on type II)."""

from __future__ import annotations

import numpy as np

from . import organelle_fields as _of
from .phantom import RECEPTOR_TYPES, Phantom
from .raster_geometry import _cell_depth_window, _Grid

_CLEFT_SLACK_NM = 6.0  # the cleft: outside both cells, within the gap (+ this) of both membranes


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

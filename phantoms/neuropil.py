"""Dense neuropil around a grown circuit: background cells, their synapses, and the fill calibration.

:func:`densify` takes the sparse circuit phantom and returns it packed: background neurites
(:mod:`phantoms.background`), decoy synapses among them, and ``packing`` (``fill_nm``, ``gap_nm``)
calibrated so that the block's extracellular volume fraction meets ``cfg.ecs_fraction``.  The
labels follow the nearest-surface rule of :mod:`phantoms.rasterize`; docs/tissue.md says why.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .background import BackgroundCell, grow_background
from .barcodes import assign_barcodes
from .collision import CapsuleIndex
from .config import GrowthError
from .geometry import unit
from .phantom import SYNAPSE_COLUMNS, Phantom, SynapseTable
from .receptors import RECEPTOR_UNIT_pS

# receptors per um^2 of PSD: AMPA ~400-3,300 (Tanaka et al. 2005; Masugi-Tokita et al. 2007),
# well under the ~10^4 per um^2 packing limit (Harris, Jolivet & Attwell 2012); GABA_A similar
RECEPTORS_PER_UM2 = {"AMPA": 1200.0, "GABA_A": 1000.0}
_CALIBRATION_VOXELS = 400_000
_MIN_GAP_NM = 8.0  # two membranes' worth: the narrowest extracellular band drawn
_SPINE_REACH_NM = 1500.0  # longest spine grown to reach a bouton (spines are ~0.5-2 um long)


def densify(ph: Phantom, index: CapsuleIndex, rng) -> Phantom:
    """Pack ``ph`` (grown with ``index``) into dense neuropil; see the module docstring."""
    cfg = ph.cfg
    r_grow, r_syn, r_code = rng.spawn(3)
    first = (max(ph.cell_ids, default=0) // 1000 + 1) * 1000
    cells = grow_background(cfg, index, first, cfg.fill_max_nm, r_grow)
    bg_ids = tuple(c.cid for c in cells)
    codes = dict(ph.barcodes)
    for cid, bits in zip(bg_ids, _random_codes(len(cells), cfg, r_code)):
        codes[cid] = bits
    gap = cfg.extracellular_gap_nm
    syn, ves, ves_syn = background_synapses(cells, index, cfg, ph, r_syn)
    packed = replace(ph, background_ids=bg_ids, background_skeletons=tuple(c.arbor.skeleton() for c in cells),
                     background_classes=tuple(c.cell_class for c in cells),
                     background_excitatory=tuple(c.excitatory for c in cells), barcodes=codes,
                     packing={"fill_nm": cfg.fill_max_nm, "gap_nm": gap})
    fill, gap, reached = calibrate_packing(packed, cfg.ecs_fraction, gap, cfg.fill_max_nm)
    if abs(reached - cfg.ecs_fraction) > 0.01:
        raise GrowthError(f"ecs_fraction: {cfg.ecs_fraction} is not reachable, the packing reaches "
                          f"{reached:.3f} (raise background_*_um_per_um3 or fill_max_nm)")
    return replace(packed, packing={"fill_nm": float(fill), "gap_nm": float(gap),
                                    "ecs_fraction_target": float(cfg.ecs_fraction),
                                    "ecs_fraction_calibrated": float(reached)},
                   synapses=syn, vesicles_nm=ves, vesicle_synapse=ves_syn,
                   meta={**ph.meta, "background_cells": len(cells),
                         "background_synapses": int(len(syn) - len(ph.synapses))})


def _random_codes(n: int, cfg, rng) -> list[np.ndarray]:
    """k-of-N barcodes for background cells: random, and (as in real tissue) not unique."""
    out = []
    for _ in range(n):
        bits = np.zeros(cfg.barcode_proteins, np.uint8)
        bits[rng.choice(cfg.barcode_proteins, size=cfg.barcode_k, replace=False)] = 1
        out.append(bits)
    return out


def calibrate_packing(ph: Phantom, target: float, gap: float, fill_max: float):
    """``(fill_nm, gap_nm, fraction)`` at which the block's extracellular fraction is ``target``.

    The fraction is measured on a lattice of about ``_CALIBRATION_VOXELS`` voxel centres over the
    whole block (an unbiased point sample of the volume).  ``fill_nm`` is found by bisection.  If
    even ``fill_max`` leaves more than ``target`` (the gap bands alone hold more, as in
    chemically fixed tissue, where membranes come closer), the gap narrows in proportion, to at
    least ``_MIN_GAP_NM``.
    """
    from .rasterize import _Grid, dense_depth, nearest_surfaces, primitives

    block = np.asarray(ph.block_size_nm, float)
    vox = float((np.prod(block) / _CALIBRATION_VOXELS) ** (1.0 / 3.0)) * 1.0137  # off the growth step
    shape = np.maximum(1, np.floor(block / vox)).astype(int)
    g = _Grid(ph.block_origin_nm, shape, block / shape)
    s1, _, s2, _ = nearest_surfaces(primitives(ph), g)

    def ecs(fill, w):
        return float(np.mean(dense_depth(s1, s2, fill, w) <= 0))

    for _ in range(4):
        densest = ecs(fill_max, gap)
        if densest <= target or gap <= _MIN_GAP_NM:
            break
        gap = max(_MIN_GAP_NM, gap * (target / densest) * 0.95)
    lo, hi = 0.0, float(fill_max)
    if ecs(hi, gap) >= target:
        return hi, gap, ecs(hi, gap)
    for _ in range(30):
        mid = 0.5 * (lo + hi)
        if ecs(mid, gap) > target:
            lo = mid
        else:
            hi = mid
    return hi, gap, ecs(hi, gap)


def _closest_on_segments(c, a, b):
    d = b - a
    L2 = np.einsum("ij,ij->i", d, d)
    t = np.where(L2 > 0, np.einsum("ij,ij->i", c - a, d) / np.where(L2 > 0, L2, 1.0), 0.0)
    t = np.clip(t, 0.0, 1.0)
    return a + t[:, None] * d, t


def _post_segments(cells: list[BackgroundCell]):
    """Shaft segments of background dendrites as arrays: a, b, ra, rb, cell index, child node."""
    rows = []
    for ci, cell in enumerate(cells):
        if cell.kind != "dendrite":
            continue
        ar = cell.arbor
        for j in range(2, len(ar.nodes)):
            if not ar.spine[j]:
                p = ar.parent[j]
                rows.append((ar.nodes[p], ar.nodes[j], ar.radii[p], ar.radii[j], ci, j))
    if not rows:
        return None
    return tuple(np.array(v) for v in zip(*rows))


def background_synapses(cells, index: CapsuleIndex, cfg, ph: Phantom, rng):
    """Decoy synapses: en-passant boutons where background axons pass background dendrites.

    Along each axon, the nodes nearest a dendrite of another cell (at most one per
    ``bouton_interval_um``) swell into boutons as far as their neighbours allow; the dendrite
    meets the bouton with a spine (or a stubby one, or its shaft when the bouton is already
    close), whose head stops ``gap + 2`` nm short of it, so the fill closes the contact whatever
    its calibrated value.  The PSD sits on the head's label boundary, the bouton's membrane
    ``gap`` further.  Returns the full synapse table (circuit rows first), vesicles (their
    count in proportion to the bouton volume) and each vesicle's synapse id.
    """
    posts = _post_segments(cells)
    cols = {k: list(np.asarray(v)) for k, v in ph.synapses.columns().items()}
    vesicles, ves_syn = [ph.vesicles_nm], [ph.vesicle_synapse]
    sid = int(max(cols["id"], default=0))
    if posts is not None:
        for cell in cells:
            if cell.kind != "axon":
                continue
            for node, k, D, q, r in _bouton_sites(cell, cells, posts, cfg):
                got = _contact(cell, node, cells, posts, k, D, q, r, index, cfg, rng)
                if got is None:
                    continue
                post_cell, pre_site, post_site, spine, c, rbt = got
                sid += 1
                _append_row(cols, sid, cell, post_cell, pre_site, post_site, c, rbt, spine, cfg, rng)
                v = _bouton_vesicles(c, rbt, cfg, rng)
                vesicles.append(v)
                ves_syn.append(np.full(len(v), sid, np.int64))
    table = SynapseTable({k: np.asarray(cols[k], dtype=dt) for k, dt in SYNAPSE_COLUMNS})
    return table, np.concatenate(vesicles).reshape(-1, 4), np.concatenate(ves_syn).astype(np.int64)


def _bouton_sites(cell: BackgroundCell, cells, posts, cfg):
    """``(node, segment, D, q, r)`` of the axon nodes nearest a dendrite, spaced along the axon."""
    pa, pb, pra, prb, pci, _ = posts
    ar = cell.arbor
    mid = 0.5 * (pa + pb)
    other = np.array([cells[int(i)].cid != cell.cid for i in pci])
    best = []
    for node in range(2, len(ar.nodes) - 1):
        c = ar.nodes[node]
        near = np.flatnonzero(other & (np.abs(mid - c).max(axis=1) < _SPINE_REACH_NM + 1000.0))
        if not len(near):
            continue
        q, t = _closest_on_segments(c, pa[near], pb[near])
        r = pra[near] + t * (prb[near] - pra[near])
        D = np.linalg.norm(c - q, axis=1) - r - ar.radii[node]
        k = int(np.argmin(D))
        if D[k] <= _SPINE_REACH_NM:
            best.append((float(D[k]), node, int(near[k]), q[k], float(r[k])))
    spacing = cfg.bouton_interval_um * 1000.0 / cfg.background_step_nm
    taken: list[int] = []
    out = []
    for D, node, k, q, r in sorted(best, key=lambda b: b[0]):
        if all(abs(node - o) >= spacing for o in taken):
            taken.append(node)
            out.append((node, k, D, q, r))
    return sorted(out, key=lambda o: o[0])


def _contact(pre: BackgroundCell, node, cells, posts, k, D, q, r, index, cfg, rng):
    """Swell ``node`` into a bouton and grow the dendrite's spine to it; None if it does not fit."""
    _, _, _, _, pci, pnode = posts
    gap = cfg.extracellular_gap_nm
    ar = pre.arbor
    c, r0 = np.asarray(ar.nodes[node]), float(ar.radii[node])
    n = unit(c - q)
    # the varicosity: a sphere around the axon node, a zero-length side node of the bouton radius
    tip = c
    rb = float(cfg.background_bouton_radius_nm * np.exp(0.25 * rng.normal()))
    while rb >= 1.2 * r0 and index.clearance(c, tip, rb, pre.cid, gap) < 0:
        rb *= 0.9  # (a clearance query only sees capsules within its own reach: ask with rb itself)
    if rb < 1.2 * r0:
        return None
    Dp = D - (rb - r0)  # bouton surface to shaft surface
    post = cells[int(pci[k])]
    base = q + n * r
    reach = Dp - gap - 2.0  # how far the spine must stick out
    ar.add(tip, rb, node, ar.types[node], spine=True)  # a varicosity, whether or not a spine fits
    index.add(c, tip, rb, pre.cid)
    if reach > 40.0:
        rh = min(float((3.0 * _lognormal_head(cfg, rng) / (4.0 * np.pi)) ** (1.0 / 3.0)), 0.5 * reach)
        rn = min(cfg.spine_neck_radius_nm, 0.6 * rh)
        head = base + n * (reach - rh)
        top = head - n * rh if reach - 2 * rh > 2 * rn else base + n * 1.0
        if not (index.clearance(base, top, rn, post.cid, gap) >= 0
                and index.clearance(top, head, rh, post.cid, gap) >= 0):
            return None
    pre.boutons.append(node)
    if reach <= 40.0:  # a shaft synapse: the bouton already lies within the fill's reach
        post_site = base + n * 0.5 * (Dp - gap)
        return post.cid, post_site + n * gap, post_site, False, tip, rb
    index.add(base, top, rn, post.cid)
    index.add(top, head, rh, post.cid)
    pa_, j0 = post.arbor, int(pnode[k])
    j = pa_.add(q, rn, j0, pa_.types[j0], spine=True)  # on the shaft's axis
    if np.linalg.norm(top - base) > 2.0:
        j = pa_.add(top, rn, j, pa_.types[j0], spine=True)
    j = pa_.add(head, rh, j, pa_.types[j0], spine=True)
    post.spine_heads.append(j)
    post_site = head + n * (rh + 1.0)  # half of the 2 nm beyond the gap
    return post.cid, post_site + n * gap, post_site, True, tip, rb


def _lognormal_head(cfg, rng) -> float:
    """Spine head volume (nm^3), log-normal around ``spine_head_volume_um3``."""
    return float(cfg.spine_head_volume_um3 * np.exp(0.6 * rng.normal()) * 1e9)


def _append_row(cols, sid, cell, post, pre_site, post_site, bouton, rb, spine, cfg, rng) -> None:
    kind = "AMPA" if cell.excitatory else "GABA_A"
    area = float(cfg.background_psd_area_nm2 * np.exp(cfg.background_psd_area_sd * rng.normal()))
    n = max(1, int(round(RECEPTORS_PER_UM2[kind] * area / 1e6 * np.exp(0.3 * rng.normal()))))
    row = {"id": sid, "pre_cell": cell.cid, "post_cell": post, "psd_area_nm2": area,
           "n_AMPA": n if kind == "AMPA" else 0, "n_NMDA": 0, "n_GABA_A": n if kind == "GABA_A" else 0,
           "conductance_nS": n * RECEPTOR_UNIT_pS[kind] / 1000.0, "receptor_unit_pS": RECEPTOR_UNIT_pS[kind],
           "spine": int(spine), "bouton_radius_nm": rb}
    for k, ax in enumerate("zyx"):
        row[f"pre_{ax}_nm"], row[f"post_{ax}_nm"], row[f"bouton_{ax}_nm"] = pre_site[k], post_site[k], bouton[k]
    for name in cols:
        cols[name].append(row[name])


def _bouton_vesicles(center, rb: float, cfg, rng) -> np.ndarray:
    """Non-overlapping vesicles filling a bouton, ``vesicles_per_um3`` times its volume."""
    vr = cfg.vesicle_radius_nm
    room = rb - vr - cfg.membrane_nm - 4.0
    want = int(round(cfg.vesicles_per_um3 * 4.0 / 3.0 * np.pi * rb ** 3 / 1e9))
    if room <= 0 or want <= 0:
        return np.zeros((0, 4))
    cand = rng.normal(size=(want * 6, 3))
    cand /= np.linalg.norm(cand, axis=1, keepdims=True)
    cand *= room * rng.random((len(cand), 1)) ** (1.0 / 3.0)
    kept = np.zeros((want, 3))
    n = 0
    for v in cand:
        if n >= want:
            break
        if n == 0 or np.min(np.einsum("ij,ij->i", kept[:n] - v, kept[:n] - v)) >= (2 * vr + 2.0) ** 2:
            kept[n] = v
            n += 1
    out = np.zeros((n, 4))
    out[:, :3] = center + kept[:n]
    out[:, 3] = vr
    return out

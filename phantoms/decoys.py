"""Decoy synapses among background cells: en-passant boutons facing one partner, or several.

Along each background axon, the nodes nearest a dendrite of another cell (at most one per
``bouton_interval_um``) swell into boutons as far as their neighbours allow.  Each bouton then
reaches its partners, nearest first (up to :data:`_CANDIDATES` tried): the dendrite grows a spine
(or a stubby one, or offers its shaft when the bouton is already close) whose head stops
``gap + 2`` nm short of the bouton, so the packing fill closes the contact whatever its
calibrated value.  The PSD sits on the head's label boundary, the bouton's membrane ``gap``
further (that point is the row's ``pre`` site).

Polyadic contacts (``cfg.polyadic_partners_max > 1``, the fly): one bouton, one presynaptic
T-bar, and 2..``polyadic_partners_max`` postsynaptic partners of different cells, all within
:data:`POLYADIC_CONE_DEG` of the first partner's direction so that they cluster around one
active zone, as in Drosophila neuropil (Meinertzhagen & O'Neil 1991 J Comp Neurol 305:232;
Cardona et al. 2010 PLoS Biol 8:e1000502).  The synapse table has one row per pre -> post
pair; the rows of one bouton share ``pre_cell`` and the ``bouton_*`` centre, which identify
the release site (the T-bar is drawn there, :mod:`phantoms.organelle_fields`).

Every synapse lies inside the block: both ends of the line joining the partner's shaft axis to
the bouton centre (every site lies on it) keep a PSD radius from each face, so scanners that
image the whole block image every synapse.
"""

from __future__ import annotations

import numpy as np

from .background import BackgroundCell
from .collision import CapsuleIndex
from .geometry import unit, within_block
from .phantom import SYNAPSE_COLUMNS, Phantom, SynapseTable
from .receptors import RECEPTOR_UNIT_pS

# receptors per um^2 of PSD: AMPA ~400-3,300 (Tanaka et al. 2005; Masugi-Tokita et al. 2007),
# well under the ~10^4 per um^2 packing limit (Harris, Jolivet & Attwell 2012); GABA_A similar
RECEPTORS_PER_UM2 = {"AMPA": 1200.0, "GABA_A": 1000.0}
_SPINE_REACH_NM = 1500.0  # longest spine grown to reach a bouton (spines are ~0.5-2 um long)
_CANDIDATES = 12  # partner dendrites (distinct cells, nearest first) tried per bouton
POLYADIC_CONE_DEG = 90.0  # partners of one T-bar lie within this angle of the first one
_TWIG_SCALES = (1.0, 0.6)  # polyadic partner twigs: tips tried at these fractions of the drawn size
_SHAFT_REACH_NM = 40.0  # closer than this (beyond the gap) the shaft itself meets the bouton


def background_synapses(cells, index: CapsuleIndex, cfg, ph: Phantom, rng):
    """Decoy synapses of the background cells (see the module docstring).

    Returns
    -------
    (SynapseTable, vesicles (M, 4), vesicle synapse ids (M,))
        The full synapse table (circuit rows first), every vesicle (circuit ones first, a
        bouton's count in proportion to its volume; a polyadic bouton's vesicles belong to its
        first row) and each vesicle's synapse id.
    """
    posts = _post_segments(cells)
    cols = {k: list(np.asarray(v)) for k, v in ph.synapses.columns().items()}
    vesicles, ves_syn = [ph.vesicles_nm], [ph.vesicle_synapse]
    sid = int(max(cols["id"], default=0))
    if posts is not None:
        spacing = cfg.bouton_interval_um * 1000.0 / cfg.background_step_nm
        for cell in (c for c in cells if c.kind == "axon"):
            taken: list[int] = []  # bouton nodes made so far, kept ``bouton_interval_um`` apart
            for node, cands in _bouton_sites(cell, cells, posts, cfg):
                if any(abs(node - o) < spacing for o in taken):
                    continue
                want = 1 if cfg.polyadic_partners_max <= 1 else int(rng.integers(2, cfg.polyadic_partners_max + 1))
                areas = [float(cfg.background_psd_area_nm2 * np.exp(cfg.background_psd_area_sd * rng.normal()))
                         for _ in range(want)]
                margin = float(np.sqrt(max(areas) / np.pi))
                c = cell.arbor.nodes[node]
                cands = [x for x in cands if within_block(np.stack([x[2], c]), cfg.block_nm, margin)]
                if not cands:
                    continue
                made, rb = _bouton_contacts(cell, node, cands, want, cells, posts, index, cfg, rng)
                if made:
                    taken.append(node)
                for (post_cid, pre_site, post_site, spine), area in zip(made, areas):
                    sid += 1
                    _append_row(cols, sid, cell, post_cid, pre_site, post_site, c, rb, spine, area, rng)
                    if post_cid == made[0][0]:
                        v = _bouton_vesicles(c, rb, cfg, rng)
                        vesicles.append(v)
                        ves_syn.append(np.full(len(v), sid, np.int64))
    table = SynapseTable({k: np.asarray(cols[k], dtype=dt) for k, dt in SYNAPSE_COLUMNS})
    return table, np.concatenate(vesicles).reshape(-1, 4), np.concatenate(ves_syn).astype(np.int64)


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


def _partners(c, r_node, near, posts, cells, own_cid):
    """``(segment, D, q, r)`` of the nearest shaft of each other cell near ``c``, nearest first."""
    pa, pb, pra, prb, pci, _ = posts
    q, t = _closest_on_segments(c, pa[near], pb[near])
    r = pra[near] + t * (prb[near] - pra[near])
    D = np.linalg.norm(c - q, axis=1) - r - r_node
    seen, out = set(), []
    for j in np.argsort(D, kind="stable"):
        cid = cells[int(pci[near[j]])].cid
        if D[j] > _SPINE_REACH_NM or len(out) >= _CANDIDATES:
            break
        if cid != own_cid and cid not in seen:
            seen.add(cid)
            out.append((int(near[j]), float(D[j]), q[j], float(r[j])))
    return out


def _bouton_sites(cell: BackgroundCell, cells, posts, cfg):
    """``(node, partners)`` of the axon's nodes inside the block that have a dendrite of another
    cell within reach, nearest first (the caller keeps the boutons it makes apart)."""
    pa, pb = posts[0], posts[1]
    ar = cell.arbor
    mid = 0.5 * (pa + pb)
    best = []
    for node in range(2, len(ar.nodes) - 1):
        c = ar.nodes[node]
        if ar.spine[node] or not within_block(c, cfg.block_nm, 0.0):
            continue
        near = np.flatnonzero(np.abs(mid - c).max(axis=1) < _SPINE_REACH_NM + 1000.0)
        cands = _partners(c, ar.radii[node], near, posts, cells, cell.cid) if len(near) else []
        if cands:
            best.append((cands[0][1], node, cands))
    return [(node, cands) for _, node, cands in sorted(best, key=lambda b: (b[0], b[1]))]


def _swell(pre: BackgroundCell, node: int, index, cfg, rng) -> float | None:
    """Swell axon node ``node`` into a varicosity as far as its neighbours allow; its radius or None."""
    ar = pre.arbor
    c, r0 = np.asarray(ar.nodes[node]), float(ar.radii[node])
    rb = float(cfg.background_bouton_radius_nm * np.exp(0.25 * rng.normal()))
    while rb >= 1.2 * r0 and index.clearance(c, c, rb, pre.cid, cfg.extracellular_gap_nm) < 0:
        rb *= 0.9  # (a clearance query only sees capsules within its own reach: ask with rb itself)
    if rb < 1.2 * r0:
        return None
    ar.add(c, rb, node, ar.types[node], spine=True)  # a zero-length side node of the bouton radius
    index.add(c, c, rb, pre.cid)
    return rb


def _bouton_contacts(pre, node, cands, want, cells, posts, index, cfg, rng):
    """Swell ``node`` and reach up to ``want`` partners; ``([(post, pre_site, post_site, spine)], rb)``."""
    rb = _swell(pre, node, index, cfg, rng)
    if rb is None:
        return [], 0.0
    c, r0 = np.asarray(pre.arbor.nodes[node]), float(pre.arbor.radii[node])
    made, axis = [], None
    cos_max = np.cos(np.deg2rad(POLYADIC_CONE_DEG))
    for k, D, q, r in cands:
        if len(made) >= want:
            break
        n = unit(c - q)
        if axis is not None and float(np.dot(n, axis)) < cos_max:
            continue
        got = _reach(cells, posts, k, D - (rb - r0), q, r, n, index, cfg, rng)
        if got is not None:
            made.append(got)
            axis = n if axis is None else axis
    if made:
        pre.boutons.append(node)
    return made, rb


def _reach(cells, posts, k, Dp, q, r, n, index, cfg, rng):
    """The partner of shaft segment ``k`` meets a bouton ``Dp`` from its surface along ``n``."""
    pnode = posts[5]
    gap = cfg.extracellular_gap_nm
    post = cells[int(posts[4][k])]
    base = q + n * r
    reach = Dp - gap - 2.0  # how far the spine must stick out
    if reach <= _SHAFT_REACH_NM:  # a shaft synapse: the bouton already lies within the fill's reach
        post_site = base + n * 0.5 * (Dp - gap)
        return post.cid, post_site + n * gap, post_site, False
    rh0 = min(float((3.0 * _lognormal_head(cfg, rng) / (4.0 * np.pi)) ** (1.0 / 3.0)), 0.5 * reach)
    # fly twigs: a thinner tip squeezes past neighbours a full one hits; cortical spines keep their size
    for scale in (_TWIG_SCALES if cfg.polyadic_partners_max > 1 else (1.0,)):
        rh = max(cfg.membrane_nm * 2.0, scale * rh0)
        rn = min(cfg.spine_neck_radius_nm, 0.6 * rh)
        head = base + n * (reach - rh)
        top = head - n * rh if reach - 2 * rh > 2 * rn else base + n * 1.0
        if (index.clearance(base, top, rn, post.cid, gap) >= 0
                and index.clearance(top, head, rh, post.cid, gap) >= 0):
            break
    else:
        return None
    index.add(base, top, rn, post.cid)
    index.add(top, head, rh, post.cid)
    pa_, j0 = post.arbor, int(pnode[k])
    j = pa_.add(q, rn, j0, pa_.types[j0], spine=True)  # on the shaft's axis
    if np.linalg.norm(top - base) > 2.0:
        j = pa_.add(top, rn, j, pa_.types[j0], spine=True)
    j = pa_.add(head, rh, j, pa_.types[j0], spine=True)
    post.spine_heads.append(j)
    post_site = head + n * (rh + 1.0)  # half of the 2 nm beyond the gap
    return post.cid, post_site + n * gap, post_site, True


def _lognormal_head(cfg, rng) -> float:
    """Spine head volume (nm^3), log-normal around ``spine_head_volume_um3``."""
    return float(cfg.spine_head_volume_um3 * np.exp(0.6 * rng.normal()) * 1e9)


def _append_row(cols, sid, cell, post, pre_site, post_site, bouton, rb, spine, area, rng) -> None:
    kind = "GABA_A" if cell.transmitter == "GABA" else "AMPA"
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

"""Background neuropil: axons, dendrites and glial processes of cells outside the circuit.

They are grown after the circuit, into the same collision index, so no background neurite
comes closer than the extracellular gap to any other cell's skeleton: the circuit's geometry is
untouched.  Each neurite is a random walk (persistence + smooth Perlin noise) through a point
drawn uniformly in the block, continued both ways until it leaves the block (padded by the
farthest a label can reach) or is boxed in.  Its root node stands for a soma outside the block.
Calibres are drawn from log-normal distributions; axons carry en-passant boutons, dendrites
carry spines (neck + head), glial processes are thin, tortuous and branch.  Sources of every
default are in :mod:`phantoms.config` and docs/tissue.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .collision import CapsuleIndex
from .geometry import perpendicular, tilt, unit
from .neurites import Arbor, NoiseField
from .phantom import SWC_AXON, SWC_DENDRITE

KINDS = ("axon", "dendrite", "glia")
_FALLBACK_DEG = (15, 30, 50, 75, 100)
_AZIMUTHS = 5
# glial processes start in the emptiest of this many uniform points: astrocytic processes fill the
# interstices left among neuronal elements (Ventura & Harris 1999 J Neurosci 19:6897)
_GLIA_SEED_CANDIDATES = 16
_VOID_PROBE_NM = 400.0  # voids are measured up to this depth


@dataclass
class BackgroundCell:
    """One background cell while it grows: its arbor and the nodes synapses may use."""

    cid: int
    kind: str  # "axon" | "dendrite" | "glia"
    excitatory: bool
    arbor: Arbor
    boutons: list = field(default_factory=list)  # axon nodes that are en-passant boutons
    spine_heads: list = field(default_factory=list)  # dendrite nodes that are spine heads
    length_nm: float = 0.0  # skeleton length inside the block
    transmitter: str = "glutamate"  # "glutamate" | "GABA" | "acetylcholine" (Dale's law: one per cell)

    @property
    def cell_class(self) -> str:
        return "glia" if self.kind == "glia" else "neuron_background"


class _Box:
    """The padded block: background neurites may run up to ``pad`` outside the block."""

    def __init__(self, block_nm, pad: float):
        self.block = np.asarray(block_nm, float)
        self.lo = -pad * np.ones(3)
        self.hi = self.block + pad

    def inside(self, q) -> bool:
        return bool(np.all(q >= self.lo) and np.all(q <= self.hi))

    def in_block(self, q) -> bool:
        return bool(np.all(q >= 0) and np.all(q <= self.block))


def _clear(index: CapsuleIndex, p, q, r: float, cid: int, gap: float) -> bool:
    return index.clearance(p, q, r, cid, gap) >= 0


def _walk(p0, d0, r: float, cfg, box: _Box, index, cid, field_, tort: float, rng, max_len: float):
    """Points stepping from ``p0`` along ``d0`` until leaving the padded box, blocked, or ``max_len``."""
    step = cfg.background_step_nm
    p, d = np.asarray(p0, float), unit(np.asarray(d0, float))
    out: list[np.ndarray] = []
    walked = 0.0
    while walked < max_len:
        want = unit(d + tort * field_(p))
        q = None
        for deg in (0,) + _FALLBACK_DEG:
            for _ in range(1 if deg == 0 else _AZIMUTHS):
                cand_d = want if deg == 0 else tilt(want, np.deg2rad(deg), rng)
                cand = p + step * cand_d
                if _clear(index, p, cand, r, cid, cfg.extracellular_gap_nm):
                    q, d = cand, cand_d
                    break
            if q is not None:
                break
        if q is None:
            break
        index.add(p, q, r, cid)
        out.append(q)
        walked += step
        p = q
        if not box.inside(p):
            break
    return out


def _lognormal(rng, median: float, sd: float) -> float:
    return float(median * np.exp(sd * rng.normal()))


def _transmitter(u: float, cfg) -> str:
    """A background neuron's transmitter from one uniform draw: GABA with ``inhibitory_share``,
    acetylcholine with ``acetylcholine_share``, glutamate otherwise (glia make no synapses)."""
    if u < cfg.inhibitory_share:
        return "GABA"
    return "acetylcholine" if u < cfg.inhibitory_share + cfg.acetylcholine_share else "glutamate"


def _radius(kind: str, cfg, rng) -> float:
    if kind == "axon":
        return max(cfg.background_axon_min_radius_nm,
                   _lognormal(rng, cfg.background_axon_radius_nm, cfg.background_axon_radius_sd))
    if kind == "dendrite":
        return max(cfg.dendrite_min_radius_nm,
                   _lognormal(rng, cfg.background_dendrite_radius_nm, cfg.background_dendrite_radius_sd))
    return max(cfg.background_axon_min_radius_nm, _lognormal(rng, cfg.background_glia_radius_nm, 0.3))


def _void_depth(index: CapsuleIndex, p) -> float:
    """Distance from ``p`` to the nearest skeleton surface, capped at ``_VOID_PROBE_NM``."""
    return min(_VOID_PROBE_NM, _VOID_PROBE_NM + index.clearance(p, p, _VOID_PROBE_NM, -1, 0.0))


def _chord_nm(p, d, block) -> float:
    """Length of the straight line through ``p`` along unit ``d`` inside the box ``[0, block]``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        t0, t1 = (0.0 - p) / d, (block - p) / d
    lo, hi = np.fmin(t0, t1), np.fmax(t0, t1)
    return float(np.min(np.where(d == 0, np.inf, hi)) - np.max(np.where(d == 0, -np.inf, lo)))


def _seed(kind: str, box: _Box, index: CapsuleIndex, rng) -> tuple[np.ndarray, np.ndarray]:
    """Start point and direction of a new neurite.

    Axons and dendrites: isotropic uniform random lines through the block, so that their length
    density is the same everywhere (a uniform point with a uniform direction picks a line in
    proportion to its chord, which thins neurites near the faces; rejecting with probability
    ``1 - c / chord`` undoes that).  Glia: the emptiest of ``_GLIA_SEED_CANDIDATES`` uniform points.
    """
    if kind == "glia":
        cand = rng.uniform(0.0, 1.0, (_GLIA_SEED_CANDIDATES, 3)) * box.block
        return cand[int(np.argmax([_void_depth(index, p) for p in cand]))], unit(rng.normal(size=3))
    c = 0.5 * float(np.min(box.block))
    while True:
        p, d = rng.uniform(0.0, 1.0, 3) * box.block, unit(rng.normal(size=3))
        if rng.random() * _chord_nm(p, d, box.block) <= c:
            return p, d


def _grow_one(cid: int, kind: str, cfg, box: _Box, index, rng) -> BackgroundCell | None:
    """One neurite through a random point of the block, or None if that point is taken."""
    r = _radius(kind, cfg, rng)
    p0, d0 = _seed(kind, box, index, rng)
    if not _clear(index, p0, p0, r, cid, cfg.extracellular_gap_nm):
        return None
    noise_ = NoiseField(cfg.noise_scale_nm, rng)
    tort = {"axon": 0.25, "dendrite": 0.35, "glia": 0.9}[kind]
    reach = float(np.sum(box.hi - box.lo))
    fwd = _walk(p0, d0, r, cfg, box, index, cid, noise_, tort, rng, reach)
    back = _walk(p0, -d0, r, cfg, box, index, cid, noise_, tort, rng, reach)
    path = back[::-1] + [p0] + fwd
    if len(path) < 2:
        return None
    swc = SWC_AXON if kind == "axon" else SWC_DENDRITE
    # the root stands for a soma outside the block (radius: the neurite's); a zero-length stub
    # first, because segments hanging off a soma node are not drawn (see rasterize)
    arbor = Arbor(cid, path[0], r)
    prev = arbor.add(path[0], r, 0, swc)
    nodes = [prev]
    taper = 0.015 if kind == "dendrite" else 0.0  # nm of radius per nm of path, away from the root
    lo_r = cfg.dendrite_min_radius_nm if kind == "dendrite" else r
    for k, q in enumerate(path[1:], start=1):
        rk = max(lo_r, r - taper * k * cfg.background_step_nm) if taper else r
        prev = arbor.add(q, rk, prev, swc)
        nodes.append(prev)
    transmitter = _transmitter(float(rng.random()), cfg)
    cell = BackgroundCell(cid, kind, transmitter != "GABA", arbor, transmitter=transmitter)
    cell.length_nm = sum(float(np.linalg.norm(b - a)) for a, b in zip(path[:-1], path[1:])
                         if box.in_block(a) or box.in_block(b))
    if kind == "dendrite":
        _add_spines(cell, nodes, cfg, box, index, rng)
    elif kind == "glia":
        _add_glia_branches(cell, nodes, r, cfg, box, index, noise_, rng)
    return cell


def _add_spines(cell: BackgroundCell, nodes, cfg, box: _Box, index, rng) -> None:
    """Spines (neck + head) sticking out of the shaft at ``spines_per_um``, where they fit."""
    arbor = cell.arbor
    p = cfg.spines_per_um * cfg.background_step_nm / 1000.0
    gap = cfg.extracellular_gap_nm
    for i in nodes[1:]:
        if rng.random() >= p:
            continue
        D = arbor.nodes[i]
        axis = unit(D - arbor.nodes[arbor.parent[i]])
        n = perpendicular(axis, rng) if np.linalg.norm(axis) > 0 else unit(rng.normal(size=3))
        rn = max(cfg.background_axon_min_radius_nm, _lognormal(rng, cfg.spine_neck_radius_nm, 0.2))
        head_v = _lognormal(rng, cfg.spine_head_volume_um3, 0.6) * 1e9  # nm^3
        rh = float((3.0 * head_v / (4.0 * np.pi)) ** (1.0 / 3.0))
        neck = _lognormal(rng, cfg.background_spine_neck_nm, 0.3)
        base = D + n * arbor.radii[i]
        top = base + n * neck
        head = top + n * rh
        if not (box.inside(head) and _clear(index, base, top, rn, cell.cid, gap)
                and _clear(index, top, head, rh, cell.cid, gap)):
            continue
        index.add(base, top, rn, cell.cid)
        index.add(top, head, rh, cell.cid)
        j = arbor.add(D, rn, i, SWC_DENDRITE, spine=True)  # on the axis: a zero-length stub
        j = arbor.add(top, rn, j, SWC_DENDRITE, spine=True)
        j = arbor.add(head, rh, j, SWC_DENDRITE, spine=True)
        cell.spine_heads.append(j)


def _add_glia_branches(cell: BackgroundCell, nodes, r, cfg, box: _Box, index, noise_, rng) -> None:
    """Short tortuous side branches, about one per micrometre (astrocytic processes)."""
    arbor = cell.arbor
    p = cfg.background_step_nm / 1000.0
    for i in nodes[1:]:
        if rng.random() >= p:
            continue
        d = tilt(unit(arbor.nodes[i] - arbor.nodes[arbor.parent[i]]), np.deg2rad(rng.uniform(40, 90)), rng)
        rb = max(cfg.background_axon_min_radius_nm, 0.7 * r)
        pts = _walk(arbor.nodes[i], d, rb, cfg, box, index, cell.cid, noise_, 0.9, rng,
                    rng.uniform(500.0, 2000.0))
        # a zero-length stub takes the calibre down at the branch point (a sphere inside node i)
        prev = arbor.add(arbor.nodes[i], rb, i, SWC_DENDRITE) if pts else i
        for q in pts:
            prev = arbor.add(q, rb, prev, SWC_DENDRITE)


def grow_background(cfg, index: CapsuleIndex, first_id: int, pad_nm: float, rng) -> list[BackgroundCell]:
    """Background neurites until each kind reaches its length density in the block.

    Parameters
    ----------
    cfg : GrowthConfig
        ``background_*_um_per_um3`` set the targets (um of skeleton per um^3 of block).
    index : CapsuleIndex
        Holds the circuit already; every background segment is filed into it.
    first_id : int
        Ids are ``first_id, first_id + 1, ...``.
    pad_nm : float
        How far outside the block neurites may run.
    rng : np.random.Generator

    Returns
    -------
    list of BackgroundCell
    """
    box = _Box(cfg.block_nm, pad_nm)
    volume_um3 = float(np.prod(box.block)) / 1e9
    target = {"axon": cfg.background_axon_um_per_um3, "dendrite": cfg.background_dendrite_um_per_um3,
              "glia": cfg.background_glia_um_per_um3}
    need = {k: target[k] * volume_um3 * 1000.0 for k in KINDS}
    have = {k: 0.0 for k in KINDS}
    cells: list[BackgroundCell] = []
    misses = 0
    cid = first_id
    # thickest first: dendrites need the room that thin axons and glia can still squeeze into
    for kind in ("dendrite", "axon", "glia"):
        misses = 0
        while have[kind] < need[kind] and misses < 200:
            cell = _grow_one(cid, kind, cfg, box, index, rng)
            if cell is None or cell.length_nm <= 0:
                misses += 1
                cid += cell is not None  # its segments are filed: never reuse the id
                continue
            cells.append(cell)
            have[kind] += cell.length_nm
            cid += 1
    return cells

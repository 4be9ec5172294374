"""Growing skeletons: a mutable arbor per cell, Perlin-noise tortuosity, collision-aware steps.

A step from ``p`` proposes a direction (persistence + goal + smooth Perlin noise); if the
capsule to the new point would come closer than the extracellular gap to another cell, or
leave the block, it tries directions tilted further and further away, and gives up when none
is clear.  Only skeleton points ever see the noise (per-point C calls are cheap there).
"""

from __future__ import annotations

import numpy as np
import noise

from .collision import CapsuleIndex, extra_clearance
from .geometry import tilt, unit
from .phantom import SWC_AXON, SWC_DENDRITE, SWC_SOMA, Skeleton

# angles (degrees) of the fallback directions tried when the preferred one is blocked
_FALLBACK_DEG = (20, 40, 60, 85, 110, 140)
_AZIMUTHS = 6


class Arbor:
    """Nodes of one cell while it grows; node 0 is the soma centre."""

    def __init__(self, cid: int, center: np.ndarray, radius: float):
        self.cid = cid
        self.nodes = [np.asarray(center, float)]
        self.radii = [float(radius)]
        self.parent = [-1]
        self.types = [SWC_SOMA]
        self.spine = [False]  # spine nodes carry no further synapses or branches

    def add(self, pos, radius: float, parent: int, swc_type: int, spine: bool = False) -> int:
        self.nodes.append(np.asarray(pos, float))
        self.radii.append(float(radius))
        self.parent.append(int(parent))
        self.types.append(int(swc_type))
        self.spine.append(bool(spine))
        return len(self.nodes) - 1

    def skeleton(self) -> Skeleton:
        return Skeleton(np.array(self.nodes, float).reshape(-1, 3), np.array(self.radii, float),
                        np.array(self.parent, np.int64), np.array(self.types, np.int8))


class NoiseField:
    """A smooth random 3-vector field from Perlin noise, decorrelated per cell by offsets."""

    def __init__(self, scale_nm: float, rng: np.random.Generator):
        self.scale = scale_nm
        self.offsets = rng.uniform(0.0, 1000.0, size=(3, 3))

    def __call__(self, p: np.ndarray) -> np.ndarray:
        q = p / self.scale
        # pnoise3 lies roughly in [-0.5, 0.5]; doubling gives unit-order components
        return 2.0 * np.array([noise.pnoise3(*(q + o), octaves=2) for o in self.offsets])


class Stepper:
    """Collision-aware stepping of neurites inside the block."""

    def __init__(self, index: CapsuleIndex, block_nm, margin_nm: float, gap_nm: float):
        self.index = index
        self.block = np.asarray(block_nm, float)
        self.margin = margin_nm
        self.gap = gap_nm

    def inside(self, q: np.ndarray, radius: float) -> bool:
        m = self.margin + radius
        return bool(np.all(q >= m) and np.all(q <= self.block - m))

    def clear(self, p, q, radius: float, cid: int, extra=()) -> bool:
        if self.index.clearance(p, q, radius, cid, self.gap) < 0:
            return False
        return extra_clearance(p, q, radius, self.gap, list(extra)) >= 0

    def step(self, p, direction, length: float, radius: float, cid: int, rng, extra=()):
        """The first clear point ``length`` from ``p``, preferring ``direction``; None if boxed in."""
        q = p + length * direction
        if self.inside(q, radius) and self.clear(p, q, radius, cid, extra):
            return q, direction
        for deg in _FALLBACK_DEG:
            for _ in range(_AZIMUTHS):
                d = tilt(direction, np.deg2rad(deg), rng)
                q = p + length * d
                if self.inside(q, radius) and self.clear(p, q, radius, cid, extra):
                    return q, d
        return None, direction


def grow_dendrites(arbors: dict[int, Arbor], cfg, stepper: Stepper, noises: dict, rngs: dict) -> None:
    """Grow tapering, branching, tortuous dendrites for all cells, round-robin step by step.

    Round-robin keeps the order of cells from deciding who gets the space.
    """
    tips: dict[int, list] = {}
    for cid, arbor in arbors.items():
        rng = rngs[cid]
        c, R = arbor.nodes[0], arbor.radii[0]
        n = int(rng.integers(cfg.dendrites_min, cfg.dendrites_max + 1))
        dirs = _spread_directions(n, rng)
        tips[cid] = []
        for d in dirs:
            r0 = cfg.dendrite_radius_nm
            root = arbor.add(c + d * (R - r0), r0, 0, SWC_DENDRITE)
            budget = cfg.dendrite_length_nm * rng.uniform(0.6, 1.0)
            tips[cid].append([root, d, r0, 0, budget])
    step = cfg.step_nm
    p_branch = cfg.dendrite_branch_per_um * step / 1000.0
    while any(tips.values()):
        for cid in sorted(tips):
            arbor, rng, field = arbors[cid], rngs[cid], noises[cid]
            alive = []
            for node, d, r, order, budget in tips[cid]:
                p = arbor.nodes[node]
                want = unit(d + cfg.tortuosity * field(p))
                r_new = max(cfg.dendrite_min_radius_nm, r - cfg.dendrite_taper_nm_per_um * step / 1000.0)
                # the drawn cone starts at node's own radius (a branch's first step starts wider
                # than the branch): check and file the widest of them
                r_cap = max(arbor.radii[node], r, r_new)
                q, d_new = stepper.step(p, want, step, r_cap, cid, rng)
                if q is None:
                    continue
                new = arbor.add(q, r_new, node, SWC_DENDRITE)
                stepper.index.add(p, q, r_cap, cid)
                budget -= step
                if budget <= 0:
                    continue
                alive.append([new, d_new, r_new, order, budget])
                if order < cfg.dendrite_max_branch_order and rng.random() < p_branch:
                    child_d = tilt(d_new, np.deg2rad(rng.uniform(35, 60)), rng)
                    child_r = max(cfg.dendrite_min_radius_nm, 0.85 * r_new)
                    alive.append([new, child_d, child_r, order + 1, budget * rng.uniform(0.5, 0.9)])
            tips[cid] = alive


def _spread_directions(n: int, rng) -> list[np.ndarray]:
    """``n`` unit vectors, each chosen as the farthest of a few random candidates from the others."""
    out: list[np.ndarray] = []
    for _ in range(n):
        cands = rng.normal(size=(16, 3))
        cands /= np.linalg.norm(cands, axis=1, keepdims=True)
        if out:
            score = np.max(cands @ np.array(out).T, axis=1)
            out.append(cands[int(np.argmin(score))])
        else:
            out.append(cands[0])
    return out


def walk_to(start: np.ndarray, goal: np.ndarray, cfg, stepper: Stepper, cid: int, field: NoiseField,
            rng, extra=()) -> list[np.ndarray] | None:
    """A tortuous, collision-free path of axon points from ``start`` to ``goal``, or None.

    The goal pull dominates persistence and Perlin noise so the walk converges; blocked
    steps turn aside, which lets the axon slide around somata and dendrites.
    """
    r = cfg.axon_radius_nm
    step = cfg.step_nm
    p = np.asarray(start, float)
    d = unit(goal - p)
    path: list[np.ndarray] = []
    max_steps = int(3 * np.linalg.norm(goal - p) / step) + 30
    for _ in range(max_steps):
        to_goal = goal - p
        dist = float(np.linalg.norm(to_goal))
        if dist <= 1.5 * step and stepper.clear(p, goal, r, cid, extra):
            path.append(np.asarray(goal, float))
            return path
        want = unit(unit(to_goal) + 0.4 * d + 0.5 * cfg.tortuosity * field(p))
        q, d = stepper.step(p, want, min(step, max(dist, 0.5 * step)), r, cid, rng, extra)
        if q is None:
            return None
        path.append(q)
        p = q
    return None

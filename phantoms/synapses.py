"""Synapses at real appositions: pick a site on the target, grow the axon there, build the contact.

For every planned synapse of a connection ``pre -> post``:

1. pick a site on ``post`` (a dendrite node, preferring ones near ``pre``; the soma as a last
   resort) and an outward normal ``n`` facing ``pre``;
2. lay out the contact along ``n``: on excitatory targets a spine (neck + head) carries the PSD,
   elsewhere the PSD sits on the shaft; the bouton faces the PSD across ``cleft_nm``;
3. check the spine, bouton and an approach waypoint against every other cell;
4. walk ``pre``'s axon from its nearest existing axon node to the waypoint, then commit.

Sites that fail any step are replaced by the next candidate; a connection whose first synapse
finds no site raises :class:`GrowthError` naming ``pre -> post``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .config import GrowthConfig
from .geometry import perpendicular, unit, within_block
from .neurites import Arbor, NoiseField, Stepper, walk_to
from .phantom import SWC_AXON, SWC_DENDRITE

_NORMALS_PER_SITE = 6
MAX_CLEFT_NM = 30.0  # membrane-to-membrane across the cleft, as measured in EM


@dataclass
class Contact:
    """A realized synapse's geometry (nm)."""

    pre_site: np.ndarray  # on the bouton membrane
    post_site: np.ndarray  # on the PSD
    bouton: np.ndarray
    bouton_radius: float
    spine: bool
    vesicles: np.ndarray  # (V, 4)


def _site_candidates(post: Arbor, pre_center: np.ndarray, n_max: int, rng) -> list[int]:
    nodes = np.array(post.nodes)
    ok = np.array([t == SWC_DENDRITE and not s and p > 0 for t, s, p in
                   zip(post.types, post.spine, post.parent)])
    idx = np.flatnonzero(ok)
    out: list[int] = []
    if len(idx):
        dist = np.linalg.norm(nodes[idx] - pre_center, axis=1)
        w = np.exp(-(dist - dist.min()) / 1500.0)
        k = min(n_max, len(idx))
        out = [int(i) for i in rng.choice(idx, size=k, replace=False, p=w / w.sum())]
    out.append(0)  # the soma: an axosomatic synapse when no dendrite site works
    return out


def _normals(post: Arbor, node: int, pre_center, tries: int, rng):
    """Outward directions for a contact at ``node``: facing ``pre`` first, then random ones."""
    D = post.nodes[node]
    towards = unit(pre_center - D)
    if node == 0:
        yield towards
        for _ in range(tries - 1):
            yield unit(towards + perpendicular(towards, rng) * rng.uniform(0.3, 1.5))
        return
    axis = unit(D - post.nodes[post.parent[node]])
    v = towards - np.dot(towards, axis) * axis
    v = unit(v) if np.linalg.norm(v) > 1e-6 else perpendicular(axis, rng)
    yield v
    for _ in range(tries - 1):
        yield perpendicular(axis, rng)  # keeps the contact off the dendrite's axis


def _layout(post: Arbor, node: int, n: np.ndarray, area: float, spine: bool, cfg: GrowthConfig):
    """Spine capsules, PSD point, bouton centre/radius and approach points for one site."""
    D = post.nodes[node]
    psd_r = np.sqrt(area / np.pi)
    if node == 0:
        r_site = r_here = post.radii[0]
        spine = False
    else:
        par = post.parent[node]
        kids = [i for i, p in enumerate(post.parent) if p == node]
        r_here = post.radii[node]
        r_site = max([r_here, post.radii[par]] + [post.radii[k] for k in kids])
    spine_caps = []
    spine_nodes = []
    if spine:
        rn = cfg.spine_neck_radius_nm
        rh = max(cfg.spine_head_radius_nm, 1.15 * psd_r)
        # the neck starts on the dendrite's axis (1 nm off, to avoid a zero-length segment), so
        # the short D -> base piece lies inside the sphere of node D
        base = D + n * 1.0
        top = D + n * (r_site + cfg.spine_neck_length_nm)
        head = top + n * rh
        spine_caps = [(D, base, r_here), (base, top, rn), (top, head, rh)]
        spine_nodes = [(base, rn), (top, rn), (head, rh)]
        post_site = head + n * rh
    else:
        post_site = D + n * r_here
    rb = max(cfg.bouton_radius_nm, 1.15 * psd_r)
    surface = post_site if spine else D + n * r_site
    bouton = surface + n * (cfg.cleft_nm + rb)
    pre_site = bouton - n * rb
    neck = bouton + n * (rb + 20.0)
    waypoint = neck + n * cfg.step_nm
    return dict(n=n, spine=spine, spine_caps=spine_caps, spine_nodes=spine_nodes, post_site=post_site,
                pre_site=pre_site, bouton=bouton, rb=rb, neck=neck, waypoint=waypoint, psd_r=psd_r)


def _vesicles(L: dict, cfg: GrowthConfig, rng) -> np.ndarray:
    """Non-overlapping vesicles in the bouton half that faces the cleft."""
    vr = cfg.vesicle_radius_nm
    room = L["rb"] - vr - cfg.membrane_nm - 4.0
    out: list[np.ndarray] = []
    if room <= 0:
        return np.zeros((0, 4))
    want = int(round(cfg.vesicles_per_um3 * 4.0 / 3.0 * np.pi * L["rb"] ** 3 / 1e9))  # in proportion to volume
    for _ in range(want * 20):
        if len(out) >= want:
            break
        v = rng.normal(size=3)
        v = unit(v) * room * rng.random() ** (1 / 3)
        if np.dot(v, -L["n"]) < -0.2 * room:
            continue
        c = L["bouton"] + v
        if all(np.linalg.norm(c - o) >= 2 * vr + 2.0 for o in out):
            out.append(c)
    return np.array([[*c, vr] for c in out]).reshape(-1, 4)


def realize_synapse(pre: Arbor, post: Arbor, area: float, spine_wanted: bool, cfg: GrowthConfig,
                    stepper: Stepper, pre_field: NoiseField, rng) -> Contact | None:
    """Grow one synapse from ``pre`` onto ``post``; returns None when no candidate site works."""
    pre_center = pre.nodes[0]
    r_ax = cfg.axon_radius_nm
    for node in _site_candidates(post, pre_center, cfg.synapse_attempts, rng):
        for n in _normals(post, node, pre_center, _NORMALS_PER_SITE, rng):
            L = _layout(post, node, n, area, spine_wanted, cfg)
            if _contact_fits(L, pre, post, stepper, r_ax):
                break
        else:
            continue
        extra = L["spine_caps"]
        # 2. the axon walks from its nearest node to the waypoint
        start = _axon_start(pre, L["waypoint"], cfg)
        path = walk_to(pre.nodes[start], L["waypoint"], cfg, stepper, pre.cid, pre_field, rng, extra)
        if path is None:
            continue
        # 3. commit: spine onto post, axon + bouton onto pre, all into the index
        parent = node
        for pos, r in L["spine_nodes"]:
            parent = post.add(pos, r, parent, SWC_DENDRITE, spine=True)
        for a, b, r in L["spine_caps"]:
            stepper.index.add(a, b, r, post.cid)
        prev = start
        for q in path:
            stepper.index.add(pre.nodes[prev], q, r_ax, pre.cid)
            prev = pre.add(q, r_ax, prev, SWC_AXON)
        stepper.index.add(L["waypoint"], L["neck"], r_ax, pre.cid)
        prev = pre.add(L["neck"], r_ax, prev, SWC_AXON)
        stepper.index.add(L["neck"], L["bouton"], L["rb"], pre.cid)
        pre.add(L["bouton"], L["rb"], prev, SWC_AXON, spine=True)  # a terminal bouton: no sprouting
        return Contact(pre_site=L["pre_site"], post_site=L["post_site"], bouton=L["bouton"],
                       bouton_radius=L["rb"], spine=L["spine"], vesicles=_vesicles(L, cfg, rng))
    return None


def _contact_fits(L: dict, pre: Arbor, post: Arbor, stepper: Stepper, r_ax: float) -> bool:
    """The spine clears every other cell; bouton and approach clear every cell but ``pre``."""
    # on a tapering shaft the bouton keeps clear of the segment's widest end, so the cleft can
    # come out wider than cleft_nm; beyond MAX_CLEFT_NM the site is refused
    if np.linalg.norm(L["pre_site"] - L["post_site"]) > MAX_CLEFT_NM:
        return False
    # the whole synapse is imaged: both sites at least a PSD radius inside the block
    if not within_block(np.stack([L["pre_site"], L["post_site"]]), stepper.block, L["psd_r"]):
        return False
    for a, b, r in L["spine_caps"]:
        if not stepper.inside(np.asarray(b), r) or not stepper.clear(a, b, r, post.cid):
            return False
    if not (stepper.inside(L["bouton"], L["rb"]) and stepper.inside(L["waypoint"], r_ax)):
        return False
    extra = L["spine_caps"]
    return (stepper.clear(L["bouton"], L["neck"], L["rb"], pre.cid, extra)
            and stepper.clear(L["neck"], L["waypoint"], r_ax, pre.cid, extra))


def _axon_start(pre: Arbor, target: np.ndarray, cfg: GrowthConfig) -> int:
    """The axon node nearest ``target``; creates the axon's initial node on first use."""
    axon = [i for i, (t, s) in enumerate(zip(pre.types, pre.spine)) if t == SWC_AXON and not s]
    if not axon:
        c, R = pre.nodes[0], pre.radii[0]
        return pre.add(c + unit(target - c) * (R - 2 * cfg.axon_radius_nm), cfg.axon_radius_nm, 0, SWC_AXON)
    nodes = np.array([pre.nodes[i] for i in axon])
    return axon[int(np.argmin(np.linalg.norm(nodes - target, axis=1)))]

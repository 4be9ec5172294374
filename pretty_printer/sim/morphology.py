"""Grown cells as a plain, simulator-free morphology description (phantom -> sections, sites).

The NEURON backend builds multi-compartment cells from a :class:`Morphology`; it never looks at
phantom internals.  A cell is a tree of unbranched :class:`Section` s cut from its skeleton at
branch points and at soma/axon/dendrite changes.  Every connection of the circuit becomes a list
of :class:`SynapseSite` s: the postsynaptic section and position nearest to each grown synapse,
the synapse's share of the connection's conductance, and the axonal conduction delay from the
presynaptic soma to its bouton (the backend detects spikes at the soma and folds axonal
conduction into the NetCon delay).

Units: micrometres here (NEURON's), (x, y, z) order in ``xyz_um`` as NEURON's 3D points expect;
the phantom's (z, y, x) nm is converted on the way in.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SECTION_KINDS = ("soma", "axon", "dendrite")
_SWC_KIND = {1: "soma", 2: "axon", 3: "dendrite"}

#: Conduction velocity of thin unmyelinated axons (0.1-0.5 m/s = 100-500 um/ms).
DEFAULT_CONDUCTION_UM_PER_MS = 300.0


@dataclass(frozen=True, eq=False)
class Section:
    """One unbranched cable.  The soma is a single cylinder with length = diameter (the area of
    the grown sphere); other sections are frusta between consecutive 3D points."""

    kind: str  # one of SECTION_KINDS
    parent: int  # index of the parent section in the cell, -1 for the soma
    parent_x: float  # where on the parent it attaches (0..1)
    xyz_um: np.ndarray  # (n, 3) points, x y z order
    diam_um: np.ndarray  # (n,)
    g_na_mS_cm2: float
    g_k_mS_cm2: float
    g_leak_mS_cm2: float

    @property
    def length_um(self) -> float:
        return float(np.linalg.norm(np.diff(self.xyz_um, axis=0), axis=1).sum())

    @property
    def area_um2(self) -> float:
        """Lateral membrane area (frusta), the same sum NEURON makes from the 3D points."""
        seg = np.linalg.norm(np.diff(self.xyz_um, axis=0), axis=1)
        r0, r1 = self.diam_um[:-1] / 2, self.diam_um[1:] / 2
        return float(np.sum(np.pi * (r0 + r1) * np.sqrt(seg ** 2 + (r1 - r0) ** 2)))


@dataclass(frozen=True, eq=False)
class CellMorphology:
    id: int
    sections: tuple[Section, ...]  # section 0 is the soma

    @property
    def area_um2(self) -> float:
        return float(sum(s.area_um2 for s in self.sections))


@dataclass(frozen=True)
class SynapseSite:
    section: int  # index into the post cell's sections
    x: float  # position along it, 0..1
    share: float  # fraction of the connection's conductance carried here
    delay_ms: float  # axonal conduction from the pre soma to this synapse's bouton


@dataclass(frozen=True, eq=False)
class Morphology:
    """Grown cells and where each connection's synapses sit on them.

    ``sites[(pre, post)]`` lists a connection's synapses (shares sum to 1).  A connection absent
    from ``sites`` falls back to one site at the post soma.
    """

    cells: tuple[CellMorphology, ...]
    sites: dict = field(default_factory=dict)

    def cell(self, cid: int) -> CellMorphology:
        for c in self.cells:
            if c.id == cid:
                return c
        raise KeyError(f"cell {cid!r} has no morphology; cells: {[c.id for c in self.cells]}")

    def sites_of(self, pre: int, post: int) -> tuple[SynapseSite, ...]:
        return self.sites.get((int(pre), int(post)), (SynapseSite(0, 0.5, 1.0, 0.0),))

    def areas_um2(self) -> dict[int, float]:
        return {c.id: c.area_um2 for c in self.cells}


# --------------------------------------------------------------------------- skeleton -> sections
class _Tree:
    """A skeleton cut into sections, with each node's section and arc position kept for lookups."""

    def __init__(self, sk, densities: dict):
        nodes_um = np.asarray(sk.nodes_nm, float)[:, ::-1] / 1000.0  # (z, y, x) nm -> x y z um
        radius_um = np.asarray(sk.radii_nm, float) / 1000.0
        parent = np.asarray(sk.parent, np.int64)
        types = np.asarray(sk.types)
        n = len(parent)
        children = [[] for _ in range(n)]
        for i in range(1, n):
            children[parent[i]].append(i)
        g = {k: np.asarray(v, float) for k, v in densities.items()}
        soma_d = 2 * radius_um[0]
        c0 = nodes_um[0]
        axis = np.array([0.0, 0.0, 1.0])
        self.sections = [Section("soma", -1, 0.5, np.stack([c0 - axis * soma_d / 2, c0 + axis * soma_d / 2]),
                                 np.array([soma_d, soma_d]), g["g_na_mS_cm2"][0], g["g_k_mS_cm2"][0],
                                 g["g_leak_mS_cm2"][0])]
        self.node_sec = np.zeros(n, np.int64)  # section of the edge ending at this node
        self.node_arc = np.zeros(n)  # arc length (um) from the section's start to this node
        self.path_um = np.zeros(n)  # path length from the soma surface
        self.sec_len = [soma_d]
        self.node_arc[0] = soma_d / 2
        starts = [(c, 0) for c in children[0]]
        while starts:
            first, par_sec = starts.pop(0)
            p = parent[first]
            chain = [first]
            while len(children[chain[-1]]) == 1 and types[children[chain[-1]][0]] == types[first]:
                chain.append(children[chain[-1]][0])
            if p == 0:  # start on the soma surface, not at its centre
                u = nodes_um[first] - c0
                dist = np.linalg.norm(u)
                start = c0 + u / dist * min(radius_um[0], 0.99 * dist) if dist > 0 else c0
                px = 0.5
            else:
                start = nodes_um[p]
                px = 1.0
            pts = np.vstack([start, nodes_um[chain]])
            diam = 2 * np.concatenate([[radius_um[first]], radius_um[chain]])
            arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
            idx = len(self.sections)
            base = 0.0 if p == 0 else self.path_um[p]
            self.node_sec[chain] = idx
            self.node_arc[chain] = arc[1:]
            self.path_um[chain] = base + arc[1:]
            self.sec_len.append(max(arc[-1], 1e-6))
            self.sections.append(Section(_SWC_KIND.get(int(types[first]), "dendrite"), par_sec, px, pts,
                                         diam, float(np.mean(g["g_na_mS_cm2"][chain])),
                                         float(np.mean(g["g_k_mS_cm2"][chain])),
                                         float(np.mean(g["g_leak_mS_cm2"][chain]))))
            starts.extend((c, idx) for c in children[chain[-1]])
        self.nodes_um, self.radius_um, self.parent = nodes_um, radius_um, parent

    def nearest(self, point_um: np.ndarray) -> tuple[int, float, int, float]:
        """Nearest membrane location to a point: (section, x, nearest edge's child node, t)."""
        a = self.nodes_um[self.parent[1:]]
        b = self.nodes_um[1:]
        ab = b - a
        t = np.clip(np.einsum("ij,ij->i", point_um - a, ab) / np.maximum(np.einsum("ij,ij->i", ab, ab), 1e-12),
                    0.0, 1.0)
        foot = a + t[:, None] * ab
        r = (1 - t) * self.radius_um[self.parent[1:]] + t * self.radius_um[1:]
        d_edge = np.linalg.norm(point_um - foot, axis=1) - r
        d_soma = np.linalg.norm(point_um - self.nodes_um[0]) - self.radius_um[0]
        k = int(np.argmin(d_edge)) if len(d_edge) else -1
        if k < 0 or d_soma <= d_edge[k]:
            return 0, 0.5, 0, 0.0
        node = k + 1
        sec = int(self.node_sec[node])
        seg_len = np.linalg.norm(ab[k])
        arc = self.node_arc[node] - (1 - t[k]) * seg_len
        return sec, float(np.clip(arc / self.sec_len[sec], 0.0, 1.0)), node, float(t[k])

    def path_to(self, node: int, t: float) -> float:
        """Path length (um) from the soma surface to a point on the edge ending at ``node``."""
        if node == 0:
            return 0.0
        seg = np.linalg.norm(self.nodes_um[node] - self.nodes_um[self.parent[node]])
        return float(max(self.path_um[node] - (1 - t) * seg, 0.0))


def morphology_from_phantom(phantom, *, conduction_um_per_ms: float = DEFAULT_CONDUCTION_UM_PER_MS) -> Morphology:
    """Cut a grown phantom's skeletons into sections and map its synapses onto them.

    Parameters
    ----------
    phantom : phantoms.Phantom
        Cell ids must be the circuit's (generate grows the renumbered circuit).
    conduction_um_per_ms : float
        Axonal conduction velocity used to turn the pre soma -> bouton path into a delay.

    Returns
    -------
    Morphology
    """
    if not conduction_um_per_ms > 0:
        raise ValueError(f"conduction_um_per_ms: expected > 0, got {conduction_um_per_ms!r}")
    trees = {cid: _Tree(phantom.skeleton(cid), phantom.channel_densities(cid)) for cid in phantom.cell_ids}
    cells = tuple(CellMorphology(cid, tuple(trees[cid].sections)) for cid in phantom.cell_ids)
    syn = phantom.synapses
    sites: dict[tuple[int, int], list] = {}
    if len(syn):
        post_um = syn.post_nm[:, ::-1] / 1000.0
        pre_um = syn.pre_nm[:, ::-1] / 1000.0
        g = np.asarray(syn["conductance_nS"], float)
        pre_c, post_c = np.asarray(syn["pre_cell"]), np.asarray(syn["post_cell"])
        for i in range(len(syn)):
            key = (int(pre_c[i]), int(post_c[i]))
            if key[0] not in trees or key[1] not in trees:
                continue  # a background (decoy) synapse: not part of the circuit
            sec, x, _, _ = trees[key[1]].nearest(post_um[i])
            _, _, node, t = trees[key[0]].nearest(pre_um[i])
            delay = trees[key[0]].path_to(node, t) / conduction_um_per_ms
            sites.setdefault(key, []).append((sec, x, g[i], delay))
    out = {}
    for key, rows in sites.items():
        total = sum(r[2] for r in rows)
        out[key] = tuple(SynapseSite(sec, x, (gi / total) if total > 0 else 1.0 / len(rows), d)
                         for sec, x, gi, d in rows)
    return Morphology(cells, out)

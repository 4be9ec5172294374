"""Organelles with their own truth: mitochondria in every neurite compartment, nuclei in somata.

Placed once per phantom from an explicit ``numpy.random.Generator`` (the ``organelles`` branch
of the seed tree): first the circuit cells (``cell_ids`` order), then the boutons of every
synapse, then the background neurites (``background_ids`` order; glia get none, see
:func:`_background_mitos`), and stored on the phantom (``Phantom.organelles``).

Shapes and numbers (real values first; the phantom's neurites are scaled down in calibre,
see :mod:`phantoms.config`, so organelle radii are set *relative to the neurite they sit in*):

* **Dendrites**: mitochondria are long and fill most of the dendrite's length: 44 % (rat S1)
  to 70 % (mouse L2/3) of dendritic length is occupied (review table in Seager et al. 2020,
  PMC10357692 Table 4, citing Lewis et al. 2018 Nat Commun and Chandra et al. 2019);
  diameter ~0.2-0.4 um in ~1 um dendrites.  Here: ``DENDRITE_COVERAGE`` of each segment's length,
  radius ``DENDRITE_RADIUS_RATIO`` of the segment's radius.
* **Axons**: short (0.45-1.1 um) and sparse: 3-11 % of axon length (same table).
  Here ``AXON_COVERAGE`` of segments carry one, radius ``AXON_RADIUS_RATIO`` of the axon's.
* **Boutons**: about 40 % of presynaptic boutons hold a mitochondrion (Shepherd & Harris 1998,
  J Neurosci 18:8300, CA1: 41 %); bouton mitochondria are small (0.04-0.06 um^3, Thomas et al.
  2019 Biol Open 8:bio044834).  Here a sphere on the side of the bouton away from the cleft
  (the vesicles fill the cleft side).
* **Somata**: a nucleus of ``NUCLEUS_RADIUS_RATIO`` of the soma radius (cortical neurons: a
  ~10 um nucleus in a ~15-20 um soma) and mitochondria filling ``SOMA_MITO_FRACTION`` of the
  cytoplasmic shell (perikaryal mitochondria ~5-10 % of cytoplasm; Seager et al. 2020 review).
* **Resulting volume fraction** (derived from the rows above; no direct measurement of the whole
  neuropil's mitochondrial volume fraction was found): dendrites 44-70 % of length times a
  (0.2-0.4 um / ~1 um)^2 cross-section share hold ~2-11 % of dendritic volume, axons 3-11 % of
  length at a similar share well under that, perikarya 5-10 % of cytoplasm; so neuronal volume
  holds roughly 3-15 % mitochondria.  ``tests/phantoms/test_organelles.py`` checks the whole
  tissue's neuronal volume against that range and ``docs/tissue.md`` compares ``cortex``.

Every organelle lies wholly inside its cell (it is inset from the cell's round cone by the
membrane and a margin), so labels are unchanged by organelles.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import perpendicular, unit
from .phantom import SWC_AXON, SWC_DENDRITE

DENDRITE_COVERAGE = 0.55
DENDRITE_RADIUS_RATIO = 0.4
AXON_COVERAGE = 0.10
AXON_RADIUS_RATIO = 0.5
BOUTON_MITO_PROBABILITY = 0.4
BOUTON_RADIUS_RATIO = 0.27
NUCLEUS_RADIUS_RATIO = 0.55
SOMA_MITO_FRACTION = 0.07
SOMA_MITO_RADIUS_RATIO = 0.09  # of the soma radius
MARGIN_NM = 4.0  # organelle surface keeps this far inside the cell's membrane shell
KINDS = ("soma", "dendrite", "axon", "bouton")


@dataclass(frozen=True)
class Organelles:
    """Mitochondria (capsules ``a``-``b`` of radius ``r``) and nuclei (spheres), in nm (z, y, x).

    Instance ids: mitochondrion ``i`` is ``i + 1``; nucleus ``j`` is ``n_mito + j + 1``.
    """

    mito_a: np.ndarray  # (M, 3)
    mito_b: np.ndarray  # (M, 3)
    mito_r: np.ndarray  # (M,)
    mito_cell: np.ndarray  # (M,) int64
    mito_kind: np.ndarray  # (M,) int8, index into KINDS
    nucleus_center: np.ndarray  # (K, 3)
    nucleus_r: np.ndarray  # (K,)
    nucleus_cell: np.ndarray  # (K,) int64

    @classmethod
    def empty(cls) -> "Organelles":
        z3 = np.zeros((0, 3))
        return cls(z3, z3, np.zeros(0), np.zeros(0, np.int64), np.zeros(0, np.int8), z3, np.zeros(0),
                   np.zeros(0, np.int64))

    def arrays(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    @classmethod
    def from_arrays(cls, arrays: dict) -> "Organelles":
        return cls(**{k: np.asarray(arrays[k]) for k in cls.__dataclass_fields__})

    def mito_volumes_nm3(self) -> np.ndarray:
        L = np.linalg.norm(self.mito_b - self.mito_a, axis=1)
        return np.pi * self.mito_r ** 2 * L + 4.0 / 3.0 * np.pi * self.mito_r ** 3


def place_organelles(phantom, rng: np.random.Generator) -> Organelles:
    """Mitochondria and nuclei for every cell of ``phantom``.

    Parameters
    ----------
    phantom : Phantom
    rng : numpy.random.Generator
        The ``organelles`` branch of the seed tree; the draw order is in the module docstring.

    Returns
    -------
    Organelles
    """
    rng = np.random.default_rng(rng)
    mem = float(phantom.cfg.membrane_nm) + MARGIN_NM
    mitos: list[tuple] = []
    nuclei: list[tuple] = []
    for cid, centre, R, sk in zip(phantom.cell_ids, phantom.soma_centers, phantom.soma_radii, phantom.skeletons):
        R = float(R)
        if R > 0:
            rn = NUCLEUS_RADIUS_RATIO * R
            nuclei.append((np.asarray(centre, float), rn, cid))
            mitos += _soma_mitos(np.asarray(centre, float), R, rn, mem, cid, rng)
        mitos += _neurite_mitos(sk, mem, cid, float(phantom.cfg.dendrite_min_radius_nm), rng)
    mitos += _bouton_mitos(phantom, mem, rng)
    mitos += _background_mitos(phantom, mem, rng)  # last: the circuit cells' draws stay as they were
    if not mitos:
        m = Organelles.empty()
        mito = (m.mito_a, m.mito_b, m.mito_r, m.mito_cell, m.mito_kind)
    else:
        a, b, r, c, k = zip(*mitos)
        mito = (np.array(a, float), np.array(b, float), np.array(r, float), np.array(c, np.int64), np.array(k, np.int8))
    if nuclei:
        nc, nr, ncell = zip(*nuclei)
        nuc = (np.array(nc, float).reshape(-1, 3), np.array(nr, float), np.array(ncell, np.int64))
    else:
        nuc = (np.zeros((0, 3)), np.zeros(0), np.zeros(0, np.int64))
    return Organelles(*mito, *nuc)


def _soma_mitos(centre, R, rn, mem, cid, rng) -> list[tuple]:
    """Short capsules in the shell between nucleus and membrane, up to ``SOMA_MITO_FRACTION``."""
    r = SOMA_MITO_RADIUS_RATIO * R
    inner, outer = rn + mem + r, R - mem - r
    if outer <= inner:
        return []
    shell = 4.0 / 3.0 * np.pi * (R ** 3 - rn ** 3)
    out, vol = [], 0.0
    for _ in range(200):
        if vol >= SOMA_MITO_FRACTION * shell:
            break
        d = unit(rng.normal(size=3))
        rho = rng.uniform(inner, outer)
        half = rng.uniform(0.5, 1.5) * r
        t = perpendicular(d, rng)
        a, b = centre + d * rho - t * half, centre + d * rho + t * half
        # both ends inside the shell
        if not all(inner <= np.linalg.norm(p - centre) <= outer for p in (a, b)):
            continue
        if any(_capsules_meet(a, b, r, o[0], o[1], o[2]) for o in out):
            continue
        out.append((a, b, r, cid, KINDS.index("soma")))
        vol += np.pi * r * r * 2 * half + 4.0 / 3.0 * np.pi * r ** 3
    return out


def _neurite_mitos(sk, mem, cid, min_dendrite_r, rng) -> list[tuple]:
    """One capsule on a share of the dendrite and axon segments, inside the segment's cone.

    Spines (dendrite segments thinner than the thinnest shaft) get none, as in real spines.
    """
    out = []
    child = np.flatnonzero(sk.parent >= 0)
    for i in child:
        p = sk.parent[i]
        t = int(sk.types[i])
        if t not in (SWC_DENDRITE, SWC_AXON) or int(sk.types[p]) not in (SWC_DENDRITE, SWC_AXON):
            continue
        ra, rb = float(sk.radii_nm[p]), float(sk.radii_nm[i])
        if t == SWC_AXON and rb > 1.5 * ra:
            continue  # the bouton at the end of a terminal branch: see _bouton_mitos
        if t == SWC_DENDRITE and min(ra, rb) < 0.9 * min_dendrite_r:
            continue  # a spine neck or head
        cover, ratio, kind = ((DENDRITE_COVERAGE, DENDRITE_RADIUS_RATIO, "dendrite") if t == SWC_DENDRITE
                              else (AXON_COVERAGE, AXON_RADIUS_RATIO, "axon"))
        u = rng.random(3)
        A, B = sk.nodes_nm[p], sk.nodes_nm[i]
        L = float(np.linalg.norm(B - A))
        rmin = min(ra, rb)
        r = ratio * rmin
        if L <= 0 or rmin - mem - r <= 0:
            continue
        if t == SWC_DENDRITE:
            length = cover * L  # a share of every dendrite segment
            start = u[0] * (L - length)
        else:
            if u[0] >= cover:
                continue
            length = 0.8 * L
            start = u[1] * (L - length)
        d = (B - A) / L
        off = perpendicular(d, rng) * (u[2] * (rmin - mem - r))
        out.append((A + d * start + off, A + d * (start + length) + off, r, cid, KINDS.index(kind)))
    return out


def _bouton_mitos(phantom, mem, rng) -> list[tuple]:
    """A small sphere on the back (away from the cleft) of ``BOUTON_MITO_PROBABILITY`` of boutons."""
    S = phantom.synapses
    out = []
    for i in range(len(S)):
        u = rng.random()
        if u >= BOUTON_MITO_PROBABILITY:
            continue
        c = np.array([S["bouton_z_nm"][i], S["bouton_y_nm"][i], S["bouton_x_nm"][i]])
        rb = float(S["bouton_radius_nm"][i])
        pre = np.array([S["pre_z_nm"][i], S["pre_y_nm"][i], S["pre_x_nm"][i]])
        back = unit(c - pre)
        r = BOUTON_RADIUS_RATIO * rb
        centre = c + back * (rb - mem - r)
        out.append((centre, centre.copy(), r, int(S["pre_cell"][i]), KINDS.index("bouton")))
    return out


def _background_mitos(phantom, mem, rng) -> list[tuple]:
    """Dendrite and axon mitochondria of the background neurites, by the circuit cells' rules.

    Glia get none: fine astrocytic processes do hold mitochondria, small (0.2-0.4 um) and two to
    several times sparser than in the stem processes (Derouiche et al. 2015 Neurochem Res 40:2402),
    but no volume fraction per length of process was found to set a rate from.
    """
    out: list[tuple] = []
    min_r = float(phantom.cfg.dendrite_min_radius_nm)
    for cid, sk, cls in zip(phantom.background_ids, phantom.background_skeletons, phantom.background_classes):
        if cls != "glia":
            out += _neurite_mitos(sk, mem, int(cid), min_r, rng)
    return out


def _capsules_meet(a, b, r, a2, b2, r2) -> bool:
    from .geometry import segment_distances

    return bool(segment_distances(a, b, a2[None], b2[None])[0] < r + r2 + 2 * MARGIN_NM)


def organelle_stats(org: Organelles, cell_volume_nm3: float, block_volume_nm3: float) -> dict:
    """Counts and volume fractions (of the block and of the cells' volume) for ``tissue_stats``."""
    v = org.mito_volumes_nm3()
    nuc = 4.0 / 3.0 * np.pi * org.nucleus_r ** 3
    out = {"mitochondria_count": int(len(v)), "nuclei_count": int(len(nuc)),
           "mitochondria_volume_fraction": float(v.sum() / block_volume_nm3) if block_volume_nm3 else None,
           "mitochondria_fraction_of_cells": float(v.sum() / cell_volume_nm3) if cell_volume_nm3 else None,
           "nucleus_volume_fraction": float(nuc.sum() / block_volume_nm3) if block_volume_nm3 else None}
    for k, name in enumerate(KINDS):
        out[f"mitochondria_count_{name}"] = int((org.mito_kind == k).sum())
    return out

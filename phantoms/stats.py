"""Tissue statistics measured on a phantom and its rasterized labels (``truth/tissue_stats.json``).

Volume measures come from rasterizing the block; sizes from the skeletons and the synapse
table.  docs/tissue.md compares them with the literature.
"""

from __future__ import annotations

import numpy as np

from .phantom import SWC_AXON, SWC_DENDRITE, Phantom
from .organelle_fields import release_sites
from .rasterize import rasterize

_BLOCK_VOXELS = 3_000_000  # the whole-block rasterization for volume fractions
_FINE_NM = 10.0  # the sub-boxes for membrane contacts and section profiles
_FINE_UM = 0.8  # eight of these, centred at 1/4 and 3/4 of each side: one box is too few (its
# share of membrane in contact varied 0.80-0.96 between boxes of one cortex block)
_CONTACT_NM = 50.0
_MEMBRANE_SAMPLES = 3000


def _quartiles(x) -> dict:
    x = np.asarray(x, float)
    if not len(x):
        return {"n": 0, "median": None, "q25": None, "q75": None}
    q25, med, q75 = np.percentile(x, [25, 50, 75])
    return {"n": int(len(x)), "median": float(med), "q25": float(q25), "q75": float(q75)}


def _kind(ph: Phantom, cid: int) -> str:
    """``circuit``, ``glia``, ``background_axon`` or ``background_dendrite``."""
    cls = ph.cell_class(cid)
    if cls == "neuron_circuit":
        return "circuit"
    if cls == "glia":
        return "glia"
    types = ph.skeleton(cid).types[1:]
    return "background_axon" if np.mean(types == SWC_AXON) > 0.5 else "background_dendrite"


def _block_labels(ph: Phantom) -> tuple[np.ndarray, float]:
    size = np.asarray(ph.block_size_nm, float)
    vox = max(_FINE_NM, float((np.prod(size) / _BLOCK_VOXELS) ** (1.0 / 3.0)))
    shape = np.maximum(1, np.round(size / vox)).astype(int)
    return rasterize(ph, ph.block_origin_nm, shape, size / shape, ("labels",))["labels"], vox


def _fine_boxes(ph: Phantom) -> tuple[list[np.ndarray], np.ndarray]:
    """Origins of eight sub-boxes (centred at 1/4 and 3/4 of each side, clipped to the block) and
    their common shape in voxels."""
    size = np.asarray(ph.block_size_nm, float)
    side = np.minimum(size, _FINE_UM * 1000.0)
    lo = np.asarray(ph.block_origin_nm, float)
    origins = []
    for corner in np.ndindex(2, 2, 2):
        centre = lo + size * (0.25 + 0.5 * np.asarray(corner))
        origins.append(np.clip(centre - 0.5 * side, lo, lo + size - side))
    return origins, np.round(side / _FINE_NM).astype(int)


def membrane_contact_share(labels, voxel_nm: float, rng, distance_nm: float = _CONTACT_NM) -> float:
    """Share of cell-boundary voxels with a voxel of another cell within ``distance_nm`` (a ball).

    ``labels`` is one 3-D label array or a list of them (sub-boxes of one block, pooled).
    Boundary voxels are labelled voxels with a 6-neighbour of another value, at least
    ``distance_nm`` inside their box (so that the whole ball is seen); ``_MEMBRANE_SAMPLES`` of
    them in all are tested, drawn uniformly from the pool.
    """
    boxes = [labels] if isinstance(labels, np.ndarray) else list(labels)
    k = int(np.ceil(distance_nm / voxel_nm))
    found = [_boundary_voxels(lab, k) for lab in boxes]
    n_all = sum(len(f) for f in found)
    if not n_all:
        return 0.0
    pick = np.sort(rng.choice(n_all, size=min(_MEMBRANE_SAMPLES, n_all), replace=False))
    starts = np.cumsum([0] + [len(f) for f in found])
    hits = 0
    for b, lab in enumerate(boxes):
        mine = pick[(pick >= starts[b]) & (pick < starts[b + 1])] - starts[b]
        hits += _contacts(lab, found[b][mine], k, voxel_nm, distance_nm)
    return hits / len(pick)


def _boundary_voxels(lab: np.ndarray, margin: int) -> np.ndarray:
    """``(n, 3)`` indices of labelled voxels with a 6-neighbour of another value, ``margin`` voxels
    or more inside the box."""
    m = max(1, margin)
    inner = lab[m:-m, m:-m, m:-m]
    edge = np.zeros(inner.shape, bool)
    for ax in range(3):
        for sh in (-1, 1):
            nb = np.roll(lab, sh, axis=ax)[m:-m, m:-m, m:-m]
            edge |= nb != inner
    edge &= inner != 0
    return np.argwhere(edge) + m


def _contacts(lab: np.ndarray, idx: np.ndarray, k: int, voxel_nm: float, distance_nm: float) -> int:
    """How many of the voxels ``idx`` (``k`` or more voxels inside ``lab``) have a voxel of another
    cell within ``distance_nm`` (``k = ceil(distance_nm / voxel_nm)``)."""
    off = np.arange(-k, k + 1)
    ball = (off[:, None, None] ** 2 + off[None, :, None] ** 2 + off[None, None, :] ** 2) * voxel_nm ** 2 <= distance_nm ** 2
    hits = 0
    for z, y, x in idx:
        patch = lab[z - k:z + k + 1, y - k:y + k + 1, x - k:x + k + 1][ball]
        own = lab[z, y, x]
        hits += bool(np.any((patch != 0) & (patch != own)))
    return hits


def profiles_per_um2(labels: np.ndarray, voxel_nm: float) -> float:
    """Connected cell profiles per um^2 in the z-sections of ``labels`` (4-connected, same id).

    ``labels`` is one 3-D label array or a list of them (the mean over all their sections).
    """
    from skimage.measure import label as components

    boxes = [labels] if isinstance(labels, np.ndarray) else list(labels)
    counts = [int(components(sec, background=0, connectivity=1).max())
              for lab in boxes for sec in lab[:: max(1, len(lab) // 4)]]
    area_um2 = boxes[0].shape[1] * boxes[0].shape[2] * (voxel_nm / 1000.0) ** 2
    return float(np.mean(counts) / area_um2)


def _calibres(ph: Phantom) -> dict:
    axon, dend, bouton, head = [], [], [], []
    for cid in ph.all_cell_ids:
        sk = ph.skeleton(cid)
        t, r = sk.types, sk.radii_nm
        kids = np.bincount(sk.parent[sk.parent >= 0], minlength=len(r))
        shaft = np.ones(len(r), bool)
        shaft[0] = False
        ax = (t == SWC_AXON) & shaft
        med = np.median(r[ax]) if ax.any() else 0.0
        big = ax & (r > 1.6 * med)  # boutons and varicosities
        axon.extend(2 * r[ax & ~big] / 1000.0)
        bouton.extend(2 * r[big] / 1000.0)
        de = (t == SWC_DENDRITE) & shaft
        par_r = r[np.maximum(sk.parent, 0)]
        heads = de & (kids == 0) & (r > 1.2 * par_r)  # a spine head: a swollen tip on a thin neck
        dend.extend(2 * r[de & ~heads & (r >= ph.cfg.dendrite_min_radius_nm)] / 1000.0)
        head.extend(4.0 / 3.0 * np.pi * (r[heads] / 1000.0) ** 3)
    return {"axon_diameter_um": _quartiles(axon), "dendrite_diameter_um": _quartiles(dend),
            "bouton_diameter_um": _quartiles(bouton), "spine_head_volume_um3": _quartiles(head)}


def _length_densities(ph: Phantom) -> dict:
    """Skeleton length inside the block per um^3, by kind, beside the preset's targets (the
    background grows until a target is met or start points keep falling on taken space)."""
    lo = np.asarray(ph.block_origin_nm, float)
    hi = lo + np.asarray(ph.block_size_nm, float)
    got: dict[str, float] = {}
    for cid in ph.all_cell_ids:
        sk = ph.skeleton(cid)
        kids = np.arange(1, len(sk.parent))
        a, b = sk.nodes_nm[sk.parent[kids]], sk.nodes_nm[kids]
        inside = np.all((b >= lo) & (b <= hi), axis=1)
        key = _kind(ph, cid)
        got[key] = got.get(key, 0.0) + float(np.linalg.norm(b - a, axis=1)[inside].sum()) / 1000.0
    volume_um3 = float(np.prod(ph.block_size_nm)) / 1e9
    cfg = ph.cfg
    return {"measured": {k: v / volume_um3 for k, v in sorted(got.items())},
            "target": {"background_axon": cfg.background_axon_um_per_um3,
                       "background_dendrite": cfg.background_dendrite_um_per_um3,
                       "glia": cfg.background_glia_um_per_um3}}


def _inside_fraction(ph: Phantom) -> float | None:
    S = ph.synapses
    if not len(S):
        return None
    lo = np.asarray(ph.block_origin_nm, float)
    hi = lo + np.asarray(ph.block_size_nm, float)
    ok = np.all((S.pre_nm >= lo) & (S.pre_nm < hi) & (S.post_nm >= lo) & (S.post_nm < hi), axis=1)
    return float(np.mean(ok))


def _synapse_stats(ph: Phantom, volume_um3: float) -> dict:
    S = ph.synapses
    circuit = set(ph.cell_ids)
    pre, post = np.asarray(S["pre_cell"]), np.asarray(S["post_cell"])
    in_circuit = np.array([int(p) in circuit for p in pre], bool)
    pairs = {}
    for a, b in zip(pre.tolist(), post.tolist()):
        pairs[(a, b)] = pairs.get((a, b), 0) + 1
    per_conn = [n for (a, b), n in pairs.items() if a in circuit]
    area_um2 = np.asarray(S["psd_area_nm2"], float) / 1e6
    n_rec = np.asarray(S["n_AMPA"]) + np.asarray(S["n_NMDA"]) + np.asarray(S["n_GABA_A"])
    site, first = release_sites(ph)
    # vesicles per bouton: a polyadic bouton's vesicles are filed under its first row
    ves = (np.bincount(site[np.searchsorted(np.asarray(S["id"]), ph.vesicle_synapse)], minlength=len(first))
           if len(S) else [])
    partners = np.bincount(site, minlength=len(first)) if len(S) else np.zeros(0, np.int64)
    transmitters = [ph.transmitter(int(p)) for p in pre[~in_circuit]]
    return {
        "synapses": int(len(S)), "circuit_synapses": int(in_circuit.sum()),
        "background_synapses": int((~in_circuit).sum()),
        "synapse_density_per_um3": float(len(S) / volume_um3),
        "psd_area_um2": _quartiles(area_um2), "circuit_psd_area_um2": _quartiles(area_um2[in_circuit]),
        "synapses_per_connection": {**_quartiles(per_conn), "max": int(max(per_conn, default=0)),
                                    "share_multi": float(np.mean(np.asarray(per_conn) > 1)) if per_conn else 0.0},
        "vesicles_per_bouton": _quartiles(ves),
        "receptors_per_um2_psd": _quartiles(n_rec / np.maximum(area_um2, 1e-12)),
        "spine_share": float(np.mean(np.asarray(S["spine"]) > 0)) if len(S) else 0.0,
        # both sites inside the block: what a scan of the whole block images (the scorer's rule)
        "synapses_inside_block_fraction": _inside_fraction(ph),
        "release_sites": int(len(first)),
        "partners_per_release_site": {**_quartiles(partners), "max": int(partners.max(initial=0)),
                                      "share_polyadic": float(np.mean(partners > 1)) if len(partners) else 0.0},
        "background_transmitter_shares": {t: transmitters.count(t) / max(1, len(transmitters))
                                          for t in sorted(set(transmitters))},
    }


def tissue_stats(ph: Phantom, rng=None) -> dict:
    """Measured statistics of a phantom's tissue (see the module docstring).

    Returns
    -------
    dict
        ``ecs_fraction``, ``volume_fractions`` (by cell kind), ``membrane_within_50nm``,
        ``profiles_per_um2``, calibre and PSD-area quartiles, synapse density per um^3,
        synapses per connection, vesicles per bouton, the packing settings and sample sizes.
    """
    rng = np.random.default_rng(rng if rng is not None else 0)
    labels, vox = _block_labels(ph)
    ids, counts = np.unique(labels, return_counts=True)
    total = float(labels.size)
    fractions: dict[str, float] = {}
    for cid, n in zip(ids.tolist(), counts.tolist()):
        key = "extracellular" if cid == 0 else _kind(ph, cid)
        fractions[key] = fractions.get(key, 0.0) + n / total
    origins, shape = _fine_boxes(ph)
    fine = [rasterize(ph, o, shape, _FINE_NM, ("labels",))["labels"] for o in origins]
    volume_um3 = float(np.prod(ph.block_size_nm)) / 1e9
    return {
        "block_um": [float(v) / 1000.0 for v in ph.block_size_nm],
        "ecs_fraction": fractions.get("extracellular", 0.0),
        "ecs_fraction_target": ph.packing.get("ecs_fraction_target"),
        "volume_fractions": dict(sorted(fractions.items())),
        "membrane_within_50nm": membrane_contact_share(fine, _FINE_NM, rng),
        "profiles_per_um2": profiles_per_um2(fine, _FINE_NM),
        "packing": dict(ph.packing),
        # disjoint counts that add up to every truth cell (background neurites and glia are both
        # background cells; "background" alone used to count the glia a second time)
        "cells": {"circuit": len(ph.cell_ids),
                  "background_neurons": int(sum(c != "glia" for c in ph.background_classes)),
                  "glia": int(sum(c == "glia" for c in ph.background_classes))},
        "circuit_soma_diameter_um": _quartiles(2.0 * np.asarray(ph.soma_radii, float) / 1000.0),
        **_calibres(ph),
        "length_density_um_per_um3": _length_densities(ph),
        **_synapse_stats(ph, volume_um3),
        "measured_on": {"block_voxel_nm": vox, "fine_box_origins_nm": [[float(v) for v in o] for o in origins],
                        "fine_box_shape": [int(v) for v in shape], "fine_voxel_nm": _FINE_NM},
    }

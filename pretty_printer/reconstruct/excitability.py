"""Estimate each segment's excitability (tonic channel densities) from what a scan shows.

Two routes, written as ``cells.csv`` columns (``segment_id`` and the densities in mS/cm^2):

* **Stains (ExM)** -- :mod:`pretty_printer.reconstruct.stain_unmixing` (least-squares unmixing
  of the blurred channel stains against each segment's membrane area; it shares
  :data:`SURFACE_CORRECTION` from here).
* **Morphology (EM, X-ray)** -- :func:`densities_from_soma_size`.  Each segment's soma radius is
  its largest inscribed sphere (maximum of the anisotropic distance transform); the tissue's
  published size-principle law (``phantoms/channels.py``, constants in the manifest's
  ``excitability_law``) turns it into a tonic drive, which becomes one species' density
  (``phantoms.channels.densities_from_drive``); a segment thinner than half the nominal soma
  radius has no soma to measure and gets the default densities.  How well this works depends on
  ``tissue.excitability_morphology_correlation``, which a pipeline does not know.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from scipy import ndimage

from phantoms.channels import CHANNEL_COLUMNS, densities_from_drive, drive_from_radius
from pretty_printer.circuit.excitability import DEFAULT_DENSITIES

SOMA_MIN_FRACTION = 0.5  # a segment thinner than this x the nominal soma radius has no soma
SURFACE_CORRECTION = 2.0 / 3.0  # mean ratio of a smooth surface's area to its voxel-face area (Cauchy-Crofton)


def soma_radii_nm(seg: np.ndarray, voxel_nm) -> dict[int, float]:
    """Each segment's largest inscribed-sphere radius (nm): its soma radius.

    The anisotropic distance from each voxel to the nearest voxel outside its own segment (a
    voxel on a label boundary counts as outside), plus half the finest voxel for the boundary
    voxel itself.

    Parameters
    ----------
    seg : (z, y, x) numpy.ndarray
        Integer labels >= 0; 0 is no segment.
    voxel_nm : sequence of float
        Voxel size (z, y, x), nm.

    Returns
    -------
    dict of int -> float
        Radius (nm) of every label > 0 present, in increasing label order.
    """
    voxel_nm = np.asarray(voxel_nm, float)
    inner = seg > 0
    for axis in range(3):
        a = np.moveaxis(seg, axis, 0)
        m = np.moveaxis(inner, axis, 0)
        d = a[1:] != a[:-1]
        m[1:] &= ~d
        m[:-1] &= ~d
        del d
    # the nearest outside voxel's indices; the distances are formed section by section below
    # (scipy forms them for the whole volume at once, 44 bytes a voxel on top of the indices)
    ft = ndimage.distance_transform_edt(inner, sampling=voxel_nm, return_distances=False, return_indices=True)
    del inner
    half = 0.5 * voxel_nm.min()
    top = int(seg.max()) if seg.size else 0
    if top <= seg.size // 8 + 4096:  # labels index a table (<= 1 byte a voxel): no sort of the volume
        best = np.full(top + 1, -np.inf)
        for z in range(seg.shape[0]):
            np.maximum.at(best, seg[z].astype(np.intp).reshape(-1), _section_distance(ft, z, voxel_nm, half).reshape(-1))
        labels = np.flatnonzero(best > -np.inf)
        best = best[labels]
    else:  # sparse opaque ids
        labels, at = np.unique(seg, return_inverse=True)
        best = np.full(labels.size, -np.inf)
        dist = np.stack([_section_distance(ft, z, voxel_nm, half) for z in range(seg.shape[0])])
        np.maximum.at(best, at.reshape(-1), dist.reshape(-1))  # per-label maximum, exact
    return {int(i): float(r) for i, r in zip(labels, best) if i > 0}


def _section_distance(ft: np.ndarray, z: int, voxel_nm: np.ndarray, half: float) -> np.ndarray:
    """Section ``z`` of ``distance_transform_edt``'s distances from its feature transform ``ft``
    (3, z, y, x), plus ``half``: the same float64 operations in the same order, so the same bits."""
    grid = (z, *np.ogrid[: ft.shape[2], : ft.shape[3]])
    dist = None
    for axis in range(3):
        d = (ft[axis, z] - np.asarray(grid[axis], np.int32)).astype(np.float64)
        d *= voxel_nm[axis]
        np.multiply(d, d, d)
        dist = d if dist is None else np.add(dist, d, out=dist)
    np.sqrt(dist, dist)
    return dist + half


def densities_from_soma_size(seg: np.ndarray, voxel_nm, law: dict) -> dict[str, np.ndarray]:
    """``cells.csv`` columns predicted from measured soma radii by the published size law.

    ``law`` holds ``soma_radius_nm``, ``soma_radius_jitter``, ``excitability_ref_uA_cm2`` and
    ``excitability_scale_uA_cm2`` (the manifest's ``excitability_law``).
    """
    radii = soma_radii_nm(seg, voxel_nm)
    ids = np.array(sorted(radii), dtype=np.int64)
    cfg = SimpleNamespace(**law)
    r = np.array([radii[int(i)] for i in ids])
    drives = np.atleast_1d(drive_from_radius(r, cfg))
    # a segment too thin to hold a soma shows no size to read: the default densities
    rows = [densities_from_drive(float(d)) if ri >= SOMA_MIN_FRACTION * cfg.soma_radius_nm
            else dict(DEFAULT_DENSITIES) for d, ri in zip(drives, r)]
    cols = {"segment_id": ids}
    for c in CHANNEL_COLUMNS:
        cols[c] = np.array([r[c] for r in rows], float)
    return cols


def add_morphology_excitability(sub, ds, voxel_nm):
    """``sub`` with ``cells.csv`` densities predicted from its own segments' soma sizes.

    Unchanged when the dataset publishes no ``excitability_law`` (older datasets).
    """
    from dataclasses import replace

    law = ds.manifest.get("excitability_law")
    if not law or not np.any(sub.segmentation):
        return sub
    return replace(sub, cells=densities_from_soma_size(np.asarray(sub.segmentation), voxel_nm, law))

"""Estimate each segment's excitability (tonic channel densities) from what a scan shows.

Two routes, written as ``cells.csv`` columns (``segment_id`` and the densities in mS/cm^2):

* **Stains (ExM)** -- :func:`densities_from_stains`.  A channel stain's photons are its channel
  conductance times ``channel_photons`` per pS (blurred, bleached by round, over a known
  background).  For each segment: background-subtracted photons summed over the voxels nearest
  to it (within ``COLLECT_NM``, so blurred signal just outside the mask is kept), divided by the
  round's bleaching gain and ``channel_photons`` -> total pS; divided by the segment's membrane
  area -> density.  The membrane area is the count of voxel faces on the segment's boundary
  times their areas, times 2/3: a voxelized surface overestimates a smooth one by 3/2 on
  average over orientations (Cauchy-Crofton).
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

from phantoms.channels import CHANNEL_COLUMNS, CHANNEL_SPECIES, densities_from_drive, drive_from_radius
from phantoms.raster_channels import PS_UM2_PER_MS_CM2
from pretty_printer.circuit.excitability import DEFAULT_DENSITIES

SOMA_MIN_FRACTION = 0.5  # a segment thinner than this x the nominal soma radius has no soma
COLLECT_NM = 300.0  # signal within this distance of a segment counts towards it
SURFACE_CORRECTION = 2.0 / 3.0  # mean ratio of a smooth surface's area to its voxel-face area


def _membrane_area_um2(seg: np.ndarray, voxel_nm) -> dict[int, float]:
    """Boundary face area of every segment (um^2), with the staircase correction."""
    vz, vy, vx = (float(v) for v in voxel_nm)
    face = {0: vy * vx, 1: vz * vx, 2: vz * vy}
    area: dict[int, float] = {}
    for axis in range(3):
        a = np.moveaxis(seg, axis, 0)
        diff = a[1:] != a[:-1]
        for side in (a[1:][diff], a[:-1][diff]):
            ids, n = np.unique(side[side > 0], return_counts=True)
            for i, k in zip(ids.tolist(), n.tolist()):
                area[i] = area.get(i, 0.0) + k * face[axis]
    return {i: v * SURFACE_CORRECTION * 1e-6 for i, v in area.items()}


def _nearest_segment(seg: np.ndarray, voxel_nm, max_nm: float) -> np.ndarray:
    """Each voxel's nearest segment id within ``max_nm`` (0 beyond)."""
    dist, idx = ndimage.distance_transform_edt(seg == 0, sampling=voxel_nm, return_indices=True)
    near = seg[tuple(idx)]
    near[dist > max_nm] = 0
    return near


def densities_from_stains(seg: np.ndarray, stains: dict[str, np.ndarray], settings: dict,
                          gains: dict[str, float], voxel_nm) -> dict[str, np.ndarray]:
    """``cells.csv`` columns from ExM channel stains.

    Parameters
    ----------
    seg : (z, y, x) uint64
        The pipeline's segmentation (0 = unassigned).
    stains : dict
        Species name -> (z, y, x) raw image (ADU) of its stain.
    settings : dict
        The scanner settings from the manifest (offset, gain, background, ``channel_photons``).
    gains : dict
        Species name -> signal fraction left after bleaching in earlier rounds.
    voxel_nm : (3,) float

    Returns
    -------
    dict
        ``segment_id`` and one density column (mS/cm^2, >= 0) per stained species.
    """
    offset = float(settings.get("offset_adu", 0.0))
    adu = float(settings.get("gain_adu_per_e", 1.0)) or 1.0
    bg = float(settings.get("background_photons", 0.0))
    per_pS = float(settings.get("channel_photons", 1.0)) or 1.0
    ids = np.unique(seg[seg > 0]).astype(np.int64)
    area = _membrane_area_um2(seg, voxel_nm)
    near = _nearest_segment(seg, np.asarray(voxel_nm, float), COLLECT_NM).ravel()
    cols = {"segment_id": ids}
    for name, img in stains.items():
        photons = ((np.asarray(img, np.float64) - offset) / adu - bg).ravel()
        total = np.bincount(near, weights=photons, minlength=int(ids.max()) + 1 if ids.size else 1)
        pS = total[ids] / (per_pS * gains.get(name, 1.0))
        a = np.array([area.get(int(i), np.inf) for i in ids])
        cols[CHANNEL_SPECIES[name].column] = np.maximum(pS / a / PS_UM2_PER_MS_CM2, 0.0)
    return cols


def soma_radii_nm(seg: np.ndarray, voxel_nm) -> dict[int, float]:
    """Each segment's largest inscribed-sphere radius (nm): its soma radius.

    The anisotropic distance from each voxel to the nearest voxel outside its own segment (a
    voxel on a label boundary counts as outside), plus half the finest voxel for the boundary
    voxel itself.
    """
    voxel_nm = np.asarray(voxel_nm, float)
    inner = seg > 0
    for axis in range(3):
        a = np.moveaxis(seg, axis, 0)
        m = np.moveaxis(inner, axis, 0)
        d = a[1:] != a[:-1]
        m[1:] &= ~d
        m[:-1] &= ~d
    dist = ndimage.distance_transform_edt(inner, sampling=voxel_nm) + 0.5 * voxel_nm.min()
    ids = np.unique(seg[seg > 0])
    if ids.size == 0:
        return {}
    best = ndimage.maximum(dist, labels=seg, index=ids)
    return {int(i): float(r) for i, r in zip(ids, np.atleast_1d(best))}


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


def add_stain_excitability(sub, ds, modality: str, arr, voxel_nm, channel_gain):
    """``sub`` with ``cells.csv`` densities read from the scan's ``channel:<species>`` stains.

    ``channel_gain(i)`` is the bleaching gain of image channel ``i``; unchanged without stains.
    """
    from dataclasses import replace

    info = ds.modality(modality)
    stained = [(i, c.split(":", 1)[1]) for i, c in enumerate(info["channels"])
               if c.startswith("channel:")]
    if not stained or not np.any(sub.segmentation):
        return sub
    stains = {name: np.asarray(arr[i]) for i, name in stained}
    gains = {name: channel_gain(i) for i, name in stained}
    cols = densities_from_stains(np.asarray(sub.segmentation), stains, info.get("settings", {}),
                                 gains, voxel_nm)
    return replace(sub, cells=cols)

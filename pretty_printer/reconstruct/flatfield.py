"""Flat-field correction: undo slow brightness variation (charging, drift, ring halos).

Rule: the background of each section is the ``BACKGROUND_PERCENTILE``-th percentile of the
lightly smoothed image over a ``BACKGROUND_NM`` in-plane window.  At that scale extracellular
space (the lightest class, present around every cell) dominates the upper part of any window's
histogram, so the percentile tracks its level.  The window is evaluated on a coarse grid
(``BACKGROUND_NM / 16`` steps) and interpolated back, which is exact enough for a field that
varies over micrometres and keeps the cost low.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

BACKGROUND_NM = 1000.0
BACKGROUND_PERCENTILE = 80.0


def smooth(img: np.ndarray, voxel_nm, sigma_nm: float) -> np.ndarray:
    """In-plane Gaussian of ``sigma_nm`` (sections are not mixed: they may be misaligned)."""
    voxel_nm = np.asarray(voxel_nm, float)
    return ndimage.gaussian_filter(np.asarray(img, np.float32), (0.0, sigma_nm / voxel_nm[1], sigma_nm / voxel_nm[2]))


def background(sm: np.ndarray, voxel_nm) -> np.ndarray:
    """The per-section background level (same shape as ``sm``)."""
    voxel_nm = np.asarray(voxel_nm, float)
    step = max(1, int(BACKGROUND_NM / 16.0 / voxel_nm[1]))
    coarse = sm[:, ::step, ::step]
    size = max(3, int(round(BACKGROUND_NM / (voxel_nm[1] * step))) | 1)
    bg = ndimage.percentile_filter(coarse, BACKGROUND_PERCENTILE, size=(1, size, size), mode="reflect")
    zoom = (1.0, sm.shape[1] / bg.shape[1], sm.shape[2] / bg.shape[2])
    bg = ndimage.zoom(bg, zoom, order=1, mode="nearest", grid_mode=True)
    return bg[:, : sm.shape[1], : sm.shape[2]]

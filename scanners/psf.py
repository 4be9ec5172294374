"""Point-spread functions: Gaussian blurs with a chunk-exact halo."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage

FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))
TRUNCATE = 4.0


def sigma_vox(fwhm_nm: Sequence[float], voxel_nm: Sequence[float]) -> np.ndarray:
    """Gaussian sigma in voxels for a full width at half maximum in nm (0 means no blur)."""
    return np.asarray(fwhm_nm, float) / FWHM_PER_SIGMA / np.asarray(voxel_nm, float)


def blur(image: np.ndarray, sigma: Sequence[float], inner: Sequence[slice] | None = None) -> np.ndarray:
    """Gaussian blur with the fixed truncation that :func:`scanners.chunking.gaussian_halo` assumes.

    Axes with sigma 0 are left alone; float32 in, float32 out.  ``inner``: only this box of the
    result is wanted (``blur(image, sigma)[inner]``), and it lies at least the kernel radius
    inside the image (a ``gaussian_halo`` margin): each axis is cut to it right after its pass,
    so later passes filter fewer lines; the kept voxels sum the same inputs in the same order.
    """
    sigma = [float(s) for s in sigma]
    out = image.astype(np.float32, copy=False)
    # one 1-D pass per axis in a fixed order: each output voxel sums the same inputs in the same
    # order whatever the chunk, which keeps chunked and whole renders byte-identical.
    for ax, s in enumerate(sigma):
        if s > 0:
            out = ndimage.gaussian_filter1d(out, s, axis=ax, truncate=TRUNCATE, mode="nearest")
        if inner is not None:
            out = out[(slice(None),) * ax + (inner[ax],)]
    return out

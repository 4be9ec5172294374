"""Stochastic molecular labelling for expansion microscopy (applied before the optics).

Real ExM labelling is neither uniform nor complete:

* **Per-cell expression** of each barcode protein varies from cell to cell (log-normal, CV
  ``expression_cv``; viral/transgenic expression varies several-fold between cells: Cai et al.
  2013 Nat Methods 10:540, Brainbow).
* **Barcode gaps**: an expressed protein is missed in a whole cell with probability
  ``barcode_dropout`` (failed expression or failed round), so the cell reads ``k - 1`` bits.
* **Sparse antibody labelling** at the molecular level: only a fraction of epitopes carry a
  fluorophore (``labelling_fraction``; immunolabelling reaches a minority of epitopes, and ExM
  loses more in digestion and expansion); each voxel's signal is a Poisson number of labelled
  molecules, so the stain is speckled.
* **Receptor detection efficiency** ``receptor_detection_efficiency`` (< 1): each receptor is
  detected independently (binomial thinning; per voxel a Poisson count of the detected mean).
* **Structural channel**: a pan-protein / membrane stain as in LICONN (Tavakoli et al. 2025,
  Nature): membranes and protein-dense synapses bright, cytoplasm dimmer, extracellular dark.

Everything is a hash of (key, global voxel index or cell id, channel), so chunks agree.
With all switches at their neutral values (CV 0, dropout 0, fraction 1, efficiency 1) the
densities are returned unchanged: today's images.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from .noise import hash_uniform, poisson_cdf_inverse

MOLECULES_PER_VOXEL = 20.0  # epitopes of a fully expressing cell in one voxel (sets the speckle)


def cell_expression(key: int, labels: np.ndarray, channel: int, cv: float, dropout: float,
                    unique=None) -> np.ndarray:
    """Per-voxel multiplier of one barcode channel from its cell's expression level (float32).

    ``unique``: ``_unique_ids(labels)`` if the caller already has it (one per chunk, not per channel).
    """
    ids, inverse = unique if unique is not None else _unique_ids(labels)  # once per cell, then spread
    return cell_table(key, ids, channel, cv, dropout)[inverse]


def cell_table(key: int, ids: np.ndarray, channel: int, cv: float, dropout: float) -> np.ndarray:
    """:func:`cell_expression` per cell: the multiplier (float32) of each of ``ids``."""
    out = np.ones(ids.shape, np.float32)
    if cv > 0:
        z = special.ndtri(np.clip(hash_uniform(key ^ 0xE1, ids, channel), 1e-9, 1 - 1e-9))
        s2 = np.log1p(cv * cv)
        out *= np.exp(np.sqrt(s2) * z - s2 / 2).astype(np.float32)  # mean 1, CV ``cv``
    if dropout > 0:
        out *= (hash_uniform(key ^ 0xD2, ids, channel) >= dropout).astype(np.float32)
    return out


def _unique_ids(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(ids, inverse)`` with ``ids[inverse] == labels``: a look-up table when the ids are small
    next to the voxel count (no sort), else ``np.unique``."""
    labels = np.asarray(labels)
    if labels.dtype.kind in "ui" and labels.size and labels.min() >= 0 and labels.max() < 4 * labels.size + 1024:
        present = np.flatnonzero(np.bincount(labels.ravel()))
        lut = np.zeros(int(present[-1]) + 1, np.intp)
        lut[present] = np.arange(len(present))
        return present.astype(labels.dtype), lut[labels]
    return np.unique(labels, return_inverse=True)


def speckle(key: int, density: np.ndarray, starts, channel: int, molecules_per_unit: float,
            scales=(), factor=None) -> np.ndarray:
    """Poisson-counted labelled molecules per voxel, rescaled to the same mean as ``density``.

    ``starts``: global voxel index of ``density[0, 0, 0]`` (the hash is on global indices).
    ``scales``: float32 factors the result is then multiplied by, one after the other (in the
    same pass; the same bits as multiplying the returned array by each).  ``factor``:
    ``(lut, index)`` to speckle ``density * lut[index]`` instead (float32, e.g.
    ``cell_table(...)`` and the chunk's ``_unique_ids`` inverse: :func:`cell_expression` in the
    same pass, the same bits).
    """
    scales = np.asarray(scales, np.float32).reshape(-1)
    density = np.asarray(density)
    fast = density.dtype == np.float32 and density.ndim == 3 and isinstance(channel, (int, np.integer))
    if factor is not None and not (fast and np.asarray(factor[0]).dtype == np.float32):
        density, factor = density * np.asarray(factor[0])[factor[1]], None  # the product, then plain
    if fast:
        # compiled: hash, clip and exact inversion per voxel, the same float64 steps as below
        from .noise_kernel import speckle_small

        axes = [np.arange(s, s + n, dtype=np.int64) for s, n in zip(starts, density.shape)]
        lut, index = factor if factor is not None else (np.zeros(0, np.float32), np.zeros((1, 1, 1), np.intp))
        out, nbig = speckle_small(density, float(molecules_per_unit), np.uint64((key ^ 0x5C) & 0xFFFFFFFFFFFFFFFF),
                                  np.array([int(channel)], np.int64), *axes, 1e-12, 1 - 1e-12, _NORMAL_ABOVE, 80,
                                  scales, lut, index)
        if nbig:  # large means: the skew-corrected normal quantile (scipy's ndtri), on those voxels only
            big = np.isnan(out)
            grids = np.meshgrid(*axes, indexing="ij", sparse=True)
            u = np.clip(hash_uniform(key ^ 0x5C, channel, *grids), 1e-12, 1 - 1e-12)[big]
            d = density[big] if factor is None else density[big] * lut[index[big]]
            m = d.astype(np.float64) * molecules_per_unit
            z = special.ndtri(u)
            v = (np.maximum(0, np.rint(m + np.sqrt(m) * z + (z * z - 1) / 6)) / molecules_per_unit).astype(np.float32)
            for s in scales:
                v = v * s
            out[big] = v
        return out
    mean = np.asarray(density, np.float64) * molecules_per_unit
    grids = np.meshgrid(*[np.arange(s, s + n) for s, n in zip(starts, density.shape)], indexing="ij", sparse=True)
    u = np.clip(hash_uniform(key ^ 0x5C, channel, *grids), 1e-12, 1 - 1e-12)
    counts = _poisson_quantile(mean, u)
    out = (counts / molecules_per_unit).astype(np.float32)
    for s in scales:
        out = out * s
    return out


_NORMAL_ABOVE = 30.0  # mean from which the speckle count is the skew-corrected normal quantile


def _poisson_quantile(mean: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Inverse Poisson CDF at ``u`` (exact below 30, normal with skew correction above)."""
    out = np.zeros(mean.shape)
    big = mean >= _NORMAL_ABOVE
    z = special.ndtri(u[big])
    m = mean[big]
    out[big] = np.maximum(0, np.rint(m + np.sqrt(m) * z + (z * z - 1) / 6))
    small = ~big & (mean > 0)
    out[small] = poisson_cdf_inverse(mean[small], u[small], 80)
    return out


def structural_density(fields: dict) -> np.ndarray:
    """Pan-protein / membrane stain density (LICONN-like): membranes 1, PSD 1.5, cytoplasm 0.25."""
    inside = (fields["labels"] > 0).astype(np.float32)
    d = 0.25 * inside + fields["membrane"] + 1.5 * fields["psd"]
    return d.astype(np.float32)

"""Stain density of a stack of boxes (EM sections, each at its own shift) in a few calls.

``stain_density_sections(fields, model, axes, key)[q]`` is
``stain.stain_density({f: fields[f][q]}, model, axes[q], key)`` bit for bit: the textures are
hashed per box at that box's own absolute coordinates (as there), and the per-voxel steps (the
per-cell factor, the granule sum, the compiled density sum) run once over the whole stack where
every box takes the same branch, being elementwise (the per-cell factor hashes each run of equal
labels once: a value of the label alone).  Any other case: box by box.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .noise_kernel import _INV53, _S11, _mix
from .stain import (CHROMATIN_MEAN, CHROMATIN_NM, CRISTAE_MEAN, CRISTAE_NM, GRANULE_NM, StainModel, _banded,
                    _combine_compiled, _resolved, _texture, stain_density)


def stain_density_sections(fields: dict[str, np.ndarray], model: StainModel, axes_nm: list, key: int) -> np.ndarray:
    """Stain density of each box of a stack.

    Parameters
    ----------
    fields : dict
        ``STAIN_FIELDS`` of K boxes, each (K, z, y, x) (``tissue_sections``' output).
    model : StainModel
    axes_nm : list of K tuples of three 1-D arrays
        Absolute voxel-centre coordinates (z, y, x) of each box, nm.
    key : int
        Hash key for the textures and per-cell staining.

    Returns
    -------
    numpy.ndarray
        float32 (K, z, y, x); entry ``q`` is :func:`scanners.stain.stain_density` of box ``q``.
    """
    labels = fields["labels"]
    K = len(labels)
    terms = ("membrane", "psd", "cleft", "vesicles", "mito", "nucleus", "organelle_membrane")
    if not (model.texture_amplitude > 0 and model.cell_contrast > 0
            and all(f in fields for f in ("psd", "cleft", "vesicles"))
            and all(fields[f].dtype == np.float32 for f in terms if f in fields)):  # not the compiled sum
        return np.stack([stain_density({f: a[q] for f, a in fields.items()}, model, axes_nm[q], key)
                         for q in range(K)])
    tex = np.stack([_texture(key, axes_nm[q], model.texture_length_nm) for q in range(K)])
    grains = [model.granularity > 0 and _resolved(axes_nm[q], GRANULE_NM) for q in range(K)]
    if all(grains):  # the same elementwise sum as box by box
        tex = tex + np.float32(model.granularity) * np.stack([_texture(key ^ 0x6A11, axes_nm[q], GRANULE_NM)
                                                              for q in range(K)])
    elif any(grains):
        tex = np.stack([tex[q] + np.float32(model.granularity) * _texture(key ^ 0x6A11, axes_nm[q], GRANULE_NM)
                        if grains[q] else tex[q] for q in range(K)])
    per_cell = np.empty(labels.shape, np.float32)
    _per_cell(np.uint64((key ^ 0x5EED) & 0xFFFFFFFFFFFFFFFF), np.ascontiguousarray(labels).reshape(-1),
              float(model.cell_contrast), per_cell.reshape(-1))
    mito, nuc = fields.get("mito"), fields.get("nucleus")
    has_mito = mito.reshape(K, -1).any(axis=1) if mito is not None else np.zeros(K, bool)
    has_nuc = nuc.reshape(K, -1).any(axis=1) if nuc is not None else np.zeros(K, bool)
    cr = [_banded(key ^ 0xC415, axes_nm[q], CRISTAE_NM, 2.5, 0.3, CRISTAE_MEAN) if has_mito[q] else None
          for q in range(K)]
    chrom = [_banded(key ^ 0xC4A0, axes_nm[q], CHROMATIN_NM, 2.0, 0.2, CHROMATIN_MEAN) if has_nuc[q] else None
             for q in range(K)]
    if _one_kind(cr) and _one_kind(chrom):  # every box adds the same terms: one compiled sum
        return _combine_compiled(fields, model, tex, per_cell, _stacked(cr, labels.shape),
                                 _stacked(chrom, labels.shape))
    return np.stack([_combine_compiled({f: a[q] for f, a in fields.items()}, model, tex[q], per_cell[q], cr[q],
                                       chrom[q]) for q in range(K)])


def _one_kind(textures: list) -> bool:
    """All None, or all arrays (each box has the term, resolved)."""
    return all(t is None for t in textures) or all(isinstance(t, np.ndarray) and t.ndim > 0 for t in textures)


def _stacked(textures: list, shape) -> np.ndarray | None:
    return None if textures[0] is None else np.stack(textures).reshape(shape)


@njit(cache=True)
def _per_cell(key, labels, contrast, out):  # pragma: no cover - compiled
    """``float32(1 + contrast * (2 * hash_uniform(key, label) - 1))`` per voxel (``stain_density``'s
    float64 steps, one rounding), hashed once per run of equal labels (a cell's voxels are runs)."""
    last, val = np.int64(-1), np.float32(0.0)
    for i in range(labels.shape[0]):
        c = np.int64(labels[i])
        if c != last:
            u = np.float64(_mix(key, c) >> _S11) * _INV53
            val = np.float32(1.0 + contrast * (2.0 * u - 1.0))
            last = c
        out[i] = val

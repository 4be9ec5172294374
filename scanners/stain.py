"""Heavy-metal stain density from tissue fields (shared by EM and X-ray).

Osmium binds lipids (membranes), uranyl and lead bind proteins and nucleic acids (Hayat,
*Principles and Techniques of Electron Microscopy*, 2000): membranes, synaptic densities, vesicle
clouds, mitochondria (inner-membrane cristae) and heterochromatin come out dense, cytoplasm
lightly and unevenly stained, nucleoplasm a little more than cytoplasm, extracellular space nearly
empty.  Density here is dimensionless (1 = a fully stained voxel of the weakest structure).

Cytoplasm texture (microtubules, ER, ribosome/glycogen granularity) and the cristae and chromatin
textures are hashed fields of *position* (tissue nm), never of the cell id: the texture tells
nothing about which cell a voxel belongs to.  (``cell_contrast``, the "dark and light neuron"
effect, is the one per-cell term; it is a switch.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import hash_uniform, lattice_noise

STAIN_FIELDS = ("labels", "membrane", "cleft", "psd", "vesicles", "mito", "nucleus", "organelle_membrane")
CRISTAE_NM = 14.0  # cristae spacing ~20-30 nm: a texture at this lattice scale (Frey & Mannella 2000)
CHROMATIN_NM = 60.0  # heterochromatin clumps ~50-100 nm
GRANULE_NM = 9.0  # ribosome / glycogen granules ~15-30 nm
CRISTAE_MEAN = 0.22  # mean of the banded cristae texture (measured on a 600^3 nm grid)
CHROMATIN_MEAN = 0.20


@dataclass(frozen=True)
class StainModel:
    """Weights of each tissue component in the stain density (all >= 0)."""

    membrane: float
    synapse: float  # pre- and post-synaptic densities
    vesicles: float
    cytoplasm: float
    extracellular: float
    texture_amplitude: float
    texture_length_nm: float
    cell_contrast: float
    cleft: float = 0.25  # faint cleft material (adhesion proteins): extracellular, not a bar
    mitochondrion: float = 0.45  # matrix; cristae add up to ``cristae`` more
    cristae: float = 0.6
    nucleus: float = 0.3  # nucleoplasm; heterochromatin clumps add up to ``chromatin`` more
    chromatin: float = 0.8
    organelle_membrane: float = 1.5  # mitochondrial and nuclear envelopes
    granularity: float = 0.3  # fine cytoplasmic granules (relative to cytoplasm)


def _texture(key: int, axes_nm, length_nm: float) -> np.ndarray:
    return lattice_noise(key, axes_nm, length_nm)


def _resolved(axes_nm, length_nm: float) -> bool:
    """Whether a texture of this scale is resolved by the grid (in-plane spacing < 2 x scale).

    A voxel much larger than the texture integrates many of its grains: the texture's mean is what
    it sees, and hashing a lattice finer than the voxels would cost (voxel / scale)^3 per voxel.
    """
    steps = [float(a[1] - a[0]) for a in axes_nm[1:] if len(a) > 1]
    return not steps or min(steps) < 2.0 * length_nm


def _banded(key: int, axes_nm, length_nm: float, gain: float, shift: float, mean: float):
    """``clip(gain * texture - shift, 0, 1)``, or its mean where the texture is not resolved."""
    if not _resolved(axes_nm, length_nm):
        return np.float32(mean)
    return np.clip(gain * _texture(key, axes_nm, length_nm) - shift, 0.0, 1.0)


def stain_density(fields: dict[str, np.ndarray], model: StainModel, axes_nm: tuple[np.ndarray, ...],
                  key: int) -> np.ndarray:
    """Stain density on the rasterized grid.

    Parameters
    ----------
    fields : dict
        ``STAIN_FIELDS`` from the tissue function (organelle fields may be absent: no organelles).
    model : StainModel
    axes_nm : tuple of 1-D arrays
        Absolute voxel-centre coordinates (z, y, x) of the grid, for the textures, which belong to
        the tissue (a shifted section sees the same texture at the same place).
    key : int
        Hash key for the textures and per-cell staining.

    Returns
    -------
    numpy.ndarray
        float32 density, same shape as ``labels``.
    """
    labels = fields["labels"]
    tex = per_cell = None
    if model.texture_amplitude > 0:
        tex = _texture(key, axes_nm, model.texture_length_nm)
        if model.granularity > 0 and _resolved(axes_nm, GRANULE_NM):
            tex = tex + np.float32(model.granularity) * _texture(key ^ 0x6A11, axes_nm, GRANULE_NM)
    if model.cell_contrast > 0:
        per_cell = (1.0 + model.cell_contrast * (2.0 * hash_uniform(key ^ 0x5EED, labels) - 1.0)).astype(np.float32)
    mito, nuc = fields.get("mito"), fields.get("nucleus")
    cr = _banded(key ^ 0xC415, axes_nm, CRISTAE_NM, 2.5, 0.3, CRISTAE_MEAN) if mito is not None and mito.any() else None
    chrom = _banded(key ^ 0xC4A0, axes_nm, CHROMATIN_NM, 2.0, 0.2, CHROMATIN_MEAN) if nuc is not None and nuc.any() else None
    terms = ("membrane", "psd", "cleft", "vesicles", "mito", "nucleus", "organelle_membrane")
    if (tex is not None and per_cell is not None and all(f in fields for f in ("psd", "cleft", "vesicles"))
            and all(fields[f].dtype == np.float32 for f in terms if f in fields)):  # the compiled sum is float32
        return _combine_compiled(fields, model, tex, per_cell, cr, chrom)
    return _combine_numpy(fields, model, tex, per_cell, cr, chrom)


def _combine_numpy(fields: dict, model: StainModel, tex, per_cell, cr, chrom) -> np.ndarray:
    """The density from the fields and the textures (``tex``: the cytoplasm texture or None;
    ``per_cell``: float32 per-voxel cell factor or None; ``cr``, ``chrom``: the cristae and
    chromatin textures, None where no voxel is a mitochondrion / nucleus)."""
    inside = fields["labels"] > 0
    cyto = np.float32(model.cytoplasm)
    if tex is not None:
        cyto = cyto * (1.0 + np.float32(model.texture_amplitude) * tex)
    if per_cell is not None:
        cyto = cyto * per_cell
    d = np.where(inside, cyto, np.float32(model.extracellular)).astype(np.float32)
    d += np.float32(model.membrane) * fields["membrane"]
    d += np.float32(model.synapse) * fields.get("psd", 0)
    d += np.float32(model.cleft) * fields["cleft"]
    d += np.float32(model.vesicles) * fields["vesicles"]
    if cr is not None:  # cristae: thin dense lamellae; the matrix replaces the cytoplasm
        d += fields["mito"] * (np.float32(model.mitochondrion) + np.float32(model.cristae) * cr - cyto)
    if chrom is not None:
        d += fields["nucleus"] * (np.float32(model.nucleus) + np.float32(model.chromatin) * chrom - cyto)
    om = fields.get("organelle_membrane")
    if om is not None:
        d += np.float32(model.organelle_membrane) * om
    return d.astype(np.float32, copy=False)


def _combine_compiled(fields: dict, model: StainModel, tex, per_cell, cr, chrom) -> np.ndarray:
    """:func:`_combine_numpy` in one compiled pass (:mod:`scanners.stain_kernel`), the same bits."""
    from .stain_kernel import stain_sum

    labels = fields["labels"]
    n = labels.size

    def flat(a):  # a field or texture, flat; a scalar texture (unresolved: its mean) filled in
        if a is None:  # a term not added (its flag is off): never read
            return np.zeros(1, np.float32)
        if np.ndim(a) == 0:
            return np.full(n, a, np.float32)
        return np.ascontiguousarray(a, np.float32).reshape(-1)

    w = np.array([model.cytoplasm, model.texture_amplitude, model.membrane, model.synapse, model.cleft,
                  model.vesicles, model.mitochondrion, model.cristae, model.nucleus, model.chromatin,
                  model.organelle_membrane], np.float32)
    om = fields.get("organelle_membrane")
    has = np.array([cr is not None, chrom is not None, om is not None])
    out = np.empty(n, np.float32)
    stain_sum(np.ascontiguousarray(labels).reshape(-1), flat(tex), flat(per_cell), w, np.float32(model.extracellular),
              *(flat(fields[f]) for f in ("membrane", "psd", "cleft", "vesicles")),
              flat(fields.get("mito")), flat(cr), flat(fields.get("nucleus")), flat(chrom), flat(om), has, out)
    return out.reshape(labels.shape)

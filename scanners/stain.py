"""Heavy-metal stain density from tissue fields (shared by EM and X-ray).

Osmium binds lipids (membranes), uranyl and lead bind proteins and nucleic acids: membranes,
post-synaptic densities and vesicle clouds come out dense, cytoplasm lightly and unevenly
stained, extracellular space nearly empty.  Density here is dimensionless (1 = a membrane).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .noise import hash_uniform, lattice_noise

STAIN_FIELDS = ("labels", "membrane", "cleft", "vesicles")


@dataclass(frozen=True)
class StainModel:
    """Weights of each tissue component in the stain density (all >= 0)."""

    membrane: float
    synapse: float
    vesicles: float
    cytoplasm: float
    extracellular: float
    texture_amplitude: float
    texture_length_nm: float
    cell_contrast: float


def stain_density(fields: dict[str, np.ndarray], model: StainModel, axes_nm: tuple[np.ndarray, ...],
                  key: int) -> np.ndarray:
    """Stain density on the rasterized grid.

    Parameters
    ----------
    fields : dict
        ``labels``, ``membrane``, ``cleft``, ``vesicles`` from the tissue function.
    model : StainModel
    axes_nm : tuple of 1-D arrays
        Absolute voxel-centre coordinates (z, y, x) of the grid, for the cytoplasm texture, which
        belongs to the tissue (a shifted section sees the same texture at the same place).
    key : int
        Hash key for the texture and per-cell staining.

    Returns
    -------
    numpy.ndarray
        float32 density, same shape as ``labels``.
    """
    labels = fields["labels"]
    inside = labels > 0
    cyto = np.float32(model.cytoplasm)
    if model.texture_amplitude > 0:
        tex = lattice_noise(key, axes_nm, model.texture_length_nm)
        cyto = cyto * (1.0 + np.float32(model.texture_amplitude) * tex)
    if model.cell_contrast > 0:
        per_cell = 1.0 + model.cell_contrast * (2.0 * hash_uniform(key ^ 0x5EED, labels) - 1.0)
        cyto = cyto * per_cell.astype(np.float32)
    d = np.where(inside, cyto, np.float32(model.extracellular)).astype(np.float32)
    d += np.float32(model.membrane) * fields["membrane"]
    d += np.float32(model.synapse) * fields["cleft"]
    d += np.float32(model.vesicles) * fields["vesicles"]
    return d

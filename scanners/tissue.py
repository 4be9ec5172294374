"""The narrow interface through which scanners see tissue.

A scanner never sees a phantom: it receives a *tissue function* that rasterizes any box at any
voxel size on demand.  ``phantoms.tissue_function(phantom)`` returns one.

Field names (all arrays are (z, y, x) unless noted; coordinates in nm, (z, y, x) order):

=================  =========  ===============================================================
``labels``         uint32     cell id at the voxel centre, 0 = extracellular space
``membrane``       float32    1 inside a plasma-membrane shell (or the fraction of the voxel)
``cleft``          float32    synaptic cleft: the extracellular gap between the two membranes
``psd``            float32    pre- and post-synaptic densities (thick on Gray I, thin on Gray II)
``vesicles``       float32    presynaptic vesicles (round on Gray I, flattened on Gray II)
``receptor:AMPA``  float32    receptors per voxel (likewise ``receptor:NMDA``, ``receptor:GABA_A``)
``barcode``        float32    (n_proteins, z, y, x): expression of each barcode protein, 0..1
``mito``           float32    1 inside a mitochondrion
``nucleus``        float32    1 inside a nucleus
``organelle_membrane`` float32 mitochondrial / nuclear envelope (fraction of the voxel)
``organelles``     uint32     organelle instance id, 0 = none
``semantic``       uint8      class: extracellular, neuron, glia, mitochondrion, nucleus,
                              vesicle, psd, cleft (``phantoms.rasterize.SEMANTIC_CLASSES``)
``channel:<s>``    float32    tonic channel conductance (pS) per voxel on the membrane shell, for
                              species ``cation_leak`` and ``tonic_gabaa`` (phantoms/channels.py)
=================  =========  ===============================================================

A tissue without organelles may return zeros for the organelle fields.
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

FIELDS = ("labels", "membrane", "cleft", "psd", "vesicles", "receptor:AMPA", "receptor:NMDA",
          "receptor:GABA_A", "barcode", "mito", "nucleus", "organelle_membrane", "organelles", "semantic",
          "channel:cation_leak", "channel:tonic_gabaa")


class TissueFunction(Protocol):
    """Rasterizes any region of a tissue block on demand."""

    origin_nm: np.ndarray  # (3,) block origin, (z, y, x)
    size_nm: np.ndarray  # (3,) block extent
    n_barcode_proteins: int

    def __call__(
        self,
        origin_nm: Sequence[float],
        shape: Sequence[int],
        voxel_nm: Sequence[float],
        fields: Sequence[str],
    ) -> dict[str, np.ndarray]:
        """Rasterize the box whose first voxel *centre* is ``origin_nm + voxel_nm / 2``."""
        ...


def tissue_sections(tissue: TissueFunction, corners_nm, shape: Sequence[int], voxel_nm: Sequence[float],
                    fields: Sequence[str]) -> dict[str, np.ndarray]:
    """``tissue`` on K boxes of one shape and voxel size, box ``q`` at ``corners_nm[q]`` ((K, 3) nm).

    Returns field -> ``(K,) + shape`` arrays (``barcode``: (K, N) + shape), entry ``q`` exactly
    ``tissue(corners_nm[q], shape, voxel_nm, fields)[f]``.  A tissue with a ``sections`` method of
    that contract (``phantoms.tissue_function``'s) rasterizes the stack in one call; any other is
    called box by box.
    """
    stacked = getattr(tissue, "sections", None)
    if stacked is not None:
        return stacked(corners_nm, shape, voxel_nm, fields)
    per = [tissue(c, shape, voxel_nm, fields) for c in np.asarray(corners_nm, float).reshape(-1, 3)]
    return {f: np.stack([p[f] for p in per]) for f in fields}

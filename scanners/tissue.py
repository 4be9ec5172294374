"""The narrow interface through which scanners see tissue.

A scanner never sees a phantom: it receives a *tissue function* that rasterizes any box at any
voxel size on demand.  ``phantoms.tissue_function(phantom)`` returns one.

Field names (all arrays are (z, y, x) unless noted; coordinates in nm, (z, y, x) order):

=================  =========  ===============================================================
``labels``         uint32     cell id at the voxel centre, 0 = extracellular space
``membrane``       float32    1 inside a plasma-membrane shell (or the fraction of the voxel)
``cleft``          float32    synaptic cleft / postsynaptic density (electron dense)
``vesicles``       float32    presynaptic vesicle clouds
``receptor:AMPA``  float32    receptors per voxel (likewise ``receptor:NMDA``, ``receptor:GABA_A``)
``barcode``        float32    (n_proteins, z, y, x): expression of each barcode protein, 0..1
=================  =========  ===============================================================
"""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

FIELDS = ("labels", "membrane", "cleft", "vesicles", "receptor:AMPA", "receptor:NMDA",
          "receptor:GABA_A", "barcode")


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

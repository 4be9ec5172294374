"""The tissue function: what scanners receive instead of a phantom (duck-types
``scanners.tissue.TissueFunction``; ``phantoms`` never imports ``scanners``)."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .phantom import Phantom
from .raster_sections import rasterize_sections
from .rasterize import rasterize


class PhantomTissue:
    """Rasterizes any box of one phantom on demand.

    Attributes
    ----------
    origin_nm, size_nm : (3,) float arrays
        The block, (z, y, x) nm.
    n_barcode_proteins : int
    """

    def __init__(self, phantom: Phantom):
        self.phantom = phantom
        self.origin_nm = np.asarray(phantom.block_origin_nm, float).copy()
        self.size_nm = np.asarray(phantom.block_size_nm, float).copy()
        self.n_barcode_proteins = int(phantom.n_barcode_proteins)

    def __call__(self, origin_nm: Sequence[float], shape: Sequence[int], voxel_nm: Sequence[float],
                 fields: Sequence[str] = ("labels",)) -> dict[str, np.ndarray]:
        """Rasterize the box whose first voxel centre is ``origin_nm + voxel_nm / 2``."""
        return rasterize(self.phantom, origin_nm, shape, voxel_nm, fields)

    def sections(self, corners_nm, shape: Sequence[int], voxel_nm: Sequence[float],
                 fields: Sequence[str] = ("labels",)) -> dict[str, np.ndarray]:
        """K boxes of one shape and voxel size at ``corners_nm`` (K, 3) in one call: field ->
        ``(K,) + shape``, entry ``q`` exactly ``self(corners_nm[q], shape, voxel_nm, fields)``'s
        (:func:`phantoms.raster_sections.rasterize_sections`)."""
        return rasterize_sections(self.phantom, corners_nm, shape, voxel_nm, fields)

    def __repr__(self) -> str:
        return (f"PhantomTissue(cells={len(self.phantom.cell_ids)}, synapses={len(self.phantom.synapses)}, "
                f"size_nm={tuple(self.size_nm)})")


def tissue_function(phantom: Phantom) -> PhantomTissue:
    """The callable scanners receive: ``tissue(origin_nm, shape, voxel_nm, fields) -> dict``."""
    return PhantomTissue(phantom)

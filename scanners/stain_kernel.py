"""The sum of :func:`scanners.stain.stain_density` in one compiled pass (numba).

The numpy version builds a dozen whole-grid float32 temporaries per call (one per term); the EM
render calls it once per section, 1125 times on ``cortex``.  Here each voxel's density is the
same float32 steps in the same order (numba does not contract ``a * b + c`` into a fused
multiply-add without ``fastmath``), so the bits are those of the numpy steps:
``tests/scanners/test_fast_paths.py`` checks it.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def stain_sum(labels, tex, per_cell, w, ext, membrane, psd, cleft, ves, mito, cr, nuc, chrom, om, has, out):  # pragma: no cover
    """Per voxel (all arrays flat, float32 but ``labels``; ``w``: the float32 weights
    ``(cytoplasm, texture_amplitude, membrane, synapse, cleft, vesicles, mitochondrion, cristae,
    nucleus, chromatin, organelle_membrane)``; ``has``: whether the mito, nucleus and organelle
    membrane terms are added)::

        cyto = cytoplasm * (1 + amplitude * tex) * per_cell
        d = cyto inside a cell, else ext
        d += membrane_w * membrane; d += synapse_w * psd; d += cleft_w * cleft; d += vesicles_w * ves
        d += mito * (mitochondrion + cristae * cr - cyto)       (if has[0])
        d += nuc * (nucleus + chromatin * chrom - cyto)         (if has[1])
        d += organelle_membrane_w * om                          (if has[2])
    """
    one = np.float32(1.0)
    for i in range(labels.shape[0]):
        cyto = w[0] * (one + w[1] * tex[i])
        cyto = cyto * per_cell[i]
        d = cyto if labels[i] > 0 else ext
        d = d + w[2] * membrane[i]
        d = d + w[3] * psd[i]
        d = d + w[4] * cleft[i]
        d = d + w[5] * ves[i]
        if has[0]:
            d = d + mito[i] * (w[6] + w[7] * cr[i] - cyto)
        if has[1]:
            d = d + nuc[i] * (w[8] + w[9] * chrom[i] - cyto)
        if has[2]:
            d = d + w[10] * om[i]
        out[i] = d

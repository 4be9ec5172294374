"""X-ray baseline: the EM pipeline at the tomogram's own resolution.

Phase-contrast / absorption tomograms show stain density as *bright*, so the image is inverted
and handed to :func:`baseline_em.reconstruct_dense`.  X-ray carries no molecular information:
the submission has PSD areas (morphology) but no receptor counts or transmitter sign, so the
function score rebuilds strengths from PSD area and treats every synapse as excitatory.
"""

from __future__ import annotations

import numpy as np

from . import METHODS
from .baseline_em import reconstruct_dense


@METHODS.register("baseline:xray")
def reconstruct_xray(ds, modality: str = "xray", *, rng=None):
    arr, voxel_nm = ds.image(modality)
    origin_nm = np.asarray(ds.modality(modality).get("origin_nm", (0.0, 0.0, 0.0)), float)
    return reconstruct_dense(np.asarray(arr[0]), voxel_nm, origin_nm, dense_is_dark=False,
                             modality=modality, method="baseline:xray")

"""X-ray baseline: the EM rules at the tomogram's own resolution.

Phase-contrast tomograms show stain density as *bright* (the reconstructed refractive
decrement), on a background that is flat up to ring artifacts.  The pipeline:

1. Smooth each slice by ``SMOOTH_NM`` (the noise is white at the voxel scale, the structures
   are not) and negate it: the lightness is ``-density``, extracellular space lightest.  No
   flat-field division: a tomogram has no charging or drift, and the value scale is absolute.
   Ring artifacts (``ring_amplitude`` ~ 0.2 % detector gain errors) are left alone: on ``tiny``
   a per-radius median ring filter removed tissue near the rotation axis and scored worse.
2. Segmentation and clefts: :func:`baseline_em.reconstruct_lightness` (membranes enclose cells;
   foreground with no visible interior -- most processes at this resolution -- becomes segments
   by connectivity; components much denser than membranes, flanked by two cells, are clefts).

X-ray carries no molecular information: the submission has PSD areas (morphology) but no
receptor counts or transmitter sign, so the function score rebuilds strengths from PSD area and
treats every synapse as excitatory.  An image without structure (blank, pure noise) returns an
empty submission instead of failing.
"""

from __future__ import annotations

import numpy as np

from pretty_printer.submission.format import Submission
from pretty_printer.reconstruct.excitability import add_morphology_excitability
from pretty_printer.reconstruct.registry import METHODS
from pretty_printer.reconstruct.baseline_em import reconstruct_lightness
from pretty_printer.reconstruct.dense_segmentation import fill_blank_sections
from pretty_printer.reconstruct.flatfield import smooth

SMOOTH_NM = 20.0  # half a voxel: the tomogram is already band-limited to ~100 nm


def xray_lightness(img: np.ndarray, voxel_nm) -> np.ndarray:
    """Rule 1: blank slices filled, non-finite values zeroed, smoothed, negated."""
    img = fill_blank_sections(np.nan_to_num(np.asarray(img, np.float32), nan=0.0, posinf=0.0, neginf=0.0))
    return (-smooth(img, voxel_nm, SMOOTH_NM)).astype(np.float32)


@METHODS.register("baseline:xray")
def reconstruct_xray(ds, modality: str = "xray", *, rng=None) -> Submission:
    """X-ray baseline on dataset ``ds`` (reads only ``public/``); deterministic, ``rng`` unused."""
    arr, voxel_nm = ds.image(modality)
    origin_nm = np.asarray(ds.modality(modality).get("origin_nm", (0.0, 0.0, 0.0)), float)
    r = xray_lightness(np.asarray(arr[0]), voxel_nm)
    sub = reconstruct_lightness(r, voxel_nm, origin_nm, modality=modality, method="baseline:xray",
                                with_sign=False)  # ~100 nm does not resolve a density's thickness
    return add_morphology_excitability(sub, ds, voxel_nm)  # soma size -> tonic channels

"""EM baseline: membrane boundaries -> cells enclosed by membranes -> clefts -> partners.

A deliberately simple, classical pipeline (numpy / scipy / scikit-image, no learning); every
rule is stated in the module that applies it:

1. Missing (blank) sections are filled from the nearest section; each section is smoothed by
   ``SMOOTH_NM`` in-plane and divided by its background level
   (:mod:`~pretty_printer.reconstruct.flatfield`): charging and drift divide out and
   extracellular space reads ~1.
2. Segmentation (:mod:`~pretty_printer.reconstruct.dense_segmentation`): three intensity classes
   (membrane, cytoplasm, extracellular); per section, regions enclosed by membranes whose mean
   is cytoplasm are cell interiors; interiors linked across sections by overlap; membranes go
   to the nearest cell.
3. Clefts and partners (:mod:`~pretty_printer.reconstruct.clefts`): components much darker than
   the membrane class, flanked by two segments, kept where one side shows a vesicle cloud
   (vesicle-sized dark puncta; oblique membranes have none) or the density is thicker than any
   membrane pile-up; the side with the vesicles is presynaptic; PSD area from the cleft's
   volume; the sign from the ultrastructure (a thick Gray I density is darker than a thin Gray
   II one), pooled per edge (the clefts between two segments), weighted by PSD area.

The submission has no receptor counts (EM carries no molecular identity), so the function score
rebuilds strengths from PSD area.  An image without structure gives an empty
(all-unassigned, no synapses) submission rather than an error.
"""

from __future__ import annotations

import numpy as np

from pretty_printer.submission.format import Submission
from pretty_printer.reconstruct.excitability import add_morphology_excitability
from pretty_printer.reconstruct.registry import METHODS
from pretty_printer.reconstruct.clefts import cleft_table, detect_clefts
from pretty_printer.reconstruct.dense_segmentation import fill_blank_sections, segment_dense
from pretty_printer.reconstruct.flatfield import background, smooth

SMOOTH_NM = 16.0  # ~ the probe FWHM: shot noise down, 2-3 voxel membranes kept


def reconstruct_lightness(r: np.ndarray, voxel_nm, origin_nm, *, modality: str, method: str,
                          with_sign: bool = True) -> Submission:
    """Segmentation and clefts of a lightness image (extracellular lightest, stain dark).

    Parameters
    ----------
    r : numpy.ndarray
        (z, y, x) float image, already denoised and flat-fielded; higher = less stain.
    voxel_nm, origin_nm : sequence of float
        Voxel size and the position of the first voxel's corner, (z, y, x) nm.
    modality, method : str
        Recorded in the submission.
    with_sign : bool
        Submit each synapse's sign from its ultrastructure (``clefts`` rules 5-6; EM).  False for
        images that do not resolve synaptic densities (X-ray): no ``sign`` column.

    Returns
    -------
    Submission
        Segmentation (uint64, 0 = unassigned) and synapses with ``psd_area_nm2``.
    """
    voxel_nm = np.asarray(voxel_nm, float)
    seg, classes = segment_dense(r, voxel_nm)
    clefts = [] if classes is None else detect_clefts(r, seg, classes.t_mem, classes.t_ecs, voxel_nm, origin_nm)
    # uint32 labels until here (half the bytes through the clefts); the submission's are uint64
    return Submission(modality=modality, segmentation=seg.astype(np.uint64), synapses=cleft_table(clefts, with_sign=with_sign),
                      cells=None, method=method)


def em_lightness(img: np.ndarray, voxel_nm) -> np.ndarray:
    """Rule 1: fill blank sections, smooth, divide by the background (extracellular ~ 1)."""
    sm = smooth(fill_blank_sections(img), voxel_nm, SMOOTH_NM)
    bg = background(sm, voxel_nm)
    floor = max(float(np.abs(bg).max()) * 1e-3, 1e-6)
    # in place: float32 throughout, the same bits as (sm / np.maximum(bg, floor)).astype(np.float32)
    return np.divide(sm, np.maximum(bg, floor, out=bg), out=sm, dtype=np.float32)


def reconstruct_dense(img: np.ndarray, voxel_nm, origin_nm, *, dense_is_dark: bool = True, modality: str = "em",
                      method: str = "baseline:em") -> Submission:
    """The EM pipeline on a raw image (``dense_is_dark=False``: the image is inverted first)."""
    img = np.asarray(img, np.float32)
    if not dense_is_dark:
        img = float(img.max()) - img
    r = em_lightness(img, voxel_nm)
    del img  # not held through the segmentation
    return reconstruct_lightness(r, voxel_nm, origin_nm, modality=modality, method=method)


@METHODS.register("baseline:em")
def reconstruct_em(ds, modality: str = "em", *, rng=None) -> Submission:
    """EM baseline on dataset ``ds`` (reads only ``public/``); deterministic, ``rng`` unused."""
    arr, voxel_nm = ds.image(modality)
    origin_nm = np.asarray(ds.modality(modality).get("origin_nm", (0.0, 0.0, 0.0)), float)
    sub = reconstruct_dense(np.asarray(arr[0]), voxel_nm, origin_nm, dense_is_dark=True,
                            modality=modality, method="baseline:em")
    return add_morphology_excitability(sub, ds, voxel_nm)  # soma size -> tonic channels

"""ExM baseline, rules 2-3 of :mod:`pretty_printer.reconstruct.baseline_exm`: receptor puncta and
the segments on either side of them.

A punctum is a local maximum of a matched-filtered receptor stain above ``PUNCTA_SNR`` times its
voxel's noise (:func:`find_puncta`); its postsynaptic segment is the one under it and its
presynaptic segment the nearby other segment with the most distance-weighted voxels
(:func:`partners`); :func:`synapse_table` writes the submission's ``synapses.csv`` columns.
"""

from __future__ import annotations

import numpy as np

from pretty_printer.reconstruct.puncta import detect_peaks

MERGE_PUNCTA_NM = 150.0
PARTNER_RADIUS_NM = 200.0
PARTNER_SIGMA_NM = 60.0  # the presynaptic vote's Gaussian weight by distance to the punctum
INTEGRATE_NM = 180.0  # half-width of the box a punctum's photons are summed over (blur + PSD)
PUNCTA_SNR = 5.0


def find_puncta(filtered: np.ndarray, noise, voxel_nm, threshold: float = PUNCTA_SNR) -> list[tuple[np.ndarray, float]]:
    """Puncta of a matched-filtered receptor stain and their integrated signal.

    Parameters
    ----------
    filtered : (Z, Y, X) float
        Background-subtracted stain after the matched filter
        (:func:`pretty_printer.reconstruct.puncta.matched_filter`), photons per voxel.
    noise : float or (Z, Y, X) float
        Noise deviation of ``filtered`` (per voxel: it grows at the block faces), photons.
    voxel_nm : (3,) float
    threshold : float
        A punctum peaks above ``threshold`` times its voxel's noise; peaks closer than
        ``MERGE_PUNCTA_NM`` are one.

    Returns
    -------
    list of (index (3,) int, photons float)
        Each punctum's voxel and the sum of ``filtered`` (not clipped, so noise averages out) over
        the box of half-width ``INTEGRATE_NM`` around it.
    """
    fp = np.ones([max(1, int(round(MERGE_PUNCTA_NM / v))) * 2 + 1 for v in voxel_nm], bool)
    noise = np.broadcast_to(np.asarray(noise, np.float32), filtered.shape)
    peaks = detect_peaks(filtered, noise, threshold, fp)
    half = [max(1, int(round(INTEGRATE_NM / v))) for v in voxel_nm]
    out = []
    for p in peaks:
        box = tuple(slice(max(0, c - h), c + h + 1) for c, h in zip(p, half))
        out.append((p, float(filtered[box].sum())))
    return out


def _weighted_vote(patch: np.ndarray, weight: np.ndarray, exclude: int) -> int:
    """The nonzero label of ``patch`` other than ``exclude`` with the largest summed ``weight``
    (ties: smaller label); 0 if there is none."""
    keep = (patch > 0) & (patch != exclude)
    if not keep.any():
        return 0
    labels, inverse = np.unique(patch[keep], return_inverse=True)
    return int(labels[int(np.argmax(np.bincount(inverse, weights=weight[keep])))])


def partners(seg: np.ndarray, p, voxel_nm) -> tuple[int, int, np.ndarray]:
    """Pre and post segment of a receptor punctum, and the presynaptic site's voxel.

    The postsynaptic segment is the one under the punctum (receptors sit in the PSD); the
    presynaptic segment is the other segment with the most voxels near the punctum, each voxel
    weighted by a Gaussian of its distance (``PARTNER_SIGMA_NM``; anisotropic distance) within
    the box of half-width ``PARTNER_RADIUS_NM`` (a punctum in no segment takes the post segment by
    the same vote); the presynaptic site is the pre segment's voxel nearest to the punctum (ties:
    first in C order).  The bouton lies across a 20 nm cleft, so near voxels count most; an
    unweighted count over the box favoured thick background neurites passing within 200 nm
    (measured on the tuning seeds 1 and 2 of ``tiny``, puncta within 200 nm of a circuit synapse:
    the true presynaptic cell for 11 of 19 on seed 2 unweighted, 16 with a 60 nm Gaussian; the
    segment of the single nearest other voxel is noisier at barcode boundaries blurred over
    ~40 nm).

    Parameters
    ----------
    seg : (Z, Y, X) uint64
    p : (3,) int
        The punctum's voxel.
    voxel_nm : (3,) float

    Returns
    -------
    pre, post : int
        Segment ids (0 = none found).
    pre_voxel : (3,) int
        The presynaptic site (``p`` itself when ``pre`` is 0).
    """
    p = np.asarray(p, int)
    vox = np.asarray(voxel_nm, float)
    r = [max(1, int(round(PARTNER_RADIUS_NM / v))) for v in vox]
    lo = np.maximum(p - r, 0)
    box = tuple(slice(a, c + h + 1) for a, c, h in zip(lo, p, r))
    patch = seg[box]
    d2 = sum((((np.arange(n) + a - c) * v) ** 2).reshape([-1 if k == d else 1 for k in range(3)])
             for d, (n, a, c, v) in enumerate(zip(patch.shape, lo, p, vox)))
    weight = np.exp(-d2 / (2.0 * PARTNER_SIGMA_NM ** 2))
    post = int(seg[tuple(p)]) or _weighted_vote(patch, weight, 0)
    if post == 0:
        return 0, 0, p
    pre = _weighted_vote(patch, weight, post)
    if pre == 0:
        return 0, post, p
    where = np.argwhere(patch == pre)
    return pre, post, where[int(np.argmin(d2[tuple(where.T)]))] + lo


def synapse_table(seg, synapses, voxel_nm, origin) -> dict[str, np.ndarray]:
    """The ``synapses.csv`` columns: partners (:func:`partners`), counts, conductance, sign.

    ``synapses``: ``{"p": (3,) int voxel, "counts": {receptor: count}}`` each (clustered puncta);
    ``voxel_nm``, ``origin``: (3,) nm.  Counts are rounded; conductance is counts times
    ``phantoms.receptors.RECEPTOR_UNIT_pS``, in nS; a synapse is inhibitory (sign -1) where its
    GABA_A count exceeds AMPA + NMDA.  Puncta without both partners are left out.
    """
    from phantoms.receptors import RECEPTOR_UNIT_pS

    rows = {c: [] for c in ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm",
                            "pre_id", "post_id", "conductance_nS", "sign", "n_AMPA", "n_NMDA", "n_GABA_A")}
    for s in synapses:
        pre, post, pre_voxel = partners(seg, s["p"], voxel_nm)
        if pre == 0 or post == 0:
            continue
        counts = {r: int(round(s["counts"].get(r, 0.0))) for r in ("AMPA", "NMDA", "GABA_A")}
        g = sum(counts[r] * RECEPTOR_UNIT_pS[r] for r in counts) / 1000.0
        inhibitory = counts["GABA_A"] > counts["AMPA"] + counts["NMDA"]
        pre_nm = (pre_voxel + 0.5) * voxel_nm + origin
        post_nm = (s["p"] + 0.5) * voxel_nm + origin
        for d, a in enumerate("zyx"):
            rows[f"pre_{a}_nm"].append(pre_nm[d])
            rows[f"post_{a}_nm"].append(post_nm[d])
        rows["pre_id"].append(pre)
        rows["post_id"].append(post)
        rows["conductance_nS"].append(g)
        rows["sign"].append(-1 if inhibitory else 1)
        for r in counts:
            rows[f"n_{r}"].append(counts[r])
    ints = ("pre_id", "post_id", "sign", "n_AMPA", "n_NMDA", "n_GABA_A")
    return {k: np.asarray(v, dtype=np.int64 if k in ints else float) for k, v in rows.items()}

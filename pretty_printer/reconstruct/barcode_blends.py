"""ExM barcodes: pieces whose code is a blend of two touching cells' codes.

Each cell expresses ``k`` of ``N`` barcode proteins; the optics blur them, so where two cells touch
a voxel sees both, and after thresholding a thin shell can read ``k`` bits taken from the two codes
(a code neither cell has).  Such shells sit where membranes meet, often at a synapse, where they
then take the punctum and the synapse goes to a non-cell.  Used by
:mod:`pretty_printer.reconstruct.baseline_exm`.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

MIXED_PIECE_UM3 = 0.01  # a blended-code piece at most this large is given to its neighbours


def drop_mixed_pieces(labels: np.ndarray, voxel_nm) -> np.ndarray:
    """Give each small piece whose code is a blend of two touching codes to its nearest neighbour.

    Where two cells touch, the blurred barcodes add up, and a thin shell can read a code made of
    bits of both (``tiny`` seed 2: ``010110000010`` between ``010110001000`` and ``010011000010``),
    often at a synapse, where it then takes the punctum.  A 6-connected piece of one code with at
    most ``MIXED_PIECE_UM3`` of volume whose code lies within the union of two other codes it
    touches is relabelled voxel by voxel to the nearest voxel of another label (anisotropic
    distance).  A larger piece keeps its code: a real cell's code can be such a blend too.

    Parameters
    ----------
    labels : (Z, Y, X) uint64
        Bit-string codes, 0 = no cell.
    voxel_nm : (3,) float

    Returns
    -------
    (Z, Y, X) uint64
        The codes with blended pieces relabelled (``labels`` itself if there are none).
    """
    from skimage.measure import label

    voxel_nm = np.asarray(voxel_nm, float)
    max_vox = MIXED_PIECE_UM3 * 1e9 / float(np.prod(voxel_nm))
    codes, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(labels.shape) + (0 if codes[0] == 0 else 1)
    codes = codes if codes[0] == 0 else np.r_[np.uint64(0), codes]
    comp = label(inverse, background=0, connectivity=1).astype(np.int64)
    small = np.bincount(comp.ravel()) <= max_vox
    small[0] = False
    code_of = np.zeros(small.size, np.int64)
    code_of[comp.ravel()] = inverse.ravel()
    mixed_comps = [c for c, near in _neighbour_codes(comp, inverse, small).items()
                   if _is_blend(int(codes[code_of[c]]), [int(codes[j]) for j in near])]
    mixed = np.isin(comp, mixed_comps)
    if not mixed.any():
        return labels
    keep = (labels > 0) & ~mixed
    _, idx = ndimage.distance_transform_edt(~keep, sampling=voxel_nm, return_indices=True)
    out = labels.copy()
    out[mixed] = labels[tuple(i[mixed] for i in idx)]
    return out


def _neighbour_codes(comp: np.ndarray, code_index: np.ndarray, wanted: np.ndarray) -> dict[int, list[int]]:
    """For each component ``c`` with ``wanted[c]``: the other nonzero code indices its voxels touch
    across a face."""
    pairs = []
    for axis in range(comp.ndim):
        a, b = (np.moveaxis(x, axis, 0) for x in (comp, code_index))
        for (ca, cb), (ka, kb) in (((a[:-1], a[1:]), (b[:-1], b[1:])), ((a[1:], a[:-1]), (b[1:], b[:-1]))):
            m = wanted[ca] & (kb != ka) & (kb > 0)
            pairs.append(np.stack([ca[m], kb[m]], axis=1))
    pairs = np.unique(np.concatenate(pairs), axis=0) if pairs else np.zeros((0, 2), np.int64)
    out: dict[int, list[int]] = {}
    for c, k in pairs.tolist():
        out.setdefault(c, []).append(k)
    return out


def _is_blend(own: int, near: list[int]) -> bool:
    """Whether code ``own`` lies within the union of two of the codes ``near``."""
    return any(own & ~(a | b) == 0 for i, a in enumerate(near) for b in near[i + 1:])

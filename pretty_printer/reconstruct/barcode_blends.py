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
    voxel_nm = np.asarray(voxel_nm, float)
    max_vox = MIXED_PIECE_UM3 * 1e9 / float(np.prod(voxel_nm))
    codes, inverse = np.unique(labels, return_inverse=True)
    inverse = inverse.reshape(labels.shape)
    mixed = np.zeros(labels.shape, bool)
    for j, box in enumerate(ndimage.find_objects(inverse + 1)):
        if box is None or codes[j] == 0:
            continue
        big = tuple(slice(max(0, b.start - 1), b.stop + 1) for b in box)
        lab, n = ndimage.label(inverse[big] == j)
        sizes = np.bincount(lab.ravel(), minlength=n + 1)
        for c in np.flatnonzero(sizes[1:] <= max_vox) + 1:
            piece = lab == c
            ring = ndimage.binary_dilation(piece) & ~piece
            near = [int(x) for x in np.unique(labels[big][ring]) if x != 0 and x != codes[j]]
            own = int(codes[j])
            if any(own & ~(a | b) == 0 for i, a in enumerate(near) for b in near[i + 1:]):
                mixed[big] |= piece
    if not mixed.any():
        return labels
    keep = (labels > 0) & ~mixed
    _, idx = ndimage.distance_transform_edt(~keep, sampling=voxel_nm, return_indices=True)
    out = labels.copy()
    out[mixed] = labels[tuple(i[mixed] for i in idx)]
    return out

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
    labels : (Z, Y, X) unsigned integer (uint64, or narrower when the codes fit)
        Bit-string codes, 0 = no cell.
    voxel_nm : (3,) float

    Returns
    -------
    (Z, Y, X) of ``labels``' dtype
        The codes with blended pieces relabelled (``labels`` itself if there are none).
    """
    voxel_nm = np.asarray(voxel_nm, float)
    max_vox = MIXED_PIECE_UM3 * 1e9 / float(np.prod(voxel_nm))
    codes, inverse = unique_inverse(labels)
    if codes[0] != 0:
        inverse += 1  # fits: unique_inverse leaves room for one more index
        codes = np.r_[codes.dtype.type(0), codes]
    comp = label_by_value(inverse)
    small = sum(np.bincount(c.ravel(), minlength=int(comp.max()) + 1) for c in comp) <= max_vox
    small[0] = False
    code_of = np.zeros(small.size, np.int64)
    code_of[comp.ravel()] = inverse.ravel()
    mixed_comps = [c for c, near in _neighbour_codes(comp, inverse, small).items()
                   if _is_blend(int(codes[code_of[c]]), [int(codes[j]) for j in near])]
    del inverse
    is_mixed = np.zeros(small.size, bool)  # a table by component, not np.isin's sort of the volume
    is_mixed[mixed_comps] = True
    mixed = is_mixed[comp]
    del comp
    if not mixed.any():
        return labels
    keep = labels > 0
    keep &= ~mixed
    np.logical_not(keep, out=keep)
    # only the indices: scipy would form the distances (44 B a voxel) for the whole volume
    idx = ndimage.distance_transform_edt(keep, sampling=voxel_nm, return_distances=False, return_indices=True)
    del keep
    out = labels.copy()
    out[mixed] = labels[tuple(i[mixed] for i in idx)]
    return out


def label_by_value(image: np.ndarray) -> np.ndarray:
    """6-connected components of each nonzero value: ``skimage.measure.label(image, background=0,
    connectivity=1)``, numbered the same way, in int32.

    skimage's label copies its input to intp and returns int64 (16 B a voxel); here each value's
    box is labelled by :func:`scipy.ndimage.label` and the components renumbered in the order of
    their first voxel in C order, which is skimage's numbering.

    Parameters
    ----------
    image : (Z, Y, X) unsigned integer
        Small values (one box per value up to the maximum), 0 = background.

    Returns
    -------
    (Z, Y, X) int32 (int64 from 2**31 voxels on)
        Component ids 1..n, 0 on the background.
    """
    out = np.zeros(image.shape, np.int32 if image.size < 2 ** 31 else np.int64)
    n = 0
    for v, box in enumerate(ndimage.find_objects(image), start=1):
        if box is None:
            continue
        lab, k = ndimage.label(image[box] == v)
        m = lab > 0
        out[box][m] = lab[m] + n
        n += k
    first = np.full(n + 1, np.iinfo(np.int64).max)
    for z in range(out.shape[0]):
        u, i = np.unique(out[z], return_index=True)
        first[u] = np.minimum(first[u], i + z * out[z].size)
    first[0] = -1
    rank = np.zeros(n + 1, out.dtype)
    rank[np.argsort(first, kind="stable")] = np.arange(n + 1)
    for z in range(out.shape[0]):
        out[z] = rank[out[z]]
    return out


def uint_dtype(n_max: int) -> np.dtype:
    """The smallest unsigned integer dtype that holds every integer in ``0..n_max``.

    >>> uint_dtype(255), uint_dtype(256), uint_dtype(2 ** 32)
    (dtype('uint8'), dtype('uint16'), dtype('uint64'))
    """
    for t in (np.uint8, np.uint16, np.uint32):
        if n_max <= np.iinfo(t).max:
            return np.dtype(t)
    return np.dtype(np.uint64)


def unique_inverse(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(labels, return_inverse=True)``, section by section and in a small dtype.

    Parameters
    ----------
    labels : (Z, ...) integer array

    Returns
    -------
    codes : (n,) of ``labels``' dtype
        The sorted distinct values.
    inverse : (Z, ...) unsigned integer
        ``codes[inverse] == labels``; the smallest unsigned dtype that holds ``0..n`` (so one can be
        added in place), not ``np.unique``'s int64 (a third of the bytes or less, and no argsort of
        the whole volume).
    """
    labels = np.asarray(labels)
    if labels.ndim == 0 or labels.shape[0] == 0:
        codes, inverse = np.unique(labels, return_inverse=True)
        return codes, inverse.reshape(labels.shape).astype(uint_dtype(codes.size))
    codes = np.unique(np.concatenate([np.unique(s) for s in labels]))
    inverse = np.empty(labels.shape, uint_dtype(codes.size))
    for z, s in enumerate(labels):
        inverse[z] = np.searchsorted(codes, s)
    return codes, inverse


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

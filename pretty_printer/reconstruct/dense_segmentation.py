"""Segmentation of stain-density images (EM, X-ray): membranes enclose cells, section by section.

The rule, stated once (used by the EM and X-ray baselines):

1. The caller hands in a *lightness* image ``r`` (float, 3-D): extracellular space is the
   lightest class, cytoplasm is darker, stained membranes (and clefts, vesicle clouds) darkest.
   Three intensity classes are split with multi-Otsu: membrane ``< t_mem <=`` cytoplasm
   ``< t_ecs <=`` extracellular space.  Dense organelles (mitochondria, nuclei with chromatin) are
   as dark as membranes but thick: where the grid resolves them (``DENSE_BLOB_NM`` is at least two
   pixels), dark pixels that survive an in-plane opening with a disc of that radius are left out
   of the sample the thresholds are computed on, else they drag ``t_mem`` below the membranes'
   own level and membranes break.  Extracellular space is a class only where the image resolves
   it: the histogram of the two upper classes must have a mode on each side of ``t_ecs`` with a
   valley between them (below ``ECS_VALLEY`` of the lower mode).  In dense neuropil the extracellular space is mostly 20 nm gaps that
   the probe blurs into the membranes; the upper split then only cuts the cytoplasm's own
   histogram, and there is no extracellular class (every enclosed region is a cell).
2. In each section, the non-membrane pixels fall into 4-connected regions; membranes close
   every cell's outline, so a region whose mean lightness is in the cytoplasm class is a cell's
   interior and the (big, light) rest is extracellular space.  Regions smaller than
   ``MIN_REGION_NM2`` are noise.  Working per section avoids the leak through membranes that
   lie parallel to the sections (they are blurred over a thick section and look grey).
3. Interiors are linked across sections by overlap: a region joins a region of the next section
   when their overlap is at least ``LINK_SHARE`` of the larger of the two (one cell's profiles in
   consecutive sections are alike; a small sliver touching two cells links neither).  Linked
   groups smaller than ``MIN_SEGMENT_NM3`` are dropped.
4. Every membrane voxel within ``GROW_NM`` in-plane of a segment takes the label of the
   nearest segment voxel (anisotropic distance): membranes belong to the cell they enclose.
   Nearest-label, not a flood over intensities, so a label cannot run along a membrane network
   into its neighbours.
5. Everything that is not extracellular belongs to some cell: the foreground is the lightness
   smoothed by ``FOREGROUND_NM`` in-plane below ``t_ecs``.  Foreground voxels still unlabelled
   take the nearest label within their 3-D foreground component; a component with no label at
   all (a process too thin to show an interior, typical at X-ray resolution) becomes a segment
   of its own if it is at least ``MIN_SEGMENT_NM3``.
6. Organelles: a nucleus or a large mitochondrion has its own envelope, so rules 2-3 make it a
   segment of its own, inside its cell.  A segment whose contact faces (6-neighbourhood) lie at
   least ``ENCLOSED_SHARE`` on one other segment is enclosed by it and takes its label (repeated
   for organelles within organelles).  A real cell touches extracellular space or several cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

MIN_REGION_NM2 = 6 * 16.0 ** 2  # a cell cross-section below ~40 nm across is not resolved
MIN_SEGMENT_NM3 = 80.0 ** 3  # fragments smaller than this are noise
GROW_NM = 40.0  # membranes (and their blur) reach this far outside a cell's interior
FOREGROUND_NM = 32.0  # smoothing for the foreground mask: single noisy voxels are not cells
ENCLOSED_SHARE = 0.9  # rule 6
DENSE_BLOB_NM = 32.0  # rule 1: dark structures thicker than a disc of this radius are organelles
ECS_VALLEY = 0.5  # rule 1: a valley under half the smaller mode separates cytoplasm from extracellular space
LINK_SHARE = 0.4  # rule 3 (set on tiny seed 0: 0.3 merges, 0.5 splits; VI lowest at 0.4)

_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)


@dataclass(frozen=True)
class Classes:
    """Lightness thresholds: membrane below ``t_mem``, extracellular at or above ``t_ecs``."""

    t_mem: float
    t_ecs: float


def fill_blank_sections(img: np.ndarray) -> np.ndarray:
    """Replace blank (constant) sections with the nearest non-blank one (missing sections)."""
    img = np.array(img, dtype=np.float32, copy=True)
    valid = img.reshape(img.shape[0], -1).std(axis=1) > 0
    if valid.any() and not valid.all():
        good = np.flatnonzero(valid)
        for z in np.flatnonzero(~valid):
            img[z] = img[good[np.argmin(np.abs(good - z))]]
    return img


def _otsu3(sample: np.ndarray):
    from skimage.filters import threshold_multiotsu

    sample = sample[np.isfinite(sample)]
    if sample.size < 27 or float(np.ptp(sample)) <= 1e-6 * max(1.0, float(np.abs(sample).max())):
        return None
    try:
        return threshold_multiotsu(sample, classes=3)
    except ValueError:  # fewer than three distinct grey levels
        return None


def dense_blobs(dark: np.ndarray, voxel_nm) -> np.ndarray | None:
    """Rule 1: pixels of ``dark`` (z, y, x) that survive an in-plane opening of radius
    ``DENSE_BLOB_NM``; ``None`` where the grid does not resolve such blobs from membranes."""
    from skimage.morphology import disk

    px = int(round(DENSE_BLOB_NM / float(np.asarray(voxel_nm, float)[1]))) if voxel_nm is not None else 0
    if px < 2:
        return None
    return ndimage.binary_opening(dark, disk(px)[None])


def classify(r: np.ndarray, voxel_nm=None) -> Classes | None:
    """Three-class multi-Otsu thresholds of the lightness image (rule 1); ``None`` if it has no structure."""
    sub = np.asarray(r[:: max(1, r.shape[0] // 16)])
    t = _otsu3(sub.ravel())
    if t is None:
        return None
    blob = dense_blobs(sub < t[0], voxel_nm)
    if blob is not None and blob.any():
        kept = _otsu3(sub[~blob])
        t = t if kept is None else kept
    t_mem, t_ecs = t
    if not t_mem < t_ecs:
        return None
    return Classes(float(t_mem), float(t_ecs) if _bimodal(sub[sub >= t_mem], t_ecs) else float("inf"))


def _bimodal(sample: np.ndarray, t: float) -> bool:
    """Rule 1: whether ``sample``'s histogram has a mode on each side of ``t`` with a valley
    between them below ``ECS_VALLEY`` of the lower mode (a split of one mode has no such valley)."""
    sample = sample[np.isfinite(sample)]
    if sample.size < 100:
        return False
    lo, hi = np.percentile(sample, [0.5, 99.5])
    if not lo < t < hi:
        return False
    h, edges = np.histogram(sample, bins=64, range=(lo, hi))
    h = ndimage.gaussian_filter1d(h.astype(float), 1.5)
    c = int(np.clip(np.searchsorted(edges, t) - 1, 1, len(h) - 1))
    i, j = int(np.argmax(h[:c])), c + int(np.argmax(h[c:]))
    return float(h[i:j + 1].min()) < ECS_VALLEY * min(h[i], h[j])


def cell_interiors(r: np.ndarray, classes: Classes, voxel_nm) -> np.ndarray:
    """Per section: non-membrane regions whose mean lightness is cytoplasm (rule 2)."""
    voxel_nm = np.asarray(voxel_nm, float)
    min_px = max(1, int(np.ceil(MIN_REGION_NM2 / (voxel_nm[1] * voxel_nm[2]))))
    membrane = r < classes.t_mem
    out = np.zeros(r.shape, bool)
    for z in range(r.shape[0]):
        lab, n = ndimage.label(~membrane[z], _CROSS)
        if n == 0:
            continue
        idx = np.arange(1, n + 1)
        mean = np.asarray(ndimage.mean(r[z], lab, idx))
        size = np.bincount(lab.ravel(), minlength=n + 1)[1:]
        keep = np.zeros(n + 1, bool)
        keep[1:] = (mean < classes.t_ecs) & (size >= min_px)
        out[z] = keep[lab]
    return out


def label_dtype(shape) -> np.dtype:
    """The label volumes' dtype inside the segmentation: uint32, or uint64 for volumes of 2**32
    voxels or more (labels never outnumber voxels); half the bytes of the submission's uint64."""
    return np.dtype(np.uint32 if int(np.prod(shape)) < 2 ** 32 else np.uint64)


def link_sections(interiors: np.ndarray, voxel_nm) -> np.ndarray:
    """Per-section regions linked across sections by overlap, small groups dropped (rule 3);
    labels 1, 2, ... of :func:`label_dtype` (0 = none)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    dtype = label_dtype(interiors.shape)
    lab = np.zeros(interiors.shape, np.int32 if interiors.size < 2 ** 31 else np.int64)
    n = 0
    for z in range(interiors.shape[0]):
        sec, k = ndimage.label(interiors[z], _CROSS)
        lab[z] = np.where(sec > 0, sec + n, 0)
        n += k
    if n == 0:
        return lab.astype(dtype)
    size = np.bincount(lab.ravel(), minlength=n + 1)
    # (a, b) pairs of consecutive sections as one integer a * (n + 1) + b, one section pair at a
    # time: a section's labels all exceed the previous one's, so the pairs' keys come out sorted
    # and distinct, as one np.unique over the whole volume gives them
    keys, overlap = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for z in range(interiors.shape[0] - 1):
        a, b = lab[z], lab[z + 1]
        both = (a > 0) & (b > 0)
        k, c = np.unique(a[both].astype(np.int64) * (n + 1) + b[both], return_counts=True)
        keys.append(k)
        overlap.append(c)
    keys, overlap = np.concatenate(keys), np.concatenate(overlap)
    pairs = np.stack([keys // (n + 1), keys % (n + 1)])
    ok = overlap >= LINK_SHARE * np.maximum(size[pairs[0]], size[pairs[1]])
    graph = coo_matrix((np.ones(int(ok.sum())), (pairs[0, ok], pairs[1, ok])), shape=(n + 1, n + 1))
    _, group = connected_components(graph, directed=False)
    group = np.unique(group, return_inverse=True)[1].reshape(-1) + 1
    group[0] = 0
    # label -> group -> kept group, composed on the labels (n + 1 entries), applied to the volume
    # once: a group's size is the sum of its labels' sizes (exact: integer counts far below 2**53)
    sizes = np.bincount(group, weights=size) * float(np.prod(voxel_nm))
    keep = sizes >= MIN_SEGMENT_NM3
    keep[0] = False
    _, compact = np.unique(np.where(keep, np.arange(len(keep)), 0), return_inverse=True)
    return compact.reshape(-1).astype(dtype)[group][lab]


def _labels_out(seg, overwrite: bool, who: str) -> np.ndarray:
    """``seg`` itself when ``overwrite`` (it must have :func:`label_dtype`; else ``ValueError``
    naming ``who``), or a :func:`label_dtype` copy of it."""
    seg = np.asarray(seg)
    dtype = label_dtype(seg.shape)
    if overwrite and seg.dtype != dtype:
        raise ValueError(f"{who}: overwrite needs {dtype} labels, got {seg.dtype}")
    return seg if overwrite else seg.astype(dtype)


def grow_over_membranes(seg: np.ndarray, membrane: np.ndarray, voxel_nm, *, overwrite: bool = False) -> np.ndarray:
    """Membrane voxels near a segment take the nearest segment's label (rule 4).

    Parameters
    ----------
    seg : (z, y, x) numpy.ndarray
        Integer labels >= 0 (0 = unlabelled), e.g. :func:`link_sections`'.
    membrane : (z, y, x) bool numpy.ndarray
        The membrane class.
    voxel_nm : sequence of float
        Voxel size (z, y, x), nm: the anisotropic distance to the nearest segment voxel.
    overwrite : bool
        Write the new labels into ``seg`` itself (it must have :func:`label_dtype`) instead of a
        copy: one label volume less at the peak.

    Returns
    -------
    numpy.ndarray
        (z, y, x) labels of :func:`label_dtype` (``seg`` itself with ``overwrite``).

    Raises
    ------
    ValueError
        ``overwrite`` with labels of another dtype.
    """
    voxel_nm = np.asarray(voxel_nm, float)
    out = _labels_out(seg, overwrite, "grow_over_membranes")
    if not (out > 0).any():
        return out
    reach = max(1, int(round(GROW_NM / voxel_nm[1])))
    band = ndimage.binary_dilation(out > 0, np.ones((1, 2 * reach + 1, 2 * reach + 1), bool))
    band &= membrane
    band &= out == 0  # the band's unlabelled voxels: the labelled ones keep their own label
    # the nearest segment voxel's indices only (the distances would cost 44 bytes a voxel), read
    # section by section where they are used.  In place: the nearest segment voxels are labelled
    # ones, never written here; voxels outside the band stay as they are (0 or their own label)
    idx = ndimage.distance_transform_edt(out == 0, sampling=voxel_nm, return_distances=False, return_indices=True)
    for z in range(out.shape[0]):
        b = band[z]
        out[z][b] = out[idx[0, z][b], idx[1, z][b], idx[2, z][b]]
    return out


def foreground(r: np.ndarray, classes: Classes, voxel_nm) -> np.ndarray:
    """Non-extracellular voxels (rule 5), holes filled section by section."""
    voxel_nm = np.asarray(voxel_nm, float)
    sigma = (0.0, FOREGROUND_NM / voxel_nm[1], FOREGROUND_NM / voxel_nm[2])
    fg = ndimage.gaussian_filter(np.asarray(r, np.float32), sigma) < classes.t_ecs
    return np.stack([ndimage.binary_fill_holes(f) for f in fg]) if fg.size else fg


def assign_foreground(seg: np.ndarray, fg: np.ndarray, voxel_nm, *, overwrite: bool = False) -> np.ndarray:
    """Unlabelled foreground voxels: nearest label in their component, or a new segment (rule 5).

    Parameters
    ----------
    seg : (z, y, x) numpy.ndarray
        Integer labels >= 0 (0 = unlabelled).
    fg : (z, y, x) bool numpy.ndarray
        The foreground (:func:`foreground`).
    voxel_nm : sequence of float
        Voxel size (z, y, x), nm: the anisotropic distance to the nearest label.
    overwrite : bool
        Write the new labels into ``seg`` itself (it must have :func:`label_dtype`) instead of a
        copy: one label volume less at the peak.

    Returns
    -------
    numpy.ndarray
        (z, y, x) labels of :func:`label_dtype` (``seg`` itself with ``overwrite``).

    Raises
    ------
    ValueError
        ``overwrite`` with labels of another dtype.
    """
    voxel_nm = np.asarray(voxel_nm, float)
    out = _labels_out(seg, overwrite, "assign_foreground")
    comps, n = ndimage.label(fg | (out > 0))
    if n == 0:
        return out
    if n < 2 ** 16:  # the component ids in 2 bytes a voxel, not 4, through the feature transform
        comps = comps.astype(np.uint16)
    has_label = np.zeros(n + 1, bool)
    has_label[np.unique(comps[out > 0])] = True
    has_label[0] = False
    todo = (out == 0) & has_label[comps]
    if todo.any():
        idx = ndimage.distance_transform_edt(out == 0, sampling=voxel_nm, return_distances=False,
                                             return_indices=True)
        # the nearest label must lie in the same foreground component (no jumps across space);
        # a voxel to do is unlabelled, so where the nearest label is elsewhere it stays 0.  Section
        # by section, in place: the nearest labelled voxels are never ones written here
        for z in range(out.shape[0]):
            t = todo[z]
            src = idx[0, z][t], idx[1, z][t], idx[2, z][t]
            out[z][t] = np.where(comps[src] == comps[z][t], out[src], 0)
        del idx
    del todo
    sizes = np.bincount(comps.ravel(), minlength=n + 1) * float(np.prod(voxel_nm))
    new = ~has_label & (sizes >= MIN_SEGMENT_NM3)
    new[0] = False
    if new.any():
        ids = np.zeros(n + 1, dtype)
        ids[new] = int(out.max()) + 1 + np.arange(int(new.sum()))
        fresh = (out == 0) & new[comps]
        out[fresh] = ids[comps[fresh]]
    return out


def merge_enclosed(seg: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Rule 6: segments enclosed by one other segment take its label; labels of seg's dtype if
    unsigned, else :func:`label_dtype`."""
    seg = np.asarray(seg)
    if seg.dtype.kind != "u":
        seg = seg.astype(label_dtype(seg.shape))
    for _ in range(rounds):
        n = int(seg.max()) + 1
        if n <= 2:
            break
        # contact faces (s, t) and (t, s) of each pair of differing neighbours, counted section by
        # section (in-plane pairs, and pairs with the next section) and merged on the distinct pairs
        keys, count = [], []
        for z in range(seg.shape[0]):
            near = [(seg[z, :-1], seg[z, 1:]), (seg[z, :, :-1], seg[z, :, 1:])]
            if z + 1 < seg.shape[0]:
                near.append((seg[z], seg[z + 1]))
            for lo, hi in near:
                d = lo != hi
                lo, hi = lo[d].astype(np.int64), hi[d].astype(np.int64)
                for k in (lo * n + hi, hi * n + lo):
                    k, c = np.unique(k, return_counts=True)
                    keys.append(k)
                    count.append(c)
        keys, at = np.unique(np.concatenate(keys), return_inverse=True)
        target = _enclosing(keys, np.bincount(at.reshape(-1), weights=np.concatenate(count)).astype(np.int64), n)
        if target is None:
            break
        seg = target.astype(seg.dtype)[seg]
    return seg


def _enclosing(keys: np.ndarray, count: np.ndarray, n: int) -> np.ndarray | None:
    """Rule 6 on contact faces: ``count`` faces of segment ``s`` on ``t != s`` for each distinct
    ``keys = s * n + t`` (sorted): each label's target, ``t`` where at least ``ENCLOSED_SHARE`` of
    ``s``'s faces lie on one ``t > 0`` (the lowest such ``t`` on a tie), chains followed; ``None``
    if no segment is enclosed.  The ``(n, n)`` contact matrix, kept sparse: only pairs that touch."""
    s, t = keys // n, keys % n
    total = np.bincount(s, weights=count, minlength=n).astype(np.int64)  # faces of s, exact
    on = t > 0
    s, t, count = s[on], t[on], count[on]
    order = np.lexsort((t, -count, s))  # per s: most faces first, the lowest t on a tie
    s, t, count = s[order], t[order], count[order]
    first = np.ones(len(s), bool)
    first[1:] = s[1:] != s[:-1]
    best = np.zeros(n, np.int64)
    faces = np.zeros(n, np.int64)
    best[s[first]] = t[first]
    faces[s[first]] = count[first]
    share = faces / np.maximum(total, 1)
    enclosed = (share >= ENCLOSED_SHARE) & (np.arange(n) > 0) & (total > 0)
    if not enclosed.any():
        return None
    target = np.arange(n)
    target[enclosed] = best[enclosed]
    for _ in range(8):  # follow chains (an organelle in an organelle)
        target = target[target]
    return target


def segment_dense(r: np.ndarray, voxel_nm) -> tuple[np.ndarray, Classes | None]:
    """The whole rule (1-6) on a lightness image: labels of :func:`label_dtype` (0 = unassigned)
    and classes."""
    r = np.asarray(r, np.float32)
    classes = classify(r, voxel_nm)
    if classes is None:
        return np.zeros(r.shape, label_dtype(r.shape)), None
    # rules 4 and 5 write into rule 3's fresh labels: no second label volume at their peaks
    seg = link_sections(cell_interiors(r, classes, voxel_nm), voxel_nm)
    seg = grow_over_membranes(seg, r < classes.t_mem, voxel_nm, overwrite=True)
    seg = assign_foreground(seg, foreground(r, classes, voxel_nm), voxel_nm, overwrite=True)
    return merge_enclosed(seg), classes

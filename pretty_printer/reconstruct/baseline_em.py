"""EM baseline: membrane boundaries -> watershed -> agglomeration; cleft detection; partners.

A deliberately simple, classical pipeline of the kind every connectomics group starts from:

1. Denoise (Gaussian, anisotropy-aware) and split intensities into three classes with
   multi-Otsu: electron-dense (membranes, clefts, vesicles), cytoplasm, and extracellular space.
2. Over-segment the cytoplasm: seeds at maxima of the distance to the nearest boundary, then a
   watershed on the negative distance.
3. Agglomerate: merge neighbouring fragments whose shared boundary is not electron-dense
   (region adjacency graph, mean darkness along the contact).
4. Grow the segments back over the dense voxels (membranes belong to their cell).
5. Clefts: the darkest, compact connected components; the two segments that flank a cleft are
   its partners; the one with more dense puncta (vesicles) nearby is presynaptic.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from scipy import ndimage

from ..submission import Submission
from . import METHODS

SEED_MIN_DISTANCE_NM = 120.0
MERGE_DARKNESS = 1.0  # contacts lighter than the membrane class (darkness < 1) are not boundaries
MIN_CLEFT_VOXELS = 10
CLEFT_MAD = 4.5  # clefts are darker than membranes by this many robust standard deviations
SMOOTH_VOXELS = 1.5
MIN_SEGMENT_NM3 = 80.0 ** 3  # fragments smaller than this are noise


def _normalize(img: np.ndarray, voxel_nm) -> np.ndarray:
    """Denoise, fill missing sections from a neighbour, and normalize each section to [0, 1].

    Per-section normalization undoes brightness drift (charging, section thickness).
    """
    img = img.astype(np.float32)
    valid = img.reshape(img.shape[0], -1).std(axis=1) > 0
    if valid.any() and not valid.all():
        good = np.flatnonzero(valid)
        for z in np.flatnonzero(~valid):
            img[z] = img[good[np.argmin(np.abs(good - z))]]
    # ~1.5 voxels of smoothing in-plane (and none across thick sections): shot noise down, membranes kept
    sigma = [SMOOTH_VOXELS if v <= 2.0 * min(voxel_nm) else 0.0 for v in voxel_nm]
    sm = ndimage.gaussian_filter(img, sigma=sigma)
    lo = np.percentile(sm, 1.0, axis=(1, 2), keepdims=True)
    hi = np.percentile(sm, 99.0, axis=(1, 2), keepdims=True)
    return (sm - lo) / np.maximum(hi - lo, 1e-6)  # not clipped: clefts are darker than the 1st percentile


def _extracellular(norm: np.ndarray, membrane_t: float) -> np.ndarray:
    """Extracellular space: bright over ~50 nm (the valley of the coarse histogram)."""
    from skimage.filters import threshold_minimum, threshold_otsu

    coarse = ndimage.gaussian_filter(norm, (0, 3, 3))
    sample = coarse[norm >= membrane_t]
    try:
        t = threshold_minimum(sample[:: max(1, sample.size // 2_000_000)])
    except RuntimeError:  # unimodal histogram: no valley
        t = threshold_otsu(sample)
    return coarse >= t


def _classes(norm: np.ndarray):
    from skimage.filters import threshold_multiotsu

    t1, t2 = threshold_multiotsu(norm[:: max(1, norm.shape[0] // 8)], classes=3)
    return t1, t2


def _remove_small(mask: np.ndarray, voxel_nm) -> np.ndarray:
    lab, n = ndimage.label(mask)
    sizes = np.bincount(lab.ravel())
    keep = sizes * float(np.prod(voxel_nm)) >= MIN_SEGMENT_NM3
    keep[0] = False
    return keep[lab]


def _oversegment(interior: np.ndarray, voxel_nm) -> np.ndarray:
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    dist = ndimage.distance_transform_edt(interior, sampling=voxel_nm)
    fp = np.ones([max(1, int(round(SEED_MIN_DISTANCE_NM / v))) * 2 + 1 for v in voxel_nm], bool)
    peaks = peak_local_max(dist, footprint=fp, labels=ndimage.label(interior)[0], exclude_border=False)
    markers = np.zeros(interior.shape, np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-dist, markers, mask=interior)


def _agglomerate(frag: np.ndarray, darkness: np.ndarray, threshold: float) -> np.ndarray:
    """Union fragments whose contact voxels are on average lighter than ``threshold``."""
    n = int(frag.max())
    parent = np.arange(n + 1)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    keys, vals = [], []
    for axis in range(3):
        a = np.moveaxis(frag, axis, 0)
        d = np.moveaxis(darkness, axis, 0)
        for step in (1, 2):  # fragments separated by a 1-voxel boundary touch at distance 2
            x, y = a[:-step], a[step:]
            dd = np.maximum(d[:-step], d[step:]) if step == 1 else d[1:-1]
            m = (x != y) & (x > 0) & (y > 0)
            lo_, hi_ = np.minimum(x[m], y[m]).astype(np.int64), np.maximum(x[m], y[m]).astype(np.int64)
            keys.append(lo_ * (n + 1) + hi_)
            vals.append(dd[m].astype(np.float64))
    if keys:
        k = np.concatenate(keys)
        v = np.concatenate(vals)
        uniq, inv = np.unique(k, return_inverse=True)
        sums = np.bincount(inv, weights=v)
        counts = np.bincount(inv)
        for key, s_, c in zip(uniq.tolist(), sums.tolist(), counts.tolist()):
            if c >= 3 and s_ / c < threshold:
                ra, rb = find(key // (n + 1)), find(key % (n + 1))
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n + 1)])
    _, relabel = np.unique(roots, return_inverse=True)
    return relabel[frag].astype(np.uint64)


def _grow_into_boundaries(seg: np.ndarray, mask: np.ndarray, darkness: np.ndarray) -> np.ndarray:
    from skimage.segmentation import watershed

    return watershed(darkness, markers=seg.astype(np.int64), mask=mask).astype(np.uint64)


def _detect_clefts(norm, dense_t, seg, voxel_nm, origin_nm):
    """Darkest compact components -> synapses with flanking segments as partners."""
    dense = norm < dense_t
    if not dense.any():
        return []
    m = float(np.median(norm[dense]))
    mad = float(np.median(np.abs(norm[dense] - m))) * 1.4826
    very = norm < m - CLEFT_MAD * mad
    comps, n = ndimage.label(very)
    out = []
    reach = [max(1, int(round(60.0 / v))) for v in voxel_nm]
    vesicle_reach = [max(1, int(round(150.0 / v))) for v in voxel_nm]
    objects = ndimage.find_objects(comps)
    for k, sl in enumerate(objects, start=1):
        if sl is None:
            continue
        comp = comps[sl] == k
        if comp.sum() < MIN_CLEFT_VOXELS:
            continue
        lo = [max(0, s.start - r) for s, r in zip(sl, reach)]
        hi = [min(dim, s.stop + r) for s, r, dim in zip(sl, reach, seg.shape)]
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        local = np.zeros([b - a for a, b in zip(lo, hi)], bool)
        local[tuple(slice(s.start - a, s.stop - a) for s, a in zip(sl, lo))] = comp
        ring = ndimage.binary_dilation(local, structure=np.ones((3, 3, 3), bool), iterations=max(reach)) & ~local
        labels = seg[box][ring]
        labels = labels[labels > 0]
        top = Counter(labels.tolist()).most_common(2)
        if len(top) < 2:
            continue
        (a, _), (b, _) = top
        centre = np.array([np.mean(np.nonzero(local)[d]) + lo[d] for d in range(3)])
        vlo = [max(0, int(c) - r) for c, r in zip(centre, vesicle_reach)]
        vhi = [min(dim, int(c) + r + 1) for c, r, dim in zip(centre, vesicle_reach, seg.shape)]
        vbox = tuple(slice(x, y) for x, y in zip(vlo, vhi))
        dens = dense[vbox] & ~(comps[vbox] == k)
        score = {s: int((dens & (seg[vbox] == s)).sum()) for s in (a, b)}
        pre, post = (a, b) if score[a] >= score[b] else (b, a)
        pos = {}
        for s in (pre, post):
            pts = np.argwhere(ring & (seg[box] == s))
            p = (pts.mean(0) + lo + 0.5) * np.asarray(voxel_nm) + np.asarray(origin_nm)
            pos[s] = p
        out.append((pre, post, pos[pre], pos[post], int(comp.sum())))
    return out


PSD_THICKNESS_NM = 40.0  # stated rule: PSD area = dense cleft volume / this thickness


def reconstruct_dense(img: np.ndarray, voxel_nm, origin_nm, *, dense_is_dark: bool, modality: str, method: str) -> Submission:
    """The classical pipeline on any image where stain density sets the contrast."""
    voxel_nm = np.asarray(voxel_nm, float)
    norm = _normalize(img, voxel_nm)
    if not dense_is_dark:
        norm = 1.0 - norm
    t1, t2 = _classes(norm)
    ecs = _extracellular(norm, t1)
    interior = (norm >= t1) & ~ecs
    interior = ndimage.binary_opening(interior, structure=np.ones((1, 3, 3), bool))
    interior = _remove_small(interior, voxel_nm)
    frag = _oversegment(interior, voxel_nm)
    darkness = np.clip((t2 - norm) / max(t2 - t1, 1e-6), 0, None).astype(np.float32)  # 0 light, >= 1 dense
    seg = _agglomerate(frag, darkness, threshold=MERGE_DARKNESS)
    seg = _grow_into_boundaries(seg, ~ecs | (norm < t1), darkness)
    syn = _detect_clefts(norm, t1, seg, voxel_nm, np.asarray(origin_nm, float))
    cols = {c: np.array([], float) for c in ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm")}
    if syn:
        pre_pos = np.array([s[2] for s in syn])
        post_pos = np.array([s[3] for s in syn])
        for d, a in enumerate("zyx"):
            cols[f"pre_{a}_nm"] = pre_pos[:, d]
            cols[f"post_{a}_nm"] = post_pos[:, d]
    cols["pre_id"] = np.array([s[0] for s in syn], dtype=np.int64)
    cols["post_id"] = np.array([s[1] for s in syn], dtype=np.int64)
    cols["psd_area_nm2"] = np.array([s[4] * float(np.prod(voxel_nm)) / PSD_THICKNESS_NM for s in syn], dtype=float)
    return Submission(modality=modality, segmentation=seg, synapses=cols, cells=None, method=method)


@METHODS.register("baseline:em")
def reconstruct_em(ds, modality: str = "em", *, rng=None) -> Submission:
    arr, voxel_nm = ds.image(modality)
    origin_nm = np.asarray(ds.modality(modality).get("origin_nm", (0.0, 0.0, 0.0)), float)
    return reconstruct_dense(np.asarray(arr[0]), voxel_nm, origin_nm, dense_is_dark=True,
                             modality=modality, method="baseline:em")

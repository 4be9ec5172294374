"""Error injection: controlled, degraded copies of a (perfect) submission.

Each error class has a level in [0, 1] (``weight_noise``: a log-normal sigma >= 0).  Draws are
made in a fixed order from the generator whatever the levels, and the affected items are
prefixes of fixed permutations, so a higher level contains the errors of a lower one: scores
move monotonically with the level for a given seed.

* ``split``: that fraction of cells is cut in two by a plane through the centroid, across the
  cell's principal axis; the far half gets a new segment id.
* ``merge``: that fraction of cells is relabelled as its nearest other cell (by centroid).
* ``drop_synapses``: that fraction of synapse rows is removed.
* ``add_synapses``: that many false synapses (as a fraction of the true count) between random
  segment pairs, at random voxels of each.
* ``weight_noise``: each synapse's conductance is multiplied by ``exp(sigma * z)``, z ~ N(0, 1).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from pretty_printer.errors import ConfigError
from pretty_printer.submission.format import Submission

KINDS = ("split", "merge", "drop_synapses", "add_synapses", "weight_noise")


def parse_perturb(text: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        key, sep, value = item.partition("=")
        if not sep:
            raise ConfigError(f"--perturb {item!r}: expected KIND=LEVEL, e.g. split=0.2")
        if key not in KINDS:
            raise ConfigError(f"--perturb: unknown kind {key!r}; expected one of: {', '.join(KINDS)}")
        try:
            level = float(value)
        except ValueError:
            raise ConfigError(f"--perturb {key}: expected a number, got {value!r}") from None
        hi = np.inf if key == "weight_noise" else 1.0
        if not (0.0 <= level <= hi):
            raise ConfigError(f"--perturb {key}: expected a level in [0, {hi}], got {level}")
        out[key] = level
    return out


class _Voxels:
    """Where each segment id of a volume lies, from one stable sort of its labels.

    ``of(i)`` equals ``np.argwhere(seg == i)`` (coordinates in raster order) without a pass over
    the whole volume per id; ``index(i)`` gives the same voxels as flat indices.
    """

    def __init__(self, seg: np.ndarray):
        self.shape = seg.shape
        flat = seg.ravel()
        self.order = np.argsort(flat, kind="stable")  # raster order within each id
        self.sorted = flat[self.order]

    def ids(self) -> list[int]:
        """The nonzero ids, ascending (``np.unique(seg[seg > 0]).tolist()``)."""
        first = np.ones(len(self.sorted), bool)
        np.not_equal(self.sorted[1:], self.sorted[:-1], out=first[1:])
        u = self.sorted[first]
        return u[u > 0].tolist()

    def index(self, i) -> np.ndarray:
        i = self.sorted.dtype.type(i)
        return self.order[np.searchsorted(self.sorted, i, "left"):np.searchsorted(self.sorted, i, "right")]

    def of(self, i) -> np.ndarray:
        return np.stack(np.unravel_index(self.index(i), self.shape), axis=1)

    def centroids(self, ids) -> dict[int, np.ndarray]:
        """Mean voxel index (z, y, x) of each id: what ``scipy.ndimage.center_of_mass`` of a
        volume of ones gives, to the bit (sums of integer coordinates are exact in float64 below
        2**53, so their order does not matter)."""
        ids = np.asarray(ids, dtype=self.sorted.dtype)
        lo = np.searchsorted(self.sorted, ids, "left")
        hi = np.searchsorted(self.sorted, ids, "right")
        sums = np.zeros((len(ids), len(self.shape)))
        stride = 1
        for d in reversed(range(len(self.shape))):  # one axis at a time bounds memory
            cum = np.concatenate([[0.0], np.cumsum(self.order // stride % self.shape[d], dtype=float)])
            sums[:, d] = cum[hi] - cum[lo]
            stride *= self.shape[d]
        return {int(i): s / float(n) for i, s, n in zip(ids, sums, hi - lo)}


def _split(sub: Submission, level: float, rng, origin, voxel):
    seg = sub.segmentation.copy()
    where = _Voxels(seg)  # each id's voxels: a cut relabels only the voxels of the cell it cuts
    ids = where.ids()
    order = rng.permutation(len(ids))
    k = int(round(level * len(ids)))
    syn = {c: v.copy() for c, v in sub.synapses.items()}
    next_id = int(seg.max()) + 1
    for j in order[:k]:
        cid = ids[j]
        vox = where.of(cid)
        if len(vox) < 2:
            continue
        phys = vox * voxel
        c = phys.mean(0)
        axis = np.linalg.svd(phys - c, full_matrices=False)[2][0]
        far = (phys - c) @ axis > 0
        seg[tuple(vox[far].T)] = next_id
        for end in ("pre", "post"):
            col = f"{end}_id"
            if col in syn:
                pos = np.stack([syn[f"{end}_{a}_nm"] for a in "zyx"], 1) - origin - voxel / 2
                hit = (syn[col] == cid) & (((pos - c) @ axis) > 0)
                syn[col][hit] = next_id
        next_id += 1
    return replace(sub, segmentation=seg, synapses=syn)


def _merge(sub: Submission, level: float, rng):
    seg = sub.segmentation.copy()
    where = _Voxels(seg)
    ids = where.ids()
    order = rng.permutation(len(ids))
    k = int(round(level * len(ids)))
    if len(ids) < 2 or k == 0:
        return sub
    cents = where.centroids(ids)
    parent = {i: i for i in ids}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for j in order[:k]:  # union each chosen cell with its nearest other cell
        a = ids[j]
        b = min((c for c in ids if c != a), key=lambda c: float(np.sum((cents[a] - cents[c]) ** 2)))
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    lut = {a: find(a) for a in ids if find(a) != a}
    syn = {c: v.copy() for c, v in sub.synapses.items()}
    flat = seg.reshape(-1)  # a view: writes land in seg
    for a, b in lut.items():
        if a != b:  # b is a root, never relabelled itself, so the original voxels of a are all there is
            flat[where.index(a)] = b
            for col in ("pre_id", "post_id"):
                if col in syn:
                    syn[col][syn[col] == a] = b
    return replace(sub, segmentation=seg, synapses=syn)


def _drop(sub: Submission, level: float, rng):
    n = sub.n_synapses
    order = rng.permutation(n)
    keep = np.sort(order[int(round(level * n)):])
    return replace(sub, synapses={c: v[keep] for c, v in sub.synapses.items()})


def _add(sub: Submission, level: float, rng, origin, voxel):
    n_true = sub.n_synapses
    n_max = n_true  # draw the maximum so that lower levels are prefixes of higher ones
    seg = sub.segmentation
    ids = np.unique(seg[seg > 0])
    pairs = rng.integers(0, len(ids), size=(n_max, 2))
    u = rng.random((n_max, 2))
    k = int(round(level * n_true))
    if k == 0 or len(ids) < 2:
        return sub
    rows: dict[str, list] = {c: [] for c in sub.synapses}
    where = _Voxels(seg)
    for (a, b), (ua, ub) in zip(pairs[:k], u[:k]):
        if a == b:
            b = (b + 1) % len(ids)
        pa, pb = ids[a], ids[b]
        va, vb = where.of(pa), where.of(pb)
        pos_a = origin + (va[int(ua * len(va))] + 0.5) * voxel
        pos_b = origin + (vb[int(ub * len(vb))] + 0.5) * voxel
        row = {f"pre_{x}_nm": pos_a[i] for i, x in enumerate("zyx")}
        row.update({f"post_{x}_nm": pos_b[i] for i, x in enumerate("zyx")})
        row.update({"pre_id": pa, "post_id": pb, "sign": 1, "id": -1})
        for c in rows:
            if c in row:
                rows[c].append(row[c])
            elif c in ("conductance_nS", "psd_area_nm2", "n_AMPA", "n_NMDA", "n_GABA_A"):
                rows[c].append(np.median(sub.synapses[c]) if n_true else 0)
            else:
                rows[c].append(0)
    syn = {c: np.concatenate([v, np.asarray(rows[c], dtype=v.dtype)]) for c, v in sub.synapses.items()}
    if "id" in syn:
        syn["id"] = np.arange(len(syn["id"]), dtype=syn["id"].dtype)
    return replace(sub, synapses=syn)


def _weight_noise(sub: Submission, sigma: float, rng):
    z = rng.standard_normal(sub.n_synapses)
    syn = dict(sub.synapses)
    if "conductance_nS" in syn:
        syn["conductance_nS"] = syn["conductance_nS"] * np.exp(sigma * z)
    return replace(sub, synapses=syn)


def perturb(sub: Submission, levels: dict[str, float], *, origin_nm, voxel_nm, rng) -> Submission:
    """Apply the error classes in a fixed order (split, merge, drop, add, weight noise)."""
    rng = np.random.default_rng(rng)
    origin, voxel = np.asarray(origin_nm, float), np.asarray(voxel_nm, float)
    # one child generator per kind: a level of one kind never changes the draws of another
    g = {k: np.random.default_rng(s) for k, s in zip(KINDS, rng.bit_generator.seed_seq.spawn(len(KINDS)))}
    if levels.get("split"):
        sub = _split(sub, levels["split"], g["split"], origin, voxel)
    if levels.get("merge"):
        sub = _merge(sub, levels["merge"], g["merge"])
    if levels.get("drop_synapses"):
        sub = _drop(sub, levels["drop_synapses"], g["drop_synapses"])
    if levels.get("add_synapses"):
        sub = _add(sub, levels["add_synapses"], g["add_synapses"], origin, voxel)
    if levels.get("weight_noise"):
        sub = _weight_noise(sub, levels["weight_noise"], g["weight_noise"])
    tag = ",".join(f"{k}={v:g}" for k, v in levels.items())
    return replace(sub, method=f"{sub.method}+perturb({tag})")

"""Small analytic tissues with known answers, implementing ``scanners.tissue.TissueFunction``.

Spherical cells with membrane shells, synapses (cleft, vesicle cloud, receptor puncta with known
counts) and unique barcodes; and a tilted half-space (a single straight edge) for resolution.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

RECEPTORS = ("AMPA", "NMDA", "GABA_A")


def _axes(origin_nm, shape, voxel_nm):
    o = np.asarray(origin_nm, float)
    v = np.asarray(voxel_nm, float)
    return [o[d] + (np.arange(int(shape[d])) + 0.5) * v[d] for d in range(3)]


@dataclass
class Synapse:
    position_nm: tuple[float, float, float]
    receptor: str
    count: float  # receptors in the punctum
    radius_nm: float = 60.0


@dataclass
class SphereTissue:
    """Cells are spheres; voxel centres inside sphere i get label ``labels[i]`` (first wins)."""

    centers_nm: np.ndarray  # (n, 3)
    radii_nm: np.ndarray  # (n,)
    labels: np.ndarray  # (n,)
    barcodes: np.ndarray  # (n, n_proteins) 0/1
    synapses: list[Synapse] = field(default_factory=list)
    membrane_nm: float = 6.0
    origin_nm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size_nm: np.ndarray = field(default_factory=lambda: np.full(3, 4000.0))

    @property
    def n_barcode_proteins(self) -> int:
        return int(self.barcodes.shape[1])

    def __call__(self, origin_nm, shape, voxel_nm, fields):
        z, y, x = _axes(origin_nm, shape, voxel_nm)
        shape = tuple(int(s) for s in shape)
        vox = np.asarray(voxel_nm, float)
        w = float(np.mean(vox))  # voxel width for partial-volume membranes
        lab = np.zeros(shape, np.uint32)
        index = np.full(shape, -1, np.int32)
        mem = np.zeros(shape, np.float32)
        for i, (c, r) in enumerate(zip(self.centers_nm, self.radii_nm)):
            lo = [np.searchsorted(a, c[d] - r - w) for d, a in enumerate((z, y, x))]
            hi = [np.searchsorted(a, c[d] + r + w) for d, a in enumerate((z, y, x))]
            if any(h <= l for l, h in zip(lo, hi)):
                continue
            sl = tuple(slice(l, h) for l, h in zip(lo, hi))
            d = np.sqrt((z[sl[0], None, None] - c[0]) ** 2 + (y[None, sl[1], None] - c[1]) ** 2
                        + (x[None, None, sl[2]] - c[2]) ** 2) - r
            inside = (d < 0) & (index[sl] < 0)
            index[sl][inside] = i
            lab[sl][inside] = self.labels[i]
            t = self.membrane_nm
            frac = np.clip((t / 2 + w / 2 - np.abs(d + t / 2)) / w, 0, 1) * min(1.0, t / w)
            mem[sl] = np.maximum(mem[sl], frac.astype(np.float32))
        out = {}
        for f in fields:
            if f == "labels":
                out[f] = lab
            elif f == "membrane":
                out[f] = mem
            elif f in ("cleft", "psd", "vesicles") or f.startswith("receptor:"):
                out[f] = self._synapse_field(f, (z, y, x), vox, shape)
            elif f in ("mito", "nucleus", "organelle_membrane"):
                out[f] = np.zeros(shape, np.float32)  # no organelles in these cells
            elif f == "barcode":
                bc = np.zeros((self.n_barcode_proteins,) + shape, np.float32)
                inside = index >= 0
                bc[:, inside] = self.barcodes[index[inside]].T
                out[f] = bc
            else:
                raise KeyError(f"unknown tissue field {f!r}")
        return out

    def _synapse_field(self, name, axes, vox, shape):
        out = np.zeros(shape, np.float32)
        z, y, x = axes
        for s in self.synapses:
            p = np.asarray(s.position_nm, float)
            if name in ("cleft", "psd"):  # a dense disc: the post-synaptic density (and its cleft)
                r, value = s.radius_nm * 0.6, 1.0
            elif name == "vesicles":
                r, value, p = s.radius_nm, 0.7, p + np.array([0.0, 0.0, -s.radius_nm])
            else:
                if name != f"receptor:{s.receptor}":
                    continue
                r = s.radius_nm
                value = s.count * np.prod(vox) / (4 / 3 * np.pi * r ** 3)
            lo = [np.searchsorted(a, p[d] - r) for d, a in enumerate((z, y, x))]
            hi = [np.searchsorted(a, p[d] + r) for d, a in enumerate((z, y, x))]
            if any(h <= l for l, h in zip(lo, hi)):
                continue
            sl = tuple(slice(l, h) for l, h in zip(lo, hi))
            d2 = ((z[sl[0], None, None] - p[0]) ** 2 + (y[None, sl[1], None] - p[1]) ** 2
                  + (x[None, None, sl[2]] - p[2]) ** 2)
            out[sl] += np.where(d2 < r * r, np.float32(value), np.float32(0))
        return out


def random_cells(n_cells=10, n_proteins=8, size_nm=(1600.0, 3200.0, 3200.0), seed=0, with_synapses=True):
    """A block of non-overlapping spherical cells with unique barcodes and a few synapses."""
    rng = np.random.default_rng(seed)
    size = np.asarray(size_nm, float)
    centers, radii = [], []
    tries = 0
    while len(centers) < n_cells and tries < 10000:
        tries += 1
        r = rng.uniform(250, 550)
        c = rng.uniform(0, 1, 3) * size
        if all(np.linalg.norm(c - c2) > r + r2 + 40 for c2, r2 in zip(centers, radii)):
            centers.append(c)
            radii.append(r)
    n = len(centers)
    codes = set()
    barcodes = []
    while len(barcodes) < n:
        b = tuple(int(v) for v in rng.integers(0, 2, n_proteins))
        if sum(b) >= 2 and b not in codes:
            codes.add(b)
            barcodes.append(b)
    syn = []
    if with_synapses:
        for i in range(n):
            c, r = centers[i], radii[i]
            for j, rec in enumerate(RECEPTORS):
                d = rng.normal(size=3)
                d /= np.linalg.norm(d)
                syn.append(Synapse(tuple(c + d * (r - 80)), rec, float(rng.integers(20, 200))))
    return SphereTissue(np.array(centers), np.array(radii), np.arange(1, n + 1, dtype=np.uint32) * 7,
                        np.array(barcodes, np.float32), syn, size_nm=size)


@dataclass
class HalfSpaceTissue:
    """Label 1 where ``normal . p > offset_nm``: one straight, tilted edge; optional membrane 0."""

    normal: tuple[float, float, float] = (0.0, 0.08, 1.0)
    offset_nm: float = 0.0
    n_barcode_proteins: int = 2
    origin_nm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size_nm: np.ndarray = field(default_factory=lambda: np.full(3, 4000.0))

    def signed_distance(self, origin_nm, shape, voxel_nm):
        z, y, x = _axes(origin_nm, shape, voxel_nm)
        n = np.asarray(self.normal, float)
        n = n / np.linalg.norm(n)
        return z[:, None, None] * n[0] + y[None, :, None] * n[1] + x[None, None, :] * n[2] - self.offset_nm

    def __call__(self, origin_nm, shape, voxel_nm, fields):
        shape = tuple(int(s) for s in shape)
        inside = self.signed_distance(origin_nm, shape, voxel_nm) > 0
        out = {}
        for f in fields:
            if f == "labels":
                out[f] = inside.astype(np.uint32)
            elif f == "barcode":
                out[f] = np.broadcast_to(inside.astype(np.float32), (self.n_barcode_proteins,) + shape).copy()
            else:
                out[f] = np.zeros(shape, np.float32)
        return out


@dataclass
class UniformTissue:
    """Every voxel the same: label ``label`` (0 = extracellular), no membranes or synapses."""

    label: int = 1
    n_barcode_proteins: int = 2
    origin_nm: np.ndarray = field(default_factory=lambda: np.zeros(3))
    size_nm: np.ndarray = field(default_factory=lambda: np.full(3, 1e6))

    def __call__(self, origin_nm, shape, voxel_nm, fields):
        shape = tuple(int(s) for s in shape)
        out = {}
        for f in fields:
            if f == "labels":
                out[f] = np.full(shape, self.label, np.uint32)
            elif f == "barcode":
                out[f] = np.full((self.n_barcode_proteins,) + shape, float(self.label > 0), np.float32)
            else:
                out[f] = np.zeros(shape, np.float32)
        return out
"""Overrides that switch off everything but the physics a test looks at."""

CLEAN_EM = dict(texture_amplitude=0.0, cell_contrast=0.0, misalignment_step_nm=0.0, misalignment_jitter_nm=0.0,
                missing_section_rate=0.0, fold_rate=0.0, brightness_drift=0.0, charging_amplitude=0.0)
IDEAL_LABELLING = dict(expression_cv=0.0, barcode_dropout=0.0, labelling_fraction=1.0, receptor_detection_efficiency=1.0)
CLEAN_EXM = dict(distortion_rms_nm=0.0, jitter_nm=0.0, **IDEAL_LABELLING)
CLEAN_XRAY = dict(texture_amplitude=0.0, cell_contrast=0.0, ring_amplitude=0.0)
CLEAN = {"em": CLEAN_EM, "exm": CLEAN_EXM, "xray": CLEAN_XRAY}

"""Rasterize a stack of boxes of one shape and voxel size, each at a corner of its own, in one call.

An EM scanner images a chunk's ~30 sections one by one, each at its own misalignment shift: the
same box shape and voxel size, a different corner.  Rasterized box by box, the Python around the
compiled kernels (building the grid, the per-box prefilters, eight fields and their temporaries)
cost more than the kernels on ``cortex`` (1125 calls per EM render).  Here

    ``rasterize_sections(ph, corners, shape, voxel, fields)[f][q]``
    ``== rasterize(ph, corners[q], shape, voxel, fields)[f]``, bit for bit,

with, on dense tissue (``phantom.packing``): the nearest-surface fold and the organelles run as
one compiled loop over the stack (``raster_kernels.fold_sections``, ``organelle_fill_sections``:
the per-box kernels on each box's own centres, the objects picked by the per-box bounds test in the
same order, after one prefilter for the whole stack); the per-voxel steps after them
(``dense_depth``, the labels, the membrane shells) run once over the stack, being elementwise;
synapses and vesicles are rasterized box by box, only in the boxes they meet.  Any other tissue
or field: one :func:`phantoms.rasterize.rasterize` per box, stacked.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from . import organelle_fields as _of
from .packing_kernel import boxes_meeting
from .phantom import Phantom
from .raster_geometry import _SNAP, _Grid, _membrane, primitives
from .raster_synapses import _synaptic, _vesicles

STACK_FIELDS = ("labels", "membrane", "cleft", "psd", "vesicles", "mito", "nucleus", "organelle_membrane",
                "organelles")


class _Stack:
    """Voxel centres of K boxes of one shape and voxel size: ``centers[d]`` is (K, n_d), row ``q``
    exactly ``_Grid(corners[q], shape, voxel).centers[d]`` (the same elementwise formula)."""

    def __init__(self, corners: np.ndarray, shape, voxel_nm):
        g = _Grid(corners[0], shape, voxel_nm)  # checks shape and voxel
        self.corners, self.shape, self.voxel = corners, g.shape, g.voxel
        self.centers = [np.round((corners[:, k:k + 1] + (np.arange(self.shape[k]) + 0.5) * self.voxel[k]) * _SNAP)
                        / _SNAP for k in range(3)]
        self.lo = corners  # each box's bounds, as the per-box prefilters compute them
        self.hi = corners + np.asarray(self.shape) * self.voxel

    def __len__(self) -> int:
        return len(self.corners)

    def grid(self, q: int) -> _Grid:
        """Box ``q`` as a :class:`_Grid` (the same numbers as ``_Grid(corners[q], shape, voxel)``)."""
        g = object.__new__(_Grid)
        g.origin, g.shape, g.voxel = self.corners[q].copy(), self.shape, self.voxel.copy()
        g.centers = [np.ascontiguousarray(c[q]) for c in self.centers]
        return g


def rasterize_sections(phantom: Phantom, corners_nm, shape: Sequence[int], voxel_nm,
                       fields: Sequence[str] = ("labels",)) -> dict[str, np.ndarray]:
    """Rasterize K boxes of one ``shape`` and ``voxel_nm``, box ``q`` at corner ``corners_nm[q]``.

    Parameters
    ----------
    phantom : Phantom
    corners_nm : (K, 3) float
        Corner of each box's voxel (0, 0, 0), nm (as ``rasterize``'s ``origin_nm``); K >= 1.
    shape : (3,) int
    voxel_nm : float or (3,) float
    fields : sequence of str
        Any of ``phantoms.rasterize.FIELDS``.

    Returns
    -------
    dict
        Field name -> array of shape ``(K,) + shape`` (``barcode``: (K, N) + shape); entry ``q``
        is ``rasterize(phantom, corners_nm[q], shape, voxel_nm, fields)``'s, bit for bit.

    Raises
    ------
    ValueError
        No corners, or what ``rasterize`` raises (unknown field, bad shape or voxel).
    """
    from .rasterize import rasterize

    corners = np.ascontiguousarray(np.asarray(corners_nm, float).reshape(-1, 3))
    fields = tuple(fields)
    if not len(corners):
        raise ValueError("corners_nm: expected at least one (z, y, x) corner, got none")
    if not (phantom.packing and set(fields) <= set(STACK_FIELDS) and _organelles_float64(phantom)):
        per = [rasterize(phantom, c, shape, voxel_nm, fields) for c in corners]
        return {f: np.stack([p[f] for p in per]) for f in fields}
    st = _Stack(corners, shape, voxel_nm)
    need = set(fields)
    out: dict[str, np.ndarray] = {}
    if need & {"labels", "membrane"}:
        labels, depth = _dense_stack(phantom, st)
        out["labels"] = labels
        if "membrane" in need:
            out["membrane"] = _membrane(depth, st.grid(0), phantom.cfg.membrane_nm)
    if need & {"cleft", "psd"}:
        out.update(_synapses_stack(phantom, st, need))
    if "vesicles" in need:
        out["vesicles"] = _vesicles_stack(phantom, st)
    if need & set(_of.ORGANELLE_FIELDS):
        out.update(_organelles_stack(phantom, st, need))
    return {f: out[f] for f in fields}


def _organelles_float64(ph: Phantom) -> bool:
    a, b, r = _of._organelle_bounds(ph, 0.0)[:3]
    return not len(r) or a.dtype == b.dtype == r.dtype == np.float64


def _dense_stack(ph: Phantom, st: _Stack) -> tuple[np.ndarray, np.ndarray]:
    """``(labels, depth)`` of every box: ``rasterize._dense_cells`` (``nearest_surfaces``,
    ``dense_depth``, the labels) box by box in one compiled loop."""
    from .raster_kernels import dense_sections

    P = primitives(ph)
    fill, gap = float(ph.packing["fill_nm"]), float(ph.packing["gap_nm"])
    shape = (len(st),) + st.shape
    labels, depth = np.empty(shape, np.uint32), np.empty(shape, np.float32)
    hit = boxes_meeting(P.lo, P.hi, st.lo.min(axis=0), st.hi.max(axis=0))  # the stack's prefilter
    dense_sections(*(np.ascontiguousarray(c) for c in st.centers), st.lo, np.ascontiguousarray(st.hi),
                   *(np.ascontiguousarray(x[hit], np.float64) for x in (P.a, P.b, P.ra, P.rb)),
                   np.ascontiguousarray(P.cid[hit], np.uint32),
                   *(np.ascontiguousarray(x[hit], np.float64) for x in (P.lo, P.hi)),
                   float(max(P.reach, 1e-6)), fill, gap, float(P.reach), labels, depth)
    return labels, depth


def _meet_any(lo: np.ndarray, hi: np.ndarray, st: _Stack, windows: bool = False) -> np.ndarray:
    """(K,) bool: whether any box ``lo[i]``-``hi[i]`` meets box ``q`` of the stack (padded by the
    window's reach when ``windows``, as ``organelle_fields.meeting`` is)."""
    if not len(lo):
        return np.zeros(len(st), bool)
    from .raster_kernels import boxes_meet_any

    blo, bhi = _of.window_box(st.lo, st.hi, st.voxel, windows)
    return boxes_meet_any(np.ascontiguousarray(lo, np.float64), np.ascontiguousarray(hi, np.float64),
                          np.ascontiguousarray(blo), np.ascontiguousarray(bhi))


def _synapses_stack(ph: Phantom, st: _Stack, need: set) -> dict[str, np.ndarray]:
    """``cleft`` / ``psd``: ``_synaptic`` in each box some synapse or T-bar meets (zeros elsewhere,
    as ``_synaptic`` gives there)."""
    out = {f: np.zeros((len(st),) + st.shape, np.float32) for f in ("cleft", "psd") if f in need}
    if not len(ph.synapses):
        return out
    geo, T = _of.synapse_geometry(ph), _of.tbar_geometry(ph)
    meets = _meet_any(np.concatenate([geo.lo, T.lo]), np.concatenate([geo.hi, T.hi]), st, windows=True)
    for q in np.flatnonzero(meets):
        got = _synaptic(ph, st.grid(int(q)), tuple(need))
        for f, a in out.items():
            a[q] = got[f]
    return out


def _vesicles_stack(ph: Phantom, st: _Stack) -> np.ndarray:
    """``_vesicles`` in each box a vesicle meets (zeros elsewhere)."""
    out = np.zeros((len(st),) + st.shape, np.float32)
    V = _of.vesicle_geometry(ph)
    for q in np.flatnonzero(_meet_any(V.lo, V.hi, st)):
        out[q] = _vesicles(ph, st.grid(int(q)))
    return out


def _organelles_stack(ph: Phantom, st: _Stack, need: set) -> dict[str, np.ndarray]:
    """``organelle_fields`` over the stack: the compiled fill on each box, one call."""
    from .raster_kernels import organelle_fill_sections

    shape = (len(st),) + st.shape
    mito, nuc, ids = np.zeros(shape, np.float32), np.zeros(shape, np.float32), np.zeros(shape, np.uint32)
    want_mem = "organelle_membrane" in need
    depth = np.full(shape, -np.inf, np.float32) if want_mem else np.zeros((len(st), 0, 0, 0), np.float32)
    pad = (0.5 * float(np.max(st.voxel)) + 1.0) if want_mem else 0.0
    a, b, r, is_nuc, lo, hi = _of._organelle_bounds(ph, pad)
    if len(lo):
        organelle_fill_sections(mito, nuc, ids, depth, *(np.ascontiguousarray(c) for c in st.centers), st.lo,
                                st.voxel, st.lo, np.ascontiguousarray(st.hi), a, b, r, lo, hi, is_nuc)
    out = {"mito": mito, "nucleus": nuc, "organelles": ids}
    if want_mem:
        out["organelle_membrane"] = _membrane(depth, st.grid(0), ph.cfg.membrane_nm)
    return out

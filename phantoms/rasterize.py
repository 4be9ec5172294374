"""Rasterize any box of a phantom at any voxel size, identical whatever the chunking.

Shapes
------
A cell is the union of its soma sphere and one *round cone* per skeleton segment (radius
interpolated along the segment, spherical ends).  A point's membership is decided from its own
coordinates only: voxel centres come from the global lattice ``origin + (i + 0.5) * voxel``,
are snapped to 1/1024 nm (so that a chunk's and the whole box's centres are the same numbers),
and every per-voxel formula is elementwise (no reductions), so a voxel gets the same value in
any chunk.  Work is limited to each primitive's bounding box: cost scales with tissue, not box.

Fields (names and dtypes as in ``scanners/tissue.py``)
-------------------------------------------------------
``labels`` (uint32, 0 = extracellular), ``membrane`` (float32: fraction of the voxel, along the
surface normal, inside a ``membrane_nm`` shell under the surface), ``cleft`` (float32: 1 in the
synaptic cleft, the extracellular gap between the two membranes; labels there are 0), ``psd``
(float32: 1 in the post-synaptic density and the thin pre-synaptic density; thick on
glutamatergic Gray type I synapses, thin on GABAergic Gray type II; presynaptic T-bars where
``cfg.tbar``), ``vesicles`` (float32: 1 inside
vesicles; round on type I, flattened on type II), ``receptor:<type>`` (float32, receptors per
voxel: each synapse's count spread evenly over its PSD slab), ``barcode`` (float32, (N, z, y, x):
1 where the voxel's cell expresses protein n), ``mito`` / ``nucleus`` (float32: 1 inside a
mitochondrion / nucleus, :mod:`phantoms.organelles`), ``organelle_membrane`` (float32: fraction of
the voxel in the ``membrane_nm`` shell inside an organelle's surface), ``organelles`` (uint32
organelle instance id, 0 = none), ``semantic`` (uint8 class, ``SEMANTIC_CLASSES``), ``channel:<species>`` (float32, pS of tonic channel
conductance per voxel on the membrane shell; see ``phantoms/raster_channels.py``).
Extra, for checks: ``overlap`` (uint8: 1 where a voxel centre lies inside two different cells).

Synapse and vesicle work is limited per call to the synapses and vesicles whose bounding boxes
meet the box (a chunk tests only what it can contain).

Dense neuropil (``phantom.packing`` set, see docs/tissue.md)
------------------------------------------------------------
Each voxel goes to the cell whose *surface* is nearest: with ``s_c = min over c's round cones of
(d - r(t))`` (distance to the axis minus the local radius), ``s1 <= s2`` the two smallest values
of different cells, the voxel's depth is ``min(fill - s1, (s2 - s1 - gap) / 2)`` and it is labelled
with the nearest cell where the depth is positive: cells grow up to ``fill_nm`` beyond their
skeleton's radius and meet their neighbours across a ``gap_nm`` band of extracellular space (a
power-diagram-like partition; the band is ``gap_nm`` wide along the line joining two surfaces).
Still per voxel, from its own coordinates: chunked == whole.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .packing_kernel import boxes_meeting
from .phantom import Phantom
from .raster_channels import CHANNEL_FIELDS, channel_fields
# _Grid, primitives and cell_depth are imported from here by other modules and tests
from .raster_geometry import _cone_eval, _Grid, _membrane, _Primitives, cell_depth, primitives  # noqa: F401
from .raster_synapses import _synaptic, _vesicles

from . import organelle_fields as _of

FIELDS = ("labels", "membrane", "cleft", "psd", "vesicles", "receptor:AMPA", "receptor:NMDA",
          "receptor:GABA_A", "barcode", "overlap") + _of.ORGANELLE_FIELDS + ("semantic",) + CHANNEL_FIELDS
SEMANTIC_CLASSES = _of.SEMANTIC_CLASSES


def rasterize(phantom: Phantom, origin_nm: Sequence[float], shape: Sequence[int], voxel_nm,
              fields: Sequence[str] = ("labels",), *, cells: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Rasterize the box ``[origin, origin + shape * voxel)`` of ``phantom``.

    Parameters
    ----------
    phantom : Phantom
    origin_nm : (3,) float
        Corner of voxel (0, 0, 0); voxel ``i`` covers ``[origin + i * voxel, origin + (i+1) * voxel)``
        and takes its value at its centre.
    shape : (3,) int
    voxel_nm : float or (3,) float
    fields : sequence of str
        Any of ``FIELDS``.
    cells : sequence of int, optional
        Only these cells (for per-cell meshes); synapse fields ignore it.

    Returns
    -------
    dict
        Field name -> array of ``shape`` (``barcode``: (N,) + shape).
    """
    fields = tuple(fields)
    bad = [f for f in fields if f not in FIELDS]
    if bad:
        raise ValueError(f"fields: unknown field {bad[0]!r}; expected any of {', '.join(FIELDS)}")
    g = _Grid(origin_nm, shape, voxel_nm)
    out = _cell_fields(phantom, g, fields, cells)
    need = set(fields)
    if "semantic" in need:
        need |= {"labels", "cleft", "psd", "vesicles", "mito", "nucleus"}
        if "labels" not in out:
            out["labels"] = _cells(phantom, g, False, False, None)[0]
    if need & {"cleft", "psd"} or any(f.startswith("receptor:") for f in fields):
        out.update(_synaptic(phantom, g, tuple(need)))
    if "vesicles" in need:
        out["vesicles"] = _vesicles(phantom, g)
    if need & set(_of.ORGANELLE_FIELDS):
        out.update(_of.organelle_fields(phantom, g, need, _cone_eval, _membrane))
    if "semantic" in fields:
        out["semantic"] = _of.semantic(phantom, out)
    return {f: out[f] for f in fields}


def _cell_fields(phantom: Phantom, g: _Grid, fields: tuple[str, ...], cells) -> dict[str, np.ndarray]:
    """The fields the cells' own volumes decide: labels, overlap, membrane, barcode, channels."""
    out: dict[str, np.ndarray] = {}
    need_labels = any(f in fields for f in ("labels", "barcode", "overlap"))
    need_depth = "membrane" in fields
    if need_labels or need_depth:
        labels, overlap, depth = _cells(phantom, g, need_depth, "overlap" in fields, cells)
        if "labels" in fields:
            out["labels"] = labels
        if "overlap" in fields:
            out["overlap"] = overlap
        if need_depth:
            out["membrane"] = _membrane(depth, g, phantom.cfg.membrane_nm)
        if "barcode" in fields:
            out["barcode"] = _barcode(phantom, labels)
    if any(f in CHANNEL_FIELDS for f in fields):  # each cell's own membrane shell carries its channels
        out.update(channel_fields(phantom, _own_membrane(phantom, g), g.voxel, fields, cells))
        for f in fields:
            if f.startswith("channel:") and f not in out:
                out[f] = np.zeros(g.shape, np.float32)
    return out


def _own_membrane(ph: Phantom, g: _Grid):
    """``cid -> membrane field of cell cid alone`` in the box.  In dense tissue the search over
    every cell runs once for all cells (before: once per cell, the largest cost of an ExM chunk);
    each cell then adds only its own primitives, exactly as ``_cells(ph, g, True, False, [cid])``."""
    thickness = ph.cfg.membrane_nm
    if not ph.packing:
        return lambda c: _membrane(_cells(ph, g, True, False, [c])[2], g, thickness)
    P = primitives(ph)
    fill, gap = float(ph.packing["fill_nm"]), float(ph.packing["gap_nm"])
    s1, id1, s2, _ = nearest_surfaces(P, g)

    def one(c):
        other = np.where(id1 == np.uint32(c), s2, s1)
        return _membrane(dense_depth(nearest_surfaces(P, g, [c])[0], other, fill, gap, P.reach), g, thickness)
    return one


def _cells(ph: Phantom, g: _Grid, need_depth: bool, need_overlap: bool, cells):
    if ph.packing:
        return _dense_cells(ph, g, need_depth, need_overlap, cells)
    P = primitives(ph)
    labels = np.zeros(g.shape, np.uint32)
    overlap = np.zeros(g.shape, np.uint8) if need_overlap else None
    depth = np.full(g.shape, -np.inf, np.float32) if need_depth else None
    # membrane partial volume needs depth a little outside the surface too
    pad = (0.5 * float(np.max(g.voxel)) + 1.0) if need_depth else 0.0
    box_lo = g.origin - pad
    box_hi = g.origin + np.asarray(g.shape) * g.voxel + pad
    hit = boxes_meeting(P.lo, P.hi, box_lo, box_hi)
    if cells is not None:
        hit = hit[np.isin(P.cid[hit], np.asarray(list(cells), np.uint32))]
    for i in hit:
        sl = g.window(P.lo[i] - pad, P.hi[i] + pad)
        if sl is None:
            continue
        cid = P.cid[i]
        val = _cone_eval(g, sl, P.a[i], P.b[i], P.ra[i], P.rb[i], need_depth)
        inside = val > 0
        lab = labels[sl]
        if need_overlap:
            overlap[sl] |= (inside & (lab != 0) & (lab != cid)).astype(np.uint8)
        lab[inside] = cid
        if need_depth:
            np.maximum(depth[sl], val, out=depth[sl])
    return labels, overlap, depth


def nearest_surfaces(P: _Primitives, g: _Grid, only=None):
    """Per voxel: the smallest ``s = d - r`` of two different cells, ``(s1, id1, s2, id2)``.

    ``s`` is capped at the primitives' reach (``fill + gap``; id 0 there): beyond it a cell
    cannot claim a voxel.  Only primitives whose bounds meet the box are visited (per-chunk
    work follows what the chunk holds) and a voxel's result depends on its coordinates only.
    """
    from .packing_kernel import fold_nearest

    box_lo = g.origin
    box_hi = g.origin + np.asarray(g.shape) * g.voxel
    hit = boxes_meeting(P.lo, P.hi, box_lo, box_hi)
    if only is not None:  # these cells' primitives only
        hit = hit[np.isin(P.cid[hit], np.asarray(list(only), np.uint32))]
    return fold_nearest(g.centers, P.a[hit], P.b[hit], P.ra[hit], P.rb[hit], P.cid[hit], P.lo[hit], P.hi[hit],
                        max(P.reach, 1e-6))


def dense_depth(s1, s2, fill: float, gap: float, cap: float | None = None) -> np.ndarray:
    """Depth inside the nearest cell's label: ``min(fill - s1, (s2 - s1 - gap) / 2)`` (nm).

    Where no cell is within reach (``s1 >= cap``) the depth is ``-inf`` (deep extracellular space);
    where no second cell is, it is ``fill - s1``.
    """
    from .packing_kernel import dense_depth_kernel

    fast = dense_depth_kernel(s1, s2, fill, gap, cap)  # the same steps, compiled
    if fast is not None:
        return fast
    d = np.minimum(fill - s1, 0.5 * (s2 - s1 - gap))
    if cap is not None:
        d = np.where(s2 >= cap, fill - s1, d)  # no second cell within reach: only the fill bounds it
        d[s1 >= cap] = -np.inf
    return d.astype(np.float32)


def _dense_cells(ph: Phantom, g: _Grid, need_depth: bool, need_overlap: bool, cells):
    P = primitives(ph)
    fill, gap = float(ph.packing["fill_nm"]), float(ph.packing["gap_nm"])
    s1, id1, s2, id2 = nearest_surfaces(P, g)
    depth = dense_depth(s1, s2, fill, gap, P.reach)
    labels = np.where(depth > 0, id1, np.uint32(0)).astype(np.uint32)
    if cells is not None:
        want = np.isin(id1, np.asarray(list(cells), np.uint32))
        labels[~want] = 0
        if need_depth:  # the wanted cells' own depth field, continuous across their neighbours
            sc = nearest_surfaces(P, g, cells)[0]
            other = np.where(want, s2, s1)
            depth = dense_depth(sc, other, fill, gap, P.reach)
    overlap = ((s1 < 0) & (s2 < 0)).astype(np.uint8) if need_overlap else None
    return labels, overlap, (depth.astype(np.float32) if need_depth else None)


def _barcode(ph: Phantom, labels: np.ndarray) -> np.ndarray:
    n = ph.n_barcode_proteins
    ids = np.asarray(ph.all_cell_ids, np.int64)
    lut = np.zeros((n, int(ids.max()) + 1 if len(ids) else 1), np.float32)
    for c in ph.all_cell_ids:
        lut[:, c] = ph.barcodes[c]
    return lut[:, labels]



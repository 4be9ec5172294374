"""The rasterizer's compiled paths give the same bits as the plain numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest

from phantoms.rasterize import dense_depth


def _dense_depth_numpy(s1, s2, fill, gap, cap=None):
    """dense_depth as first written (numpy, float64 steps, one rounding to float32)."""
    d = np.minimum(fill - s1, 0.5 * (s2 - s1 - gap))
    if cap is not None:
        d = np.where(s2 >= cap, fill - s1, d)
        d[s1 >= cap] = -np.inf
    return d.astype(np.float32)


@pytest.mark.parametrize("cap", [None, 150.0])
def test_dense_depth_is_the_numpy_definition(cap):
    rng = np.random.default_rng(0)
    s1 = rng.uniform(-100, 200, (4, 9, 11))
    s2 = s1 + rng.uniform(0, 200, s1.shape)
    s2[0] = 150.0  # no second cell within reach
    s1[1, :3] = 150.0  # no cell within reach
    got = dense_depth(s1, s2, 100.0, 20.0, cap)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), _dense_depth_numpy(s1, s2, 100.0, 20.0, cap).view(np.uint32))


def test_boxes_meeting_is_the_numpy_prefilter():
    from phantoms.packing_kernel import boxes_meeting

    rng = np.random.default_rng(1)
    lo = rng.uniform(0, 1000, (500, 3))
    hi = lo + rng.uniform(0, 300, (500, 3))
    box_lo, box_hi = np.array([200.0, 300.0, 100.0]), np.array([260.0, 700.0, 900.0])
    want = np.flatnonzero(np.all(hi >= box_lo, axis=1) & np.all(lo <= box_hi, axis=1))
    assert np.array_equal(boxes_meeting(lo, hi, box_lo, box_hi), want)
    assert np.array_equal(boxes_meeting(lo, hi, box_lo, box_hi, 100, 300), want[(want >= 100) & (want < 300)])


def test_each_cell_has_one_run_of_primitives(tiny):
    from phantoms.raster_geometry import primitives

    P = primitives(tiny)
    for c in tiny.all_cell_ids:
        start, stop = P.cell_range(c)
        assert np.array_equal(np.flatnonzero(P.cid == c), np.arange(start, stop))


@pytest.mark.parametrize("voxel", [(40.0, 16.0, 16.0), (7.0, 5.0, 6.0)])
def test_compiled_vesicles_are_the_numpy_loop(tiny, voxel):
    from phantoms.raster_geometry import _Grid
    from phantoms import organelle_fields as of
    from phantoms.raster_synapses import _vesicles, _vesicles_numpy

    assert len(tiny.vesicles_nm)
    for c in tiny.vesicles_nm[:: max(1, len(tiny.vesicles_nm) // 5), :3]:  # boxes around some vesicles
        g = _Grid(c - 0.5 * np.array([30, 40, 50]) * np.array(voxel) + 0.3, (30, 40, 50), voxel)
        got = _vesicles(tiny, g)
        assert got.any()
        V = of.vesicle_geometry(tiny)
        want = _vesicles_numpy(tiny, g, V, of.meeting(V.lo, V.hi, g), np.zeros(g.shape, np.float32))
        assert np.array_equal(got, want)


@pytest.mark.parametrize("voxel", [(40.0, 16.0, 16.0), (7.0, 5.0, 6.0)])
def test_compiled_cell_depth_is_the_numpy_cone_fold(tiny, voxel):
    from phantoms.raster_geometry import _cell_depth_window, _cone_eval, _Grid, primitives

    P = primitives(tiny)
    rng = np.random.default_rng(2)
    for cid in tiny.all_cell_ids[:: max(1, len(tiny.all_cell_ids) // 6)]:
        rows = np.flatnonzero(P.cid == cid)
        centre = P.a[rng.choice(rows)]  # a window on the cell
        g = _Grid(centre - 0.5 * np.array([20, 30, 30]) * np.array(voxel) + 0.7, (20, 30, 30), voxel)
        sl = (slice(2, 18), slice(0, 30), slice(5, 29))
        want = np.full((16, 30, 24), -np.inf, np.float32)  # the numpy fold, cone by cone
        for j in rows:
            np.maximum(want, _cone_eval(g, sl, P.a[j], P.b[j], P.ra[j], P.rb[j], True), out=want)
        got = _cell_depth_window(tiny, g, sl, int(cid))
        assert np.isfinite(got).any()
        assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


def _fold_numpy(centers, a, b, ra, rb, cid, lo, hi, cap):
    """The nearest-surface fold as first written: each primitive over the voxels of its box, the
    same float64 steps as numpy arrays, the two smallest values of different cells kept."""
    zc, yc, xc = (np.asarray(c, np.float64) for c in centers)
    shape = (len(zc), len(yc), len(xc))
    s1, s2 = np.full(shape, cap), np.full(shape, cap)
    id1, id2 = np.zeros(shape, np.uint32), np.zeros(shape, np.uint32)
    for p in range(len(a)):
        box = ((zc >= lo[p, 0]) & (zc <= hi[p, 0]))[:, None, None] & \
              ((yc >= lo[p, 1]) & (yc <= hi[p, 1]))[None, :, None] & ((xc >= lo[p, 2]) & (xc <= hi[p, 2]))[None, None]
        d = b[p] - a[p]
        L2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
        inv = 1.0 / L2 if L2 > 0.0 else 0.0
        r0, dr = (ra[p], rb[p] - ra[p]) if L2 > 0.0 else (max(ra[p], rb[p]), 0.0)
        pz, py, px = (zc - a[p, 0])[:, None, None], (yc - a[p, 1])[None, :, None], (xc - a[p, 2])[None, None]
        t = np.clip((pz * d[0] + py * d[1] + px * d[2]) * inv, 0.0, 1.0)
        ez, ey, ex = pz - t * d[0], py - t * d[1], px - t * d[2]
        s = np.sqrt(ez * ez + ey * ey + ex * ex) - (r0 + t * dr)
        live = box & (s < cap)
        same = live & (id1 == cid[p])
        first = live & ~same & (s < s1)
        second = live & ~same & ~(s < s1) & (s < s2)
        s1[same & (s < s1)] = s[same & (s < s1)]
        s2[first], id2[first] = s1[first], id1[first]
        s1[first], id1[first] = s[first], cid[p]
        s2[second], id2[second] = s[second], cid[p]
    return s1, id1, s2, id2


@pytest.mark.parametrize("voxel", [(20.0, 16.0, 16.0), (7.0, 5.0, 6.0)])
def test_compiled_fold_is_the_numpy_fold(tiny, voxel):
    """The fold's row cuts (only where ``s < cap`` is possible) and its early ``s >= s2`` exit
    change no bit: every value of the dense tiny phantom's primitives on boxes through it."""
    from phantoms.packing_kernel import boxes_meeting, fold_nearest
    from phantoms.raster_geometry import _Grid, primitives

    P = primitives(tiny)
    assert tiny.packing and P.reach > 0
    rng = np.random.default_rng(3)
    o0, size = np.asarray(tiny.block_origin_nm, float), np.asarray(tiny.block_size_nm, float)
    for shape in [(2, 40, 44), (5, 23, 31), (1, 1, 9)]:
        g = _Grid(o0 + rng.uniform(0.1, 0.9, 3) * (size - np.array(shape) * voxel), shape, voxel)
        hit = boxes_meeting(P.lo, P.hi, g.origin, g.origin + np.asarray(g.shape) * g.voxel)
        args = (P.a[hit], P.b[hit], P.ra[hit], P.rb[hit], P.cid[hit], P.lo[hit], P.hi[hit], P.reach)
        uneven = [g.centers[0], g.centers[1], g.centers[2][0] + np.cumsum(rng.uniform(0.2, 3.0, shape[2])) * voxel[2]]
        for centers in (g.centers, uneven):  # the lattice, and an uneven x axis
            got, want = fold_nearest(centers, *args), _fold_numpy(centers, *args)
            assert (want[1] > 0).any()
            for x, y in zip(got, want):
                assert np.array_equal(x.view(np.uint8), y.view(np.uint8))


@pytest.mark.parametrize("voxel", [(40.0, 16.0, 16.0), (7.0, 5.0, 6.0)])
def test_compiled_organelles_are_the_numpy_loop(tiny, voxel):
    import dataclasses

    from phantoms import organelle_fields as of
    from phantoms.organelles import place_organelles
    from phantoms.raster_geometry import _cone_eval, _Grid, _membrane

    tiny = dataclasses.replace(tiny, organelles=place_organelles(tiny, np.random.default_rng(5)).arrays())
    O = of.organelles_of(tiny)
    assert len(O.mito_r) and len(O.nucleus_r)
    centres = np.concatenate([O.mito_a[:: max(1, len(O.mito_a) // 4)], O.nucleus_center[:1]])
    seen_membrane = False
    for c in centres:  # boxes around some mitochondria and a nucleus
        g = _Grid(c - 0.5 * np.array([12, 40, 50]) * np.array(voxel) + 0.3, (12, 40, 50), voxel)
        got = of.organelle_fields(tiny, g, of.ORGANELLE_FIELDS, _cone_eval, _membrane)
        a = np.concatenate([O.mito_a, O.nucleus_center])
        b = np.concatenate([O.mito_b, O.nucleus_center])
        r = np.concatenate([O.mito_r, O.nucleus_r])
        is_nuc = np.r_[np.zeros(len(O.mito_r), bool), np.ones(len(O.nucleus_r), bool)]
        pad = 0.5 * float(np.max(g.voxel)) + 1.0
        lo, hi = np.minimum(a, b) - r[:, None] - pad, np.maximum(a, b) + r[:, None] + pad
        want = [np.zeros(g.shape, np.float32), np.zeros(g.shape, np.float32), np.zeros(g.shape, np.uint32),
                np.full(g.shape, -np.inf, np.float32)]
        of._organelle_loop(g, of.meeting(lo, hi, g), (a, b, r, lo, hi, is_nuc), want, _cone_eval)
        assert want[2].any()
        for name, w in zip(("mito", "nucleus", "organelles"), want):
            assert np.array_equal(got[name], w)
        mem = _membrane(np.asfortranarray(want[3]), g, tiny.cfg.membrane_nm)  # not C-ordered: the numpy steps
        assert np.array_equal(got["organelle_membrane"].view(np.uint32), mem.view(np.uint32))
        seen_membrane = seen_membrane or bool(mem.any())
    assert seen_membrane


def test_compiled_membrane_is_the_numpy_shell():
    from phantoms.raster_geometry import _Grid, _membrane

    rng = np.random.default_rng(4)
    depth = rng.uniform(-30, 30, (3, 20, 21)).astype(np.float32)
    depth[0, :4] = -np.inf
    depth[1, 0, :5] = [-8.0, 8.0, 0.0, -0.0, 3.5]  # at -half, +half, zero and the thickness
    g = _Grid((0, 0, 0), depth.shape, (16.0, 16.0, 16.0))
    got, want = _membrane(depth, g, 3.5), _membrane(np.asfortranarray(depth), g, 3.5)
    assert 0 < np.count_nonzero(got) < got.size
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32))


@pytest.mark.parametrize("voxel", [(20.0, 16.0, 16.0), (7.0, 5.0, 6.0)])
@pytest.mark.parametrize("fields", [("cleft", "psd"), ("psd",), ("cleft",)])
def test_compiled_synapses_are_the_numpy_loop(tiny, voxel, fields):
    from phantoms import organelle_fields as of
    from phantoms.raster_geometry import _Grid
    from phantoms.raster_synapses import _synapse_runs, _synapses_numpy, _synaptic

    S = tiny.synapses
    runs = _synapse_runs(tiny)
    assert (runs[:, 0] >= 0).all() and (runs[:, 2] >= 0).all()  # every synapse takes the compiled loop
    assert not len(of.tbar_geometry(tiny).lo)  # no T-bars (mammalian): the densities are the synapses' alone
    geo = of.synapse_geometry(tiny)
    seen = {f: False for f in fields}
    for p in S.post_nm[:: max(1, len(S) // 6)]:  # boxes through some synapses
        g = _Grid(p - 0.5 * np.array([4, 30, 34]) * np.array(voxel) + 0.3, (4, 30, 34), voxel)
        got = _synaptic(tiny, g, fields)
        want = {f: np.zeros(g.shape, np.float32) for f in fields}
        _synapses_numpy(tiny, g, of.meeting(geo.lo, geo.hi, g), want, [])
        for f in fields:
            assert np.array_equal(got[f], want[f])
            seen[f] = seen[f] or bool(want[f].any())
    assert all(seen.values())


def test_a_stack_of_sections_is_each_box_rasterized_alone(tiny, tiny_sparse):
    """``rasterize_sections`` (EM's stack of sections, each at its own shift; the compiled fold and
    organelles over the stack, synapses and vesicles only where they meet a box) gives every box
    the bits of its own ``rasterize`` call; and so does its box-by-box path (sparse tissue, other
    fields)."""
    import dataclasses

    from phantoms.organelles import place_organelles
    from phantoms.raster_sections import STACK_FIELDS, rasterize_sections
    from phantoms.rasterize import rasterize

    dense = dataclasses.replace(tiny, organelles=place_organelles(tiny, np.random.default_rng(5)).arrays())
    rng = np.random.default_rng(11)
    shape, voxel = (2, 26, 30), np.array([10.0, 16.0, 16.0])
    centre = np.asarray(dense.synapses.post_nm[0], float)  # a synapse, its vesicles and cells in view
    corners = centre - 0.5 * np.array(shape) * voxel + np.c_[np.arange(6) * 40.0 - 100.0,
                                                              rng.uniform(-40, 40, (6, 2))]
    seen = set()
    for ph, fields in [(dense, STACK_FIELDS), (dense, ("labels", "semantic")), (tiny_sparse, ("labels", "membrane"))]:
        got = rasterize_sections(ph, corners, shape, voxel, fields)
        for q, c in enumerate(corners):
            want = rasterize(ph, c, shape, voxel, fields)
            for f in fields:
                assert got[f].shape == (len(corners),) + shape and got[f].dtype == want[f].dtype
                assert np.array_equal(got[f][q].view(np.uint8), want[f].view(np.uint8)), (f, q)
                if want[f].any():
                    seen.add(f)
    assert seen >= set(STACK_FIELDS) - {"nucleus"}  # every kind of object was drawn somewhere
    with pytest.raises(ValueError, match="corners_nm"):
        rasterize_sections(dense, np.zeros((0, 3)), shape, voxel)

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

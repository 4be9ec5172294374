"""A box rasterized in 1-voxel slabs gives the slabs of the whole box, bit for bit, for every field.

Objects are prefiltered per box (synapses, T-bars, vesicles, organelles, the cells' cones); a
prefilter that skips an object able to paint a voxel of the box makes the result depend on where
the box's edges fall.  Slabs one voxel thick put an edge next to every voxel.  Before the fix,
synapses whose window reaches a slab although their ``[lo, hi]`` box does not (40 nm voxels of
tiny seed 0: psd rows lost) and, in sparse tissue, clefts decided by a cell cone the window's
prefilter skipped, differed here.
"""

import dataclasses

import numpy as np
import pytest

import phantoms
from phantoms.organelles import place_organelles
from phantoms.raster_sections import STACK_FIELDS, rasterize_sections
from phantoms.rasterize import FIELDS

# each must be drawn somewhere in the box, so that the comparison is not of empty fields
DRAWN = ("labels", "membrane", "cleft", "psd", "vesicles", "receptor:AMPA", "semantic")
ORGANELLE_DRAWN = ("mito", "nucleus", "organelle_membrane", "organelles")


@pytest.fixture(scope="module")
def dense(tiny):
    """Dense tiny with organelles and T-bars (``cfg.tbar``) on its release sites."""
    return dataclasses.replace(tiny, organelles=place_organelles(tiny, np.random.default_rng(5)).arrays(),
                               cfg=dataclasses.replace(tiny.cfg, tbar=True))


def _crowded_box(ph, voxel, shape, offset):
    """Origin of a box of ``shape`` centred on the synapse with the most others within 500 nm."""
    post = ph.synapses.post_nm
    near = [int(np.sum(np.all(np.abs(post - p) < 500.0, axis=1))) for p in post]
    return post[int(np.argmax(near))] - np.asarray(shape) * voxel / 2 + offset


def _slabs_equal_whole(ph, origin, shape, voxel):
    whole = phantoms.rasterize(ph, origin, shape, voxel, FIELDS)
    bad = []
    for ax in range(3):
        for i in range(shape[ax]):
            o = origin.copy()
            o[ax] += i * voxel[ax]
            size = list(shape)
            size[ax] = 1
            got = phantoms.rasterize(ph, o, size, voxel, FIELDS)
            for f, v in got.items():
                sl = [slice(None)] * v.ndim
                sl[v.ndim - 3 + ax] = slice(i, i + 1)
                if not np.array_equal(v, whole[f][tuple(sl)]):
                    bad.append((f, ax, i))
    # the stacked-sections path (EM): the z slabs as one stack of boxes
    stacked = tuple(f for f in FIELDS if f in STACK_FIELDS)
    corners = origin + np.outer(np.arange(shape[0]), [voxel[0], 0.0, 0.0])
    st = rasterize_sections(ph, corners, (1,) + tuple(shape[1:]), voxel, stacked)
    bad += [(f, "sections") for f in stacked if not np.array_equal(st[f][:, 0], whole[f])]
    return whole, bad


@pytest.mark.parametrize("voxel, shape, offset", [((40.0, 40.0, 40.0), (24, 24, 24), 3.3),
                                                  ((60.0, 20.0, 20.0), (16, 40, 40), 7.1)])
@pytest.mark.parametrize("tissue", ["dense", "sparse"])
def test_slabs_equal_the_whole_box(dense, tiny_sparse, tissue, voxel, shape, offset):
    ph = dense if tissue == "dense" else tiny_sparse
    voxel = np.asarray(voxel)
    whole, bad = _slabs_equal_whole(ph, _crowded_box(ph, voxel, shape, offset), shape, voxel)
    for f in DRAWN + (ORGANELLE_DRAWN if tissue == "dense" else ()):
        assert whole[f].any(), f
    assert not bad, bad[:10]

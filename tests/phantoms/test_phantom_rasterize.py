import numpy as np
import pytest

import phantoms
from phantoms.rasterize import cell_depth

ALL = ("labels", "membrane", "cleft", "vesicles", "receptor:AMPA", "receptor:NMDA", "receptor:GABA_A",
       "barcode", "overlap")


@pytest.mark.parametrize("r, L, axis", [(100.0, 2000.0, (0, 0, 1)), (57.3, 1500.0, (1, 0, 0)),
                                        (80.0, 1000.0, (0.3, 0.5, 0.8))])
def test_cylinder_volume_is_pi_r2_L(r, L, axis):
    ph = phantoms.cylinder_phantom(r, L, axis=axis)
    shape = np.ceil(ph.block_size_nm / 10.0).astype(int)
    labels = phantoms.rasterize(ph, (0, 0, 0), shape, 10.0)["labels"]
    expected = np.pi * r * r * L
    if sum(abs(a) > 0 for a in axis) > 1:  # a tilted capsule lies whole inside its block
        expected += 4.0 / 3.0 * np.pi * r ** 3
    assert np.count_nonzero(labels) * 1000.0 == pytest.approx(expected, rel=0.02)
    assert set(np.unique(labels)) == {0, 1}


def test_cylinder_membrane_shell_volume():
    r, L = 120.0, 800.0
    ph = phantoms.cylinder_phantom(r, L)
    t = ph.cfg.membrane_nm
    shape = np.ceil(ph.block_size_nm / 2.0).astype(int)
    mem = phantoms.rasterize(ph, (0, 0, 0), shape, 2.0, ("membrane",))["membrane"]
    assert mem.min() >= 0 and mem.max() <= 1
    assert mem.sum() * 8.0 == pytest.approx(np.pi * (r * r - (r - t) ** 2) * L, rel=0.05)


def test_sparse_tiny_at_10nm_no_voxel_shared_by_two_cells(tiny_sparse):
    tiny = tiny_sparse
    shape = np.round(tiny.block_size_nm / 10.0).astype(int)
    out = phantoms.rasterize(tiny, tiny.block_origin_nm, shape, 10.0, ("labels", "overlap"))
    assert out["overlap"].sum() == 0
    present = set(np.unique(out["labels"])) - {0}
    assert present == set(tiny.cell_ids)
    # each label is where that cell's geometry says it is (spot check of 2000 voxels)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, shape, size=(2000, 3))
    centres = tiny.block_origin_nm + (idx + 0.5) * 10.0
    lab = out["labels"][tuple(idx.T)]
    for cid in tiny.cell_ids:
        inside = cell_depth(tiny, cid, centres) > 0
        assert np.array_equal(inside, lab == cid)


def test_dense_labels_hold_every_skeleton_and_nothing_else(tiny):
    """Dense labels contain each cell's round cones (its SWC geometry) and follow the packing rule."""
    origin, shape = np.array([500.0, 1800.0, 1800.0]), (100, 120, 120)
    out = phantoms.rasterize(tiny, origin, shape, 10.0, ("labels", "overlap"))
    lab = out["labels"]
    assert out["overlap"].sum() == 0
    assert set(np.unique(lab)) - {0} <= set(tiny.all_cell_ids)
    rng = np.random.default_rng(0)
    idx = rng.integers(0, shape, size=(1500, 3))
    centres = origin + (idx + 0.5) * 10.0
    got = lab[tuple(idx.T)]
    present = [c for c in np.unique(lab) if c]
    depth = np.stack([cell_depth(tiny, c, centres) for c in present])  # (cells, points): r - d
    inside = depth.max(axis=0) > 0
    assert np.array_equal(got[inside], np.asarray(present)[depth.argmax(axis=0)][inside])
    # every labelled voxel lies within the fill of its cell's skeleton surface
    own = depth[[present.index(c) if c else 0 for c in got], np.arange(len(got))]
    assert np.all(-own[got > 0] <= tiny.packing["fill_nm"] + 1e-3)


@pytest.mark.parametrize("voxel, chunk", [(16.0, 64), ((12.5, 9.0, 11.3), 37)])
def test_chunked_equals_whole(tiny, voxel, chunk):
    voxel = np.broadcast_to(np.asarray(voxel, float), (3,))
    origin = np.array([300.3, 1100.0, 1650.7])
    shape = np.array([80, 150, 140])
    whole = phantoms.rasterize(tiny, origin, shape, voxel, ALL)
    assert whole["labels"].any() and whole["membrane"].any()
    parts = {f: np.zeros_like(v) for f, v in whole.items()}
    for z in range(0, shape[0], chunk):
        for y in range(0, shape[1], chunk):
            for x in range(0, shape[2], chunk):
                start = np.array([z, y, x])
                size = np.minimum(chunk, shape - start)
                got = phantoms.rasterize(tiny, origin + start * voxel, size, voxel, ALL)
                sl = tuple(slice(s, s + n) for s, n in zip(start, size))
                for f, v in got.items():
                    if f == "barcode":
                        parts[f][(slice(None),) + sl] = v
                    else:
                        parts[f][sl] = v
    for f in whole:
        assert np.array_equal(parts[f], whole[f]), f


def test_field_dtypes_and_consistency(tiny):
    shape = (40, 120, 120)
    origin = (600.0, 1500.0, 1500.0)
    out = phantoms.rasterize(tiny, origin, shape, 16.0, ALL)
    assert out["labels"].dtype == np.uint32 and out["labels"].shape == shape
    for f in ("membrane", "cleft", "vesicles", "receptor:AMPA", "receptor:GABA_A", "barcode"):
        assert out[f].dtype == np.float32
    assert out["barcode"].shape == (tiny.cfg.barcode_proteins,) + shape
    for cid in np.unique(out["labels"]):
        mask = out["labels"] == cid
        expect = np.zeros(tiny.cfg.barcode_proteins) if cid == 0 else tiny.barcodes[int(cid)]
        assert np.array_equal(out["barcode"][:, mask].mean(axis=1), expect)
    # the membrane lies at cell boundaries, not deep inside or far outside
    assert out["membrane"][out["labels"] == 0].max() <= 1.0
    assert out["membrane"].sum() < 0.5 * np.count_nonzero(out["labels"])


def test_receptor_fields_hold_each_synapse_count(tiny):
    S = tiny.synapses
    for i in range(3):
        post = S.post_nm[i]
        kind = "AMPA" if S["n_AMPA"][i] else "GABA_A"
        voxel = 4.0
        origin = post - 150.0
        out = phantoms.rasterize(tiny, origin, (75, 75, 75), voxel, (f"receptor:{kind}", "cleft", "vesicles"))
        near = (np.linalg.norm(S.post_nm - post, axis=1) < 400) & (S[f"n_{kind}"] > 0)
        if near.sum() == 1:  # only this synapse in the box
            assert out[f"receptor:{kind}"].sum() == pytest.approx(S[f"n_{kind}"][i], rel=0.1)
        assert out["cleft"].sum() > 0 and out["vesicles"].sum() > 0


def test_receptor_count_is_kept_on_a_coarse_anisotropic_grid(tiny):
    # the ExM grid (60 x 20 x 20 nm) samples a 40 nm receptor slab with 0-2 voxel layers; spread
    # by the slab's volume, single synapses held 0.46-2.2x their count there (tiny seed 1)
    S = tiny.synapses
    voxel = np.array([60.0, 20.0, 20.0])
    kinds = ("AMPA", "GABA_A")
    checked = 0
    for i in range(len(S)):
        post = S.post_nm[i]
        if (np.linalg.norm(S.post_nm - post, axis=1) < 700).sum() > 1:
            continue  # another synapse could fall in the box
        origin = np.floor((post - 300.0) / voxel) * voxel + 0.37 * voxel  # off any round lattice
        shape = (11, 31, 31)
        out = phantoms.rasterize(tiny, origin, shape, voxel, tuple(f"receptor:{k}" for k in kinds))
        for k in kinds:
            assert out[f"receptor:{k}"].sum() == pytest.approx(S[f"n_{k}"][i], abs=1e-3)
        # a chunk of that box holds the whole box's voxels exactly
        half = phantoms.rasterize(tiny, origin, (5, 31, 31), voxel, ("receptor:AMPA",))["receptor:AMPA"]
        assert np.array_equal(half, out["receptor:AMPA"][:5])
        checked += 1
        if checked == 8:
            break
    assert checked >= 4


def test_unknown_field_is_an_error(tiny):
    with pytest.raises(ValueError, match="fields"):
        phantoms.rasterize(tiny, (0, 0, 0), (2, 2, 2), 10.0, ("labels", "colour"))


def test_tissue_function_matches_the_protocol(tiny):
    tissue = phantoms.tissue_function(tiny)
    assert np.array_equal(tissue.origin_nm, tiny.block_origin_nm)
    assert np.array_equal(tissue.size_nm, tiny.block_size_nm)
    assert tissue.n_barcode_proteins == tiny.cfg.barcode_proteins
    a = tissue((500.0, 2000.0, 2000.0), (16, 32, 32), (16.0, 16.0, 16.0), ["labels", "membrane"])
    b = phantoms.rasterize(tiny, (500.0, 2000.0, 2000.0), (16, 32, 32), 16.0, ("labels", "membrane"))
    assert all(np.array_equal(a[f], b[f]) for f in b)


def test_pickle_leaves_out_the_lazy_caches_and_rasterizes_the_same(tiny):
    """A pickled phantom carries its fields, not the caches rasterizing threads add while a
    scheduler may be pickling it (the cause of a stalled dask.distributed run)."""
    import pickle

    box = dict(origin_nm=(0.0, 0.0, 0.0), shape=(4, 24, 24), voxel_nm=(40.0, 20.0, 20.0))
    before = phantoms.rasterize(tiny, fields=("labels", "semantic"), **box)
    assert any(k.startswith("_") for k in tiny.__dict__)  # the caches exist now
    copy = pickle.loads(pickle.dumps(tiny))
    assert not any(k.startswith("_") for k in copy.__dict__)
    after = phantoms.rasterize(copy, fields=("labels", "semantic"), **box)
    for f in before:
        np.testing.assert_array_equal(before[f], after[f])

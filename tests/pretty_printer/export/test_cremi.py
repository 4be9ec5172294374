"""CREMI HDF5 export: layout, dtypes, attributes and round trip as CREMI tooling reads it."""

import h5py
import numpy as np
import pytest

from pretty_printer.export.cremi import CREMI_BACKGROUND, export_cremi
from pretty_printer.errors import ConfigError


def _data(seed=0):
    rng = np.random.default_rng(seed)
    raw = rng.integers(0, 256, (6, 10, 12)).astype(np.uint8)
    ids = rng.integers(0, 5, raw.shape).astype(np.uint32)
    clefts = np.zeros(raw.shape, np.uint16)
    clefts[2, 3:5, 4:8] = 7
    pre = rng.uniform(0, 400, (4, 3)) + 1000
    post = pre + 30.0
    return raw, ids, clefts, {"pre_nm": pre, "post_nm": post}


def test_layout_and_round_trip(tmp_path):
    raw, ids, clefts, syn = _data()
    voxel, offset = (40.0, 4.0, 4.0), (1000.0, 2000.0, 3000.0)
    path = export_cremi(tmp_path / "s.hdf", raw, voxel, ids, clefts, syn, offset_nm=offset)
    # CREMI's offset is the first voxel's centre; ours (offset_nm) is its corner
    cremi_offset = np.asarray(offset) + 0.5 * np.asarray(voxel)
    offset = cremi_offset
    with h5py.File(path, "r") as f:
        assert f.attrs["file_format"] == "0.2"
        for name in ("volumes/raw", "volumes/labels/neuron_ids", "volumes/labels/clefts"):
            np.testing.assert_array_equal(f[name].attrs["resolution"], voxel)
            np.testing.assert_array_equal(f[name].attrs["offset"], offset)
        assert f["volumes/raw"].dtype == np.uint8
        np.testing.assert_array_equal(f["volumes/raw"][:], raw)
        got_ids = f["volumes/labels/neuron_ids"][:]
        assert got_ids.dtype == np.uint64
        # Extracellular (0) becomes CREMI's background; other ids are kept.
        np.testing.assert_array_equal(got_ids == CREMI_BACKGROUND, ids == 0)
        np.testing.assert_array_equal(got_ids[ids > 0], ids[ids > 0])
        got_clefts = f["volumes/labels/clefts"][:]
        assert set(np.unique(got_clefts)) == {7, int(CREMI_BACKGROUND)}

        ann = f["annotations"]
        np.testing.assert_array_equal(ann.attrs["offset"], offset)
        ids_a = ann["ids"][:]
        types = [t.decode() if isinstance(t, bytes) else t for t in ann["types"][:]]
        locs = ann["locations"][:]
        partners = ann["presynaptic_site/partners"][:]
        assert ids_a.dtype == np.uint64 and partners.dtype == np.uint64
        assert len(set(ids_a.tolist())) == 8
        by_id = {int(i): (t, loc) for i, t, loc in zip(ids_a, types, locs)}
        # Every partner row links a presynaptic to a postsynaptic site at the right place
        # (locations are relative to the offset, as CREMI reads them).
        for k, (a, b) in enumerate(partners):
            assert by_id[int(a)][0] == "presynaptic_site" and by_id[int(b)][0] == "postsynaptic_site"
            np.testing.assert_allclose(by_id[int(a)][1] + offset, syn["pre_nm"][k])
            np.testing.assert_allclose(by_id[int(b)][1] + offset, syn["post_nm"][k])


def test_optional_parts_and_rescaled_raw(tmp_path):
    raw = np.linspace(-1.0, 3.0, 2 * 3 * 4).reshape(2, 3, 4).astype(np.float32)
    path = export_cremi(tmp_path / "r.hdf", raw, (8, 8, 8))
    with h5py.File(path, "r") as f:
        assert set(f) == {"volumes"} and set(f["volumes"]) == {"raw"}
        r = f["volumes/raw"][:]
        assert r.dtype == np.uint8 and r.min() == 0 and r.max() == 255
        assert np.all(np.diff(r.ravel().astype(int)) >= 0)  # monotone rescale
        assert "rescaled" in f["volumes/raw"].attrs["comment"]


def test_cleft_field_is_labelled_by_components(tmp_path):
    raw = np.zeros((3, 8, 8), np.uint8)
    field = np.zeros(raw.shape, np.float32)
    field[1, 1:3, 1:3] = 0.9
    field[1, 5:7, 5:7] = 0.6
    field[0, 0, 7] = 0.2  # below half: no cleft
    path = export_cremi(tmp_path / "c.hdf", raw, (8, 8, 8), clefts=field)
    with h5py.File(path, "r") as f:
        c = f["volumes/labels/clefts"][:]
    labels = set(np.unique(c).tolist()) - {int(CREMI_BACKGROUND)}
    assert len(labels) == 2 and c[0, 0, 7] == CREMI_BACKGROUND


def test_validation_errors(tmp_path):
    raw, ids, _, syn = _data()
    with pytest.raises(ConfigError, match="neuron_ids.*shape"):
        export_cremi(tmp_path / "a.hdf", raw, (4, 4, 4), neuron_ids=ids[:-1])
    with pytest.raises(ConfigError, match="voxel_nm"):
        export_cremi(tmp_path / "a.hdf", raw, (4, 4))
    with pytest.raises(ConfigError, match="pre_nm"):
        export_cremi(tmp_path / "a.hdf", raw, (4, 4, 4), synapses={"pre": syn["pre_nm"]})
    with pytest.raises(ConfigError, match="raw"):
        export_cremi(tmp_path / "a.hdf", raw[0], (4, 4, 4))


def test_cremi_lookup_finds_our_voxel(tmp_path):
    """CREMI's Volume[location] reads voxel round(location / resolution) relative to its offset;
    with the offset written, that is the voxel our floor((p - origin) / voxel) names, for any p."""
    raw, ids, _, _ = _data(3)
    voxel, origin = np.array([40.0, 4.0, 4.0]), np.array([1000.0, 2000.0, 3000.0])
    rng = np.random.default_rng(0)
    pts = origin + rng.uniform(0, 1, (200, 3)) * np.array(raw.shape) * voxel
    path = export_cremi(tmp_path / "s.hdf", raw, voxel, ids, None, {"pre_nm": pts, "post_nm": pts}, offset_nm=origin)
    with h5py.File(path, "r") as f:
        vol = f["volumes/labels/neuron_ids"][:]
        off = f["volumes/labels/neuron_ids"].attrs["offset"]
        locs = f["annotations/locations"][:200] + f["annotations"].attrs["offset"] - off
    cremi_idx = np.round(locs / voxel).astype(int)  # cremi.Volume.__getitem__
    ours = np.floor((pts - origin) / voxel).astype(int)
    frac = (pts - origin) / voxel - ours
    ok = np.all((frac > 1e-9) & (frac < 1 - 1e-9), axis=1)  # not exactly on a voxel face
    np.testing.assert_array_equal(cremi_idx[ok], ours[ok])
    np.testing.assert_array_equal(vol[tuple(cremi_idx[ok].T)], np.where(ids == 0, CREMI_BACKGROUND, ids)[tuple(ours[ok].T)])

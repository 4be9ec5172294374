"""X-ray tomography: FBP fidelity, photon noise on projections, rings and limited angles."""

import numpy as np
import pytest

import scanners
from scanner_tissues import CLEAN_XRAY
from scanners.noise import as_seed_sequence, seed_int
from scanners.psf import blur, sigma_vox
from scanners.stain import STAIN_FIELDS, stain_density
from scanners.tomo import ParallelBeam

REGION = dict(region_origin_nm=(200.0, 0.0, 0.0), region_size_nm=(320.0, 2400.0, 2400.0))


def truth_delta(s, tissue, seed):
    origin = np.asarray(REGION["region_origin_nm"])
    shape = s.grid_shape(REGION["region_size_nm"])
    f = tissue(origin, shape, s.voxel_nm, STAIN_FIELDS)
    axes = tuple(origin[d] + (np.arange(n) + 0.5) * s.voxel_nm[d] for d, n in enumerate(shape))
    d = stain_density(f, s.config.stain, axes, seed_int(as_seed_sequence(seed), "stain"))
    return blur(d, sigma_vox([s.config.resolution_nm] * 3, s.voxel_nm)) * s.config.delta_per_stain * 1e6


@pytest.mark.parametrize("preset", ["xnh", "exm_xray"])
def test_fbp_of_noiseless_phantom_matches_truth(preset, cells):
    s = scanners.make_scanner({"preset": preset, "noise": False, **CLEAN_XRAY})
    img = s.render_volume(cells, seed=0, **REGION)[0]
    truth = truth_delta(s, cells, 0)
    r = np.corrcoef(img.ravel(), truth.ravel())[0, 1]
    assert r >= 0.9, r


def test_projection_counts_are_poisson():
    from scanner_tissues import UniformTissue

    s = scanners.make_scanner({"preset": "xnh", **CLEAN_XRAY, "photons_per_pixel": 500.0})
    p = s.projections(UniformTissue(label=1), (0, 0, 0), (640, 1600, 1600), seed=3)
    flat = p["counts"][:, :, :6]  # detector pixels beside the sample: the open beam
    expected = p["photons_per_pixel"] * p["intensity"][:, :, :6]
    assert abs(flat.mean() / expected.mean() - 1) < 0.02
    assert abs(flat.var() / flat.mean() - 1) < 0.10


def test_rings_and_limited_angles(cells):
    s = scanners.make_scanner({"preset": "xnh", "ring_amplitude": 0.02, "angle_range_deg": 120.0, "n_angles": 90})
    t = s.artifact_truth(seed=1, **REGION)
    assert t["angles_deg"].max() < 120.0 and t["angles_deg"].size == 90
    assert abs(t["ring_gain"].std() - 0.02) < 0.005
    clean = scanners.make_scanner({"preset": "xnh", "noise": False, **CLEAN_XRAY})
    ringed = scanners.make_scanner({"preset": "xnh", "noise": False, **CLEAN_XRAY, "ring_amplitude": 0.05})
    a = clean.render_volume(cells, seed=1, **REGION)[0]
    b = ringed.render_volume(cells, seed=1, **REGION)[0]
    # a ring is a circle about the rotation axis: its error is larger in the radial profile
    diff = b - a
    yy, xx = np.indices(diff.shape[1:]) - (np.array(diff.shape[1:])[:, None, None] - 1) / 2
    radius = np.hypot(yy, xx).round().astype(int)
    with np.errstate(invalid="ignore"):
        radial = np.bincount(radius.ravel(), np.abs(diff).mean(0).ravel()) / np.bincount(radius.ravel())
    assert diff.std() > 0 and np.nanmax(radial[: radius.max() // 2]) > 2 * np.nanmedian(radial)


def test_projector_is_the_transpose_of_backprojector():
    rng = np.random.default_rng(0)
    g = ParallelBeam(20, 20, np.linspace(0, 180, 30, endpoint=False))
    x = rng.random((2, 20, 20)).astype(np.float32)
    y = rng.random((2, 30, g.n_u)).astype(np.float32)
    assert np.isclose((g.project(x) * y).sum(), (x * g.backproject(y)).sum(), rtol=1e-4)


def test_stain_density_in_row_groups_is_the_same_image(cells, monkeypatch):
    import scanners.xray as xray

    s = scanners.make_scanner({"preset": "xnh"})
    whole = s.render_volume(cells, seed=2, **REGION)
    rows = int(np.prod(s.grid_shape(REGION["region_size_nm"])[1:]))
    monkeypatch.setattr(xray, "STAIN_VOXELS", 3 * rows)  # 3 rows at a time: the slab's rows do not divide by 3
    grouped = s.render_volume(cells, seed=2, **REGION)
    assert np.array_equal(whole.view(np.uint32), grouped.view(np.uint32))

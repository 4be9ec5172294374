"""Chunk independence, seeds, and the EM stain / artifact / noise physics."""

import numpy as np
import pytest
from scipy import ndimage
from skimage.registration import phase_cross_correlation

import scanners
from scanner_tissues import CLEAN_EM, UniformTissue

REGION = dict(region_origin_nm=(0.0, 0.0, 0.0), region_size_nm=(600.0, 1200.0, 1200.0))
SMALL = {"sbem": {"voxel_nm": [30, 20, 20]}, "sstem": {"voxel_nm": [40, 12, 12]}, "fibsem": {"voxel_nm": 20},
         "exm_lightsheet": {"distortion_rms_nm": 40.0, "jitter_nm": 15.0}, "xnh": {"n_angles": 60},
         "exm_xray": {"n_angles": 60, "voxel_nm": 40}}


@pytest.mark.parametrize("preset", sorted(SMALL))
def test_chunked_render_is_identical_to_whole(preset, cells):
    s = scanners.make_scanner({"preset": preset, **SMALL[preset]})
    whole = s.render_volume(cells, seed=11, chunk_shape=None, **REGION)
    parts = s.render_volume(cells, seed=11, chunk_shape=(5, 23, 31), **REGION)
    assert whole.shape == s.output_shape(REGION["region_size_nm"]) and whole.dtype == s.dtype
    assert np.array_equal(whole, parts)
    other = s.render_volume(cells, seed=12, chunk_shape=None, **REGION)
    assert not np.array_equal(whole, other)
    assert whole.std() > 0


def test_render_yields_chunks_that_tile_the_output(cells):
    s = scanners.make_scanner({"preset": "sbem", "voxel_nm": [30, 20, 20]})
    seen = np.zeros(s.output_shape(REGION["region_size_nm"]), int)
    for sl, block in s.render(cells, seed=0, chunk_shape=(8, 32, 32), **REGION):
        assert block.shape == seen[sl].shape
        seen[sl] += 1
    assert np.all(seen == 1)


def test_em_stain_membranes_and_synapses_dark(cells):
    s = scanners.make_scanner({"preset": "sbem", "noise": False, **CLEAN_EM})
    img = s.render_volume(cells, seed=0, **REGION)[0].astype(float)
    f = cells((0, 0, 0), img.shape, s.voxel_nm, ["labels", "membrane", "cleft"])
    cyto = img[(f["labels"] > 0) & (f["membrane"] == 0) & (f["cleft"] == 0)].mean()
    assert img[f["membrane"] > 0.15].mean() < cyto - 30
    assert img[f["cleft"] > 0].mean() < cyto - 30
    assert img[f["labels"] == 0].mean() > cyto  # extracellular space is barely stained


def test_em_shot_noise_matches_dose():
    """Uniform region: variance / mean of the detected electrons is 1 (Poisson), mean from dose."""
    s = scanners.make_scanner({"preset": "sbem", "dtype": "float32", **CLEAN_EM})
    img = s.render_volume(UniformTissue(label=1), (0, 0, 0), (900, 2000, 2000), seed=4)[0]
    electrons = (img - s.config.offset_adu) / s.gain_adu_per_e
    predicted = s.electrons_per_voxel * np.exp(-s.config.stain_contrast * s.config.stain_cytoplasm)
    assert abs(electrons.mean() / predicted - 1) < 0.02
    assert abs(electrons.var() / electrons.mean() - 1) < 0.10


def test_em_misalignment_truth_inverts_shifts(cells):
    base = {"preset": "sstem", "voxel_nm": [40, 10, 10], "noise": False, **CLEAN_EM}
    straight = scanners.make_scanner(base)
    moved = scanners.make_scanner({**base, "misalignment_step_nm": 25.0, "misalignment_jitter_nm": 15.0})
    region = dict(region_origin_nm=(200, 300, 300), region_size_nm=(400, 1500, 1500))
    a = straight.render_volume(cells, seed=2, **region)[0].astype(float)
    b = moved.render_volume(cells, seed=2, **region)[0].astype(float)
    shifts = moved.artifact_truth(seed=2, **region)["section_shift_nm"] / 10.0
    assert np.abs(shifts).max() > 2  # the artifact is real
    for k in range(a.shape[0]):
        # undo the saved shift (sample the image at p - shift), then nothing is left to register
        corrected = ndimage.shift(b[k], shifts[k], order=1, mode="nearest")
        residual, _, _ = phase_cross_correlation(a[k, 20:-20, 20:-20], corrected[20:-20, 20:-20], upsample_factor=10)
        assert np.all(np.abs(residual) < 1.0), (k, residual, shifts[k])


def test_em_missing_sections_and_folds_are_recorded(cells):
    s = scanners.make_scanner({"preset": "sstem", "voxel_nm": [40, 20, 20], "missing_section_rate": 0.3,
                               "fold_rate": 0.3, "noise": False})
    region = dict(region_origin_nm=(0, 0, 0), region_size_nm=(1200, 1200, 1200))
    img = s.render_volume(cells, seed=5, **region)[0]
    truth = s.artifact_truth(seed=5, **region)
    missing = truth["missing_sections"]
    assert 0 < missing.size < img.shape[0]
    assert np.all(img[missing] == 0)
    kept = np.setdiff1d(np.arange(img.shape[0]), missing)
    assert np.all(img[kept].max(axis=(1, 2)) > 0)
    assert truth["fold_sections"].size > 0 and truth["fold_normal"].shape == (truth["fold_sections"].size, 2)
    assert truth["section_shift_nm"].shape == (img.shape[0], 2)

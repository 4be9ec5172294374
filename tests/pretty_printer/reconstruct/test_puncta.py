"""Known-answer tests of the small-punctum detector: the filter's noise at the block faces, false
puncta in pure noise, and a dim punctum found where the old smoothing missed it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from pretty_printer.reconstruct.puncta import detect_peaks, matched_filter, matched_sigma_vox, noise_gain

VOX = np.array([60.0, 20.0, 20.0])
SETTINGS = {"psf_fwhm_nm": (1000.0, 320.0, 320.0), "expansion_factor": 8.0}  # the exm_lightsheet preset
FOOTPRINT = np.ones((5, 15, 15), bool)  # 150 nm either side, as the ExM baseline merges puncta


def test_matched_width_is_psf_and_psd_in_quadrature():
    sigma = matched_sigma_vox(SETTINGS, VOX)
    psf = np.array([125.0, 40.0, 40.0]) / 2.3548  # tissue-nm FWHM -> sigma
    assert np.allclose(sigma * VOX, np.sqrt(psf ** 2 + 35.0 ** 2))


def test_noise_gain_matches_filtered_white_noise_at_the_faces():
    rng = np.random.default_rng(0)
    sigma = matched_sigma_vox(SETTINGS, VOX)
    gain = noise_gain((9, 300, 300), sigma)
    assert np.isclose(np.median(gain), 1.0) and gain.max() > 1.4  # a corner averages fewer voxels
    sd = np.zeros(9)
    for _ in range(4):
        out = ndimage.gaussian_filter(rng.standard_normal((9, 300, 300)), sigma)
        sd += out[:, 20:-20, 20:-20].std(axis=(1, 2)) / 4
    assert np.allclose(sd / sd[4], gain[:, 150, 150] / gain[4, 150, 150], rtol=0.04)
    assert sd[0] / sd[4] > 1.2  # the first section is noisier than the middle


def test_pure_noise_gives_no_punctum_but_a_block_wide_threshold_finds_some_at_the_faces():
    rng = np.random.default_rng(1)
    photons = rng.poisson(20.0, (33, 200, 200)).astype(np.float32) - 20.0
    filtered, noise = matched_filter(photons, matched_sigma_vox(SETTINGS, VOX))
    # a smooth Gaussian field of this volume has ~0.3 maxima above 5 deviations (Euler
    # characteristic density; ~2 above 4.5); one threshold for the block found 9 here, at the faces
    assert len(detect_peaks(filtered, noise, 5.0, FOOTPRINT)) == 0
    flat = np.full_like(noise, np.median(noise))
    faces = detect_peaks(filtered, flat, 5.0, FOOTPRINT)
    assert len(faces) > 0 and np.all((faces[:, 0] == 0) | (faces[:, 0] == 32) | (faces[:, 1:] < 3).any(axis=1)
                                     | (faces[:, 1:] > 196).any(axis=1))


def test_dim_punctum_is_found_by_the_matched_filter():
    rng = np.random.default_rng(2)
    # 15 receptors x 30 photons x 0.7 detected, on a 70 nm disc blurred by the light-sheet PSF:
    # ~5.7 noise deviations after the matched filter, ~4.8 after the old 25 nm smoothing
    spot = np.zeros((17, 61, 61), np.float32)
    spot[8, 30, 30] = 315.0
    psf = np.array([125.0, 40.0, 40.0]) / 2.3548
    spot = ndimage.gaussian_filter(spot, np.sqrt(psf ** 2 + [0.0, 35.0 ** 2, 35.0 ** 2]) / VOX)
    found = 0
    for _ in range(20):
        photons = rng.poisson(20.0 + spot).astype(np.float32) - 20.0
        filtered, noise = matched_filter(photons, matched_sigma_vox(SETTINGS, VOX))
        peaks = detect_peaks(filtered, noise, 4.5, FOOTPRINT)
        found += any(np.abs(p - (8, 30, 30)).max() <= 2 for p in peaks)
    assert found >= 16


def test_matched_filter_noise_is_level_times_noise_gain_in_float32():
    photons = np.random.default_rng(3).normal(0.0, 5.0, (9, 33, 30)).astype(np.float32)
    sigma = (0.7, 2.1, 2.1)
    filtered, noise = matched_filter(photons, sigma)
    ref = ndimage.gaussian_filter(photons, sigma)
    level = float(np.median(np.abs(ref - np.median(ref))) * 1.4826)
    assert np.array_equal(filtered, ref)
    assert noise.dtype == np.float32 and np.array_equal(noise, (level * noise_gain(ref.shape, sigma)).astype(np.float32))

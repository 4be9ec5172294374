"""Expansion microscopy: barcode decoding, receptor stains, distortion truth, photon noise."""

import numpy as np
from scipy import ndimage
from skimage.registration import phase_cross_correlation

import scanners
from scanner_tissues import CLEAN_EXM, IDEAL_LABELLING, UniformTissue

REGION = dict(region_origin_nm=(0.0, 0.0, 0.0), region_size_nm=(1200.0, 2400.0, 2400.0))


def test_barcodes_decode_to_cell_ids(cells):
    s = scanners.make_scanner({"preset": "exm_lightsheet", "barcode_photons": 5000.0, **IDEAL_LABELLING})
    img = s.render_volume(cells, seed=3, **REGION).astype(float)
    c = s.config
    photons = (img - c.offset_adu) / c.gain_adu_per_e - c.background_photons
    n = c.n_barcode_proteins
    level = np.array([c.barcode_photons * s.channel_gain(i) for i in range(n)])[:, None, None, None]
    bits = photons[:n] > 0.5 * level
    codes = {tuple(int(b) for b in row): lab for row, lab in zip(cells.barcodes, cells.labels)}
    flat = bits.reshape(n, -1).T
    decoded = np.array([codes.get(tuple(int(b) for b in row), 0) for row in flat]).reshape(bits.shape[1:])
    truth = cells((0, 0, 0), decoded.shape, s.voxel_nm, ["labels"])["labels"]
    interior = ndimage.distance_transform_edt(truth > 0, sampling=s.voxel_nm) > 150.0
    assert interior.sum() > 1000
    assert (decoded[interior] == truth[interior]).mean() >= 0.99


def test_receptor_stain_is_proportional_to_receptor_count(cells):
    s = scanners.make_scanner({"preset": "exm_lightsheet", "noise": False, "dtype": "float32", **CLEAN_EXM})
    img = s.render_volume(cells, seed=0, **REGION)
    c = s.config
    vox = s.voxel_nm
    measured, expected = [], []
    for syn in cells.synapses:
        ch = s.channel_names.index(f"receptor:{syn.receptor}")
        photons = (img[ch] - c.offset_adu) / c.gain_adu_per_e - c.background_photons
        centre = np.round(np.asarray(syn.position_nm) / vox - 0.5).astype(int)
        half = np.ceil(2.5 * c.resolution_nm / vox).astype(int)
        if np.any(centre - half < 0) or np.any(centre + half >= img.shape[1:]):
            continue  # punctum partly outside the imaged region
        box = tuple(slice(max(k - h, 0), k + h + 1) for k, h in zip(centre, half))
        measured.append(photons[box].sum())
        # receptors the tissue put in this box (its rasterization at this voxel size)
        receptors = cells((0, 0, 0), img.shape[1:], vox, [f"receptor:{syn.receptor}"])[f"receptor:{syn.receptor}"]
        expected.append(receptors[box].sum() * c.receptor_photons * s.channel_gain(ch))
    measured, expected = np.array(measured), np.array(expected)
    assert measured.size >= 5
    assert np.corrcoef(measured, expected)[0, 1] > 0.97
    assert abs(np.median(measured / expected) - 1) < 0.10


def test_distortion_truth_inverts_the_warp(cells):
    base = {"preset": "exm_lightsheet", "noise": False, "dtype": "float32", "jitter_nm": 0.0,
            "distortion_length_nm": 1500.0, **IDEAL_LABELLING}
    flat = scanners.make_scanner({**base, "distortion_rms_nm": 0.0})
    warped = scanners.make_scanner({**base, "distortion_rms_nm": 40.0})
    a = flat.render_volume(cells, seed=8, **REGION)[:8].sum(0)
    b = warped.render_volume(cells, seed=8, **REGION)[:8].sum(0)
    t = warped.artifact_truth(seed=8, **REGION)
    vox = warped.voxel_nm
    q = np.stack(np.meshgrid(*[(np.arange(n) + 0.5) * vox[d] for d, n in enumerate(a.shape)], indexing="ij"))
    grid_idx = (q - t["deformation_grid_origin_nm"][:, None, None, None]) / t["deformation_grid_step_nm"][:, None, None, None]
    u = np.stack([ndimage.map_coordinates(t["deformation_nm"][d], grid_idx, order=1) for d in range(3)])
    src = (q - u) / vox[:, None, None, None] - 0.5  # image index of q - u(q)
    corrected = ndimage.map_coordinates(b, src, order=1, mode="nearest")
    assert np.abs(u[1:] / vox[1:, None, None, None]).max() > 1.0  # the warp moves things by > 1 voxel
    z = a.shape[0] // 2
    for ys in (slice(10, 60), slice(60, 110)):
        for xs in (slice(10, 60), slice(60, 110)):
            before, _, _ = phase_cross_correlation(a[z, ys, xs], b[z, ys, xs], upsample_factor=10)
            after, _, _ = phase_cross_correlation(a[z, ys, xs], corrected[z, ys, xs], upsample_factor=10)
            assert np.all(np.abs(after) < 1.0), (before, after)


def test_round_jitter_truth(cells):
    s = scanners.make_scanner({"preset": "exm_lightsheet", "jitter_nm": 30.0, "channels_per_round": 3})
    t = s.artifact_truth(seed=1, **REGION)
    assert t["round_shift_nm"].shape == (s.n_rounds, 3) and np.all(t["round_shift_nm"][0] == 0)
    assert np.abs(t["round_shift_nm"][1:]).max() > 5
    assert list(t["channel_round"]) == [i // 3 for i in range(len(s.channel_names))]


def test_photon_noise_with_read_noise():
    s = scanners.make_scanner({"preset": "exm_lightsheet", "background_photons": 150.0, "read_noise_e": 3.0,
                               "gain_adu_per_e": 2.0, "dtype": "float32", "n_barcode_proteins": 2})
    img = s.render_volume(UniformTissue(label=0), (0, 0, 0), (1200, 3000, 3000), seed=2)
    e = (img[0] - s.config.offset_adu) / s.config.gain_adu_per_e
    assert abs(e.mean() / 150.0 - 1) < 0.02
    assert abs((e.var() - 3.0 ** 2) / e.mean() - 1) < 0.10

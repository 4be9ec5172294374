"""Truth labels follow every displacement a scanner applies (issue 11 item 3, issue 14 item 4).

For every modality with its artifacts switched on: the labels on the image's frame are chunk-exact,
differ from the undeformed frame exactly where the scanner moved tissue, agree with the image
better than the undeformed labels do, and a segmentation equal to them scores VI 0 / 0 and the
full ERL, on any grid.
"""

import numpy as np
import pytest

import phantoms
import scanners
from pretty_printer.scoring.metrics import erl_scores, segmentation_scores

REGION_OFFSET = np.array([0.0, 1000.0, 1000.0])
SIZE = np.array([480.0, 1600.0, 1600.0])
EM_ARTIFACTS = dict(misalignment_step_nm=20.0, misalignment_jitter_nm=15.0, missing_section_rate=0.1,
                    fold_rate=0.25, crack_rate=0.25, debris_rate=1.0, thickness_cv=0.15, focus_drift=0.1,
                    brightness_drift=0.02)
MODALITIES = {
    "em": {"preset": "sstem", "voxel_nm": [40, 16, 16], **EM_ARTIFACTS},
    "exm": {"preset": "exm_lightsheet", "distortion_rms_nm": 40.0, "jitter_nm": 10.0, "n_barcode_proteins": 12},
    "xray": {"preset": "xnh", "n_angles": 40},
}


@pytest.fixture(scope="module")
def tissue():
    ph = phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 0)
    return phantoms.tissue_function(ph), ph


def _labels(s, tissue, chunk, deformed=True):
    o = tissue.origin_nm + REGION_OFFSET
    out = np.zeros(s.grid_shape(SIZE), np.uint32)
    for sl, block in s.labels_on_frame(tissue, o, SIZE, seed=4, chunk_shape=chunk, deformed=deformed):
        out[sl] = block
    return out


@pytest.mark.parametrize("modality", sorted(MODALITIES))
def test_labels_on_frame_are_chunk_exact_and_score_perfectly(modality, tissue):
    T, ph = tissue
    s = scanners.make_scanner(MODALITIES[modality])
    whole = _labels(s, T, None)
    assert np.array_equal(whole, _labels(s, T, (3, 29, 37)))
    flat = _labels(s, T, None, deformed=False)
    if modality == "xray":
        assert np.array_equal(whole, flat)  # tomography does not deform the sample
    else:
        assert (whole != flat).mean() > 0.005  # the artifacts really moved tissue
    seg = segmentation_scores(whole, whole.astype(np.uint64))
    assert seg["vi_split"] == 0 and seg["vi_merge"] == 0
    sk = {}
    for cid in ph.cell_ids:
        k = ph.skeleton(cid)
        child = np.flatnonzero(k.parent >= 0)
        sk[cid] = (k.nodes_nm, np.stack([child, k.parent[child]], 1))
    r = erl_scores(sk, whole, s.voxel_nm, T.origin_nm + REGION_OFFSET, gt=whole)
    assert r["erl_max_nm"] and r["erl_nm"] == pytest.approx(r["erl_max_nm"])


def test_em_labels_agree_with_the_image(tissue):
    """Noise-free, unblurred EM: stained cell interiors are darker than extracellular space, so
    thresholding the image recovers "cell or not" — far better with the frame's labels."""
    T, _ = tissue
    clean = dict(noise=False, texture_amplitude=0.0, cell_contrast=0.0, psf_fwhm_nm=1.0, dtype="float32",
                 charging_amplitude=0.0, brightness_drift=0.0, focus_drift=0.0, granularity=0.0)
    s = scanners.make_scanner({**MODALITIES["em"], **clean})
    img = s.render_volume(T, T.origin_nm + REGION_OFFSET, SIZE, seed=4)[0]
    truth = s.artifact_truth(T.origin_nm + REGION_OFFSET, SIZE, seed=4)
    kept = np.setdiff1d(np.arange(img.shape[0]), truth["missing_sections"])
    assert truth["crack_sections"].size and truth["fold_sections"].size and truth["debris_sections"].size
    assert np.all(_labels(s, T, None)[truth["missing_sections"]] == 0)
    electrons = (img - s.config.offset_adu) / s.gain_adu_per_e / s.electrons_per_voxel
    c = s.config
    bright = electrons > 0.5 * (np.exp(-c.stain_contrast * c.stain_cytoplasm) + np.exp(-c.stain_contrast * c.stain_extracellular))
    agree = {name: np.mean(bright[kept] == (lab[kept] == 0))
             for name, lab in (("frame", _labels(s, T, None)), ("flat", _labels(s, T, None, deformed=False)))}
    # dense tissue (background neurites, organelles): 0.90 vs 0.86 measured; sparse tissue gave 0.95 vs 0.93
    assert agree["frame"] > 0.85 and agree["frame"] > agree["flat"] + 0.02, agree


def test_erl_of_truth_is_full_on_a_coarse_z_grid(tissue):
    """Issue 14 item 4: on a 200 nm z grid skeleton nodes fall outside their thin neurites."""
    T, ph = tissue
    vox = np.array([200.0, 16.0, 16.0])
    shape = tuple(int(v) for v in ph.block_size_nm // vox)
    gt = phantoms.rasterize(ph, ph.block_origin_nm, shape, vox, ["labels"])["labels"]
    sk = {}
    for cid in ph.cell_ids:
        k = ph.skeleton(cid)
        child = np.flatnonzero(k.parent >= 0)
        sk[cid] = (k.nodes_nm, np.stack([child, k.parent[child]], 1))
    naive = erl_scores(sk, gt, vox, ph.block_origin_nm)
    snapped = erl_scores(sk, gt, vox, ph.block_origin_nm, gt=gt)
    assert naive["erl_nm"] < 0.9 * naive["erl_max_nm"]  # the problem is real on this grid
    assert snapped["erl_nm"] == pytest.approx(snapped["erl_max_nm"])
    assert snapped["n_nodes_skipped"] < 0.2 * sum(len(n) for n, _ in sk.values())

"""Known-answer tests of the classical baselines' pieces, and each baseline on a `tiny` dataset."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pretty_printer.reconstruct.methods import get_method
from pretty_printer.reconstruct.baseline_em import reconstruct_dense, reconstruct_lightness
from pretty_printer.reconstruct.baseline_exm import decode_barcodes
from pretty_printer.reconstruct.baseline_xray import xray_lightness
from pretty_printer.reconstruct.clefts import detect_clefts
from pretty_printer.reconstruct.dense_segmentation import segment_dense
from pretty_printer.submission.format import read_submission, validate_segmentation, validate_synapses, write_submission

VOX = np.array([40.0, 16.0, 16.0])


def _two_cells(shape=(12, 60, 100)):
    """Two boxes touching along x = 50 (one shared double membrane), in light extracellular space."""
    truth = np.zeros(shape, np.int64)
    truth[1:-1, 10:50, 10:50] = 1
    truth[1:-1, 10:50, 50:90] = 2
    return truth


def _lightness(truth, rng, cyto=(0.85, 0.87), noise=0.02):
    """Lightness image: extracellular 1, cytoplasm ``cyto[id-1]``, membranes 0.6 (2 voxels)."""
    r = np.ones(truth.shape, np.float32)
    for i, c in enumerate(cyto, start=1):
        r[truth == i] = c
    edge = np.zeros(truth.shape, bool)
    for lab in np.unique(truth[truth > 0]):
        inside = truth == lab
        eroded = np.stack([ndimage.binary_erosion(s, iterations=2) for s in inside])
        edge |= inside & ~eroded
    r[edge] = 0.6
    # caps: the first and last section of each cell are all membrane (parallel to the sections)
    r[1][truth[1] > 0] = 0.6
    r[-2][truth[-2] > 0] = 0.6
    return r + noise * rng.standard_normal(truth.shape).astype(np.float32)


def _agree(truth, seg, lab):
    """Fraction of ``truth == lab`` voxels in that cell's most frequent segment."""
    s = seg[truth == lab]
    s = s[s > 0]
    return np.bincount(s.astype(np.int64)).max() / (truth == lab).sum() if s.size else 0.0


def test_segment_dense_separates_two_touching_cells():
    truth = _two_cells()
    seg, classes = segment_dense(_lightness(truth, np.random.default_rng(0)), VOX)
    assert classes is not None and classes.t_mem < classes.t_ecs
    a = np.bincount(seg[truth == 1].astype(np.int64)).argmax()
    b = np.bincount(seg[truth == 2].astype(np.int64)).argmax()
    assert a > 0 and b > 0 and a != b  # no merge across the shared membrane
    assert _agree(truth, seg, 1) > 0.9 and _agree(truth, seg, 2) > 0.9
    assert (seg[ndimage.binary_erosion(truth == 0, iterations=4)] == 0).mean() > 0.9  # extracellular space stays mostly unassigned


def test_cleft_between_two_blocks_is_found_with_partners_and_side():
    truth = _two_cells()
    rng = np.random.default_rng(1)
    # cell 1 holds the vesicle cloud: darker cytoplasm -> presynaptic
    r = _lightness(truth, rng, cyto=(0.80, 0.88), noise=0.01)
    zz, yy = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    disc = ((zz - 6) * VOX[0]) ** 2 + ((yy - 30) * VOX[1]) ** 2 <= 70.0 ** 2
    r[:, :, 48:52][disc] = 0.1  # a dark disc in the plane of the shared membrane
    seg, classes = segment_dense(r, VOX)
    origin = np.array([100.0, 200.0, 300.0])
    clefts = detect_clefts(r, seg, classes.t_mem, classes.t_ecs, VOX, origin)
    assert len(clefts) == 1
    c = clefts[0]
    seg1 = np.bincount(seg[truth == 1].astype(np.int64)).argmax()
    seg2 = np.bincount(seg[truth == 2].astype(np.int64)).argmax()
    assert (c.pre_id, c.post_id) == (seg1, seg2)
    centre = origin + (np.array([6, 30, 50]) + [0.5, 0.5, 0.0]) * VOX
    assert np.linalg.norm(c.pre_nm - centre) < 100 and np.linalg.norm(c.post_nm - centre) < 100
    assert c.pre_nm[2] < centre[2] < c.post_nm[2]  # each end on its own side
    assert c.psd_area_nm2 > 0


def test_no_cleft_without_a_dark_disc():
    truth = _two_cells()
    r = _lightness(truth, np.random.default_rng(2), noise=0.01)
    seg, classes = segment_dense(r, VOX)
    assert detect_clefts(r, seg, classes.t_mem, classes.t_ecs, VOX, np.zeros(3)) == []


def test_barcode_decoding_of_two_cells():
    rng = np.random.default_rng(3)
    truth = np.zeros((8, 40, 60), np.int64)
    truth[1:-1, 10:30, 10:30] = 1
    truth[1:-1, 10:30, 30:50] = 2  # touching the first cell along x = 30
    codes = {1: [0, 2, 5, 7], 2: [1, 2, 8, 11]}  # 4 of 12 proteins each, sharing protein 2
    sig = np.zeros((12,) + truth.shape, np.float32)
    for lab, bits in codes.items():
        for b in bits:
            sig[b][truth == lab] = 300.0
    sig = np.stack([ndimage.gaussian_filter(s, (0.3, 1.0, 1.0)) for s in sig])
    sig += 10.0 * rng.standard_normal(sig.shape).astype(np.float32)
    seg = decode_barcodes(sig, (60.0, 20.0, 20.0))
    assert seg.dtype == np.uint64
    a, b = (np.bincount(seg[truth == k].astype(np.int64)).argmax() for k in (1, 2))
    assert a > 0 and b > 0 and a != b
    assert _agree(truth, seg, 1) > 0.95 and _agree(truth, seg, 2) > 0.95
    assert (seg[ndimage.binary_erosion(truth == 0, iterations=3)] == 0).all()


@pytest.mark.parametrize("kind", ["blank", "noise"])
def test_xray_without_structure_gives_valid_submission(kind, tmp_path):
    shape = (8, 32, 32)
    img = np.zeros(shape, np.float32) if kind == "blank" else np.random.default_rng(4).standard_normal(shape).astype(np.float32)
    vox = (40.0, 40.0, 40.0)
    sub = reconstruct_lightness(xray_lightness(img, vox), vox, (0.0, 0.0, 0.0), modality="xray", method="baseline:xray")
    if kind == "blank":
        assert sub.n_synapses == 0 and not sub.segmentation.any()
    validate_synapses(sub.synapses)
    back = read_submission(write_submission(tmp_path / "sub", sub, voxel_nm=vox))
    assert validate_segmentation(back.segmentation, shape).shape == shape
    if back is not sub:  # written here: the round trip keeps every synapse
        assert back.n_synapses == sub.n_synapses


def test_em_on_blank_and_constant_images():
    for img in (np.zeros((4, 20, 20), np.uint8), np.full((4, 20, 20), 200, np.uint8)):
        sub = reconstruct_dense(img, VOX, (0, 0, 0), dense_is_dark=True, modality="em", method="baseline:em")
        assert sub.segmentation.shape == img.shape and not sub.segmentation.any() and sub.n_synapses == 0


@pytest.mark.parametrize("modality", ["em", "exm", "xray"])
def test_baseline_on_tiny_gives_valid_submission(tiny_dataset, modality, tmp_path, request):
    from pretty_printer.scoring import metrics
    from pretty_printer.dataset.layout import Dataset

    ds = Dataset(tiny_dataset)
    if modality == "em":  # the session's EM baseline submission (written by the command line)
        sub = back = read_submission(request.getfixturevalue("em_baseline_submission"))
    else:
        sub = get_method("baseline", modality)(ds, modality)
        back = read_submission(write_submission(tmp_path / "sub", sub, voxel_nm=ds.modality(modality)["voxel_nm"]))
    shape = tuple(ds.modality(modality)["shape"][1:])
    assert validate_segmentation(back.segmentation, shape).shape == shape
    if back is not sub:  # written here: the round trip keeps every synapse
        assert back.n_synapses == sub.n_synapses
    need = {"em": ("psd_area_nm2",), "xray": ("psd_area_nm2",),
            "exm": ("conductance_nS", "sign", "n_AMPA", "n_NMDA", "n_GABA_A")}[modality]
    assert all(c in back.synapses for c in need)
    # loose floors above the measured scores on dense tiny (tissue_stats: 20 % ECS, ~90 cells):
    # measured (vi_split, vi_merge) EM (6.31, 1.24), X-ray (1.34, 4.86); one segment for the whole
    # block scores (0, 5.63). Dense neuropil made the EM baseline split and X-ray merge far more
    # than on the old sparse tiny (bounds 3.0 / 1.5 then); ExM still meets the old bounds.
    scores = metrics.segmentation_scores(ds.truth_labels(modality), sub.segmentation)
    split_max, merge_max = {"em": (8.0, 1.5), "exm": (3.0, 1.5), "xray": (3.0, 5.5)}[modality]
    assert scores["vi_merge"] < merge_max and scores["vi_split"] < split_max
    if modality != "xray":
        assert sub.n_synapses > 0

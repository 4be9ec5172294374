"""Known-answer tests of the ExM baseline's rules: short-code merging, synaptic partners, punctum
integration and stain unmixing."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

from pretty_printer.reconstruct.baseline_exm import barcode_codes, decode_barcodes
from pretty_printer.reconstruct.exm_synapses import find_puncta, partners
from pretty_printer.reconstruct.stain_unmixing import face_area_um2, unmix_densities

VOX = np.array([60.0, 20.0, 20.0])


def _barcode_signal(truth, codes, dim=None, rng=None):
    """12-channel barcode signal: 300 photons where a cell expresses a protein, blurred, noisy.

    ``dim`` = (cell, protein, mask, level): the protein reads only ``level`` x 300 in ``mask``.
    """
    sig = np.zeros((12,) + truth.shape, np.float32)
    for lab, bits in codes.items():
        for b in bits:
            sig[b][truth == lab] = 300.0
    if dim is not None:
        lab, b, mask, level = dim
        sig[b][(truth == lab) & mask] = 300.0 * level
    sig = np.stack([ndimage.gaussian_filter(s, (0.3, 1.0, 1.0)) for s in sig])
    return sig + 10.0 * rng.standard_normal(sig.shape).astype(np.float32)


def _boxes():
    truth = np.zeros((8, 40, 90), np.int64)
    truth[1:-1, 10:30, 5:45] = 1  # cell 1: code {0, 2, 5, 7}; protein 7 dim in its right half
    truth[1:-1, 10:30, 45:70] = 2  # cell 2: code {1, 3, 6, 9} (k-bit, unrelated)
    truth[1:-1, 10:30, 70:88] = 3  # cell 3 lost protein 11 everywhere: reads {0, 2, 5}
    return truth


def test_dim_protein_piece_rejoins_its_cell_but_a_dropout_cell_does_not():
    truth = _boxes()
    codes = {1: [0, 2, 5, 7], 2: [1, 3, 6, 9], 3: [0, 2, 5]}
    right = np.zeros(truth.shape, bool)
    right[..., 25:] = True
    sig = _barcode_signal(truth, codes, dim=(1, 7, right, 0.3), rng=np.random.default_rng(0))
    raw = barcode_codes(sig, VOX, accept_gaps=False)
    assert len(np.unique(raw[truth == 1])) >= 2  # without gap codes the dim half does not decode
    seg = decode_barcodes(sig, VOX, accept_gaps=True)
    one = np.bincount(seg[truth == 1].astype(np.int64))
    assert one.argmax() > 0 and one.max() / (truth == 1).sum() > 0.95  # one segment again
    three = np.bincount(seg[truth == 3].astype(np.int64)).argmax()
    assert three > 0 and three != one.argmax()  # {0,2,5} is a subset of cell 1's code but absent, not dim
    assert (seg[truth == 3] == three).mean() > 0.9


def test_short_piece_without_dim_signal_keeps_its_own_code():
    truth = _boxes()
    # cell 3 touches cell 1 directly here: move it next to cell 1's right end
    truth[truth >= 2] = 0
    truth[1:-1, 10:30, 45:70] = 3
    codes = {1: [0, 2, 5, 7], 3: [0, 2, 5]}
    sig = _barcode_signal(truth, codes, rng=np.random.default_rng(1))
    seg = decode_barcodes(sig, VOX, accept_gaps=True)
    a, b = (np.bincount(seg[truth == k].astype(np.int64)).argmax() for k in (1, 3))
    assert a > 0 and b > 0 and a != b


def test_partners_take_the_segment_across_the_cleft_and_put_the_pre_site_in_it():
    seg = np.zeros((9, 40, 40), np.uint64)
    seg[:, :, :20] = 5  # postsynaptic: the punctum sits in it, next to the boundary at x = 20
    seg[:, :, 20:] = 9
    p = np.array([4, 20, 18])
    pre, post, site = partners(seg, p, VOX)
    assert (pre, post) == (9, 5)
    assert tuple(site) == (4, 20, 20)  # the nearest voxel of the presynaptic segment
    assert seg[tuple(site)] == pre


def test_punctum_photons_are_integrated_whole():
    img = np.zeros((17, 61, 61), np.float32)
    img[8, 30, 30] = 1000.0
    # a punctum blurred like the ExM optics plus a PSD (sigma 60 nm in z, 30 nm in y, x)
    img = ndimage.gaussian_filter(img, (60 / 60, 30 / 20, 30 / 20))
    (peak, photons), = find_puncta(img, noise=1.0, voxel_nm=VOX)
    assert tuple(peak) == (8, 30, 30)
    assert abs(photons - 1000.0) < 20.0


def test_unmixing_recovers_each_cells_density_despite_blur():
    seg = np.zeros((12, 40, 60), np.uint64)
    seg[1:-1, 5:35, 3:30] = 1
    seg[1:-1, 5:35, 30:57] = 2  # touching cell 1 along x = 30
    area = face_area_um2(seg, VOX)
    density = {1: 40.0, 2: 0.0}  # pS/um^2
    pS = np.zeros(seg.shape)
    for k, d in density.items():
        pS[seg == k] = area[seg == k] * d
    sigma = np.array([53.0, 17.0, 17.0]) / VOX
    img = ndimage.gaussian_filter(pS, sigma, mode="constant")
    got = unmix_densities(seg, img, VOX, sigma)
    assert abs(got[1] - 40.0) < 0.4 and got[2] < 0.4
    # summing each segment's own photons instead mixes the neighbours
    naive = img[seg == 2].sum() / area[seg == 2].sum()
    assert naive > 1.0
    faces_nm2 = 2 * (10 * 30 * 60 * 20 + 10 * 27 * 60 * 20 + 30 * 27 * 20 * 20)  # x, y and z faces of the box
    assert np.isclose(area[seg == 1].sum(), 2 / 3 * 1e-6 * faces_nm2)


def test_density_standard_error_matches_the_scatter_of_unmixed_noise():
    from pretty_printer.reconstruct.stain_unmixing import density_standard_error

    seg = np.zeros((12, 40, 60), np.uint64)
    seg[1:-1, 5:35, 3:30] = 1
    seg[1:-1, 5:35, 30:57] = 2
    sigma = np.array([53.0, 17.0, 17.0]) / VOX
    rng = np.random.default_rng(3)
    # a stain without channels: noise only (1 pS per voxel); unmix_densities clips at 0, so the
    # positive half's mean square is the variance (half-normal)
    draws = np.array([[unmix_densities(seg, rng.standard_normal(seg.shape), VOX, sigma).get(k, 0.0)
                       for k in (1, 2)] for _ in range(40)])
    scatter = np.sqrt(2.0 * (draws ** 2).mean(axis=0))
    area = face_area_um2(seg, VOX)
    se = density_standard_error([area[seg == k].sum() for k in (1, 2)], 1.0, VOX, sigma)
    assert np.all((scatter / se > 0.6) & (scatter / se < 1.6)), (scatter, se)


def test_stain_densities_report_a_density_under_the_detection_limit_as_zero():
    from pretty_printer.reconstruct.stain_unmixing import stain_densities

    seg = np.zeros((12, 40, 60), np.uint64)
    seg[1:-1, 5:35, 3:30] = 1
    seg[1:-1, 5:35, 30:57] = 2
    area = face_area_um2(seg, VOX)
    pS = np.where(seg == 1, area * 4.0, 0.0)  # 4 pS/um^2 = 0.4 mS/cm^2 on cell 1, none on cell 2
    sigma = np.array([53.0, 17.0, 17.0]) / VOX
    settings = {"offset_adu": 100.0, "gain_adu_per_e": 1.0, "background_photons": 20.0, "read_noise_e": 1.5,
                "channel_photons": 2.0e4, "psf_fwhm_nm": (1000.0, 320.0, 320.0), "expansion_factor": 8.0}
    rng = np.random.default_rng(4)
    zero = 0
    for _ in range(5):
        photons = ndimage.gaussian_filter(pS, sigma, mode="constant") * 2.0e4 + 20.0
        img = rng.poisson(photons) + 1.5 * rng.standard_normal(seg.shape) + 100.0
        cols = stain_densities(seg, {"cation_leak": img}, settings, {"cation_leak": 1.0}, VOX)
        got = dict(zip(cols["segment_id"], cols["g_cation_leak_mS_cm2"]))
        assert abs(got[1] - 0.4) < 0.02
        zero += got[2] == 0.0
    assert zero == 5  # the noise's density (clipped at 0 half the time) stays under 3 standard errors


def test_a_same_code_piece_apart_from_the_cell_does_not_dilute_its_density():
    from pretty_printer.reconstruct.stain_unmixing import component_pieces, stain_densities

    # segment 1: a cell (40 pS/um^2 = 4 mS/cm^2) and, apart from it, a smaller unstained piece
    # of another cell with the same barcode; plus a 1-voxel fragment that stays with the cell
    seg = np.zeros((12, 40, 90), np.uint64)
    seg[1:-1, 5:35, 3:40] = 1
    seg[1:-1, 8:32, 55:85] = 1
    seg[6, 2, 50] = 1
    area = face_area_um2(seg, VOX)
    pS = np.zeros(seg.shape)
    pS[:, :, :45] = area[:, :, :45] * 40.0
    sigma_nm = np.array([53.0, 17.0, 17.0])
    settings = {"channel_photons": 1.0, "psf_fwhm_nm": tuple(sigma_nm * 2.0 * np.sqrt(2.0 * np.log(2.0)))}
    img = ndimage.gaussian_filter(pS, sigma_nm / VOX, mode="constant")
    pieces, segment_of, main = component_pieces(seg, VOX)
    assert segment_of.tolist() == [0, 1, 1] and pieces[6, 2, 50] == pieces[5, 20, 20] == main[0]
    cols = stain_densities(seg, {"cation_leak": img}, settings, {"cation_leak": 1.0}, VOX)
    assert abs(cols["g_cation_leak_mS_cm2"][0] - 4.0) < 0.04
    # one unknown for the whole segment reads the area-weighted mean instead
    whole = unmix_densities(seg, img, VOX, sigma_nm / VOX)[1]
    assert whole < 0.8 * 40.0


def test_a_small_piece_with_a_blend_of_two_touching_codes_goes_to_its_neighbours():
    from pretty_printer.reconstruct.barcode_blends import drop_mixed_pieces

    a, b = 0b000000001111, 0b000011110000
    blend, other = 0b000000110011, 0b111100000000  # within a | b; not
    labels = np.zeros((10, 40, 40), np.uint64)
    labels[:, :, :20] = a
    labels[:, :, 20:] = b
    labels[4:6, 10:14, 19:21] = blend  # a thin shell where the two cells touch (16 voxels)
    labels[4:6, 30:34, 19:21] = other  # a small piece whose code is no blend of its neighbours
    out = drop_mixed_pieces(labels, VOX)
    assert np.all(out[4:6, 10:14, 19] == a) and np.all(out[4:6, 10:14, 20] == b)
    assert np.all(out[4:6, 30:34, 19:21] == other)
    # a large piece keeps even a blended code (a real cell's code can be one)
    labels[:, 10:30, 15:25] = blend
    assert np.all(drop_mixed_pieces(labels, VOX)[:, 10:30, 15:25] == blend)


def test_unique_inverse_is_numpys_in_a_small_dtype():
    from pretty_printer.reconstruct.barcode_blends import uint_dtype, unique_inverse

    assert [uint_dtype(n) for n in (0, 255, 256, 65535, 65536, 2 ** 32)] == [
        np.uint8, np.uint8, np.uint16, np.uint16, np.uint32, np.uint64]
    labels = np.array([[[7, 0], [3, 7]], [[2 ** 40, 3], [0, 0]]], np.uint64)
    codes, inverse = unique_inverse(labels)
    assert codes.tolist() == [0, 3, 7, 2 ** 40] and inverse.dtype == np.uint8
    assert inverse.tolist() == [[[2, 0], [1, 2]], [[3, 1], [0, 0]]]
    ref_codes, ref_inverse = np.unique(labels, return_inverse=True)
    assert np.array_equal(codes, ref_codes) and np.array_equal(inverse, ref_inverse.reshape(labels.shape))


def test_barcodes_read_channel_by_channel_are_the_stacked_arrays_bits():
    truth = _boxes()
    codes = {1: [0, 2, 5, 7], 2: [1, 3, 6, 9], 3: [0, 2, 5]}
    right = np.zeros(truth.shape, bool)
    right[..., 25:] = True
    sig = _barcode_signal(truth, codes, dim=(1, 7, right, 0.3), rng=np.random.default_rng(1))
    for gaps in (False, True):
        stacked = barcode_codes(sig, VOX, accept_gaps=gaps)
        assert stacked.dtype == np.uint64
        assert np.array_equal(barcode_codes([s for s in sig], VOX, accept_gaps=gaps), stacked)
        assert np.array_equal(decode_barcodes([s for s in sig], VOX, accept_gaps=gaps),
                              decode_barcodes(sig, VOX, accept_gaps=gaps))
    # the channel sum, accumulated channel by channel, is numpy's sum over the leading axis
    total = sig[0].copy()
    for s in sig[1:]:
        total += s
    assert np.array_equal(total, sig.sum(axis=0))


def test_channel_signal_in_place_is_the_out_of_place_filter():
    from pretty_printer.reconstruct.baseline_exm import _channel_signal

    img = np.random.default_rng(2).integers(90, 600, (7, 30, 31)).astype(np.uint16)
    settings = {"offset_adu": 100.0, "gain_adu_per_e": 1.3, "background_photons": 20.0}
    ref = ndimage.gaussian_filter((img.astype(np.float32) - 100.0) / 1.3 - 20.0, (0.5, 1.4, 1.4))
    out = _channel_signal(img, settings, (0.5, 1.4, 1.4))
    assert out.dtype == np.float32 and np.array_equal(out, ref)


def test_face_area_and_unmixing_in_place_are_the_out_of_place_computation():
    from pretty_printer.reconstruct.excitability import SURFACE_CORRECTION

    seg = np.zeros((6, 20, 24), np.uint64)
    seg[1:5, 3:15, 2:12] = 4
    seg[1:5, 3:15, 12:22] = 9
    face = (VOX[1] * VOX[2], VOX[0] * VOX[2], VOX[0] * VOX[1])
    ref = np.zeros(seg.shape)
    for axis in range(3):
        a, o = np.moveaxis(seg, axis, 0), np.moveaxis(ref, axis, 0)
        diff = a[1:] != a[:-1]
        o[1:] += diff * face[axis]
        o[:-1] += diff * face[axis]
    ref[seg == 0] = 0.0
    assert np.array_equal(face_area_um2(seg, VOX), ref * SURFACE_CORRECTION * 1e-6)
    y = np.random.default_rng(4).normal(0.0, 1.0, seg.shape)
    kept = y.copy()
    d = unmix_densities(seg, y, VOX, (0.5, 2.0, 2.0))
    assert np.array_equal(y, kept)  # not overwritten unless asked
    assert unmix_densities(seg, y, VOX, (0.5, 2.0, 2.0), overwrite_input=True) == d and sorted(d) == [4, 9]


def test_membrane_areas_from_the_membrane_voxels_are_the_whole_volumes_sums():
    from pretty_printer.reconstruct.stain_unmixing import _areas, _membrane, component_pieces

    seg = np.zeros((6, 20, 24), np.uint64)
    seg[1:5, 3:15, 2:12] = 4
    seg[1:5, 3:15, 12:22] = 9
    seg[2:4, 16:19, 5:9] = 4  # a second piece of segment 4
    F = face_area_um2(seg, VOX)
    where, f = _membrane(seg, VOX)
    assert np.array_equal(where, F > 0) and np.array_equal(f, F[F > 0])
    pieces, segment_of, main = component_pieces(seg, VOX, min_area_um2=0.0)
    assert pieces.dtype == np.int32 and main.dtype == np.int64 and segment_of.tolist() == [0, 4, 4, 9]
    ref = np.bincount(pieces.ravel().astype(np.int64), weights=F.ravel(), minlength=4)
    assert np.array_equal(_areas(pieces, where, f, 4), ref) and (ref[1:] > 0).all()


def test_label_by_value_is_skimages_label_in_int32():
    from skimage.measure import label

    from pretty_printer.reconstruct.barcode_blends import label_by_value

    two = np.array([[[1, 1, 0, 2], [0, 1, 0, 2], [2, 0, 0, 1]]], np.uint16)
    assert label_by_value(two).tolist() == [[[1, 1, 0, 2], [0, 1, 0, 2], [3, 0, 0, 4]]]
    rng = np.random.default_rng(5)
    for _ in range(3):
        img = (ndimage.gaussian_filter(rng.standard_normal((7, 30, 40)), 1.5) * 8).astype(int).clip(0, None)
        img = img.astype(np.uint16)
        out = label_by_value(img)
        assert out.dtype == np.int32 and np.array_equal(out, label(img, background=0, connectivity=1))
    assert not label_by_value(np.zeros((2, 3, 3), np.uint8)).any()

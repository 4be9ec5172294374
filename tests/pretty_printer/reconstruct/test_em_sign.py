"""Sign from ultrastructure (clefts.py rules 5-6): seen through the probe, a thick post-synaptic
density (Gray I, asymmetric) is far darker at its darkest point than thin densities on both sides
(Gray II, symmetric).  Each synapse has its presynaptic vesicle cloud (rule 3: without one a thin
density is dropped).  Per edge, the clefts' readings are pooled, weighted by PSD area; a cleft too
small to escape partial volume gives no evidence."""

import numpy as np
import pytest
from scipy import ndimage

from pretty_printer.reconstruct.clefts import (MIN_SIGN_AREA_NM2, MIN_SIGN_DEPTH_NM, SIGN_COLUMNS, Cleft,
                                               detect_clefts, edge_signs)
from pretty_printer.reconstruct.dense_segmentation import segment_dense

from test_baselines import VOX, _lightness, _two_cells
from test_cleft_vesicles import CLOUD, add_vesicles

PROBE_SIGMA_NM = 12.0 / 2.355  # the probe's FWHM as a Gaussian sigma
DEFAULT_DOSE_NOISE = 0.02  # lightness noise std at 15 e/nm^2 (tiny seed 1: MAD of the light class 0.022)


def _synapse_image(post_nm: float, rng, sections=None) -> tuple[np.ndarray, np.ndarray]:
    """Two cells with a synapse on their shared membrane at x = 50 voxels: cell 1 holds the vesicle
    cloud (presynaptic); a 10 nm pre density and a post density of ``post_nm`` at stain 2.0
    (scanners/em.py stain_synapse) and contrast 1.2, blurred by the probe, averaged into 16 nm
    pixels, on a disc of radius 90 nm (only in z-sections ``sections``, if given)."""
    truth = _two_cells()
    r = add_vesicles(_lightness(truth, rng, noise=0.005), range(4, 9), CLOUD)
    fine = np.arange(44 * 8, 58 * 8) * 2.0  # nm, x, on a 2 nm grid
    x0 = 50 * VOX[2]
    dens = np.where((fine >= x0 - 10) & (fine < x0), 2.0, 0.0) + np.where((fine >= x0) & (fine < x0 + post_nm), 2.0, 0.0)
    sig = ndimage.gaussian_filter1d(np.exp(-1.2 * dens), PROBE_SIGMA_NM / 2.0)
    px = sig.reshape(-1, 8).mean(axis=1)  # 16 nm pixels 44..57
    zz, yy = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    disc = ((zz - 6) * VOX[0]) ** 2 + ((yy - 30) * VOX[1]) ** 2 <= 90.0 ** 2
    if sections is not None:
        disc &= np.isin(zz, list(sections))
    for i, v in enumerate(px):
        if v < 0.9:
            r[:, :, 44 + i][disc] = np.minimum(r[:, :, 44 + i][disc], 0.6 * v)  # on top of the membranes
    return truth, r


def _clefts(r):
    seg, classes = segment_dense(r, VOX)
    return seg, detect_clefts(r, seg, classes.t_mem, classes.t_ecs, VOX, np.zeros(3))


@pytest.mark.parametrize("post_nm, expected", [(40.0, 1), (10.0, -1)])
def test_thick_density_reads_excitatory(post_nm, expected):
    truth, r = _synapse_image(post_nm, np.random.default_rng(4))
    seg, clefts = _clefts(r)
    assert len(clefts) == 1
    c = clefts[0]
    assert c.pre_id == np.bincount(seg[truth == 1].astype(np.int64)).argmax()
    assert c.sign == expected, c.columns
    assert (c.columns > SIGN_COLUMNS) == (expected == 1)
    assert c.psd_area_nm2 >= MIN_SIGN_AREA_NM2  # large enough to count (rule 6)
    assert edge_signs(clefts).tolist() == [expected]


@pytest.mark.parametrize("post_nm, expected", [(40.0, 1), (10.0, -1)])
def test_default_dose_noise_does_not_change_the_call(post_nm, expected):
    """Zero-mean noise at the default dose's level, added after the density is drawn, leaves each
    type's call unchanged on every seed (it darkens the darkest pixel a little, rule 5)."""
    for seed in range(4):
        _, r = _synapse_image(post_nm, np.random.default_rng(seed))
        r = r + DEFAULT_DOSE_NOISE * np.random.default_rng(100 + seed).standard_normal(r.shape).astype(np.float32)
        _, clefts = _clefts(r)
        assert len(clefts) == 1
        assert clefts[0].sign == expected and edge_signs(clefts).tolist() == [expected], clefts[0].columns


def _cleft(pre, post, area, columns):
    return Cleft(pre, post, np.zeros(3), np.zeros(3), float(area), float(columns), 5)


def test_edge_pools_area_weighted_evidence():
    big, small = 4 * MIN_SIGN_AREA_NM2, 0.5 * MIN_SIGN_AREA_NM2
    thick, thin = SIGN_COLUMNS + 1.0, SIGN_COLUMNS - 0.5
    clefts = [
        _cleft(1, 2, big, thick), _cleft(1, 2, big, thin),  # 4 x (+1) + 4 x (-0.5): excitatory
        _cleft(3, 4, small, thin),  # a lone cleft too small to read: the prior, excitatory
        _cleft(5, 6, big, thin), _cleft(5, 6, small, thick + 5),  # the small one cannot outvote
        _cleft(5, 7, big, thick),  # another edge of the same presynaptic segment is pooled apart
    ]
    assert edge_signs(clefts).tolist() == [1, 1, 1, -1, -1, 1]
    assert [c.sign for c in clefts] == [1, -1, -1, -1, 1, 1]  # each cleft's own reading
    assert clefts[2].evidence == 0.0 and clefts[3].evidence == pytest.approx(big * -0.5)
    assert edge_signs([]).shape == (0,)


def test_shallow_cleft_gives_no_sign_evidence():
    """Rule 7: a thin density confined to two 40 nm sections lies near the section plane; the beam
    crosses it, so its thin reading is no evidence of type and the edge keeps the prior; the same
    density through five sections is read, inhibitory.  Noise at the default dose's level (without
    it the toy's membrane spread is so small that noise-dark membrane pixels join the cleft)."""
    assert 2 * VOX[0] < MIN_SIGN_DEPTH_NM <= 3 * VOX[0]
    for seed in range(2):
        noise = DEFAULT_DOSE_NOISE * np.random.default_rng(100 + seed).standard_normal((12, 60, 100))
        _, shallow = _clefts(_synapse_image(10.0, np.random.default_rng(seed), sections=(5, 6))[1] + noise)
        assert len(shallow) == 1
        c = shallow[0]
        assert c.depth_nm == 2 * VOX[0] and c.sign == -1 and c.psd_area_nm2 >= MIN_SIGN_AREA_NM2
        assert c.evidence == 0.0 and edge_signs(shallow).tolist() == [1]
        _, deep = _clefts(_synapse_image(10.0, np.random.default_rng(seed))[1] + noise)
        assert len(deep) == 1 and deep[0].depth_nm == 5 * VOX[0] and edge_signs(deep).tolist() == [-1]


def test_shallow_thin_clefts_cannot_outvote_a_deep_thick_one():
    big = 4 * MIN_SIGN_AREA_NM2
    thick, thin = SIGN_COLUMNS + 0.5, SIGN_COLUMNS - 0.8
    deep, shallow = MIN_SIGN_DEPTH_NM + 20.0, MIN_SIGN_DEPTH_NM - 20.0
    c = [Cleft(1, 2, np.zeros(3), np.zeros(3), big, thick, 5, deep),
         Cleft(1, 2, np.zeros(3), np.zeros(3), big, thin, 5, shallow),
         Cleft(1, 2, np.zeros(3), np.zeros(3), big, thin, 5, shallow)]
    assert edge_signs(c).tolist() == [1, 1, 1]  # before rule 7: 0.5 - 0.8 - 0.8 < 0, inhibitory
    assert c[1].evidence == 0.0 and c[0].evidence == pytest.approx(big * 0.5)
    deep_thin = Cleft(1, 2, np.zeros(3), np.zeros(3), big, thin, 5, deep)
    assert edge_signs(c[:1] + [deep_thin] * 2).tolist() == [-1] * 3  # read, they do outvote it

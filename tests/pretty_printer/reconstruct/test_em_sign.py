"""Sign from ultrastructure (clefts.py rule 5): seen through the probe, a thick post-synaptic
density (Gray I) is far darker at its darkest point than thin densities on both sides (Gray II).
Each synapse has its presynaptic vesicle cloud (rule 3: without one a thin density is dropped)."""

import numpy as np
import pytest
from scipy import ndimage

from pretty_printer.reconstruct.clefts import SIGN_COLUMNS, detect_clefts
from pretty_printer.reconstruct.dense_segmentation import segment_dense

from test_baselines import VOX, _lightness, _two_cells
from test_cleft_vesicles import CLOUD, add_vesicles

PROBE_SIGMA_NM = 12.0 / 2.355  # the probe's FWHM as a Gaussian sigma


@pytest.mark.parametrize("post_nm, expected", [(40.0, 1), (10.0, -1)])
def test_thick_density_reads_excitatory(post_nm, expected):
    truth = _two_cells()
    # cell 1 holds the vesicle cloud: presynaptic; cell 2 is postsynaptic
    r = add_vesicles(_lightness(truth, np.random.default_rng(4), noise=0.005), range(4, 9), CLOUD)
    # stain on a 2 nm grid across the contact at x = 50 voxels: 10 nm pre density, post density of
    # post_nm, stain 2.0 (scanners/em.py stain_synapse) at contrast 1.2, averaged into 16 nm pixels
    # after the probe's blur
    fine = np.arange(44 * 8, 58 * 8) * 2.0  # nm, x
    x0 = 50 * VOX[2]
    dens = np.where((fine >= x0 - 10) & (fine < x0), 2.0, 0.0) + np.where((fine >= x0) & (fine < x0 + post_nm), 2.0, 0.0)
    sig = ndimage.gaussian_filter1d(np.exp(-1.2 * dens), PROBE_SIGMA_NM / 2.0)
    px = sig.reshape(-1, 8).mean(axis=1)  # 16 nm pixels 44..57
    zz, yy = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    disc = ((zz - 6) * VOX[0]) ** 2 + ((yy - 30) * VOX[1]) ** 2 <= 90.0 ** 2
    for i, v in enumerate(px):
        if v < 0.9:
            r[:, :, 44 + i][disc] = np.minimum(r[:, :, 44 + i][disc], 0.6 * v)  # on top of the membranes
    seg, classes = segment_dense(r, VOX)
    clefts = detect_clefts(r, seg, classes.t_mem, classes.t_ecs, VOX, np.zeros(3))
    assert len(clefts) == 1
    c = clefts[0]
    assert c.pre_id == np.bincount(seg[truth == 1].astype(np.int64)).argmax()
    assert c.sign == expected, c.columns
    assert (c.columns > SIGN_COLUMNS) == (expected == 1)

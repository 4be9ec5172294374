"""Sign from ultrastructure (clefts.py rule 5): a thick post-synaptic density reads excitatory,
thin densities on both sides inhibitory."""

import numpy as np
import pytest

from pretty_printer.reconstruct.clefts import ASYMMETRY_EXCITATORY, detect_clefts
from pretty_printer.reconstruct.dense_segmentation import segment_dense

from test_baselines import VOX, _lightness, _two_cells


@pytest.mark.parametrize("post_width, expected", [(4, 1), (1, -1)])
def test_asymmetric_density_reads_excitatory(post_width, expected):
    truth = _two_cells()
    # cell 1 holds the vesicle cloud (darker cytoplasm): presynaptic; cell 2 is postsynaptic
    r = _lightness(truth, np.random.default_rng(4), cyto=(0.80, 0.88), noise=0.01)
    zz, yy = np.mgrid[0:truth.shape[0], 0:truth.shape[1]]
    disc = ((zz - 6) * VOX[0]) ** 2 + ((yy - 30) * VOX[1]) ** 2 <= 90.0 ** 2
    r[:, :, 49:50][disc] = 0.1  # pre-synaptic density: one voxel on cell 1's side
    r[:, :, 50:50 + post_width][disc] = 0.1  # post-synaptic density: thick (Gray I) or thin (Gray II)
    seg, classes = segment_dense(r, VOX)
    clefts = detect_clefts(r, seg, classes.t_mem, classes.t_ecs, VOX, np.zeros(3))
    assert len(clefts) == 1
    c = clefts[0]
    assert c.sign == expected, c.asymmetry
    assert (c.asymmetry > ASYMMETRY_EXCITATORY) == (expected == 1)

"""The rasterizer's compiled paths give the same bits as the plain numpy definitions."""

from __future__ import annotations

import numpy as np
import pytest

from phantoms.rasterize import dense_depth


def _dense_depth_numpy(s1, s2, fill, gap, cap=None):
    """dense_depth as first written (numpy, float64 steps, one rounding to float32)."""
    d = np.minimum(fill - s1, 0.5 * (s2 - s1 - gap))
    if cap is not None:
        d = np.where(s2 >= cap, fill - s1, d)
        d[s1 >= cap] = -np.inf
    return d.astype(np.float32)


@pytest.mark.parametrize("cap", [None, 150.0])
def test_dense_depth_is_the_numpy_definition(cap):
    rng = np.random.default_rng(0)
    s1 = rng.uniform(-100, 200, (4, 9, 11))
    s2 = s1 + rng.uniform(0, 200, s1.shape)
    s2[0] = 150.0  # no second cell within reach
    s1[1, :3] = 150.0  # no cell within reach
    got = dense_depth(s1, s2, 100.0, 20.0, cap)
    assert got.dtype == np.float32
    assert np.array_equal(got.view(np.uint32), _dense_depth_numpy(s1, s2, 100.0, 20.0, cap).view(np.uint32))

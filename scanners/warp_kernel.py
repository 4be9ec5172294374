"""Trilinear resampling of many channels at the same coordinates (compiled with numba).

ExM warps each of its channels (17 on the default presets) at the same deformed coordinates:
one ``scipy.ndimage.map_coordinates(order=1, mode="nearest", prefilter=False)`` per channel
recomputed the same corners and weights 17 times.  This computes them once per voxel and applies
them to every channel, with SciPy's arithmetic (``scipy/ndimage/src/ni_interpolation.c``,
``NI_GeometricTransform``; ``ni_splines.c``, ``get_spline_interpolation_weights``):

* ``nearest`` mode clamps the coordinate to ``[0, n - 1]``, the corner is ``floor(c)``, and a
  corner index past the edge is clamped too;
* the weights are ``w0 = 1 - (c - floor(c))`` and ``w1 = 1 - w0``, in float64;
* the 8 taps are summed in C order (last axis fastest), each ``((v * wz) * wy) * wx`` with ``v``
  the float32 value as float64, and the sum is rounded to float32 once.

So the result is bit-identical to SciPy's (``tests/scanners/test_fast_paths.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _axis(c, n):  # pragma: no cover - compiled
    if c < 0.0:
        c = 0.0
    elif c > n - 1:
        c = float(n - 1)
    i0 = int(np.floor(c))
    w0 = 1.0 - (c - np.floor(c))
    i1 = i0 + 1 if i0 + 1 < n else n - 1
    return i0, i1, w0, 1.0 - w0


@njit(cache=True, inline="always")
def _corners(s, z0, z1, wz0, wz1, y0, y1, wy0, wy1, x0, x1, wx0, wx1):  # pragma: no cover - compiled
    """The trilinear sum of one channel's 8 corners, in float64, in SciPy's order, as float32."""
    t = 0.0
    t += ((np.float64(s[z0, y0, x0]) * wz0) * wy0) * wx0
    t += ((np.float64(s[z0, y0, x1]) * wz0) * wy0) * wx1
    t += ((np.float64(s[z0, y1, x0]) * wz0) * wy1) * wx0
    t += ((np.float64(s[z0, y1, x1]) * wz0) * wy1) * wx1
    t += ((np.float64(s[z1, y0, x0]) * wz1) * wy0) * wx0
    t += ((np.float64(s[z1, y0, x1]) * wz1) * wy0) * wx1
    t += ((np.float64(s[z1, y1, x0]) * wz1) * wy1) * wx0
    t += ((np.float64(s[z1, y1, x1]) * wz1) * wy1) * wx1
    return np.float32(t)


@njit(cache=True)
def trilinear_shifted(stack, ud, sd, off):  # pragma: no cover - compiled
    """``stack`` (C, Z, Y, X) float32 sampled trilinearly (SciPy's ``map_coordinates``, order 1, mode
    "nearest", in its arithmetic) at ``coords[d] = float64(ud[d] + sd[d]) + (index_d + off[d])``, the
    coordinates ExM's warp builds (displacement and round shift in voxels, then the exact grid
    index in float64), made voxel by voxel instead of as three whole float64 arrays per round."""
    nc = stack.shape[0]
    nz, ny, nx = stack.shape[1], stack.shape[2], stack.shape[3]
    oz, oy, ox = ud.shape[1], ud.shape[2], ud.shape[3]
    out = np.empty((nc, oz, oy, ox), np.float32)
    for i in range(oz):
        for j in range(oy):
            for k in range(ox):
                cz = np.float64(ud[0, i, j, k] + sd[0]) + (np.float64(i) + off[0])
                cy = np.float64(ud[1, i, j, k] + sd[1]) + (np.float64(j) + off[1])
                cx = np.float64(ud[2, i, j, k] + sd[2]) + (np.float64(k) + off[2])
                z0, z1, wz0, wz1 = _axis(cz, nz)
                y0, y1, wy0, wy1 = _axis(cy, ny)
                x0, x1, wx0, wx1 = _axis(cx, nx)
                for ch in range(nc):
                    out[ch, i, j, k] = _corners(stack[ch], z0, z1, wz0, wz1, y0, y1, wy0, wy1, x0, x1, wx0, wx1)
    return out

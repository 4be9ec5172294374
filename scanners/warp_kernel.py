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

A barcode channel is zero outside the cells that express its protein (three in four voxels), so
a bit mask of the channels that are non-zero at each input voxel is made first: an output voxel
computes only the channels non-zero at one of its 8 corners, and writes ``+0.0`` for the others
(which is what the sum gives: zero taps add ``+0.0`` products to ``0.0``).
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


MASK_BITS = 64  # channels per compiled call (one bit each in the uint64 mask)


def trilinear_shifted(stack, ud, sd, off):
    """``stack`` (C, Z, Y, X) float32 sampled trilinearly (SciPy's ``map_coordinates``, order 1, mode
    "nearest", in its arithmetic) at ``coords[d] = float64(ud[d] + sd[d]) + (index_d + off[d])``, the
    coordinates ExM's warp builds (displacement and round shift in voxels, then the exact grid
    index in float64), made voxel by voxel instead of as three whole float64 arrays per round.

    Returns float32 (C,) + ``ud.shape[1:]``."""
    if stack.shape[0] <= MASK_BITS:
        return _trilinear_masked(stack, ud, sd, off)
    return np.concatenate([_trilinear_masked(stack[c:c + MASK_BITS], ud, sd, off)
                           for c in range(0, stack.shape[0], MASK_BITS)])


@njit(cache=True)
def _nonzero_mask(stack):  # pragma: no cover - compiled
    """uint64 (Z, Y, X): bit ``c`` set where channel ``c`` is not zero (at most 64 channels)."""
    mask = np.zeros(stack.shape[1:], np.uint64)
    for c in range(stack.shape[0]):
        bit = np.uint64(1) << np.uint64(c)
        s = stack[c]
        for i in range(s.shape[0]):
            for j in range(s.shape[1]):
                for k in range(s.shape[2]):
                    if s[i, j, k] != 0:
                        mask[i, j, k] |= bit
    return mask


@njit(cache=True)
def _trilinear_masked(stack, ud, sd, off):  # pragma: no cover - compiled
    """:func:`trilinear_shifted` for at most 64 channels."""
    nc = stack.shape[0]
    nz, ny, nx = stack.shape[1], stack.shape[2], stack.shape[3]
    oz, oy, ox = ud.shape[1], ud.shape[2], ud.shape[3]
    mask = _nonzero_mask(stack)
    out = np.empty((nc, oz, oy, ox), np.float32)
    one = np.uint64(1)
    for i in range(oz):
        for j in range(oy):
            for k in range(ox):
                cz = np.float64(ud[0, i, j, k] + sd[0]) + (np.float64(i) + off[0])
                cy = np.float64(ud[1, i, j, k] + sd[1]) + (np.float64(j) + off[1])
                cx = np.float64(ud[2, i, j, k] + sd[2]) + (np.float64(k) + off[2])
                z0, z1, wz0, wz1 = _axis(cz, nz)
                y0, y1, wy0, wy1 = _axis(cy, ny)
                x0, x1, wx0, wx1 = _axis(cx, nx)
                mk = (mask[z0, y0, x0] | mask[z0, y0, x1] | mask[z0, y1, x0] | mask[z0, y1, x1]
                      | mask[z1, y0, x0] | mask[z1, y0, x1] | mask[z1, y1, x0] | mask[z1, y1, x1])
                for ch in range(nc):
                    if (mk >> np.uint64(ch)) & one:
                        out[ch, i, j, k] = _corners(stack[ch], z0, z1, wz0, wz1, y0, y1, wy0, wy1, x0, x1, wx0, wx1)
                    else:  # every corner zero: the sum of +0.0 products
                        out[ch, i, j, k] = 0.0
    return out

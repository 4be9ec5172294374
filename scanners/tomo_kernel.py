"""Compiled (numba) parallel-beam projector and back-projector with no stored matrix.

Each pixel's detector coordinate is computed where it is used, with the float64 -> float32 steps
of :meth:`scanners.tomo.ParallelBeam.matrix_block` (``u`` in float64, the weights in float32), and
every output element is accumulated in the order SciPy's sparse products use (``csc_matvecs``:
pixel by pixel into each bin; ``csr_matvecs`` of the transpose: each pixel sums its entries in row
order within a block of angles, and the block sums are added).  Float32 products and sums, no
fast-math: the images are the same bits as the sparse products'.

Arrays are (bins or pixels, rows): the rows of a slab are the innermost axis, as the sparse
products' dense operands are.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _x_terms(xc, cos):  # pragma: no cover - compiled
    """``xc[ix] * cos[a]`` (float64, (angles, nx)): the part of ``u`` shared by every image row."""
    t = np.empty((len(cos), len(xc)))
    for a in range(len(cos)):
        for ix in range(len(xc)):
            t[a, ix] = xc[ix] * cos[a]
    return t


@njit(cache=True, inline="always")
def _bin(y_term, x_term, half):  # pragma: no cover - compiled
    """Detector bin ``u0`` and the weights ``(1 - w1, w1)`` of a pixel:
    ``u = (yc sin + xc cos) + (n_u - 1) / 2`` in float64, ``w1 = float32(u - floor(u))``."""
    u = y_term + x_term
    u = u + half
    u0 = np.floor(u)
    w1 = np.float32(u - u0)
    return int(u0), np.float32(1.0) - w1, w1


@njit(cache=True)
def project_rows(x, yc, xc, sin, cos, half, n_u, out):  # pragma: no cover - compiled
    """``out[a n_u + u, r] += w * x[j, r]``, each bin summing its pixels ``j`` in increasing
    order (from zero): the CSC product.  Image row by image row, then angle by angle, so that one
    row's pixels and the bins they reach stay in cache.

    ``x``: float32 (ny nx, rows); ``out``: float32 zeros (n_angles n_u, rows); ``yc``, ``xc``:
    float64 pixel-centre offsets; ``sin``, ``cos``: float64 per angle; ``half = (n_u - 1) / 2``.
    """
    nx, rows = len(xc), x.shape[1]
    x_terms = _x_terms(xc, cos)
    for iy in range(len(yc)):
        for a in range(len(sin)):
            y_term = yc[iy] * sin[a]
            for ix in range(nx):
                u0, w0, w1 = _bin(y_term, x_terms[a, ix], half)
                xj, o0, o1 = x[iy * nx + ix], out[a * n_u + u0], out[a * n_u + u0 + 1]
                for r in range(rows):
                    o0[r] += w0 * xj[r]
                for r in range(rows):
                    o1[r] += w1 * xj[r]


@njit(cache=True)
def backproject_rows(s, yc, xc, sin, cos, half, n_u, block, out):  # pragma: no cover - compiled
    """The transpose: each pixel sums ``w * s[bin, r]`` over the angles of a block (from zero,
    in the matrix's row order: angle by angle, bin ``u0`` then ``u0 + 1``) and adds each block's
    sum to ``out[j, r]`` (float32 zeros, (ny nx, rows)); ``s``: float32 (n_angles n_u, rows).
    One image row's block sums are kept at a time."""
    nx, rows, n_a = len(xc), s.shape[1], len(sin)
    x_terms = _x_terms(xc, cos)
    tmp = np.zeros((nx, rows), np.float32)
    for iy in range(len(yc)):
        for start in range(0, n_a, block):
            tmp[:] = 0.0
            for a in range(start, min(start + block, n_a)):
                y_term = yc[iy] * sin[a]
                for ix in range(nx):
                    u0, w0, w1 = _bin(y_term, x_terms[a, ix], half)
                    t, s0, s1 = tmp[ix], s[a * n_u + u0], s[a * n_u + u0 + 1]
                    for r in range(rows):
                        t[r] += w0 * s0[r]
                        t[r] += w1 * s1[r]
            for ix in range(nx):
                o, t = out[iy * nx + ix], tmp[ix]
                for r in range(rows):
                    o[r] += t[r]

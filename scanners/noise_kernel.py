"""Compiled (numba) kernels of :mod:`scanners.noise`: the same bits as its numpy formulas, faster.

``hash_uniform`` on numpy arrays runs each splitmix64 round as a handful of whole-array
temporaries; a 3-D texture lattice finer than the voxels (the EM granules: 9 nm on 16 nm pixels)
made that the largest scanner cost of an EM chunk (benchmarks/RESULTS.md).  Here each lattice
point is hashed, and each voxel interpolated, in one pass.  Every operation and its order is the
numpy one (integer rounds are exact; the float32 interpolation ``a + (b - a) * f`` is evaluated
in the same order, without fused multiply-adds: numba does not contract without ``fastmath``), so
the fields are bit-identical: ``tests/scanners/test_fast_paths.py`` checks it.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S11, _S27, _S30, _S31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_INV53 = 1.0 / (1 << 53)
_NBIN = 64  # bins of u in the speckle's CDF look-up
_NSLOT = 64  # CDF tables kept at once by the speckle (a power of two)


@njit(cache=True, inline="always")
def _mix(h, c):  # pragma: no cover - compiled
    """One round of :func:`scanners.noise.hash_uniform`: ``splitmix(h ^ (c + golden))``."""
    h = h ^ (np.uint64(c) + _GOLDEN)
    h = (h ^ (h >> _S30)) * _M1
    h = (h ^ (h >> _S27)) * _M2
    return h ^ (h >> _S31)


@njit(cache=True)
def hash_uniform_1d(key, c):  # pragma: no cover - compiled
    """``hash_uniform(key, c)`` for a 1-D int64 array ``c`` (float64 in [0, 1))."""
    out = np.empty(c.shape[0], np.float64)
    k = np.uint64(key)
    for i in range(c.shape[0]):
        out[i] = np.float64(_mix(k, c[i]) >> _S11) * _INV53
    return out


@njit(cache=True)
def lattice_field_3d(key, z0, nz, y0, ny, x0, nx):  # pragma: no cover - compiled
    """``float32(2 * hash_uniform(key, z, y, x) - 1)`` on the lattice ``z0 + arange(nz)`` x ..."""
    out = np.empty((nz, ny, nx), np.float32)
    k = np.uint64(key)
    for i in range(nz):
        hz = _mix(k, z0 + i)
        for j in range(ny):
            hy = _mix(hz, y0 + j)
            for m in range(nx):
                u = np.float64(_mix(hy, x0 + m) >> _S11) * _INV53
                out[i, j, m] = np.float32(2.0 * u - 1.0)
    return out


@njit(cache=True)
def interpolate_3d(field, iz, fz, iy, fy, ix, fx):  # pragma: no cover - compiled
    """Separable interpolation of ``field`` along z, then y, then x (``a + (b - a) * f``, float32).

    ``iz`` etc. are the lower lattice index of each output voxel (relative to the lattice's
    first point), ``fz`` etc. the float32 weights: the numpy steps of ``lattice_noise``.
    """
    nz, ny, nx = iz.shape[0], iy.shape[0], ix.shape[0]
    ly, lx = field.shape[1], field.shape[2]
    t1 = np.empty((nz, ly, lx), np.float32)
    for i in range(nz):
        f = fz[i]
        for j in range(ly):
            for m in range(lx):
                a = field[iz[i], j, m]
                t1[i, j, m] = a + (field[iz[i] + 1, j, m] - a) * f
    t2 = np.empty((nz, ny, lx), np.float32)
    for i in range(nz):
        for j in range(ny):
            f = fy[j]
            for m in range(lx):
                a = t1[i, iy[j], m]
                t2[i, j, m] = a + (t1[i, iy[j] + 1, m] - a) * f
    out = np.empty((nz, ny, nx), np.float32)
    for i in range(nz):
        for j in range(ny):
            for m in range(nx):
                a = t2[i, j, ix[m]]
                out[i, j, m] = a + (t2[i, j, ix[m] + 1] - a) * fx[m]
    return out


@njit(cache=True)
def poisson_cdf_inverse_flat(m, u, pmf0, kmax):  # pragma: no cover - compiled
    """:func:`scanners.noise.poisson_cdf_inverse` element by element (``pmf0 = exp(-m)``, given:
    numpy's exp, so that the first term has the same bits); the same float64 sums in the same order."""
    k = np.zeros(m.shape[0], np.float64)
    for i in range(m.shape[0]):
        mi, ui = m[i], u[i]
        pmf = pmf0[i]
        cdf = pmf
        n = 0.0
        for j in range(kmax):
            if not ui > cdf:
                break
            n += 1.0
            pmf = pmf * mi / (j + 1)
            cdf = cdf + pmf
        k[i] = n
    return k


@njit(cache=True)
def hash_grid_3d(key, prefix, z, y, x):  # pragma: no cover - compiled
    """``hash_uniform(key, *prefix, Z, Y, X)`` on the open grid of 1-D int64 axes (float64)."""
    h = np.uint64(key)
    for c in prefix:
        h = _mix(h, c)
    out = np.empty((z.shape[0], y.shape[0], x.shape[0]), np.float64)
    for i in range(z.shape[0]):
        hz = _mix(h, z[i])
        for j in range(y.shape[0]):
            hy = _mix(hz, y[j])
            for m in range(x.shape[0]):
                out[i, j, m] = np.float64(_mix(hy, x[m]) >> _S11) * _INV53
    return out


@njit(cache=True, inline="always")
def _cdf_terms(mean, kmax, u_hi, tab, edge):  # pragma: no cover - compiled
    """The Poisson CDF terms of ``mean`` into ``tab`` (the float64 sums of ``poisson_cdf_inverse``,
    kept until one reaches ``u_hi``) and, for each of the _NBIN + 1 bin edges ``b / _NBIN``, the
    first term at or above it into ``edge``."""
    ntab = 1
    pmf = np.exp(-mean)
    tab[0] = pmf
    while ntab < kmax and tab[ntab - 1] < u_hi:
        pmf = pmf * mean / ntab
        tab[ntab] = tab[ntab - 1] + pmf
        ntab += 1
    t = 0
    for b in range(_NBIN + 1):
        while t < ntab and tab[t] < b / _NBIN:
            t += 1
        edge[b] = t


@njit(cache=True)
def speckle_small(density, mpu, key, prefix, z, y, x, u_lo, u_hi, big, kmax, scales, lut, index):  # pragma: no cover
    """:func:`scanners.labelling.speckle` where the mean ``density * mpu`` is below ``big``:
    ``u = clip(hash_uniform(key, *prefix, z, y, x), u_lo, u_hi)``, the exact inverse Poisson CDF
    (the float64 sums of ``poisson_cdf_inverse``), divided by ``mpu``, as float32.  Voxels whose
    mean is ``>= big`` are left NaN (the caller fills them); returns ``(out, number of those)``.
    ``scales`` (float32): the result is multiplied by each in turn, in float32.  ``lut`` (float32,
    1-D) and ``index`` (3-D ints like ``density``): if ``lut`` is not empty the density is
    ``density * lut[index]`` (the float32 product), e.g. a per-cell expression factor."""
    h = np.uint64(key)
    for c in prefix:
        h = _mix(h, c)
    out = np.empty(density.shape, np.float32)
    nbig = 0
    # the CDF terms depend on the mean only, and a chunk has few means (a cell's barcode density
    # is one value): each mean's terms are kept in one of _NSLOT slots (chosen from the mean,
    # overwritten when another mean needs it) and looked up, not re-summed
    keys = np.full(_NSLOT, np.nan)
    tabs = np.empty((_NSLOT, kmax + 1), np.float64)
    edges = np.zeros((_NSLOT, _NBIN + 1), np.int64)
    last, cur = np.nan, 0
    for i in range(z.shape[0]):
        hz = _mix(h, z[i])
        for j in range(y.shape[0]):
            hy = _mix(hz, y[j])
            for m in range(x.shape[0]):
                dv = density[i, j, m]
                if lut.shape[0]:
                    dv = dv * lut[index[i, j, m]]
                mean = np.float64(dv) * mpu
                if mean >= big:
                    out[i, j, m] = np.nan
                    nbig += 1
                    continue
                n = 0.0
                if mean > 0:
                    u = np.float64(_mix(hy, x[m]) >> _S11) * _INV53
                    u = min(max(u, u_lo), u_hi)
                    if mean != last:
                        last, cur = mean, int(min(mean, 1e9) * 1048576.0) & (_NSLOT - 1)
                        if keys[cur] != mean:  # this mean's CDF terms, as the plain loop sums them
                            keys[cur] = mean
                            _cdf_terms(mean, kmax, u_hi, tabs[cur], edges[cur])
                    # the count is the first k with u <= cdf_k (kmax if none).  The terms add
                    # non-negative pmfs, so the CDF never decreases and ``u > cdf_k`` holds on a
                    # prefix of k: its length is the number of k where it holds (past the last
                    # term kept, cdf >= u_hi >= u).  Below the edge of u's bin it holds, from the
                    # next edge on it does not: only the terms in between are compared.
                    b = int(u * _NBIN)
                    kk = edges[cur, b]
                    for t in range(edges[cur, b], edges[cur, b + 1]):
                        kk += u > tabs[cur, t]
                    n = float(kk)
                v = np.float32(n / mpu)
                for sc in scales:
                    v = v * sc
                out[i, j, m] = v
    return out, nbig


@njit(cache=True)
def _lattice_axis(a, length):  # pragma: no cover - compiled
    """One axis of :func:`scanners.noise.lattice_noise`: lower lattice index relative to the
    first one (int64), smoothstep weight (float32), first index, lattice points; the same
    float64 steps (``t = a / length``, ``f = t - floor(t)``, ``f * f * (3 - 2 * f)``)."""
    n = a.shape[0]
    i0 = np.empty(n, np.int64)
    fr = np.empty(n, np.float32)
    for i in range(n):
        t = a[i] / length
        k = np.floor(t)
        f = t - k
        f = f * f * (3.0 - 2.0 * f)
        i0[i] = np.int64(k)
        fr[i] = np.float32(f)
    lo = i0.min()
    return i0 - lo, fr, lo, i0.max() - lo + 2


@njit(cache=True)
def lattice_noise_3d(key, az, ay, ax, length):  # pragma: no cover - compiled
    """:func:`scanners.noise.lattice_noise` on three non-empty float64 axes, in one call."""
    rz, fz, z0, nz = _lattice_axis(az, length)
    ry, fy, y0, ny = _lattice_axis(ay, length)
    rx, fx, x0, nx = _lattice_axis(ax, length)
    field = lattice_field_3d(key, z0, nz, y0, ny, x0, nx)
    return interpolate_3d(field, rz, fz, ry, fy, rx, fx)

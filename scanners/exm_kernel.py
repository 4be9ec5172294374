"""ExM's detector in one compiled pass: the same bits as its numpy steps, without their temporaries.

After the blur, each ExM channel went through about fifteen whole-array numpy passes (bleaching
gain, background, :func:`scanners.noise.poisson_from_normal`, read noise, gain and offset,
:func:`scanners.base.to_dtype`).  :func:`detect` makes them one loop over the voxels with the same
float32 operations in the same order (numba keeps float32 arithmetic in float32 when every
operand is float32, and does not contract multiply-adds without ``fastmath``), so the counts are
bit-identical (``tests/scanners/test_fast_paths.py``).  Voxels whose mean photon count is below
:data:`scanners.noise._SMALL_MEAN` (the exact inverse-CDF branch) or not a finite non-negative
number are not handled here: :func:`detect` then reports failure and the caller runs the numpy
steps (which also raise the error for a bad mean).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def detect(img, z_photon, z_read, scale, background, read_e, gain, offset, small, one, sixth, to_uint16):  # pragma: no cover - compiled
    """Digitized counts of one channel, or ``(out, False)`` if a mean is below ``small`` or not finite.

    Per voxel, all in float32: ``m = img * scale + background``; photon count
    ``max(rint(sqrt(m) * z + m + (z * z - one) * sixth), 0)`` (:func:`scanners.noise.poisson_from_normal`'s
    large-mean branch, its operations in its order); ``+ read_e * z_read``; ``* gain + offset``;
    then ``clip(rint(v), 0, 65535)`` as uint16 if ``to_uint16``, else the float32 value.
    """
    n0, n1, n2 = img.shape
    out_f = np.empty((n0, n1, n2) if not to_uint16 else (0, 0, 0), np.float32)
    out_u = np.empty((n0, n1, n2) if to_uint16 else (0, 0, 0), np.uint16)
    inf = np.float32(np.inf)
    zero = np.float32(0.0)
    top = np.float32(65535.0)
    for i in range(n0):
        for j in range(n1):
            for k in range(n2):
                m = img[i, j, k] * scale
                m = m + background
                if not (m >= small and m < inf):
                    return out_f, out_u, False
                z = z_photon[i, j, k]
                o = np.sqrt(m) * z
                o = o + m
                o = o + (z * z - one) * sixth
                o = np.rint(o)
                if not (o >= zero):  # np.maximum(o, 0): o itself where o >= 0 (o is never NaN here)
                    o = zero
                o = o + read_e * z_read[i, j, k]
                o = o * gain + offset
                if to_uint16:
                    o = np.rint(o)
                    o = min(max(o, zero), top)
                    out_u[i, j, k] = np.uint16(o)
                else:
                    out_f[i, j, k] = o
    return out_f, out_u, True


@njit(cache=True)
def nonzero_box(a):  # pragma: no cover - compiled
    """Bounding box ``(lo, hi)`` (int64 (3,) each, ``hi`` exclusive) of the non-zero voxels of a 3-D
    array; ``hi <= lo`` on some axis when every voxel is zero."""
    lo = np.array([a.shape[0], a.shape[1], a.shape[2]], np.int64)
    hi = np.zeros(3, np.int64)
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            for k in range(a.shape[2]):
                if a[i, j, k] != 0:
                    lo[0] = min(lo[0], i)
                    lo[1] = min(lo[1], j)
                    lo[2] = min(lo[2], k)
                    hi[0] = max(hi[0], i + 1)
                    hi[1] = max(hi[1], j + 1)
                    hi[2] = max(hi[2], k + 1)
    return lo, hi


def gaussian_weights(sigma: float, truncate: float = 4.0) -> np.ndarray:
    """The kernel ``scipy.ndimage.gaussian_filter1d`` correlates with (order 0): radius
    ``int(truncate * sigma + 0.5)``, ``exp(-0.5 / sigma**2 * x**2)`` normalized, float64 (the same
    numpy steps as SciPy's ``_gaussian_kernel1d``; symmetric)."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1)
    phi = np.exp(-0.5 / (float(sigma) * float(sigma)) * x ** 2)
    return phi / phi.sum()


@njit(cache=True)
def gaussian_pass(a, w, axis, lo, hi):  # pragma: no cover - compiled
    """One ``gaussian_filter1d`` pass of the float32 3-D array ``a`` along ``axis`` with the
    symmetric kernel ``w`` (radius ``r = len(w) // 2``), kept only for ``lo <= index < hi`` on that
    axis, which must lie ``r`` inside ``a`` (so no boundary mode is ever used).

    SciPy's arithmetic (``ni_filters.c``, ``NI_Correlate1D``, symmetric kernel): per output, in
    float64, ``x[i] * w[r]``, then ``+= (x[i - j] + x[i + j]) * w[r - j]`` for ``j = r .. 1``, then
    rounded to float32.  Lines are processed side by side (the last axis innermost), each
    element's sum in that order: the same bits."""
    r = w.shape[0] // 2
    n0, n1, n2 = a.shape
    shape = [n0, n1, n2]
    shape[axis] = hi - lo
    out = np.empty((shape[0], shape[1], shape[2]), np.float32)
    acc = np.empty(n2, np.float64)
    for i in range(shape[0]):
        for k in range(shape[1]):
            if axis == 0:
                c = i + lo
                for m in range(n2):
                    acc[m] = np.float64(a[c, k, m]) * w[r]
                for j in range(r, 0, -1):
                    for m in range(n2):
                        acc[m] += (np.float64(a[c - j, k, m]) + np.float64(a[c + j, k, m])) * w[r - j]
            elif axis == 1:
                c = k + lo
                for m in range(n2):
                    acc[m] = np.float64(a[i, c, m]) * w[r]
                for j in range(r, 0, -1):
                    for m in range(n2):
                        acc[m] += (np.float64(a[i, c - j, m]) + np.float64(a[i, c + j, m])) * w[r - j]
            else:
                for m in range(shape[2]):
                    acc[m] = np.float64(a[i, k, m + lo]) * w[r]
                for j in range(r, 0, -1):
                    for m in range(shape[2]):
                        acc[m] += (np.float64(a[i, k, m + lo - j]) + np.float64(a[i, k, m + lo + j])) * w[r - j]
            for m in range(shape[2]):
                out[i, k, m] = np.float32(acc[m])
    return out


def blur_inner(image: np.ndarray, sigma, inner, truncate: float) -> np.ndarray:
    """``scanners.psf.blur(image, sigma, inner)`` by :func:`gaussian_pass` where ``inner`` lies at
    least each axis' kernel radius inside ``image`` (an ExM chunk's blur halo), else None."""
    out = np.asarray(image, np.float32)
    for ax, s in enumerate(sigma):
        lo, hi = inner[ax].start, inner[ax].stop
        if s > 0:
            w = gaussian_weights(s, truncate)
            r = w.shape[0] // 2
            if lo < r or hi > out.shape[ax] - r:
                return None
            out = gaussian_pass(out, w, ax, lo, hi)
        else:
            out = out[(slice(None),) * ax + (slice(lo, hi),)]
    return out

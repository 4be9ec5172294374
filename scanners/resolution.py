"""Measuring resolution on rendered images: edge-spread fits and Fourier ring correlation."""

from __future__ import annotations

import numpy as np
from scipy import optimize, special

from .psf import FWHM_PER_SIGMA


def edge_spread_fwhm(values: np.ndarray, distance_nm: np.ndarray, *, window_nm: float | None = None) -> float:
    """FWHM (nm) of a Gaussian PSF, from an image of a straight edge.

    A blurred step is ``a + b * Phi(d / sigma)`` where ``d`` is the signed distance of each voxel
    centre to the edge.  With a slightly tilted edge, voxels sample ``d`` at many sub-voxel
    offsets (the slanted-edge method), so the fit resolves widths below a voxel.

    Parameters
    ----------
    values : array
        Image values (any shape).
    distance_nm : array
        Signed distance of each voxel centre to the edge, same shape.
    window_nm : float, optional
        Only voxels with ``|d| < window_nm`` enter the fit.

    Returns
    -------
    float
        ``2 sqrt(2 ln 2) sigma`` of the fitted edge.
    """
    v = np.asarray(values, float).ravel()
    d = np.asarray(distance_nm, float).ravel()
    if window_nm is not None:
        keep = np.abs(d) < window_nm
        v, d = v[keep], d[keep]
    lo, hi = np.percentile(v[d < 0], 50), np.percentile(v[d > 0], 50)
    span = np.abs(d).max()

    def model(x, a, b, s, x0):
        return a + b * special.ndtr((x - x0) / s)

    p0 = (lo, hi - lo, span / 10, 0.0)
    (a, b, s, x0), _ = optimize.curve_fit(model, d, v, p0=p0, maxfev=20000)
    return float(abs(s) * FWHM_PER_SIGMA)


def fourier_ring_correlation(a: np.ndarray, b: np.ndarray, n_bins: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """FRC of two independent images of the same 2-D object.

    Returns
    -------
    frequency, frc : arrays
        Ring centres in cycles per pixel (0..0.5) and the correlation in each ring.
    """
    fa, fb = np.fft.fft2(a - a.mean()), np.fft.fft2(b - b.mean())
    fy = np.fft.fftfreq(a.shape[0])[:, None]
    fx = np.fft.fftfreq(a.shape[1])[None, :]
    r = np.sqrt(fy ** 2 + fx ** 2).ravel()
    edges = np.linspace(0, 0.5, n_bins + 1)
    idx = np.digitize(r, edges) - 1
    ok = (idx >= 0) & (idx < n_bins)
    num = np.bincount(idx[ok], (fa * np.conj(fb)).real.ravel()[ok], n_bins)
    da = np.bincount(idx[ok], (np.abs(fa) ** 2).ravel()[ok], n_bins)
    db = np.bincount(idx[ok], (np.abs(fb) ** 2).ravel()[ok], n_bins)
    return (edges[:-1] + edges[1:]) / 2, num / np.sqrt(da * db + 1e-30)


def frc_resolution_nm(a: np.ndarray, b: np.ndarray, pixel_nm: float, threshold: float = 1 / 7) -> float:
    """Resolution (nm, a full period) where the FRC of two noisy images first drops below ``threshold``."""
    f, c = fourier_ring_correlation(a, b)
    below = np.flatnonzero((c < threshold) & (f > 0))
    fc = f[below[0]] if below.size else 0.5
    return float(pixel_nm / fc)

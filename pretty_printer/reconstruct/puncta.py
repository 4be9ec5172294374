"""Small receptor puncta in an ExM stain: a matched filter and a per-voxel noise threshold.

A receptor punctum is the PSD's receptor slab (a disc a few tens of nm across) blurred by the
light-sheet PSF.  Its shape is known up to the disc's size, so the detector a fluorescence
analysis uses for dim spots is a *matched filter*: correlate the image with the expected spot,
here a Gaussian whose width on each axis is the PSF's (published ``psf_fwhm_nm`` divided by the
``expansion_factor``, over 2.355) added in quadrature to ``PSD_SIGMA_NM``, the standard deviation
of a small PSD disc's receptors along a line (a uniform disc of radius r has r / 2;
r = 60-80 nm for the 3-15 receptor synapses that a 5-sigma detector missed on ``tiny``).  For a
spot in white noise the matched filter maximizes the peak's signal-to-noise ratio
(North 1943; e.g. Olivo-Marin, Pattern Recognition 35:1989, 2002 for fluorescent spots).

The threshold comes from the image's own noise.  The white-noise level is the filtered image's
robust deviation (median absolute deviation x 1.4826: puncta fill a small fraction of the
volume).  A Gaussian filter that reflects at the block faces averages fewer independent voxels
there, so its noise is up to ~1.3x larger in the first and last sections (measured on ``tiny``:
most peaks above 4.5 deviations far from any synapse sat in sections 0 and 32).  Each voxel's
noise is therefore the white level times the filter's exact noise gain at that voxel
(:func:`noise_gain`: the root sum of its squared weights, relative to the interior), and a
punctum is a local maximum of the filtered image whose value exceeds ``threshold`` times its
own voxel's noise.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PSD_SIGMA_NM = 35.0  # spread of a small PSD's receptors along one axis (radius ~70 nm / 2)
FWHM_PER_SIGMA = 2.0 * np.sqrt(2.0 * np.log(2.0))


def matched_sigma_vox(settings: dict, voxel_nm) -> np.ndarray:
    """Per-axis width of the matched filter, voxels.

    Parameters
    ----------
    settings : dict
        The ExM scan's public settings (``psf_fwhm_nm`` in the expanded sample, nm;
        ``expansion_factor``).
    voxel_nm : (3,) float
        Voxel size in tissue nm, (z, y, x).

    Returns
    -------
    (3,) float
        ``sqrt(psf_sigma^2 + PSD_SIGMA_NM^2) / voxel_nm``.
    """
    fwhm = np.asarray(settings.get("psf_fwhm_nm", (0.0, 0.0, 0.0)), float)
    psf_sigma = fwhm / float(settings.get("expansion_factor", 1.0) or 1.0) / FWHM_PER_SIGMA
    return np.sqrt(psf_sigma ** 2 + PSD_SIGMA_NM ** 2) / np.asarray(voxel_nm, float)


def _axis_gain(n: int, sigma: float) -> np.ndarray:
    """Root sum of squared weights of a reflected 1-D Gaussian filter at each of ``n`` points."""
    weights = ndimage.gaussian_filter1d(np.eye(n), sigma, axis=0, mode="reflect")  # row i: output i
    return np.sqrt((weights ** 2).sum(axis=1))


def noise_gain(shape, sigma_vox) -> np.ndarray:
    """Noise of a reflected Gaussian filter's output per voxel, relative to the block's median.

    For white noise of deviation s, a separable filter's output at voxel ``(z, y, x)`` has
    deviation ``s * a_z[z] * a_y[y] * a_x[x]`` with ``a`` the root sum of squared 1-D weights
    (reflected at the faces, as :func:`scipy.ndimage.gaussian_filter` does).

    Parameters
    ----------
    shape : (3,) int
    sigma_vox : (3,) float
        The filter's standard deviations, voxels.

    Returns
    -------
    (Z, Y, X) float
        1 in the interior, larger within a few widths of a face.
    """
    a = _axis_gains(shape, sigma_vox)
    return a[0][:, None, None] * a[1][None, :, None] * a[2][None, None, :]


def _axis_gains(shape, sigma_vox) -> list[np.ndarray]:
    """The three 1-D factors of :func:`noise_gain`, each relative to its median."""
    a = [_axis_gain(int(n), float(s)) for n, s in zip(shape, sigma_vox)]
    return [x / np.median(x) for x in a]


def matched_filter(photons: np.ndarray, sigma_vox) -> tuple[np.ndarray, np.ndarray]:
    """The matched-filtered stain and its noise deviation per voxel.

    Parameters
    ----------
    photons : (Z, Y, X) float
        Background-subtracted stain, photons per voxel.
    sigma_vox : (3,) float
        :func:`matched_sigma_vox`.

    Returns
    -------
    filtered : (Z, Y, X) float32
    noise : (Z, Y, X) float32
        The filtered image's robust deviation (MAD x 1.4826) times :func:`noise_gain`; photons.
    """
    filtered = ndimage.gaussian_filter(np.asarray(photons, np.float32), sigma_vox)
    dev = filtered - np.median(filtered)
    np.abs(dev, out=dev)
    level = float(np.median(dev, overwrite_input=True) * 1.4826) or 1.0
    del dev
    # level x noise_gain section by section: the same float64 products, then float32, without
    # noise_gain's float64 volume and its scaled copy (16 B a voxel)
    a = _axis_gains(filtered.shape, sigma_vox)
    noise = np.empty(filtered.shape, np.float32)
    for z in range(filtered.shape[0]):
        noise[z] = level * (a[0][z] * a[1][:, None] * a[2][None, :])
    return filtered, noise


def detect_peaks(filtered: np.ndarray, noise: np.ndarray, threshold: float, footprint) -> np.ndarray:
    """Local maxima of ``filtered`` (within ``footprint``) above ``threshold`` x their own noise.

    Returns
    -------
    (P, 3) int
        Peak voxels, strongest first.
    """
    from skimage.feature import peak_local_max

    floor = threshold * float(noise.min())
    peaks = peak_local_max(filtered, footprint=footprint, threshold_abs=floor, exclude_border=False)
    if not len(peaks):
        return peaks.reshape(0, 3)
    keep = filtered[tuple(peaks.T)] > threshold * noise[tuple(peaks.T)]
    return peaks[keep]

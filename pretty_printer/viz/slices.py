"""Planes of a scan as pictures: mid-planes and maximum projections read plane by plane from
Zarr, contrast, stain and barcode colour composites, label overlays, and the three-panel figure."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from pretty_printer.errors import DatasetError


def mid_planes(arr, channels: Sequence[int] | int = 0) -> dict[str, np.ndarray]:
    """The z, y and x mid-planes of a (c, z, y, x) array for the given channel(s).

    Returns arrays of shape (len(channels), a, b) if ``channels`` is a sequence, else (a, b):
    ``"z"`` is (y, x), ``"y"`` is (z, x) and ``"x"`` is (z, y).
    """
    _, nz, ny, nx = arr.shape
    chans = [channels] if isinstance(channels, (int, np.integer)) else list(channels)
    planes = {
        "z": np.stack([np.asarray(arr[c, nz // 2, :, :]) for c in chans]),
        "y": np.stack([np.asarray(arr[c, :, ny // 2, :]) for c in chans]),
        "x": np.stack([np.asarray(arr[c, :, :, nx // 2]) for c in chans]),
    }
    if isinstance(channels, (int, np.integer)):
        return {k: v[0] for k, v in planes.items()}
    return planes


def max_projections(arr, channels: Sequence[int], smooth_voxels: float = 0.0) -> dict[str, np.ndarray]:
    """Maximum-intensity projections of a (c, z, y, x) array along z, y and x for the channels.

    Returns (len(channels), a, b) arrays keyed like :func:`mid_planes`.  Read one z-plane at a
    time, so memory stays at one plane per channel whatever the volume.  ``smooth_voxels`` > 0
    first blurs each plane in y and x with a Gaussian of that sigma: shot noise is independent
    per voxel while a punctum spans the point-spread function, so the maximum then picks puncta
    rather than the brightest noise voxel along the ray.
    """
    from scipy.ndimage import gaussian_filter

    _, nz, ny, nx = arr.shape
    chans = list(channels)
    along_z = None
    along_y = np.empty((len(chans), nz, nx), float)
    along_x = np.empty((len(chans), nz, ny), float)
    for z in range(nz):
        plane = np.stack([np.asarray(arr[c, z, :, :], float) for c in chans])  # (c, y, x)
        if smooth_voxels > 0:
            plane = gaussian_filter(plane, (0, smooth_voxels, smooth_voxels))
        along_z = plane if along_z is None else np.maximum(along_z, plane)
        along_y[:, z, :] = plane.max(axis=1)
        along_x[:, z, :] = plane.max(axis=2)
    return {"z": along_z, "y": along_y, "x": along_x}


def stain_rgb(stack: np.ndarray, *, noise_sds: float = 3.0, span_sds: float = 30.0) -> np.ndarray:
    """Up to three sparse stains (n, a, b) as R, G, B, black wherever a stain is within noise.

    Each channel's background level and noise come from its median and median absolute deviation
    (puncta are too few to move either); black is ``noise_sds`` noise deviations above the
    background, full colour is the brightest value but at least ``span_sds`` deviations above
    black, so a channel with no puncta stays dark instead of stretching its noise to full scale.
    A square root brings up weak puncta next to a strong one.
    """
    stack = np.asarray(stack, float)
    channels = []
    for c in stack[:3]:
        med = float(np.median(c))
        sd = 1.4826 * float(np.median(np.abs(c - med))) or float(c.std()) or 1.0
        lo = med + noise_sds * sd
        hi = max(float(c.max()), lo + span_sds * sd)
        channels.append(np.sqrt(np.clip((c - lo) / (hi - lo), 0.0, 1.0)))
    while len(channels) < 3:
        channels.append(np.zeros_like(channels[0]))
    return np.stack(channels, axis=-1)


def contrast(img: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.5) -> np.ndarray:
    """Scale to [0, 1] between two percentiles (robust to hot pixels)."""
    img = np.asarray(img, float)
    lo, hi = np.percentile(img, [lo_pct, hi_pct]) if img.size else (0.0, 1.0)
    if hi <= lo:
        return np.zeros_like(img)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0)


def _extents_um(shape_zyx, voxel_nm) -> dict[str, list[float]]:
    size = np.asarray(shape_zyx, float) * np.asarray(voxel_nm, float) / 1000.0
    z, y, x = size
    # imshow extent = (left, right, bottom, top); origin upper, so top is 0
    return {"z": [0, x, y, 0], "y": [0, x, z, 0], "x": [0, y, z, 0]}


_AXES = {"z": ("x (um)", "y (um)"), "y": ("x (um)", "z (um)"), "x": ("y (um)", "z (um)")}


def label_colors(labels: np.ndarray) -> np.ndarray:
    """RGB image of a label plane: a fixed pseudo-random colour per id, black for 0."""
    labels = np.asarray(labels, np.int64)
    ids = np.unique(labels)
    out = np.zeros(labels.shape + (3,), float)
    for i in ids[ids != 0]:
        # hash the id so colours do not depend on which other ids are present
        h = np.random.default_rng(int(i) * 2654435761 % (2**32)).uniform(0.25, 1.0, 3)
        out[labels == i] = h
    return out


MIP_TITLES = {"z": "max along z", "y": "max along y", "x": "max along x"}


def plot_slices(planes: dict, voxel_nm, shape_zyx, path: Path, *, title: str,
                label_planes: dict | None = None, rgb: bool = False, plane_titles: dict | None = None) -> Path:
    """Three orthogonal planes side by side (and the truth labels below, if given)."""
    from pretty_printer.viz import figures as plt  # no backend change, no global state
    ext = _extents_um(shape_zyx, voxel_nm)
    rows = 2 if label_planes is not None else 1
    fig, axes = plt.subplots(rows, 3, figsize=(13, 3.6 * rows), dpi=100, squeeze=False,
                             gridspec_kw={"width_ratios": [ext["z"][1], ext["y"][1], ext["x"][1]]})
    for j, k in enumerate(("z", "y", "x")):
        ax = axes[0, j]
        img = planes[k]
        ax.imshow(img if rgb else contrast(img), cmap=None if rgb else "gray", extent=ext[k],
                  interpolation="nearest", aspect="equal")
        ax.set_title((plane_titles or {}).get(k, f"{k} mid-plane"), fontsize=9)
        ax.set_xlabel(_AXES[k][0], fontsize=8)
        ax.set_ylabel(_AXES[k][1], fontsize=8)
        ax.tick_params(labelsize=7)
        if label_planes is not None:
            axl = axes[1, j]
            axl.imshow(label_colors(label_planes[k]), extent=ext[k], interpolation="nearest", aspect="equal")
            axl.set_title(f"truth labels, {k} mid-plane", fontsize=9)
            axl.set_xlabel(_AXES[k][0], fontsize=8)
            axl.set_ylabel(_AXES[k][1], fontsize=8)
            axl.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def barcode_rgb(stack: np.ndarray) -> np.ndarray:
    """An RGB composite of n barcode channels (n, a, b): themselves if n <= 3, else their top-3 PCA.

    Each channel (or component) is contrast-stretched to [0, 1] on its own.
    """
    stack = np.asarray(stack, float)
    n = stack.shape[0]
    if n == 0:
        raise DatasetError("barcode composite: expected at least one barcode channel, got none")
    total = stack.sum(axis=0)
    if n > 3:
        flat = stack.reshape(n, -1)
        flat = flat - flat.mean(axis=1, keepdims=True)
        # components from the channel covariance (n x n), cheap for any image size
        _, vecs = np.linalg.eigh(flat @ flat.T)
        comps = vecs[:, ::-1][:, :3].T @ flat
        # sign of an eigenvector is arbitrary: orient so that bright (stained) voxels are positive
        comps *= np.sign(np.sum(comps ** 3, axis=1, keepdims=True) + 1e-30)
        stack = comps.reshape((3,) + stack.shape[1:])
    channels = [contrast(c, 2.0, 99.8) for c in stack]
    while len(channels) < 3:
        channels.append(np.zeros_like(channels[0]))
    rgb = np.stack(channels, axis=-1)
    if n > 3:
        # principal components are signed, so the unstained background gets a colour of its own;
        # dim each pixel by the total stain so the background goes dark and cells keep their hue
        brightness = np.sqrt(contrast(total, 10.0, 99.0))
        rgb = rgb * brightness[..., None]
    return rgb


def barcode_channels(channel_names: Sequence[str]) -> list[int]:
    """Indices of the barcode channels (names ``barcode:<k>``)."""
    return [i for i, c in enumerate(channel_names) if str(c).startswith("barcode")]



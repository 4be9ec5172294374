"""Image crops for the scorecard's diagnostics: the scan around one position, with the truth cells
and the submission's segments involved outlined side by side (PNG, for the HTML report)."""

from __future__ import annotations

import io

import numpy as np

DEFAULT_HALF_WIDTH_NM = 1000.0  # half the side of a crop, nm (a few boutons across at cortical density)
# one colour per outlined id, in order (truth: greens and blues; submission: reds and oranges)
_TRUTH_COLOURS, _SUB_COLOURS, _MARK_COLOUR = ("#2ca02c", "#1f77b4", "#17becf"), ("#d62728", "#ff7f0e", "#e377c2"), "#ffcc00"


def _window(position_zyx_nm, origin_nm, voxel_nm, shape, half_nm: float):
    """Voxel index of the position's z plane and the (y, x) slices of the crop around it."""
    idx = np.floor((np.asarray(position_zyx_nm, float) - origin_nm) / voxel_nm).astype(int)
    idx = np.clip(idx, 0, np.asarray(shape) - 1)
    half = np.maximum(1, np.round(half_nm / voxel_nm[1:]).astype(int))
    lo = np.maximum(idx[1:] - half, 0)
    hi = np.minimum(idx[1:] + half + 1, shape[1:])
    return int(idx[0]), slice(lo[0], hi[0]), slice(lo[1], hi[1])


def _outline(ax, mask: np.ndarray, extent, colour: str) -> None:
    if mask.any() and not mask.all():
        ax.contour(mask.astype(float), levels=[0.5], colors=[colour], linewidths=1.0, extent=extent, origin="upper")


def crop_png(image, gt: np.ndarray, seg: np.ndarray, origin_nm, voxel_nm, position_zyx_nm, *,
             truth_cells=(), segments=(), title: str = "", half_nm: float = DEFAULT_HALF_WIDTH_NM) -> bytes:
    """A two-panel PNG: the scan's z plane through ``position_zyx_nm`` with ``truth_cells``
    outlined (left) and with ``segments`` of the submission outlined (right).

    Parameters
    ----------
    image : array-like of shape (C, Z, Y, X)
        The scan (zarr arrays are read only inside the crop); channels are averaged.
    gt, seg : ndarray of shape (Z, Y, X)
        Truth labels and the submission on the scan's grid.
    origin_nm, voxel_nm : sequence of 3 float
        The grid's origin (corner of voxel 0) and voxel size, nm, (z, y, x).
    position_zyx_nm : sequence of 3 float
        The centre, nm; marked with a cross.
    truth_cells, segments : iterable of int
        Ids to outline, at most three each (truth: green, blue, cyan; submission: red, orange, pink).
        Segment 0 outlines the unassigned voxels of ``truth_cells``.
    half_nm : float
        Half the crop's side, nm.

    Returns
    -------
    bytes
        The PNG.
    """
    from pretty_printer.viz import figures as plt

    origin, voxel = np.asarray(origin_nm, float), np.asarray(voxel_nm, float)
    z, ys, xs = _window(position_zyx_nm, origin, voxel, gt.shape, half_nm)
    img = np.asarray(image[:, z, ys, xs], float).mean(axis=0)
    lo, hi = np.percentile(img, [1, 99]) if img.size else (0.0, 1.0)
    extent = (origin[2] + xs.start * voxel[2], origin[2] + xs.stop * voxel[2],
              origin[1] + ys.stop * voxel[1], origin[1] + ys.start * voxel[1])
    fig, axes = plt.subplots(1, 2, figsize=(8.0, 4.4))
    g, sg = gt[z, ys, xs], seg[z, ys, xs]
    cells = [int(i) for i in truth_cells]
    in_cells = np.isin(g, cells) if cells else g > 0
    panels = ((axes[0], [(g == i, c, f"cell {i}") for i, c in zip(cells, _TRUTH_COLOURS)], "truth"),
              (axes[1], [((sg == i) & (in_cells if int(i) == 0 else True), c, "unassigned" if int(i) == 0 else f"segment {int(i)}")
                         for i, c in zip(segments, _SUB_COLOURS)], "submission"))
    for ax, masks, name in panels:
        ax.imshow(img, cmap="gray", vmin=lo, vmax=hi if hi > lo else lo + 1, extent=extent)
        for mask, colour, _ in masks:
            _outline(ax, mask, extent, colour)
        ax.plot(position_zyx_nm[2], position_zyx_nm[1], "+", color=_MARK_COLOUR, ms=14, mew=2)
        ax.set_title(name, fontsize=9)
        for k, (_, colour, label) in enumerate(masks):  # a coloured key under the title
            ax.text(0.02 + 0.5 * k, 0.97, label, transform=ax.transAxes, color=colour, fontsize=9, va="top",
                    fontweight="bold", bbox={"facecolor": "white", "alpha": 0.75, "pad": 1.5, "linewidth": 0})
        ax.set_xlabel("x (nm)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel(f"y (nm); plane z = {origin[0] + (z + 0.5) * voxel[0]:.0f} nm", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    plt.close(fig)
    return buf.getvalue()

"""Export of volumes and synapses in the HDF5 layout of the CREMI challenge.

Existing CREMI tooling (``cremi.io.CremiFile``, its evaluation scripts, BigCAT) reads these
files.  Layout written (all positions and sizes in nm, (z, y, x) order):

=========================================  ========  =========================================
``/volumes/raw``                           uint8     image; attrs ``resolution``, ``offset``
``/volumes/labels/neuron_ids``             uint64    cell ids; background = 2**64 - 1
``/volumes/labels/clefts``                 uint64    cleft ids; no cleft = 2**64 - 1
``/annotations/ids``                       uint64    one id per synaptic site
``/annotations/types``                     str       ``presynaptic_site`` / ``postsynaptic_site``
``/annotations/locations``                 float64   (n_sites, 3), relative to the offset
``/annotations/presynaptic_site/partners``  uint64    (n_synapses, 2): (pre site id, post site id)
=========================================  ========  =========================================

Root attribute ``file_format = "0.2"`` as CREMI writes it.  ``/annotations`` carries the same
``offset`` attribute as the volumes.

Voxel convention: CREMI's ``Volume[location]`` reads voxel ``round(location / resolution)``,
so voxel ``i`` *centres* at ``offset + i * resolution``.  Ours puts voxel ``i``'s corner at
``origin + i * voxel`` (centre half a voxel further), so the ``offset`` written is our origin
plus half a voxel, and CREMI's lookup of any location lands in the same voxel as ours.

Partner sites should lie inside their neurites (CREMI reads the segment *at* each site): the
CLI passes sites moved off the cleft faces into their cells
(:func:`pretty_printer.reconstruct.truth.sites_inside_cells`).

Background: our label 0 (extracellular space, or no cleft) becomes ``0xFFFFFFFFFFFFFFFF``,
the value CREMI uses for "no label" (its cleft evaluation treats it as background and its
neuron evaluation ignores it after its ``+1`` shift), so CREMI scores ignore extracellular
space just as ours do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from pretty_printer.errors import ConfigError

__all__ = ["CREMI_BACKGROUND", "export_cremi"]

#: CREMI's "no label" value in ``neuron_ids`` and ``clefts``.
CREMI_BACKGROUND = np.uint64(0xFFFFFFFFFFFFFFFF)


def _vec3(name: str, v) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64).ravel()
    if a.shape != (3,) or not np.all(np.isfinite(a)):
        raise ConfigError(f"{name}: expected 3 finite numbers (z, y, x) in nm, got {v!r}")
    return a


def _raw_uint8(raw: np.ndarray) -> tuple[np.ndarray, str | None]:
    """CREMI's raw is uint8; other dtypes are rescaled linearly from their min..max."""
    if raw.dtype == np.uint8:
        return raw, None
    lo, hi = float(np.min(raw)), float(np.max(raw))
    scale = 255.0 / (hi - lo) if hi > lo else 0.0
    out = np.clip(np.rint((raw.astype(np.float64) - lo) * scale), 0, 255).astype(np.uint8)
    return out, f"rescaled from {raw.dtype} range [{lo:g}, {hi:g}] to uint8 [0, 255]"


def _labels_uint64(name: str, labels: np.ndarray, shape) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != tuple(shape):
        raise ConfigError(f"{name}: expected the raw shape {tuple(shape)}, got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ConfigError(f"{name}: expected integer labels (0 = background), got {labels.dtype}")
    if np.issubdtype(labels.dtype, np.signedinteger) and labels.size and labels.min() < 0:
        raise ConfigError(f"{name}: expected non-negative labels, got {labels.min()}")
    out = labels.astype(np.uint64)
    if out.size and out.max() == CREMI_BACKGROUND:
        raise ConfigError(f"{name}: label 2**64 - 1 is reserved for CREMI's background")
    out[labels == 0] = CREMI_BACKGROUND
    return out


def _clefts_labels(clefts: np.ndarray, shape) -> np.ndarray:
    clefts = np.asarray(clefts)
    if not np.issubdtype(clefts.dtype, np.integer):
        # A cleft *field* (bool, or float fraction as the tissue function gives): label
        # connected voxels at least half cleft as one cleft each.
        from scipy import ndimage

        clefts, _ = ndimage.label(np.asarray(clefts, dtype=np.float64) >= 0.5)
    return _labels_uint64("clefts", clefts, shape)


def _write_volume(f, path: str, data: np.ndarray, voxel_nm, offset_nm, comment=None) -> None:
    ds = f.create_dataset(path, data=data, compression="gzip", chunks=True)
    ds.attrs["resolution"] = voxel_nm
    ds.attrs["offset"] = offset_nm
    if comment:
        ds.attrs["comment"] = comment


def _write_synapses(f, synapses: Mapping[str, np.ndarray], offset_nm: np.ndarray) -> None:
    import h5py

    missing = {"pre_nm", "post_nm"} - set(synapses)
    if missing:
        raise ConfigError(
            f"synapses: expected keys 'pre_nm' and 'post_nm' ((N, 3) nm, z y x), missing "
            f"{sorted(missing)}; got {sorted(synapses)}"
        )
    pre = np.asarray(synapses["pre_nm"], np.float64).reshape(-1, 3)
    post = np.asarray(synapses["post_nm"], np.float64).reshape(-1, 3)
    if len(pre) != len(post):
        raise ConfigError(f"synapses: expected as many pre as post sites, got {len(pre)} and {len(post)}")
    n = len(pre)
    grp = f.require_group("annotations")
    grp.attrs["offset"] = offset_nm
    if n == 0:
        return
    # Site ids: presynaptic sites 0..n-1, postsynaptic sites n..2n-1 (unique across types,
    # as CREMI requires).
    ids = np.arange(2 * n, dtype=np.uint64)
    types = ["presynaptic_site"] * n + ["postsynaptic_site"] * n
    grp.create_dataset("ids", data=ids)
    grp.create_dataset("types", data=types, dtype=h5py.string_dtype("utf-8"), compression="gzip")
    grp.create_dataset("locations", data=np.concatenate([pre, post]) - offset_nm)
    partners = np.stack([ids[:n], ids[n:]], axis=1)
    grp.create_dataset("presynaptic_site/partners", data=partners)


def export_cremi(
    path: str | Path,
    raw: np.ndarray,
    voxel_nm: Sequence[float],
    neuron_ids: np.ndarray | None = None,
    clefts: np.ndarray | None = None,
    synapses: Mapping[str, np.ndarray] | None = None,
    *,
    offset_nm: Sequence[float] = (0.0, 0.0, 0.0),
) -> Path:
    """Write a volume and its labels and synapses as a CREMI HDF5 file.

    Parameters
    ----------
    path : str or Path
        Output file; replaced if it exists.
    raw : ndarray (z, y, x)
        Image.  uint8 is written as is; any other dtype is rescaled linearly to uint8 (noted in
        the dataset's ``comment`` attribute).
    voxel_nm : sequence of 3 floats
        Voxel size, nm, (z, y, x); written as every volume's ``resolution``.
    neuron_ids : ndarray of non-negative int, optional
        Cell ids, same shape as ``raw``; 0 (extracellular) becomes CREMI's background.
    clefts : ndarray, optional
        Cleft ids (int, 0 = none) or a cleft field (bool / float fraction, thresholded at 0.5
        and labelled by connected components).
    synapses : mapping, optional
        ``{"pre_nm": (N, 3), "post_nm": (N, 3)}`` absolute site positions in nm, (z, y, x).
    offset_nm : sequence of 3 floats
        Position of the first voxel's *corner* in nm (our convention).  The ``offset`` written
        (volumes and ``/annotations``) is CREMI's: the first voxel's *centre*,
        ``offset_nm + voxel_nm / 2``; annotation locations are stored relative to it.

    Returns
    -------
    Path
        The file written.
    """
    import h5py

    raw = np.asarray(raw)
    if raw.ndim != 3:
        raise ConfigError(f"raw: expected a 3-D (z, y, x) array, got shape {raw.shape}")
    voxel = _vec3("voxel_nm", voxel_nm)
    if np.any(voxel <= 0):
        raise ConfigError(f"voxel_nm: expected positive sizes, got {tuple(voxel)}")
    offset = _vec3("offset_nm", offset_nm) + 0.5 * voxel  # CREMI: offset = first voxel's centre
    raw8, note = _raw_uint8(raw)
    ids64 = None if neuron_ids is None else _labels_uint64("neuron_ids", neuron_ids, raw.shape)
    clefts64 = None if clefts is None else _clefts_labels(clefts, raw.shape)

    path = Path(path)
    with h5py.File(path, "w") as f:
        f.attrs["file_format"] = "0.2"
        _write_volume(f, "volumes/raw", raw8, voxel, offset, note)
        if ids64 is not None:
            _write_volume(f, "volumes/labels/neuron_ids", ids64, voxel, offset)
        if clefts64 is not None:
            _write_volume(f, "volumes/labels/clefts", clefts64, voxel, offset)
        if synapses is not None:
            _write_synapses(f, synapses, offset)
    return path

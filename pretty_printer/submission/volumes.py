"""Reading a submitted segmentation: formats, OME-Zarr metadata, and shape checks before data.

Every reader first opens the file *lazily* and checks the declared shape and dtype against the
scan's grid; only then are the voxels read, so a small file declaring a huge shape never
allocates.  OME-Zarr metadata is honoured: NGFF 0.4 (``multiscales`` in the group attributes)
and 0.5 (``ome.multiscales``); the axes may come in any order (they are transposed to
``(z, y, x)``; ``c`` and ``t`` axes must have length 1); a declared voxel size must equal the
scan's (units nanometer, micrometer or angstrom; an axis without a unit is read as nanometres).
A container holding several arrays (Zarr group, HDF5 file) must name the one to read
(``"seg.zarr:labels"``, ``"seg.h5:/volumes/labels"``); a multiscale image reads its first
(full-resolution) level.
"""

from __future__ import annotations

import logging
from pathlib import Path, PureWindowsPath

import numpy as np

from pretty_printer.errors import SubmissionError
from pretty_printer.submission.paths import contained

SUFFIXES = (".zarr", ".npy", ".tif", ".tiff", ".h5", ".hdf5")
_UNIT_NM = {None: 1.0, "nanometer": 1.0, "nm": 1.0, "micrometer": 1000.0, "um": 1000.0,
            "angstrom": 0.1, "picometer": 1e-3, "millimeter": 1e6}
_VOXEL_RTOL = 1e-3


class _Lazy:
    """A lazily read array: declared shape and dtype, and a function reading it as (z, y, x)."""

    def __init__(self, shape, dtype, read, axes=None, declared_nm=None):
        self.shape, self.dtype, self._read = tuple(int(s) for s in shape), np.dtype(dtype), read
        self.axes = axes
        self.declared_nm = declared_nm

    def zyx(self) -> tuple[tuple[int, ...], list[int], list[int]]:
        """(shape in (z, y, x), permutation to apply, length-1 axes to drop)."""
        axes = self.axes
        if axes is None:
            if len(self.shape) == 3:
                return self.shape, [0, 1, 2], []
            if len(self.shape) == 4 and self.shape[0] == 1:
                return self.shape[1:], [0, 1, 2], [0]
            raise SubmissionError(f"segmentation: expected a (z, y, x) array, got {len(self.shape)} dimensions with shape {self.shape}")
        drop = [i for i, a in enumerate(axes) if a not in ("z", "y", "x")]
        for i in drop:
            if axes[i] not in ("c", "t") or self.shape[i] != 1:
                raise SubmissionError(f"segmentation axes: expected z, y, x (plus c or t of length 1), got axis {axes[i]!r} of length {self.shape[i]}")
        space = [a for a in axes if a in ("z", "y", "x")]
        if sorted(space) != ["x", "y", "z"]:
            raise SubmissionError(f"segmentation axes: expected each of z, y, x once, got {axes}")
        perm = [space.index(a) for a in ("z", "y", "x")]
        kept = [s for i, s in enumerate(self.shape) if i not in drop]
        return tuple(kept[p] for p in perm), perm, drop

    def read(self) -> np.ndarray:
        _, perm, drop = self.zyx()
        vol = np.asarray(self._read())
        if drop:
            vol = vol.reshape([s for i, s in enumerate(vol.shape) if i not in drop])
        return np.ascontiguousarray(np.transpose(vol, perm)) if perm != [0, 1, 2] else vol


def _npy(path: Path, inner: str) -> _Lazy:
    arr = np.load(path, mmap_mode="r", allow_pickle=False)
    return _Lazy(arr.shape, arr.dtype, lambda: np.array(arr))


def _tiff(path: Path, inner: str) -> _Lazy:
    import tifffile

    logging.getLogger("tifffile").setLevel(logging.CRITICAL)  # its warnings would add lines to the one-line error
    tf = tifffile.TiffFile(path, is_ome=False)  # OME-TIFF may name other files: never follow them
    series = tf.series[0]
    return _Lazy(series.shape, series.dtype, lambda: series.asarray())


def _h5(path: Path, inner: str) -> _Lazy:
    import h5py

    f = h5py.File(path, "r")
    if not inner:
        names: list[str] = []
        f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
        if len(names) != 1:
            raise SubmissionError(f"segmentation: expected one dataset in {path.name} or a named one ('{path.name}:/path'), "
                                  f"got {len(names)} datasets ({', '.join(names[:5]) or 'none'})")
        inner = names[0]
    link = f.get(inner, getlink=True)
    if link is None:
        raise SubmissionError(f"segmentation: expected a dataset {inner!r} in {path.name}, got none of that name")
    if isinstance(link, (h5py.ExternalLink, h5py.SoftLink)):
        raise SubmissionError(f"segmentation: expected a dataset stored in {path.name}, got {inner!r}, a link")
    ds = f[inner]
    if not isinstance(ds, h5py.Dataset):
        raise SubmissionError(f"segmentation: expected a dataset at {path.name}:{inner}, got a group")
    if ds.is_virtual or ds.external:
        raise SubmissionError(f"segmentation: expected data stored in {path.name}, got {inner!r} reading other files")
    return _Lazy(ds.shape, ds.dtype, lambda: ds[...])


def _ngff(attrs) -> dict | None:
    if "ome" in attrs and isinstance(attrs["ome"], dict) and "multiscales" in attrs["ome"]:
        return attrs["ome"]["multiscales"][0]  # NGFF 0.5
    if "multiscales" in attrs:
        return attrs["multiscales"][0]  # NGFF 0.4
    return None


def _scale(transforms, n: int) -> np.ndarray:
    s = np.ones(n)
    for t in transforms or ():
        if t.get("type") == "scale":
            s = s * np.asarray(t["scale"], float)
    return s


def _ome(group, ms: dict, inner: str) -> _Lazy:
    datasets = ms.get("datasets") or []
    if not datasets:
        raise SubmissionError("segmentation: expected OME-Zarr multiscales with datasets, got none")
    level = next((d for d in datasets if d["path"] == inner), None) if inner else datasets[0]
    if level is None:
        raise SubmissionError(f"segmentation: expected an OME-Zarr level in {[d['path'] for d in datasets]}, got {inner!r}")
    arr = group[level["path"]]
    raw_axes = ms.get("axes") or []
    axes = [(a["name"] if isinstance(a, dict) else str(a)).lower() for a in raw_axes] or None
    if axes is not None and len(axes) != arr.ndim:
        raise SubmissionError(f"segmentation axes: expected {arr.ndim} axes for the array, got {len(axes)} ({axes})")
    declared = None
    scale = _scale(level.get("coordinateTransformations"), arr.ndim) * _scale(ms.get("coordinateTransformations"), arr.ndim)
    if axes is not None:
        units = [(a.get("unit") if isinstance(a, dict) else None) for a in raw_axes]
        declared = {}
        for name, s, unit in zip(axes, scale, units):
            if name in ("z", "y", "x"):
                if unit not in _UNIT_NM:
                    raise SubmissionError(f"segmentation axis {name!r}: expected a unit in {sorted(k for k in _UNIT_NM if k)}, got {unit!r}")
                declared[name] = float(s) * _UNIT_NM[unit]
    return _Lazy(arr.shape, arr.dtype, lambda: arr[...], axes=axes, declared_nm=declared)


def _zarr(path: Path, inner: str) -> _Lazy:
    import zarr

    node = zarr.open(str(path), mode="r")
    if isinstance(node, zarr.Array):
        return _Lazy(node.shape, node.dtype, lambda: node[...])
    ms = _ngff(node.attrs)
    if ms is not None:
        return _ome(node, ms, inner)
    names = sorted(node.array_keys())
    if inner:
        if inner not in node or not isinstance(node[inner], zarr.Array):
            raise SubmissionError(f"segmentation: expected an array {inner!r} in {path.name}, got none of that name (it has {names[:5]})")
        arr = node[inner]
    elif len(names) == 1:
        arr = node[names[0]]
    else:
        raise SubmissionError(f"segmentation: expected one array in {path.name} or a named one ('{path.name}:NAME'), "
                              f"got {len(names)} arrays ({', '.join(names[:5]) or 'none'}) and no OME-Zarr metadata")
    return _Lazy(arr.shape, arr.dtype, lambda: arr[...])


_READERS = {".npy": _npy, ".tif": _tiff, ".tiff": _tiff, ".h5": _h5, ".hdf5": _h5, ".zarr": _zarr}


def _open(path: Path, inner: str) -> _Lazy:
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise SubmissionError(f"segmentation: expected a file type in {', '.join(SUFFIXES)}, "
                              f"got {path.suffix.lower() or path.name!r}")
    try:
        return reader(path, inner)
    except SubmissionError:
        raise
    except Exception as e:  # unreadable container: say which and why, in one line
        raise SubmissionError(f"segmentation: expected a readable {path.suffix} file, got {path.name!r} unreadable "
                              f"({type(e).__name__}: {str(e).splitlines()[0][:160] if str(e) else 'no detail'})") from None


def check_declared(lazy: _Lazy, expected_shape=None, voxel_nm=None) -> None:
    """Shape, dtype and declared voxel size, checked before any voxel is read."""
    shape, _, _ = lazy.zyx()
    if expected_shape is not None and shape != tuple(int(s) for s in expected_shape):
        raise SubmissionError(f"segmentation: expected shape {tuple(int(s) for s in expected_shape)} "
                              f"(the scan's (z, y, x) grid), got {shape}")
    if lazy.dtype.kind == "f":
        raise SubmissionError(f"segmentation: expected integer labels, got floating-point dtype {lazy.dtype}")
    if lazy.dtype.kind not in "iub":
        raise SubmissionError(f"segmentation: expected integer labels, got dtype {lazy.dtype}")
    if voxel_nm is not None and lazy.declared_nm:
        got = tuple(lazy.declared_nm[a] for a in ("z", "y", "x"))
        if not np.allclose(got, np.asarray(voxel_nm, float), rtol=_VOXEL_RTOL, atol=0):
            raise SubmissionError(f"segmentation: expected the scan's voxel size (z, y, x) {tuple(float(v) for v in voxel_nm)} nm, "
                                  f"got declared voxel size {tuple(round(g, 4) for g in got)} nm")


def read_segmentation(spec: str, root: Path, *, expected_shape=None, voxel_nm=None) -> np.ndarray:
    """Read the segmentation named by ``spec`` (``"file"`` or ``"file:inner"``) inside ``root``.

    Returns an array in (z, y, x) order; its dtype is the file's (validated by the caller).

    Raises
    ------
    SubmissionError
        Path outside the submission, unknown format, ambiguous container, bad axes, declared
        voxel size differing from ``voxel_nm``, shape differing from ``expected_shape``
        (checked before reading), or an unreadable file.
    """
    if not isinstance(spec, str):
        raise SubmissionError(f"submission.json segmentation: expected a file name (string), got {type(spec).__name__}")
    if PureWindowsPath(spec).drive:
        raise SubmissionError(f"submission.json segmentation: expected a path relative to the submission directory, got absolute path {spec[:60]!r}")
    path_str, _, inner = spec.partition(":")
    path = contained(Path(root), path_str, "segmentation")
    if not path.exists():
        raise SubmissionError(f"segmentation: expected {path_str!r} in the submission directory, got no such file")
    lazy = _open(path, inner)
    check_declared(lazy, expected_shape, voxel_nm)
    try:
        return lazy.read()
    except Exception as e:
        raise SubmissionError(f"segmentation: expected readable voxels in {path_str!r}, got an error ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:160] if str(e) else 'no detail'})") from None

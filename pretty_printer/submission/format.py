"""The submission format: what a reconstruction pipeline hands to ``pretty-printer score``.

A submission is a directory::

    SUB/submission.json    {"format": "neural-pretty-printer/submission@1", "modality": "em",
                            "segmentation": "segmentation.zarr", "synapses": "synapses.csv",
                            "cells": "cells.csv" (optional), "method": "..." (free text)}
    SUB/segmentation.*     integer labels on the scan's voxel grid, (z, y, x); 0 = unassigned.
                           Zarr (plain or OME-Zarr), .npy, .tif/.tiff, or .h5/.hdf5
                           (write "file.h5:/path/in/file" to name the dataset).
    SUB/synapses.csv       one row per synapse; positions in nm in the dataset's frame.
    SUB/cells.csv          optional per-segment cell parameters.

``synapses.csv`` columns (required): ``pre_z_nm, pre_y_nm, pre_x_nm, post_z_nm, post_y_nm,
post_x_nm``.  Optional: ``pre_id, post_id`` (segment ids; otherwise read from the segmentation
at the positions), ``conductance_nS`` (synaptic strength), ``psd_area_nm2``, ``sign`` (+1
excitatory, -1 inhibitory), ``n_AMPA, n_NMDA, n_GABA_A`` (receptor counts).
``cells.csv`` columns: ``segment_id`` (required), ``bias_nA`` (optional).

Positions must be in nanometres: a column such as ``pre_z_um`` is rejected as an unknown unit.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pretty_printer.dataset.layout import atomic_directory, read_json, write_json, write_volume
from pretty_printer.errors import SubmissionError

FORMAT = "neural-pretty-printer/submission@1"
POSITION_COLUMNS = ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm")
OPTIONAL_SYNAPSE_COLUMNS = ("id", "pre_id", "post_id", "conductance_nS", "psd_area_nm2", "sign",
                            "n_AMPA", "n_NMDA", "n_GABA_A")
CELL_COLUMNS = ("segment_id", "bias_nA")
_UNIT_RE = re.compile(r"^(?P<stem>[A-Za-z_]+?)_(?P<unit>[A-Za-z]+\d*)$")
_KNOWN_UNITS = {"nm", "nS", "nm2", "nA", "id"}


@dataclass
class Submission:
    """A validated submission; ``synapses`` and ``cells`` are dicts of equal-length arrays."""

    modality: str
    segmentation: np.ndarray
    synapses: dict[str, np.ndarray]
    cells: dict[str, np.ndarray] | None = None
    method: str = ""
    root: Path | None = None
    meta: dict = field(default_factory=dict)

    @property
    def pre_nm(self) -> np.ndarray:
        return np.stack([self.synapses[c] for c in POSITION_COLUMNS[:3]], axis=1)

    @property
    def post_nm(self) -> np.ndarray:
        return np.stack([self.synapses[c] for c in POSITION_COLUMNS[3:]], axis=1)

    @property
    def n_synapses(self) -> int:
        return int(len(self.synapses[POSITION_COLUMNS[0]]))


# --------------------------------------------------------------------------- tables
def _read_csv(path: Path, what: str) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise SubmissionError(f"{what}: file {str(path)!r} does not exist")
    text = path.read_text()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise SubmissionError(f"{what}: {path.name} is empty; expected a header row")
    header = [h.strip() for h in rows[0]]
    body = [r for r in rows[1:] if r and any(x.strip() for x in r)]
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        values = []
        for i, r in enumerate(body):
            if j >= len(r):
                raise SubmissionError(f"{what}: row {i + 2} has {len(r)} fields, expected {len(header)}")
            try:
                values.append(float(r[j]))
            except ValueError:
                raise SubmissionError(f"{what}: column {name!r} row {i + 2}: expected a number, got {r[j]!r}") from None
        cols[name] = np.asarray(values, dtype=float)
    return cols


def _check_units(what: str, columns, known: tuple[str, ...]) -> None:
    for name in columns:
        if name in known:
            continue
        m = _UNIT_RE.match(name)
        if m and m.group("unit") not in _KNOWN_UNITS and m.group("unit") not in {"AMPA", "NMDA", "A"}:
            stem = m.group("stem")
            raise SubmissionError(
                f"{what}: column {name!r} has unknown unit {m.group('unit')!r}; expected {stem}_nm "
                f"(valid columns: {', '.join(known)})"
            )
        raise SubmissionError(f"{what}: unknown column {name!r}; valid columns: {', '.join(known)}")


def validate_synapses(cols: dict[str, np.ndarray], what: str = "synapses.csv") -> dict[str, np.ndarray]:
    known = POSITION_COLUMNS + OPTIONAL_SYNAPSE_COLUMNS
    _check_units(what, cols, known)
    missing = [c for c in POSITION_COLUMNS if c not in cols]
    if missing:
        raise SubmissionError(f"{what}: missing column {missing[0]!r}; required columns: {', '.join(POSITION_COLUMNS)}")
    for name, v in cols.items():
        if not np.all(np.isfinite(v)):
            raise SubmissionError(f"{what}: column {name!r} contains NaN or infinite values")
    for name in ("pre_id", "post_id", "n_AMPA", "n_NMDA", "n_GABA_A", "conductance_nS", "psd_area_nm2"):
        if name in cols and np.any(cols[name] < 0):
            raise SubmissionError(f"{what}: column {name!r} must be >= 0, got {cols[name].min()}")
    for name in ("pre_id", "post_id"):
        if name in cols and np.any(cols[name] != np.round(cols[name])):
            raise SubmissionError(f"{what}: column {name!r} must hold integer segment ids")
    if "sign" in cols and not np.all(np.isin(cols["sign"], (-1.0, 1.0))):
        raise SubmissionError(f"{what}: column 'sign' must be +1 or -1")
    return cols


def validate_cells(cols: dict[str, np.ndarray], what: str = "cells.csv") -> dict[str, np.ndarray]:
    _check_units(what, cols, CELL_COLUMNS)
    if "segment_id" not in cols:
        raise SubmissionError(f"{what}: missing column 'segment_id'; valid columns: {', '.join(CELL_COLUMNS)}")
    for name, v in cols.items():
        if not np.all(np.isfinite(v)):
            raise SubmissionError(f"{what}: column {name!r} contains NaN or infinite values")
    if np.any(cols["segment_id"] < 0) or np.any(cols["segment_id"] != np.round(cols["segment_id"])):
        raise SubmissionError(f"{what}: column 'segment_id' must hold non-negative integers")
    return cols


def write_csv(path: Path, cols: dict[str, np.ndarray], int_columns=()) -> None:
    names = list(cols)
    n = len(cols[names[0]]) if names else 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for i in range(n):
            w.writerow([int(cols[c][i]) if c in int_columns else repr(float(cols[c][i])) for c in names])


# --------------------------------------------------------------------------- volumes
def read_segmentation(spec: str, root: Path) -> np.ndarray:
    path_str, _, inner = spec.partition(":")
    path = root / path_str
    if not path.exists():
        raise SubmissionError(f"segmentation: {str(path)!r} does not exist")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            vol = np.load(path, allow_pickle=False)
        elif suffix in (".tif", ".tiff"):
            import tifffile

            vol = tifffile.imread(path)
        elif suffix in (".h5", ".hdf5"):
            import h5py

            with h5py.File(path, "r") as f:
                key = inner or next(k for k in f.keys() if isinstance(f[k], h5py.Dataset))
                vol = f[key][...]
        elif suffix == ".zarr":
            import zarr

            node = zarr.open(str(path), mode="r")
            if isinstance(node, zarr.Group):
                if "multiscales" in node.attrs:
                    node = node[node.attrs["multiscales"][0]["datasets"][0]["path"]]
                else:
                    node = node[inner or next(iter(node.array_keys()))]
            vol = node[...]
        else:
            raise SubmissionError(f"segmentation: unsupported file type {suffix!r}; expected .zarr, .npy, .tif, .tiff, .h5 or .hdf5")
    except SubmissionError:
        raise
    except Exception as e:  # unreadable file: say which and why
        raise SubmissionError(f"segmentation: could not read {str(path)!r}: {e}") from e
    if vol.ndim == 4 and vol.shape[0] == 1:
        vol = vol[0]
    return vol


def validate_segmentation(vol: np.ndarray, expected_shape) -> np.ndarray:
    expected_shape = tuple(int(s) for s in expected_shape)
    if vol.shape != expected_shape:
        raise SubmissionError(
            f"segmentation: expected shape {expected_shape} (the scan's (z, y, x) grid), got {tuple(vol.shape)}"
        )
    if vol.dtype.kind == "f":
        if np.isnan(vol).any():
            raise SubmissionError("segmentation: contains NaN; expected integer labels")
        raise SubmissionError(f"segmentation: expected integer labels, got floating-point dtype {vol.dtype}")
    if vol.dtype.kind not in "iu":
        raise SubmissionError(f"segmentation: expected integer labels, got dtype {vol.dtype}")
    if vol.dtype.kind == "i" and vol.size and vol.min() < 0:
        raise SubmissionError(f"segmentation: labels must be >= 0 (0 = unassigned), got {vol.min()}")
    return vol.astype(np.uint64, copy=False)


# --------------------------------------------------------------------------- read / write
def read_submission(root: Path, expected_shape=None) -> Submission:
    root = Path(root)
    if not root.is_dir():
        raise SubmissionError(f"submission directory {str(root)!r} does not exist")
    meta_path = root / "submission.json"
    if not meta_path.is_file():
        raise SubmissionError(f"submission {str(root)!r}: expected submission.json, which is missing")
    try:
        meta = read_json(meta_path)
    except ValueError as e:
        raise SubmissionError(f"submission.json: invalid JSON: {e}") from e
    for key in ("modality", "segmentation", "synapses"):
        if key not in meta:
            raise SubmissionError(f"submission.json: missing key {key!r}")
    seg = read_segmentation(meta["segmentation"], root)
    if expected_shape is not None:
        seg = validate_segmentation(seg, expected_shape)
    synapses = validate_synapses(_read_csv(root / meta["synapses"], "synapses.csv"))
    cells = validate_cells(_read_csv(root / meta["cells"], "cells.csv")) if meta.get("cells") else None
    return Submission(modality=meta["modality"], segmentation=seg, synapses=synapses, cells=cells,
                      method=meta.get("method", ""), root=root, meta=meta)


def write_submission(out: Path, sub: Submission, *, voxel_nm, chunks=(32, 128, 128), force: bool = False) -> Path:
    """Write a submission directory atomically (segmentation as OME-Zarr)."""
    with atomic_directory(Path(out), force=force) as tmp:
        write_volume(tmp / "segmentation.zarr", np.asarray(sub.segmentation, dtype=np.uint64),
                     voxel_nm=voxel_nm, chunks=chunks, name="segmentation")
        int_cols = ("id", "pre_id", "post_id", "sign", "n_AMPA", "n_NMDA", "n_GABA_A", "segment_id")
        write_csv(tmp / "synapses.csv", sub.synapses, int_columns=int_cols)
        meta = {"format": FORMAT, "modality": sub.modality, "segmentation": "segmentation.zarr",
                "synapses": "synapses.csv", "method": sub.method}
        if sub.cells is not None:
            write_csv(tmp / "cells.csv", sub.cells, int_columns=("segment_id",))
            meta["cells"] = "cells.csv"
        meta.update({k: v for k, v in sub.meta.items() if k not in meta})
        write_json(tmp / "submission.json", meta)
    return Path(out)

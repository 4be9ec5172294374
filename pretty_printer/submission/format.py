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
    SUB/activity.nwb       optional ("activity": "activity.nwb"): spike times of your own emulation
                           of the held-out inputs, one unit per segment (column ``segment_id``),
                           trials laid out as in ``truth/activity.nwb``; compared with the truth's
                           activity by :mod:`pretty_printer.scoring.activity`.

``synapses.csv`` columns (required): ``pre_z_nm, pre_y_nm, pre_x_nm, post_z_nm, post_y_nm,
post_x_nm``.  Optional: ``id`` (the submitter's own integer row label; kept, never scored),
``pre_id, post_id`` (segment ids; otherwise read from the segmentation
at the positions), ``conductance_nS`` (synaptic strength), ``psd_area_nm2``, ``sign`` (+1
excitatory, -1 inhibitory), ``n_AMPA, n_NMDA, n_GABA_A`` (receptor counts).
``cells.csv`` columns: ``segment_id`` (required), ``bias_nA`` (optional), and the tonic channel
densities that set each cell's excitability, in mS/cm^2 (optional, >= 0):
``g_cation_leak_mS_cm2``, ``g_tonic_gabaa_mS_cm2`` (see ``phantoms/channels.py``).

Positions must be in nanometres: a column such as ``pre_z_um`` is rejected as an unknown unit.
Id columns are exact unsigned 64-bit integers (never parsed as floats).  CSVs are UTF-8 with or
without a byte-order mark (Excel's "CSV UTF-8"), LF or CRLF.  Every path named in
``submission.json`` must stay inside the submission directory (:mod:`.paths`); the segmentation
is opened lazily and checked before reading (:mod:`.volumes`); the tables are parsed and checked in
:mod:`.tables`.  To add a column, list its name in
``OPTIONAL_SYNAPSE_COLUMNS`` or ``CELL_COLUMNS`` (a finite float unless ``COLUMN_KINDS`` says
otherwise).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from pretty_printer.dataset.layout import atomic_directory, write_json, write_volume
from pretty_printer.errors import SubmissionError
from pretty_printer.submission.paths import contained
# the tables' columns and checks, importable from here as before
from pretty_printer.submission.tables import (  # noqa: F401
    CELL_COLUMNS, COLUMN_KINDS, MAX_COORDINATE_NM, OPTIONAL_SYNAPSE_COLUMNS, POSITION_COLUMNS, decode_utf8,
    read_table, show_value, validate_cells, validate_synapses, write_csv)

FORMAT = "neural-pretty-printer/submission@1"


@dataclass
class Submission:
    """A validated submission; ``synapses`` and ``cells`` are dicts of equal-length arrays.

    Attributes
    ----------
    modality : str
        The scan it reconstructs: ``"em"``, ``"exm"`` or ``"xray"``.
    segmentation : (Z, Y, X) uint64
        Segment ids on the scan's voxel grid; 0 = unassigned.  Ids are opaque (any 64-bit value).
    synapses : dict of str -> (N,) ndarray
        Columns of ``synapses.csv`` (module doc): positions float64 in nm, in the dataset frame
        (z, y, x); ``pre_id``/``post_id`` uint64; ``sign`` and counts int64; others float64.
    cells : dict of str -> (M,) ndarray, optional
        Columns of ``cells.csv``: ``segment_id`` uint64, ``bias_nA`` (nA) and channel densities
        (mS/cm^2) float64.
    method : str
        Free text naming the pipeline.
    root : Path, optional
        The directory it was read from.
    meta : dict
        ``submission.json`` as read (unknown keys kept as free metadata).
    activity : Path, optional
        The submitted activity file (NWB spike times of the pipeline's own emulation), inside ``root``.
    """

    modality: str
    segmentation: np.ndarray
    synapses: dict[str, np.ndarray]
    cells: dict[str, np.ndarray] | None = None
    method: str = ""
    root: Path | None = None
    meta: dict = field(default_factory=dict)
    activity: Path | None = None  # the submitted activity file (NWB), inside ``root``

    @property
    def pre_nm(self) -> np.ndarray:
        return np.stack([self.synapses[c] for c in POSITION_COLUMNS[:3]], axis=1)

    @property
    def post_nm(self) -> np.ndarray:
        return np.stack([self.synapses[c] for c in POSITION_COLUMNS[3:]], axis=1)

    @property
    def n_synapses(self) -> int:
        return int(len(self.synapses[POSITION_COLUMNS[0]]))


# --------------------------------------------------------------------------- volumes
def validate_segmentation(vol: np.ndarray, expected_shape) -> np.ndarray:
    """Check a (z, y, x) label volume against the scan's grid; return it as uint64.

    Parameters
    ----------
    vol : (Z, Y, X) ndarray
        Submitted labels: any integer or boolean dtype; 0 = unassigned.
    expected_shape : tuple of 3 int
        The scan's (z, y, x) grid.

    Returns
    -------
    (Z, Y, X) uint64
        ``vol`` itself when it already is uint64.

    Raises
    ------
    SubmissionError
        Shape differs from ``expected_shape``; labels are not integers; labels are negative.
    """
    expected_shape = tuple(int(s) for s in expected_shape)
    if vol.shape != expected_shape:
        raise SubmissionError(
            f"segmentation: expected shape {expected_shape} (the scan's (z, y, x) grid), got {tuple(vol.shape)}"
        )
    if vol.dtype.kind == "f":
        if np.isnan(vol).any():
            raise SubmissionError("segmentation: contains NaN; expected integer labels")
        raise SubmissionError(f"segmentation: expected integer labels, got floating-point dtype {vol.dtype}")
    if vol.dtype.kind not in "iub":
        raise SubmissionError(f"segmentation: expected integer labels, got dtype {vol.dtype}")
    if vol.dtype.kind == "i" and vol.size and vol.min() < 0:
        raise SubmissionError(f"segmentation: expected labels >= 0 (0 = unassigned), got {vol.min()}")
    return vol.astype(np.uint64, copy=False)


# --------------------------------------------------------------------------- read / write
#: submission.json keys and the type each must have (other keys are kept as free metadata).
META_KEYS = {"format": str, "modality": str, "segmentation": str, "synapses": str, "cells": str, "method": str,
             "activity": str}
REQUIRED_KEYS = ("modality", "segmentation", "synapses")


def read_meta(root: Path) -> dict:
    """``submission.json`` as a dict of checked fields.

    Parameters
    ----------
    root : Path
        The submission directory.

    Returns
    -------
    dict
        The JSON object: ``modality``, ``segmentation`` and ``synapses`` present, every key of
        ``META_KEYS`` a string (``cells`` and ``method`` may be null), other keys kept as they are.

    Raises
    ------
    SubmissionError
        The file is missing or a symlink, is not UTF-8 JSON, is not an object, lacks a required
        key, has a key of the wrong type, or names another ``format`` than ``FORMAT``.
    """
    meta_path = root / "submission.json"
    if meta_path.is_symlink() or not meta_path.is_file():
        raise SubmissionError("submission.json: expected a file in the submission directory, which is missing")
    try:
        meta = json.loads(decode_utf8(meta_path, "submission.json"))
    except ValueError as e:
        raise SubmissionError(f"submission.json: expected JSON, got invalid JSON ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(meta, dict):
        raise SubmissionError(f"submission.json: expected a JSON object {{...}}, got a {type(meta).__name__}")
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise SubmissionError(f"submission.json: expected keys {', '.join(REQUIRED_KEYS)}; got no key {key!r}")
    for key, typ in META_KEYS.items():
        if key in meta and not (isinstance(meta[key], typ) or (key in ("cells", "method") and meta[key] is None)):
            raise SubmissionError(f"submission.json {key}: expected a string, got {type(meta[key]).__name__} {show_value(json.dumps(meta[key]))}")
    if "format" in meta and meta["format"] != FORMAT:
        raise SubmissionError(f"submission.json format: expected {FORMAT!r}, got {show_value(meta['format'])}")
    return meta


def read_submission(root: Path, expected_shape=None, *, voxel_nm=None) -> Submission:
    """Read and validate a submission directory.

    Parameters
    ----------
    root : Path
        The submission directory; every file it names must lie inside it.
    expected_shape : tuple of 3 int, optional
        The scan's (z, y, x) grid: the segmentation's declared shape is checked before reading.
    voxel_nm : tuple of 3 float, optional
        The scan's voxel size: an OME-Zarr's declared scale must equal it.

    Returns
    -------
    Submission
        Validated: ``segmentation`` as uint64 (z, y, x) (with ``expected_shape``: that shape),
        the tables as typed column arrays (:func:`validate_synapses`, :func:`validate_cells`).

    Raises
    ------
    SubmissionError
        Anything malformed, in one line naming the field, what was expected and what was got:
        ``submission.json`` (:func:`read_meta`), a path leaving the directory
        (:func:`~pretty_printer.submission.paths.contained`), the segmentation
        (:func:`~pretty_printer.submission.volumes.read_segmentation`,
        :func:`validate_segmentation`) or a table (:func:`read_table` and the validators).
    """
    from pretty_printer.submission.volumes import read_segmentation

    root = Path(root)
    if not root.is_dir():
        raise SubmissionError(f"submission directory {str(root)!r}: expected a directory, which does not exist")
    meta = read_meta(root)
    seg = read_segmentation(meta["segmentation"], root, expected_shape=expected_shape, voxel_nm=voxel_nm)
    if expected_shape is not None:
        seg = validate_segmentation(seg, expected_shape)
    syn_path = contained(root, meta["synapses"], "synapses")
    synapses = validate_synapses(read_table(syn_path, "synapses.csv", POSITION_COLUMNS + OPTIONAL_SYNAPSE_COLUMNS))
    cells = None
    if meta.get("cells"):
        cells_path = contained(root, meta["cells"], "cells")
        cells = validate_cells(read_table(cells_path, "cells.csv", CELL_COLUMNS))
    activity = contained(root, meta["activity"], "activity") if meta.get("activity") else None
    return Submission(modality=meta["modality"], segmentation=seg, synapses=synapses, cells=cells,
                      method=meta.get("method") or "", root=root, meta=meta, activity=activity)


def write_submission(out: Path, sub: Submission, *, voxel_nm, chunks=(32, 128, 128), force: bool = False) -> Path:
    """Write a submission directory atomically (segmentation as OME-Zarr; ``sub.activity``, if
    set, is copied in as ``activity.nwb``).

    Parameters
    ----------
    out : Path
        The directory to write (new or empty unless ``force``); it appears complete or not at all
        (:func:`~pretty_printer.dataset.atomic.atomic_directory`).
    sub : Submission
        What to write; ``sub.meta`` keys not written by this function (``activity`` aside) are
        kept in ``submission.json``.
    voxel_nm : (3,) float
        The scan's voxel size, nm (z, y, x), recorded as the OME-Zarr scale.
    chunks : (3,) int
        Zarr chunk shape of the segmentation.
    force : bool
        Replace an existing ``out``.

    Returns
    -------
    Path
        ``out``.

    Raises
    ------
    DatasetError
        ``out`` is a file, non-empty without ``force``, inside a dataset, or locked by another run.
    """
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
        if sub.activity is not None:
            import shutil

            shutil.copyfile(sub.activity, tmp / "activity.nwb")
            meta["activity"] = "activity.nwb"
        meta.update({k: v for k, v in sub.meta.items() if k not in meta and k != "activity"})
        write_json(tmp / "submission.json", meta)
    return Path(out)

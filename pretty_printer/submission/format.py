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
post_x_nm``.  Optional: ``pre_id, post_id`` (segment ids; otherwise read from the segmentation
at the positions), ``conductance_nS`` (synaptic strength), ``psd_area_nm2``, ``sign`` (+1
excitatory, -1 inhibitory), ``n_AMPA, n_NMDA, n_GABA_A`` (receptor counts).
``cells.csv`` columns: ``segment_id`` (required), ``bias_nA`` (optional), and the tonic channel
densities that set each cell's excitability, in mS/cm^2 (optional, >= 0):
``g_cation_leak_mS_cm2``, ``g_tonic_gabaa_mS_cm2`` (see ``phantoms/channels.py``).

Positions must be in nanometres: a column such as ``pre_z_um`` is rejected as an unknown unit.
Id columns are exact unsigned 64-bit integers (never parsed as floats).  CSVs are UTF-8 with or
without a byte-order mark (Excel's "CSV UTF-8"), LF or CRLF.  Every path named in
``submission.json`` must stay inside the submission directory (:mod:`.paths`); the segmentation
is opened lazily and checked before reading (:mod:`.volumes`).  To add a column, list its name in
``OPTIONAL_SYNAPSE_COLUMNS`` or ``CELL_COLUMNS`` (a finite float unless ``COLUMN_KINDS`` says
otherwise).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from phantoms.channels import CHANNEL_COLUMNS
from pretty_printer.dataset.layout import atomic_directory, write_json, write_volume
from pretty_printer.errors import SubmissionError
from pretty_printer.submission.paths import contained

FORMAT = "neural-pretty-printer/submission@1"
POSITION_COLUMNS = ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm")
OPTIONAL_SYNAPSE_COLUMNS = ("id", "pre_id", "post_id", "conductance_nS", "psd_area_nm2", "sign",
                            "n_AMPA", "n_NMDA", "n_GABA_A")
CELL_COLUMNS = ("segment_id", "bias_nA") + CHANNEL_COLUMNS
_UNIT_RE = re.compile(r"^(?P<stem>[A-Za-z_]+?)_(?P<unit>[A-Za-z]+\d*)$")
_KNOWN_UNITS = {"nm", "nS", "nm2", "nA", "id", "cm2"}  # cm2: densities such as g_*_mS_cm2


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


# --------------------------------------------------------------------------- tables
#: How each known column is parsed.  Segment ``id`` columns are exact unsigned 64-bit integers
#: (never floats: 2^53 + 1 must survive); the synapse row ``id`` is any signed 64-bit integer; ``count`` columns non-negative integers; ``sign`` is +1 or -1;
#: ``position`` columns are nanometres within +-MAX_COORDINATE_NM; ``nonneg`` floats are >= 0.
#: Any other column listed in SYNAPSE/CELL columns is a finite float.
COLUMN_KINDS = {
    "id": "int", "pre_id": "id", "post_id": "id", "segment_id": "id",
    "n_AMPA": "count", "n_NMDA": "count", "n_GABA_A": "count", "sign": "sign",
    "conductance_nS": "nonneg", "psd_area_nm2": "nonneg",
    **{c: "position" for c in POSITION_COLUMNS},
}
#: Positions farther than this from the origin (1 m) cannot be in any scan: refused.
MAX_COORDINATE_NM = 1e9
_ID_RE = re.compile(r"^\+?[0-9]+$")
_EXPECTED = {"id": "an integer segment id in [0, 2^64)", "int": "an integer in [-2^63, 2^63)",
             "count": "a non-negative integer",
             "sign": "+1 or -1", "nonneg": "a finite number >= 0",
             "position": f"a finite position in nm within +-{MAX_COORDINATE_NM:g}",
             "float": "a finite number"}


def _show(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "...")


def _parse(kind: str, text: str):
    """One cell of a table as its kind, or None if it is not one."""
    t = text.strip()
    if kind == "int":
        if not re.match(r"^[+-]?[0-9]+$", t):
            return None
        v = int(t)
        return v if -(2**63) <= v < 2**63 else None
    if kind in ("id", "count", "sign"):
        if kind == "sign" and t in ("-1", "+1", "1"):
            return int(t)
        if kind == "sign" or not _ID_RE.match(t):
            return None
        v = int(t)
        return v if v < 2**64 else None
    try:
        v = float(t)
    except ValueError:
        return None
    if not np.isfinite(v) or (kind == "nonneg" and v < 0) or (kind == "position" and abs(v) > MAX_COORDINATE_NM):
        return None
    return v


_DTYPES = {"id": np.uint64, "int": np.int64, "count": np.int64, "sign": np.int64}


def _decode(path: Path, what: str) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{what}: expected UTF-8 text, got byte 0x{data[e.start]:02x} at offset {e.start} "
                              "that is not UTF-8 (save as 'CSV UTF-8')") from None


def _read_csv(path: Path, what: str, known: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read a CSV table (UTF-8, optional BOM, LF or CRLF), each column parsed by its kind."""
    if not path.is_file():
        raise SubmissionError(f"{what}: expected the file in the submission directory, got none (it does not exist)")
    try:
        rows = list(csv.reader(io.StringIO(_decode(path, what), newline="")))
    except csv.Error as e:
        raise SubmissionError(f"{what}: expected CSV, got a malformed line ({e})") from None
    if not rows:
        raise SubmissionError(f"{what}: expected a header row, got an empty file")
    header = [h.strip() for h in rows[0]]
    _check_units(what, header, known)
    dup = sorted({h for h in header if header.count(h) > 1})
    if dup:
        raise SubmissionError(f"{what}: expected each column once, got {dup[0]!r} {header.count(dup[0])} times")
    body = [r for r in rows[1:] if r and any(x.strip() for x in r)]
    cols: dict[str, np.ndarray] = {}
    for j, name in enumerate(header):
        kind = COLUMN_KINDS.get(name, "float")
        values = []
        for i, r in enumerate(body):
            if len(r) != len(header):
                raise SubmissionError(f"{what}: row {i + 2}: expected {len(header)} fields, got {len(r)}")
            v = _parse(kind, r[j])
            if v is None:
                raise SubmissionError(f"{what}: column {name!r} row {i + 2}: expected {_EXPECTED[kind]}, got {_show(r[j])}")
            values.append(v)
        cols[name] = np.array(values, dtype=_DTYPES.get(kind, float))
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
        raise SubmissionError(f"{what}: expected columns from {', '.join(known)}; got unknown column {_show(name)}")


def validate_synapses(cols: dict[str, np.ndarray], what: str = "synapses.csv") -> dict[str, np.ndarray]:
    """Check column names and values of a synapse table given as arrays (ids as integers).

    Parameters
    ----------
    cols : dict of str -> (N,) array_like
        Column name -> values: the six ``POSITION_COLUMNS`` (nm) are required, any of
        ``OPTIONAL_SYNAPSE_COLUMNS`` may be given; each is checked by its kind (``COLUMN_KINDS``).
    what : str
        How the table is named in error messages.

    Returns
    -------
    dict of str -> (N,) ndarray
        The columns converted to their dtypes (ids uint64, row ids, counts and sign int64, the
        rest float64).

    Raises
    ------
    SubmissionError
        An unknown column (a unit other than nm on a position names the unit), a missing required
        column, a non-integer or negative id or count, a sign other than +-1, a non-finite value,
        a negative ``conductance_nS``/``psd_area_nm2``, or a position beyond ``MAX_COORDINATE_NM``.
    """
    known = POSITION_COLUMNS + OPTIONAL_SYNAPSE_COLUMNS
    _check_units(what, cols, known)
    missing = [c for c in POSITION_COLUMNS if c not in cols]
    if missing:
        raise SubmissionError(f"{what}: expected required columns {', '.join(POSITION_COLUMNS)}; got a header missing column {missing[0]!r}")
    return {name: _check_array(what, name, v) for name, v in cols.items()}


def _check_array(what: str, name: str, v) -> np.ndarray:
    kind = COLUMN_KINDS.get(name, "float")
    a = np.asarray(v)
    if kind in _DTYPES:
        if a.dtype.kind == "f":
            if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
                raise SubmissionError(f"{what}: column {name!r}: expected {_EXPECTED[kind]}, got non-integer values")
        elif a.dtype.kind not in "iu" and a.size:
            raise SubmissionError(f"{what}: column {name!r}: expected {_EXPECTED[kind]}, got dtype {a.dtype}")
        if a.size and a.dtype.kind != "u" and np.any(a < 0) and kind not in ("sign", "int"):
            raise SubmissionError(f"{what}: column {name!r} must be >= 0, got {a.min()}")
        if kind == "sign" and not np.all(np.isin(a, (-1, 1))):
            raise SubmissionError(f"{what}: column 'sign' must be +1 or -1")
        return a.astype(_DTYPES[kind]) if a.dtype.kind != "f" else a.astype(np.float64).astype(_DTYPES[kind])
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise SubmissionError(f"{what}: column {name!r} contains NaN or infinite values")
    if kind == "nonneg" and np.any(a < 0):
        raise SubmissionError(f"{what}: column {name!r} must be >= 0, got {a.min()}")
    if kind == "position" and a.size and np.abs(a).max() > MAX_COORDINATE_NM:
        raise SubmissionError(f"{what}: column {name!r}: expected {_EXPECTED[kind]}, got {np.abs(a).max():g}")
    return a


def validate_cells(cols: dict[str, np.ndarray], what: str = "cells.csv") -> dict[str, np.ndarray]:
    """Check a cells table given as arrays: ``segment_id`` required, known columns only.

    Parameters
    ----------
    cols : dict of str -> (M,) array_like
        ``segment_id`` (required; non-negative integers), ``bias_nA`` (nA) and the channel
        densities of ``CHANNEL_COLUMNS`` (mS/cm^2, >= 0), one row per segment.
    what : str
        How the table is named in error messages.

    Returns
    -------
    dict of str -> (M,) ndarray
        ``segment_id`` uint64, the others float64.

    Raises
    ------
    SubmissionError
        An unknown column, no ``segment_id``, a non-integer or negative id, a non-finite value,
        or a negative channel density.
    """
    _check_units(what, cols, CELL_COLUMNS)
    if "segment_id" not in cols:
        raise SubmissionError(f"{what}: expected a column 'segment_id' (columns: {', '.join(CELL_COLUMNS)}); got none")
    cols = {name: _check_array(what, name, v) for name, v in cols.items()}
    for name in CHANNEL_COLUMNS:
        if name in cols and np.any(cols[name] < 0):
            raise SubmissionError(f"{what}: column {name!r} (a channel density, mS/cm^2) must be >= 0, "
                                  f"got {cols[name].min()!r}")
    return cols


def write_csv(path: Path, cols: dict[str, np.ndarray], int_columns=()) -> None:
    """Write equal-length columns as a CSV table: ``int_columns`` as exact integers, the rest as
    ``repr(float)`` (round-trips exactly); LF line ends, header first."""
    names = list(cols)
    n = len(cols[names[0]]) if names else 0
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(names)
        for i in range(n):
            w.writerow([int(cols[c][i]) if c in int_columns else repr(float(cols[c][i])) for c in names])


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
        meta = json.loads(_decode(meta_path, "submission.json"))
    except ValueError as e:
        raise SubmissionError(f"submission.json: expected JSON, got invalid JSON ({str(e).splitlines()[0][:120]})") from None
    if not isinstance(meta, dict):
        raise SubmissionError(f"submission.json: expected a JSON object {{...}}, got a {type(meta).__name__}")
    for key in REQUIRED_KEYS:
        if key not in meta:
            raise SubmissionError(f"submission.json: expected keys {', '.join(REQUIRED_KEYS)}; got no key {key!r}")
    for key, typ in META_KEYS.items():
        if key in meta and not (isinstance(meta[key], typ) or (key in ("cells", "method") and meta[key] is None)):
            raise SubmissionError(f"submission.json {key}: expected a string, got {type(meta[key]).__name__} {_show(json.dumps(meta[key]))}")
    if "format" in meta and meta["format"] != FORMAT:
        raise SubmissionError(f"submission.json format: expected {FORMAT!r}, got {_show(meta['format'])}")
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
        :func:`validate_segmentation`) or a table (:func:`_read_csv` and the validators).
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
    synapses = validate_synapses(_read_csv(syn_path, "synapses.csv", POSITION_COLUMNS + OPTIONAL_SYNAPSE_COLUMNS))
    cells = None
    if meta.get("cells"):
        cells_path = contained(root, meta["cells"], "cells")
        cells = validate_cells(_read_csv(cells_path, "cells.csv", CELL_COLUMNS))
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

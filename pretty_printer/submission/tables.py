"""The submission's tables: ``synapses.csv`` and ``cells.csv`` columns, how each is parsed and
checked, and how tables are written (format: :mod:`pretty_printer.submission.format`).

Ids are exact unsigned 64-bit integers (never floats), positions are nanometres, and every bad
cell is refused in one line naming the table, the column, the row, what was expected and what
was got.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np

from phantoms.channels import CHANNEL_COLUMNS
from pretty_printer.errors import SubmissionError

POSITION_COLUMNS = ("pre_z_nm", "pre_y_nm", "pre_x_nm", "post_z_nm", "post_y_nm", "post_x_nm")
OPTIONAL_SYNAPSE_COLUMNS = ("id", "pre_id", "post_id", "conductance_nS", "psd_area_nm2", "sign",
                            "n_AMPA", "n_NMDA", "n_GABA_A")
CELL_COLUMNS = ("segment_id", "bias_nA") + CHANNEL_COLUMNS
_UNIT_RE = re.compile(r"^(?P<stem>[A-Za-z_]+?)_(?P<unit>[A-Za-z]+\d*)$")
_KNOWN_UNITS = {"nm", "nS", "nm2", "nA", "id", "cm2"}  # cm2: densities such as g_*_mS_cm2



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


def show_value(value: str) -> str:
    """A value as quoted in an error message (cut at 40 characters)."""
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


def decode_utf8(path: Path, what: str) -> str:
    """The file as text: UTF-8 with or without a byte-order mark, else a one-line SubmissionError."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as e:
        raise SubmissionError(f"{what}: expected UTF-8 text, got byte 0x{data[e.start]:02x} at offset {e.start} "
                              "that is not UTF-8 (save as 'CSV UTF-8')") from None


def read_table(path: Path, what: str, known: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Read a CSV table (UTF-8, optional BOM, LF or CRLF), each column parsed by its kind."""
    if not path.is_file():
        raise SubmissionError(f"{what}: expected the file in the submission directory, got none (it does not exist)")
    try:
        rows = list(csv.reader(io.StringIO(decode_utf8(path, what), newline="")))
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
                raise SubmissionError(f"{what}: column {name!r} row {i + 2}: expected {_EXPECTED[kind]}, got {show_value(r[j])}")
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
        raise SubmissionError(f"{what}: expected columns from {', '.join(known)}; got unknown column {show_value(name)}")


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
            raise SubmissionError(f"{what}: column {name!r}: expected {_EXPECTED[kind]}, got {float(a.min()):g}")
        if kind == "sign" and not np.all(np.isin(a, (-1, 1))):
            raise SubmissionError(f"{what}: column 'sign' must be +1 or -1")
        return a.astype(_DTYPES[kind]) if a.dtype.kind != "f" else a.astype(np.float64).astype(_DTYPES[kind])
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise SubmissionError(f"{what}: column {name!r} contains NaN or infinite values")
    if kind == "nonneg" and np.any(a < 0):
        raise SubmissionError(f"{what}: column {name!r}: expected {_EXPECTED[kind]}, got {float(a.min()):g}")
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
            raise SubmissionError(f"{what}: column {name!r} (a channel density, mS/cm^2): expected values >= 0, "
                                  f"got {float(cols[name].min()):g}")
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

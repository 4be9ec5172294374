"""The sweep's results table: scorecards flattened to ``section.key`` columns, written as
``results.csv`` and ``results.json`` (atomically) and read back."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any, Mapping, Sequence

from pretty_printer.studies.sweep_values import format_value

SWEEP_FORMAT = "neural-pretty-printer/sweep@1"
# Scores drawn first in plots and tables; every other numeric score follows, sorted.
HEADLINE_SCORES = (
    "function.accuracy", "function.output_correlation", "connectome.edge_f1",
    "connectome.weight_spearman", "synapses.f1", "segmentation.vi_split",
    "segmentation.vi_merge", "segmentation.arand", "segmentation.erl_nm",
)


def atomic_write_json(path: Path, obj) -> None:
    """Write ``obj`` as sorted, indented JSON to ``path`` by atomic rename (never half-written)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(obj, indent=1, sort_keys=True) + "\n")
    os.replace(tmp, path)


def flatten_scores(card: Mapping[str, Any]) -> dict[str, float]:
    """Numeric scores of a scorecard as ``section.key`` -> float (None becomes NaN)."""
    flat: dict[str, float] = {}
    for section, values in card.items():
        if not isinstance(values, Mapping):
            continue
        for k, v in values.items():
            if isinstance(v, bool):
                continue
            if isinstance(v, (int, float)):
                flat[f"{section}.{k}"] = float(v)
            elif v is None:
                flat[f"{section}.{k}"] = math.nan
    return flat


def score_columns(rows: Sequence[Mapping[str, Any]], keys: Sequence[str]) -> list[str]:
    """Score columns: headline scores first, then the rest sorted."""
    present = {c for r in rows for c in r} - set(keys) - {"point", "arm"}
    head = [c for c in HEADLINE_SCORES if c in present]
    return head + sorted(present - set(head))


def write_table(rows: Sequence[Mapping[str, Any]], out: Path, keys: Sequence[str]) -> tuple[Path, Path]:
    """Write ``results.csv`` and ``results.json`` (atomically) from the rows.

    Parameters
    ----------
    rows : sequence of dict
        From :func:`collect_rows`.
    out : Path
        The sweep directory.
    keys : sequence of str
        The varied keys (table columns after ``point`` and ``arm``).
    """
    out = Path(out)
    keys = list(keys)
    scores = score_columns(rows, keys)
    header = ["point", "arm", *keys, *scores]
    fd, tmp = tempfile.mkstemp(prefix=".results.csv.", dir=out)
    with os.fdopen(fd, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([_cell(r.get(c)) for c in header])
    os.replace(tmp, out / "results.csv")
    records = [{"point": r["point"], "arm": r["arm"], "values": {k: r[k] for k in keys},
                "scores": {c: (None if isnan(r.get(c)) else r.get(c)) for c in scores}} for r in rows]
    atomic_write_json(out / "results.json", {"format": SWEEP_FORMAT, "keys": keys, "scores": scores, "rows": records})
    return out / "results.csv", out / "results.json"


def isnan(v) -> bool:
    """Whether ``v`` is a float NaN (a score that could not be computed)."""
    return isinstance(v, float) and math.isnan(v)


def _cell(v) -> str:
    if v is None or isnan(v):
        return ""
    if isinstance(v, float):
        return repr(v)
    if isinstance(v, (list, tuple, bool)):
        return format_value(v)
    return str(v)


def read_table(out: Path) -> list[dict]:
    """The rows of ``results.json`` as flat dicts (values and scores together)."""
    data = json.loads((Path(out) / "results.json").read_text())
    # values come back as JSON: lists stay lists, which format_value treats like tuples
    return [{"point": r["point"], "arm": r["arm"], **r["values"],
             **{k: (math.nan if v is None else v) for k, v in r["scores"].items()}} for r in data["rows"]]



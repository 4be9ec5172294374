"""Score many submissions against one benchmark into one ranked table and an HTML report.

The benchmark is a dataset or a track (:func:`pretty_printer.dataset.release.find_datasets`).  For a
dataset each submission is a submission directory; for a track it is a directory holding one
submission per level (``SUB/<level>/``).  A submission that cannot be read is listed with its error
and ranked last: one broken entry does not stop the board.

Ranking: by the mean over levels of :data:`RANK_BY` (default ``connectome.edge_f1``, the recovered
wiring diagram); ties by the mean of ``function.accuracy``.  For each entry the report names where
it fails most: the headline score furthest from its perfect value, level by level (in the track's
order, easiest first) and, for a track, over the mean of the levels; it links the full scorecard
report of each level.

An entry is named by its directory's last path component, or by as many trailing components as make
the names distinct (``subs/a/em-easy`` and ``subs/b/em-easy`` are ``a/em-easy`` and ``b/em-easy``).
"""

from __future__ import annotations

import csv
import html
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

from pretty_printer.errors import ConfigError, PrettyPrinterError

RANK_BY = "connectome.edge_f1"
TIE_BREAK = "function.accuracy"
#: Headline scores in the table, with their perfect value (fractions 1; VI and ARAND 0).
HEADLINE = (("connectome.edge_f1", 1.0), ("function.accuracy", None), ("synapses.f1", 1.0),
            ("segmentation.vi_split", 0.0), ("segmentation.vi_merge", 0.0), ("segmentation.arand", 0.0),
            ("connectome.sign_accuracy", 1.0))
#: What a shortfall in each score means, for the "fails most at" column.
MEANING = {"connectome.edge_f1": "wiring (edges)", "synapses.f1": "synapse detection",
           "segmentation.vi_split": "splits", "segmentation.vi_merge": "merges",
           "segmentation.arand": "segmentation (ARAND)", "connectome.sign_accuracy": "synapse signs",
           "function.accuracy": "function"}


@dataclass
class Entry:
    """One submission's scores, level by level."""

    name: str
    path: Path
    cards: dict = field(default_factory=dict)  # level -> scorecard
    errors: dict = field(default_factory=dict)  # level -> one-line error
    rank: int = 0
    sources: dict = field(default_factory=dict)  # level -> (dataset dir, submission dir), for report crops
    levels: list = field(default_factory=list)  # the benchmark's levels in its order ("" for a dataset)

    def level_order(self) -> list[str]:
        """The levels scored or failed, in the benchmark's order (insertion order if unset)."""
        seen = list(dict.fromkeys([*self.cards, *self.errors]))
        return [lv for lv in self.levels if lv in seen] + [lv for lv in seen if lv not in self.levels]

    def mean(self, key: str) -> float:
        vals = [_get(c, key) for c in self.cards.values()]
        vals = [v for v in vals if isinstance(v, (int, float)) and math.isfinite(v)]
        return sum(vals) / len(vals) if vals and not self.errors else float("nan")


def _get(card: dict, key: str):
    node = card
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def fails_most(card: dict, n: int = 2) -> str:
    """The ``n`` headline scores furthest from their perfect values, worst first.

    E.g. ``"synapse detection (synapses.f1 0.333); merges (segmentation.vi_merge 0.672)"``.
    Function accuracy is measured from the truth circuit's own accuracy (``reference_accuracy``).
    """
    gaps = []
    ref = _get(card, "function.reference_accuracy")
    for key, perfect in HEADLINE:
        v = _get(card, key)
        target = ref if perfect is None else perfect
        if not isinstance(v, (int, float)) or not isinstance(target, (int, float)) or not math.isfinite(v):
            continue
        # VI is in bits (unbounded): v / (1 + v) puts it on the [0, 1) scale of the other gaps
        g = v / (1.0 + v) if key.startswith("segmentation.vi_") else abs(target - v)
        if g > 1e-12:
            gaps.append((-g, f"{MEANING[key]} ({key} {v:.4g})"))
    if not gaps:
        return "nothing: matches the truth on every headline score"
    return "; ".join(text for _, text in sorted(gaps)[:n])


def score_entries(root: Path, submissions: list[Path], *, function: bool = True,
                  threshold_nm: float | None = None, progress=None) -> list[Entry]:
    """Score every submission on every level of benchmark ``root``; entries come back ranked.

    Raises
    ------
    ConfigError
        No submissions, or the same directory twice.
    DatasetError
        ``root`` is not a dataset or track, or lacks its truth.
    """
    from pretty_printer.dataset.layout import Dataset
    from pretty_printer.dataset.release import find_datasets
    from pretty_printer.scoring.score import SYNAPSE_THRESHOLD_NM, score

    names = entry_names(submissions)
    levels = find_datasets(root)
    for _, ds in levels:
        Dataset(ds).require_truth()
    entries = []
    for name, sub in zip(names, submissions):
        entry = Entry(name, Path(sub), levels=[lv for lv, _ in levels])
        for level, ds in levels:
            if progress is not None:
                progress(entry.name, level)
            try:
                sub_dir = Path(sub) / level if level else Path(sub)
                entry.cards[level] = score(ds, sub_dir, threshold_nm=threshold_nm or SYNAPSE_THRESHOLD_NM,
                                           function=function)
                entry.sources[level] = (Path(ds), sub_dir)
            except PrettyPrinterError as e:
                entry.errors[level] = str(e)
        entries.append(entry)
    return rank(entries)


def entry_names(submissions: list[Path]) -> list[str]:
    """Each submission's name: the last path component, or the fewest trailing components (the same
    number for all) that tell the submissions apart, joined by ``/``.

    Raises
    ------
    ConfigError
        No submissions, or one directory given twice.
    """
    if not submissions:
        raise ConfigError("SUB: expected at least one submission directory, got none")
    parts = [Path(os.path.abspath(s)).parts for s in submissions]
    for k in range(1, max(len(p) for p in parts) + 1):
        names = ["/".join(p[-k:]) for p in parts]
        if len(set(names)) == len(names):
            return names
    twice = next(str(s) for i, s in enumerate(submissions) if parts[i] in parts[:i])
    raise ConfigError(f"SUB: expected distinct submission directories, got {twice!r} twice")


def mean_card(entry: Entry) -> dict:
    """The mean over levels of each headline score (and of the reference accuracy), as a scorecard
    (``None`` where undefined, e.g. a level failed), so :func:`fails_most` reads it like one level."""
    card: dict = {}
    for key in [k for k, _ in HEADLINE] + ["function.reference_accuracy"]:
        v = entry.mean(key)
        section, name = key.split(".")
        card.setdefault(section, {})[name] = None if math.isnan(v) else v
    return card


def rank(entries: list[Entry], by: str = RANK_BY) -> list[Entry]:
    """Entries sorted best first (NaN last), with ``rank`` set (ties share a rank)."""
    def key(e):
        a, b = e.mean(by), e.mean(TIE_BREAK)
        return (math.isnan(a), -(a if not math.isnan(a) else 0), -(b if not math.isnan(b) else 0))

    entries = sorted(entries, key=key)
    for i, e in enumerate(entries):
        e.rank = entries[i - 1].rank if i and key(entries[i - 1]) == key(e) else i + 1
    return entries


def _row(e: Entry, level: str, card: dict, error: str) -> dict:
    row = {"rank": e.rank, "submission": e.name, "level": level or "-", "method": card.get("method", "")}
    row.update({k: _get(card, k) for k, _ in HEADLINE})
    row["fails_most_at"] = fails_most(card) if card and not error else ""
    row["error"] = error
    return row


def entry_rows(e: Entry, *, mean: bool = False) -> list[dict]:
    """``e``'s rows, one per level in the benchmark's order; with ``mean`` and more than one level,
    a last row (level ``mean``) of the means over levels (what the ranking uses)."""
    out = [_row(e, lv, e.cards.get(lv, {}), e.errors.get(lv, "")) for lv in e.level_order()]
    if mean and len(out) > 1:
        out.append(_row(e, "mean", {"method": out[0]["method"], **mean_card(e)},
                        "no mean: a level failed" if e.errors else ""))
    return out


def rows(entries: list[Entry], *, mean: bool = False) -> list[dict]:
    """One row per (submission, level): rank, names, headline scores, where it fails most, error
    (with ``mean``, each track entry's mean row after its levels; the CSV has none)."""
    return [r for e in entries for r in entry_rows(e, mean=mean)]


def write_csv(entries: list[Entry], path: Path) -> None:
    table = rows(entries)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(table[0]))
        w.writeheader()
        for r in table:
            w.writerow({k: ("" if v is None else (f"{v:.6g}" if isinstance(v, float) else v)) for k, v in r.items()})


def write_html(entries: list[Entry], path: Path, *, title: str = "Leaderboard") -> None:
    """The ranked table plus, per entry and level, a link to its full scorecard report."""
    from pretty_printer.viz.report import write_html_report

    path = Path(path)
    detail_dir = path.with_name(f"{path.stem}-reports")
    fmt = lambda v: "n/a" if v is None else (f"{v:.4g}" if isinstance(v, float) else html.escape(str(v)))  # noqa: E731
    head = ["rank", "submission", "level", "method"] + [k for k, _ in HEADLINE] + ["fails most at", "report"]
    body = []
    for r, e in [(r, e) for e in entries for r in entry_rows(e, mean=True)]:
        level = "" if r["level"] == "-" else r["level"]
        link = ""
        if level in e.cards and r["level"] != "mean":
            rel = f"{e.name.replace('/', '__')}{'-' + level if level else ''}.html"  # a name may hold '/'
            ds_dir, sub_dir = e.sources.get(level, (None, None))
            write_html_report(e.cards[level], detail_dir / rel, dataset_dir=ds_dir, submission_dir=sub_dir)
            link = f"<a href='{html.escape(detail_dir.name)}/{html.escape(rel)}'>scorecard</a>"
        cells = [fmt(r["rank"]), fmt(r["submission"]), fmt(r["level"]), fmt(r["method"])]
        cells += [fmt(r[k]) for k, _ in HEADLINE]
        cells += [html.escape(r["error"] and f"error: {r['error']}" or r["fails_most_at"]), link]
        row_style = " style='font-style:italic'" if r["level"] == "mean" else ""
        body.append(f"<tr{row_style}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    doc = ["<!doctype html><html><head><meta charset='utf-8'>", f"<title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
           "td,th{border:1px solid #ccc;padding:.2em .5em}th{background:#eee}</style></head><body>",
           f"<h1>{html.escape(title)}</h1>",
           f"<p>Ranked by the mean over levels of <b>{RANK_BY}</b> (ties: {TIE_BREAK}); levels are "
           "listed easiest first, then a track entry's <i>mean</i> row. "
           "VI in bits and ARAND: lower is better; the rest: higher is better. "
           "'fails most at' is the headline score furthest from its perfect value "
           "(function accuracy: from the truth circuit's own accuracy).</p>",
           "<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr>", *body,
           "</table></body></html>"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(doc))


def format_table(entries: list[Entry]) -> str:
    """A terminal table: rank, submission, level, the ranking score, where it fails most."""
    lines = [f"{'rank':<5}{'submission':<24}{'level':<12}{RANK_BY:<22}fails most at"]
    for r in rows(entries, mean=True):
        v = r[RANK_BY]
        lines.append(f"{r['rank']:<5}{r['submission'][:23]:<24}{r['level'][:11]:<12}"
                     f"{('n/a' if v is None else f'{v:.3f}'):<22}{r['error'] and 'error: ' + r['error'] or r['fails_most_at']}")
    return "\n".join(lines)

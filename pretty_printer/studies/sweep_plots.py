"""The sweep's plots: every score against every varied key (mean +- sd over seeds), and an
overview page of the headline scores."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from pretty_printer.studies.sweep_table import HEADLINE_SCORES, isnan, score_columns
from pretty_printer.studies.sweep_values import SEED_KEY, UNSAFE, format_value

# Table columns that are counts or settings rather than scores: kept in the table, not plotted.
NOT_PLOTTED = frozenset({"threshold_nm", "total_length_nm", "input_ports_found", "output_ports_found"})


def _numeric(values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def series(rows: Sequence[Mapping[str, Any]], x_key: str, score: str, keys: Sequence[str]):
    """Group rows into lines for ``score`` against ``x_key``.

    Rows are grouped by arm and by the other varied keys except ``seed``, which is averaged over:
    each line is ``(label, xs, means, stds, n)`` with ``xs`` in first-seen order (sorted if numeric).
    """
    others = [k for k in keys if k not in (x_key, SEED_KEY)]
    groups: dict[tuple, dict] = {}
    for r in rows:
        v = r.get(score)
        if v is None or isnan(v):
            continue
        gkey = (r["arm"],) + tuple(format_value(r[k]) for k in others)
        groups.setdefault(gkey, {}).setdefault(format_value(r[x_key]), (r[x_key], []))[1].append(float(v))
    arms = {g[0] for g in groups}
    lines = []
    for gkey, pts in groups.items():
        xs = [x for x, _ in pts.values()]
        ys = [ys for _, ys in pts.values()]
        if _numeric(xs):
            order = np.argsort(np.asarray(xs, float), kind="stable")
            xs, ys = [xs[i] for i in order], [ys[i] for i in order]
        parts = ([gkey[0]] if len(arms) > 1 else []) + [f"{k}={s}" for k, s in zip(others, gkey[1:])]
        lines.append((", ".join(parts), xs, np.array([np.mean(y) for y in ys]),
                      np.array([np.std(y) for y in ys]), np.array([len(y) for y in ys])))
    return lines


def log_scale(xs: Sequence[float]) -> bool:
    """A log axis for positive values spanning a factor of 10 or more (doses, voxel sizes)."""
    xs = np.asarray([float(x) for x in xs])
    return bool(xs.size and np.all(xs > 0) and xs.max() / xs.min() >= 10.0)


def _pyplot():
    from pretty_printer.viz import figures

    return figures


def draw_score(ax, rows, x_key: str, score: str, keys: Sequence[str], *, title: str | None = None,
               fontsize: int = 10) -> bool:
    """Draw one score against one key into ``ax`` (one line per arm and other key, mean +- sd over
    seeds); False if no finished point has that score."""
    lines = series(rows, x_key, score, keys)
    if not lines:
        return False
    all_x = [x for _, xs, *_ in lines for x in xs]
    numeric = _numeric(all_x)
    categories = list(dict.fromkeys(format_value(x) for x in all_x))
    for label, xs, mean, std, n in lines:
        pos = [float(x) for x in xs] if numeric else [categories.index(format_value(x)) for x in xs]
        ax.errorbar(pos, mean, yerr=std if np.any(n > 1) else None, marker="o", capsize=3, label=label or None)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories, rotation=20)
    elif log_scale(all_x):
        from matplotlib.ticker import NullFormatter

        ax.set_xscale("log")
        # tick the swept values themselves: a decade axis labels few of them, minor labels collide
        ticks = sorted({float(x) for x in all_x})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(x_key, fontsize=fontsize - 1)
    ax.set_ylabel(score, fontsize=fontsize - 1)
    ax.set_title(title or f"{score} vs {x_key}", fontsize=fontsize)
    ax.grid(alpha=0.3)
    if any(label for label, *_ in lines):
        ax.legend(fontsize=fontsize - 2)
    return True


def plot_score(rows, x_key: str, score: str, keys: Sequence[str], path: Path, *, title: str | None = None) -> Path | None:
    """Draw one score against one key into a PNG; ``None`` if no finished point has that score."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5.0, 3.6), dpi=100)
    if not draw_score(ax, rows, x_key, score, keys, title=title):
        plt.close(fig)
        return None
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def plot_overview(rows, x_key: str, keys: Sequence[str], path: Path) -> Path | None:
    """The headline scores present (up to nine) against one key, on one page."""
    scores = [c for c in HEADLINE_SCORES if any(not isnan(r.get(c, math.nan)) for r in rows)]
    if not scores:
        return None
    plt = _pyplot()
    ncol = min(3, len(scores))
    nrow = math.ceil(len(scores) / ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(4.2 * ncol, 3.2 * nrow), dpi=90, squeeze=False)
    for ax, score in zip(axes.ravel(), scores):
        draw_score(ax, rows, x_key, score, keys, title=score, fontsize=9)
        ax.set_ylabel("")
    for ax in axes.ravel()[len(scores):]:
        ax.axis("off")
    fig.suptitle(f"headline scores vs {x_key}", fontsize=11)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def is_plotted(column: str) -> bool:
    """Whether a table column is a score worth a plot (counts such as ``n_cells`` and settings
    such as ``threshold_nm`` stay in the table only)."""
    name = column.rsplit(".", 1)[-1]
    return not name.startswith("n_") and name not in NOT_PLOTTED


def plot_results(rows: Sequence[Mapping[str, Any]], keys: Sequence[str], plot_dir: Path) -> list[Path]:
    """Plot every score against every varied key into ``plot_dir`` (old plots are replaced):
    ``<score>_vs_<key>.png`` each, and ``overview_vs_<key>.png`` with the headline scores."""
    plot_dir = Path(plot_dir)
    if plot_dir.exists():
        for p in plot_dir.glob("*_vs_*.png"):
            p.unlink()
    made = []
    x_keys = [k for k in keys if k != SEED_KEY] or list(keys)
    for key in x_keys:
        p = plot_overview(rows, key, keys, plot_dir / UNSAFE.sub("_", f"overview_vs_{key}.png"))
        if p is not None:
            made.append(p)
        for score in filter(is_plotted, score_columns(rows, keys)):
            safe = UNSAFE.sub("_", f"{score}_vs_{key}")
            p = plot_score(rows, key, score, keys, plot_dir / f"{safe}.png")
            if p is not None:
                made.append(p)
    return made

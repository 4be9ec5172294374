"""Figures without pyplot, so that library code never changes the caller's matplotlib backend.

``subplots``, ``figure`` and ``close`` mirror the pyplot calls the project uses, but build a plain
:class:`matplotlib.figure.Figure`; ``Figure.savefig`` renders PNG through the Agg canvas on its
own, so no backend is selected and no global figure manager keeps figures alive.
"""

from __future__ import annotations

from matplotlib.figure import Figure


def subplots(nrows: int = 1, ncols: int = 1, *, squeeze: bool = True, gridspec_kw: dict | None = None,
             subplot_kw: dict | None = None, **fig_kw):
    """Like ``pyplot.subplots``: a new figure and its axes (``fig_kw`` go to :class:`Figure`)."""
    fig = Figure(**fig_kw)
    axes = fig.subplots(nrows, ncols, squeeze=squeeze, gridspec_kw=gridspec_kw, subplot_kw=subplot_kw)
    return fig, axes


def figure(**fig_kw) -> Figure:
    """Like ``pyplot.figure``: a new, empty figure."""
    return Figure(**fig_kw)


def close(fig: Figure) -> None:
    """Drop the figure's artists (pyplot-free figures have no manager to unregister from)."""
    fig.clear()

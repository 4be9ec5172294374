"""The cells in 3D: ``truth/swc`` morphologies as tubes and ``truth/synapses.csv`` as spheres,
rendered off screen with pyvista, or as a matplotlib line drawing where there is no OpenGL; both
carry a title, a colour legend and a scale (a scale bar, or axes in um)."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import numpy as np

from pretty_printer.errors import DatasetError
from pretty_printer.viz.circuit_plot import EXCITATORY_COLOR, INHIBITORY_COLOR, cell_color


def read_swc(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes (N, 3) in nm (z, y, x), radii (N,) in nm and parent indices (N,) (-1 for roots).

    The phantom writes SWC in micrometres, x y z order (``phantoms.export``).
    """
    rows = [line.split() for line in Path(path).read_text().splitlines()
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise DatasetError(f"{str(path)!r}: no SWC nodes")
    a = np.asarray(rows, float)
    ids = a[:, 0].astype(np.int64)
    index = {int(i): k for k, i in enumerate(ids)}
    parents = np.array([index.get(int(p), -1) for p in a[:, 6]], dtype=np.int64)
    nodes = a[:, [4, 3, 2]] * 1000.0
    return nodes, a[:, 5] * 1000.0, parents


def read_synapse_positions(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Post-synaptic positions (M, 3) nm (z, y, x) and PSD areas (M,) from ``truth/synapses.csv``."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        return np.zeros((0, 3)), np.zeros(0)
    pos = np.array([[float(r["post_z_nm"]), float(r["post_y_nm"]), float(r["post_x_nm"])] for r in rows])
    area = np.array([float(r.get("psd_area_nm2") or 0.0) for r in rows])
    return pos, area


def load_morphologies(truth: Path) -> dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Every ``truth/swc/cell_<id>.swc`` keyed by cell id."""
    out = {}
    for p in sorted((Path(truth) / "swc").glob("*.swc")):
        stem = p.stem.rsplit("_", 1)[-1]
        out[int(stem) if stem.isdigit() else len(out) + 1] = read_swc(p)
    return out


def unbranched_paths(parents: np.ndarray) -> list[list[int]]:
    """Split a tree (parent indices, -1 for roots) into paths between branch points and tips.

    Each path starts at a branch point (or root) and runs through nodes with exactly one child.
    """
    parents = np.asarray(parents, np.int64)
    children: list[list[int]] = [[] for _ in range(len(parents))]
    for i, p in enumerate(parents):
        if p >= 0:
            children[p].append(i)
    paths = []
    for start in range(len(parents)):
        for c in children[start] if (parents[start] < 0 or len(children[start]) != 1) else []:
            path = [start, c]
            while len(children[path[-1]]) == 1:
                path.append(children[path[-1]][0])
            paths.append(path)
    return paths


def scale_bar_um(extent_um: float) -> float:
    """A round scale-bar length (1, 2 or 5 x 10^k um) of at most a third of ``extent_um``."""
    target = max(float(extent_um), 1e-6) / 3.0
    base = 10.0 ** np.floor(np.log10(target))
    return float(max(m * base for m in (1.0, 2.0, 5.0) if m * base <= target))


def _legend_entries(excitatory: dict[int, bool], n_synapses: int) -> list[tuple[str, str]]:
    entries = []
    if any(excitatory.values()):
        entries.append(("excitatory cell", EXCITATORY_COLOR))
    if any(not v for v in excitatory.values()):
        entries.append(("inhibitory cell", INHIBITORY_COLOR))
    if not excitatory:
        entries.append(("cell", "#7f7f7f"))
    if n_synapses:
        entries.append(("synapse", "gold"))
    return entries


def _legend_and_title(ax, cells: dict, synapses: np.ndarray, excitatory: dict[int, bool], title: str | None) -> None:
    from matplotlib.lines import Line2D

    ax.legend(handles=[Line2D([], [], marker="o", ls="", color=c, label=label)
                       for label, c in _legend_entries(excitatory, len(synapses))], fontsize=9, loc="upper right")
    ax.set_title(title or f"{len(cells)} cells, {len(synapses)} synapses", fontsize=10)


def render_3d_pyvista(cells: dict, synapses: np.ndarray, excitatory: dict[int, bool], path: Path,
                      *, window_size=(900, 700), title: str | None = None) -> Path:
    """Tubes along each skeleton edge (radius per node) and spheres at synapses, off screen, with
    a black scale bar (its length printed next to it) along x at the front-bottom edge of the
    cells' bounding box; the title and the colour legend are drawn around the render."""
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    from pretty_printer.viz import figures

    plotter = pv.Plotter(off_screen=True, window_size=list(window_size))
    plotter.set_background("white")
    for cid, (nodes, radii, parents) in cells.items():
        _add_cell(plotter, pv, nodes, radii, parents, cell_color(cid, excitatory))
    if len(synapses):
        cloud = pv.PolyData(synapses[:, ::-1] / 1000.0)
        plotter.add_mesh(cloud.glyph(geom=pv.Sphere(radius=0.08), scale=False, orient=False), color="gold")
    _add_scale_bar(plotter, pv, cells)
    plotter.add_axes(xlabel="x", ylabel="y", zlabel="z")
    plotter.camera_position = "iso"
    image = plotter.screenshot(return_img=True)
    plotter.close()
    # title and legend in matplotlib around the render (VTK's legend box clips its own text)
    fig, ax = figures.subplots(figsize=(window_size[0] / 100, window_size[1] / 100 + 0.4), dpi=100)
    ax.imshow(image)
    ax.axis("off")
    _legend_and_title(ax, cells, synapses, excitatory, title)
    fig.tight_layout()
    fig.savefig(path)
    figures.close(fig)
    return Path(path)


def _add_cell(plotter, pv, nodes, radii, parents, color) -> None:
    paths = unbranched_paths(parents)
    if not paths:
        return
    pts = nodes[:, ::-1] / 1000.0  # x, y, z in um for the viewer
    # one polyline per unbranched path, so tubes join smoothly instead of per edge
    lines = np.concatenate([[len(p), *p] for p in paths])
    poly = pv.PolyData(pts, lines=lines)
    poly["radius"] = np.maximum(radii / 1000.0, 0.01)
    plotter.add_mesh(poly.tube(scalars="radius", absolute=True, n_sides=10), color=color, smooth_shading=True)
    soma = int(np.argmax(radii))
    plotter.add_mesh(pv.Sphere(radius=float(radii[soma]) / 1000.0, center=pts[soma]), color=color,
                     smooth_shading=True)


def _add_scale_bar(plotter, pv, cells: dict) -> None:
    lo = np.min([n.min(axis=0) for n, _, _ in cells.values()], axis=0)[::-1] / 1000.0  # x, y, z um
    hi = np.max([n.max(axis=0) for n, _, _ in cells.values()], axis=0)[::-1] / 1000.0
    span = float(np.max(hi - lo))
    bar = scale_bar_um(span)
    # along x at the front-bottom edge of the bounding box as the iso camera sees it (high y, low z)
    start = np.array([lo[0], hi[1], lo[2]]) + [0.0, 0.08, -0.08] * (hi - lo)
    plotter.add_mesh(pv.Line(start, start + [bar, 0.0, 0.0]).tube(radius=0.015 * span), color="black")
    plotter.add_point_labels([start + [bar / 2, 0.0, -0.08 * span]], [f"{bar:g} um"], font_size=16, shape=None,
                             point_size=0, text_color="black", always_visible=True)


def render_3d_matplotlib(cells: dict, synapses: np.ndarray, excitatory: dict[int, bool], path: Path,
                         *, title: str | None = None) -> Path:
    """The fallback without OpenGL: skeleton edges as lines, synapses as dots (axes in um)."""
    from pretty_printer.viz import figures

    fig = figures.figure(figsize=(7, 6), dpi=100)
    ax = fig.add_subplot(projection="3d")
    for cid, (nodes, radii, parents) in cells.items():
        pts = nodes[:, ::-1] / 1000.0
        color = cell_color(cid, excitatory)
        for c in np.flatnonzero(parents >= 0):
            seg = pts[[parents[c], c]]
            ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], color=color, lw=0.5 + 4 * float(radii[c]) / 1000.0)
    if len(synapses):
        s = synapses[:, ::-1] / 1000.0
        ax.scatter(s[:, 0], s[:, 1], s[:, 2], color="gold", s=12, depthshade=False)
    ax.set_xlabel("x (um)")
    ax.set_ylabel("y (um)")
    ax.set_zlabel("z (um)")
    _legend_and_title(ax, cells, synapses, excitatory, title)
    fig.savefig(path)
    figures.close(fig)
    return Path(path)


def render_3d(truth: Path, path: Path, *, excitatory: dict[int, bool] | None = None,
              title: str | None = None) -> tuple[Path, str]:
    """Render the morphologies and synapses; returns the PNG and the renderer used."""
    cells = load_morphologies(truth)
    if not cells:
        raise DatasetError(f"{str(truth)!r}: no SWC files under swc/; expected one per cell")
    syn_csv = Path(truth) / "synapses.csv"
    synapses = read_synapse_positions(syn_csv)[0] if syn_csv.is_file() else np.zeros((0, 3))
    excitatory = excitatory or {}
    try:
        return render_3d_pyvista(cells, synapses, excitatory, path, title=title), "pyvista"
    except Exception as e:  # no OpenGL (or a VTK build without EGL): draw the lines instead
        sys.stderr.write(f"show: 3D render with pyvista failed ({type(e).__name__}: {e}); "
                         "falling back to a matplotlib line drawing\n")
        return render_3d_matplotlib(cells, synapses, excitatory, path, title=title), "matplotlib"



"""PNG previews of a dataset: what each scanner saw, the cells in 3D, and the circuit.

``show(DIR, PNGDIR)`` writes

* ``<modality>_slices.png``: z, y and x mid-planes of each scan (channel 0 for EM and X-ray),
  over the ground-truth labels on the same grid when ``truth/`` is present;
* ``exm_receptor_slices.png``: maximum-intensity projections of the ExM receptor stains (up to
  three, as R, G, B), since synapses are puncta that a single plane would miss;
* ``exm_barcodes.png``: an RGB composite of the ExM barcode channels (the first three principal
  components when there are more than three), so each cell shows as its own colour;
* ``tissue_3d.png``: the morphologies as tubes (``truth/swc``) and the synapses as spheres
  (``truth/synapses.csv``), rendered off screen with pyvista; without OpenGL it falls back to a
  matplotlib 3D line drawing and says so on stderr;
* ``circuit.png``: the compiled circuit (``truth/circuit.json``), layers left to right,
  excitatory cells red and inhibitory blue, edge width by weight.

Volumes are read plane by plane from the Zarr arrays, so any dataset size previews in bounded
memory.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from pretty_printer.dataset.layout import Dataset, open_ome_zarr
from pretty_printer.errors import DatasetError

EXCITATORY_COLOR = "#d62728"
INHIBITORY_COLOR = "#1f77b4"


def _plt():
    from pretty_printer.viz import figures

    return figures


# --------------------------------------------------------------------------- slices
def mid_planes(arr, channels: Sequence[int] | int = 0) -> dict[str, np.ndarray]:
    """The z, y and x mid-planes of a (c, z, y, x) array for the given channel(s).

    Returns arrays of shape (len(channels), a, b) if ``channels`` is a sequence, else (a, b):
    ``"z"`` is (y, x), ``"y"`` is (z, x) and ``"x"`` is (z, y).
    """
    _, nz, ny, nx = arr.shape
    chans = [channels] if isinstance(channels, (int, np.integer)) else list(channels)
    planes = {
        "z": np.stack([np.asarray(arr[c, nz // 2, :, :]) for c in chans]),
        "y": np.stack([np.asarray(arr[c, :, ny // 2, :]) for c in chans]),
        "x": np.stack([np.asarray(arr[c, :, :, nx // 2]) for c in chans]),
    }
    if isinstance(channels, (int, np.integer)):
        return {k: v[0] for k, v in planes.items()}
    return planes


def max_projections(arr, channels: Sequence[int], smooth_voxels: float = 0.0) -> dict[str, np.ndarray]:
    """Maximum-intensity projections of a (c, z, y, x) array along z, y and x for the channels.

    Returns (len(channels), a, b) arrays keyed like :func:`mid_planes`.  Read one z-plane at a
    time, so memory stays at one plane per channel whatever the volume.  ``smooth_voxels`` > 0
    first blurs each plane in y and x with a Gaussian of that sigma: shot noise is independent
    per voxel while a punctum spans the point-spread function, so the maximum then picks puncta
    rather than the brightest noise voxel along the ray.
    """
    from scipy.ndimage import gaussian_filter

    _, nz, ny, nx = arr.shape
    chans = list(channels)
    along_z = None
    along_y = np.empty((len(chans), nz, nx), float)
    along_x = np.empty((len(chans), nz, ny), float)
    for z in range(nz):
        plane = np.stack([np.asarray(arr[c, z, :, :], float) for c in chans])  # (c, y, x)
        if smooth_voxels > 0:
            plane = gaussian_filter(plane, (0, smooth_voxels, smooth_voxels))
        along_z = plane if along_z is None else np.maximum(along_z, plane)
        along_y[:, z, :] = plane.max(axis=1)
        along_x[:, z, :] = plane.max(axis=2)
    return {"z": along_z, "y": along_y, "x": along_x}


def stain_rgb(stack: np.ndarray, *, noise_sds: float = 3.0, span_sds: float = 30.0) -> np.ndarray:
    """Up to three sparse stains (n, a, b) as R, G, B, black wherever a stain is within noise.

    Each channel's background level and noise come from its median and median absolute deviation
    (puncta are too few to move either); black is ``noise_sds`` noise deviations above the
    background, full colour is the brightest value but at least ``span_sds`` deviations above
    black, so a channel with no puncta stays dark instead of stretching its noise to full scale.
    A square root brings up weak puncta next to a strong one.
    """
    stack = np.asarray(stack, float)
    channels = []
    for c in stack[:3]:
        med = float(np.median(c))
        sd = 1.4826 * float(np.median(np.abs(c - med))) or float(c.std()) or 1.0
        lo = med + noise_sds * sd
        hi = max(float(c.max()), lo + span_sds * sd)
        channels.append(np.sqrt(np.clip((c - lo) / (hi - lo), 0.0, 1.0)))
    while len(channels) < 3:
        channels.append(np.zeros_like(channels[0]))
    return np.stack(channels, axis=-1)


def contrast(img: np.ndarray, lo_pct: float = 1.0, hi_pct: float = 99.5) -> np.ndarray:
    """Scale to [0, 1] between two percentiles (robust to hot pixels)."""
    img = np.asarray(img, float)
    lo, hi = np.percentile(img, [lo_pct, hi_pct]) if img.size else (0.0, 1.0)
    if hi <= lo:
        return np.zeros_like(img)
    return np.clip((img - lo) / (hi - lo), 0.0, 1.0)


def _extents_um(shape_zyx, voxel_nm) -> dict[str, list[float]]:
    size = np.asarray(shape_zyx, float) * np.asarray(voxel_nm, float) / 1000.0
    z, y, x = size
    # imshow extent = (left, right, bottom, top); origin upper, so top is 0
    return {"z": [0, x, y, 0], "y": [0, x, z, 0], "x": [0, y, z, 0]}


_AXES = {"z": ("x (um)", "y (um)"), "y": ("x (um)", "z (um)"), "x": ("y (um)", "z (um)")}


def label_colors(labels: np.ndarray) -> np.ndarray:
    """RGB image of a label plane: a fixed pseudo-random colour per id, black for 0."""
    labels = np.asarray(labels, np.int64)
    ids = np.unique(labels)
    out = np.zeros(labels.shape + (3,), float)
    for i in ids[ids != 0]:
        # hash the id so colours do not depend on which other ids are present
        h = np.random.default_rng(int(i) * 2654435761 % (2**32)).uniform(0.25, 1.0, 3)
        out[labels == i] = h
    return out


MIP_TITLES = {"z": "max along z", "y": "max along y", "x": "max along x"}


def plot_slices(planes: dict, voxel_nm, shape_zyx, path: Path, *, title: str,
                label_planes: dict | None = None, rgb: bool = False, plane_titles: dict | None = None) -> Path:
    """Three orthogonal planes side by side (and the truth labels below, if given)."""
    plt = _plt()
    ext = _extents_um(shape_zyx, voxel_nm)
    rows = 2 if label_planes is not None else 1
    fig, axes = plt.subplots(rows, 3, figsize=(13, 3.6 * rows), dpi=100, squeeze=False,
                             gridspec_kw={"width_ratios": [ext["z"][1], ext["y"][1], ext["x"][1]]})
    for j, k in enumerate(("z", "y", "x")):
        ax = axes[0, j]
        img = planes[k]
        ax.imshow(img if rgb else contrast(img), cmap=None if rgb else "gray", extent=ext[k],
                  interpolation="nearest", aspect="equal")
        ax.set_title((plane_titles or {}).get(k, f"{k} mid-plane"), fontsize=9)
        ax.set_xlabel(_AXES[k][0], fontsize=8)
        ax.set_ylabel(_AXES[k][1], fontsize=8)
        ax.tick_params(labelsize=7)
        if label_planes is not None:
            axl = axes[1, j]
            axl.imshow(label_colors(label_planes[k]), extent=ext[k], interpolation="nearest", aspect="equal")
            axl.set_title(f"truth labels, {k} mid-plane", fontsize=9)
            axl.set_xlabel(_AXES[k][0], fontsize=8)
            axl.set_ylabel(_AXES[k][1], fontsize=8)
            axl.tick_params(labelsize=7)
    fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def barcode_rgb(stack: np.ndarray) -> np.ndarray:
    """An RGB composite of n barcode channels (n, a, b): themselves if n <= 3, else their top-3 PCA.

    Each channel (or component) is contrast-stretched to [0, 1] on its own.
    """
    stack = np.asarray(stack, float)
    n = stack.shape[0]
    if n == 0:
        raise DatasetError("barcode composite: expected at least one barcode channel, got none")
    total = stack.sum(axis=0)
    if n > 3:
        flat = stack.reshape(n, -1)
        flat = flat - flat.mean(axis=1, keepdims=True)
        # components from the channel covariance (n x n), cheap for any image size
        _, vecs = np.linalg.eigh(flat @ flat.T)
        comps = vecs[:, ::-1][:, :3].T @ flat
        # sign of an eigenvector is arbitrary: orient so that bright (stained) voxels are positive
        comps *= np.sign(np.sum(comps ** 3, axis=1, keepdims=True) + 1e-30)
        stack = comps.reshape((3,) + stack.shape[1:])
    channels = [contrast(c, 2.0, 99.8) for c in stack]
    while len(channels) < 3:
        channels.append(np.zeros_like(channels[0]))
    rgb = np.stack(channels, axis=-1)
    if n > 3:
        # principal components are signed, so the unstained background gets a colour of its own;
        # dim each pixel by the total stain so the background goes dark and cells keep their hue
        brightness = np.sqrt(contrast(total, 10.0, 99.0))
        rgb = rgb * brightness[..., None]
    return rgb


def barcode_channels(channel_names: Sequence[str]) -> list[int]:
    """Indices of the barcode channels (names ``barcode:<k>``)."""
    return [i for i, c in enumerate(channel_names) if str(c).startswith("barcode")]


# --------------------------------------------------------------------------- 3D
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


def _cell_color(cid: int, excitatory: dict[int, bool]) -> str:
    if cid in excitatory:
        return EXCITATORY_COLOR if excitatory[cid] else INHIBITORY_COLOR
    return "#7f7f7f"


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


def render_3d_pyvista(cells: dict, synapses: np.ndarray, excitatory: dict[int, bool], path: Path,
                      *, window_size=(900, 700)) -> Path:
    """Tubes along each skeleton edge (radius per node) and spheres at synapses, off screen."""
    os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")
    import pyvista as pv

    plotter = pv.Plotter(off_screen=True, window_size=list(window_size))
    plotter.set_background("white")
    for cid, (nodes, radii, parents) in cells.items():
        paths = unbranched_paths(parents)
        if not paths:
            continue
        pts = nodes[:, ::-1] / 1000.0  # x, y, z in um for the viewer
        # one polyline per unbranched path, so tubes join smoothly instead of per edge
        lines = np.concatenate([[len(p), *p] for p in paths])
        poly = pv.PolyData(pts, lines=lines)
        poly["radius"] = np.maximum(radii / 1000.0, 0.01)
        tube = poly.tube(scalars="radius", absolute=True, n_sides=10)
        plotter.add_mesh(tube, color=_cell_color(cid, excitatory), smooth_shading=True)
        soma = int(np.argmax(radii))
        plotter.add_mesh(pv.Sphere(radius=float(radii[soma]) / 1000.0, center=pts[soma]),
                         color=_cell_color(cid, excitatory), smooth_shading=True)
    if len(synapses):
        cloud = pv.PolyData(synapses[:, ::-1] / 1000.0)
        plotter.add_mesh(cloud.glyph(geom=pv.Sphere(radius=0.08), scale=False, orient=False), color="gold")
    plotter.add_axes(xlabel="x", ylabel="y", zlabel="z")
    plotter.camera_position = "iso"
    plotter.screenshot(str(path))
    plotter.close()
    return Path(path)


def render_3d_matplotlib(cells: dict, synapses: np.ndarray, excitatory: dict[int, bool], path: Path) -> Path:
    """The fallback without OpenGL: skeleton edges as lines, synapses as dots."""
    plt = _plt()
    fig = plt.figure(figsize=(7, 6), dpi=100)
    ax = fig.add_subplot(projection="3d")
    for cid, (nodes, radii, parents) in cells.items():
        pts = nodes[:, ::-1] / 1000.0
        color = _cell_color(cid, excitatory)
        for c in np.flatnonzero(parents >= 0):
            seg = pts[[parents[c], c]]
            ax.plot(seg[:, 0], seg[:, 1], seg[:, 2], color=color, lw=0.5 + 4 * float(radii[c]) / 1000.0)
    if len(synapses):
        s = synapses[:, ::-1] / 1000.0
        ax.scatter(s[:, 0], s[:, 1], s[:, 2], color="gold", s=12, depthshade=False)
    ax.set_xlabel("x (um)")
    ax.set_ylabel("y (um)")
    ax.set_zlabel("z (um)")
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


def render_3d(truth: Path, path: Path, *, excitatory: dict[int, bool] | None = None) -> tuple[Path, str]:
    """Render the morphologies and synapses; returns the PNG and the renderer used."""
    cells = load_morphologies(truth)
    if not cells:
        raise DatasetError(f"{str(truth)!r}: no SWC files under swc/; expected one per cell")
    syn_csv = Path(truth) / "synapses.csv"
    synapses = read_synapse_positions(syn_csv)[0] if syn_csv.is_file() else np.zeros((0, 3))
    excitatory = excitatory or {}
    try:
        return render_3d_pyvista(cells, synapses, excitatory, path), "pyvista"
    except Exception as e:  # no OpenGL (or a VTK build without EGL): draw the lines instead
        sys.stderr.write(f"show: 3D render with pyvista failed ({type(e).__name__}: {e}); "
                         "falling back to a matplotlib line drawing\n")
        return render_3d_matplotlib(cells, synapses, excitatory, path), "matplotlib"


# --------------------------------------------------------------------------- circuit
def circuit_layout(circuit) -> dict[int, tuple[float, float]]:
    """Cells placed by layer (x) and spread evenly within their layer (y); outputs in the last column."""
    layers: dict[int, list[int]] = {}
    last = max(c.layer for c in circuit.cells) + 1
    for c in circuit.cells:
        layer = last if c.role == "output" and c.layer < last - 1 else c.layer
        layers.setdefault(layer, []).append(c.id)
    pos = {}
    for x, layer in enumerate(sorted(layers)):
        ids = sorted(layers[layer])
        for k, cid in enumerate(ids):
            pos[cid] = (float(x), (len(ids) - 1) / 2.0 - k)
    return pos


def draw_circuit(circuit, ax, *, title: str | None = None) -> None:
    """Draw the circuit into ``ax``: layers left to right, red excitatory, blue inhibitory,
    edge width by weight, node shape by role."""
    import networkx as nx
    from matplotlib.lines import Line2D

    g = nx.DiGraph()
    for c in circuit.cells:
        g.add_node(c.id)
    for k in circuit.connections:
        if k.weight_uS > 0:
            g.add_edge(k.pre, k.post, weight=k.weight_uS)
    pos = circuit_layout(circuit)
    exc = {c.id: c.transmitter == "glutamate" for c in circuit.cells}
    weights = np.array([g.edges[e]["weight"] for e in g.edges]) if g.number_of_edges() else np.zeros(0)
    widths = list(0.5 + 3.5 * weights / weights.max()) if weights.size else []
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color=[_cell_color(e[0], exc) for e in g.edges],
                           alpha=0.6, arrows=True, arrowsize=10, connectionstyle="arc3,rad=0.08",
                           node_size=500)
    shapes = {"input": "s", "hidden": "o", "output": "D"}
    for role, marker in shapes.items():
        ids = [c.id for c in circuit.cells if c.role == role]
        if ids:
            nx.draw_networkx_nodes(g, pos, nodelist=ids, node_shape=marker, ax=ax, node_size=500,
                                   node_color=[_cell_color(i, exc) for i in ids], edgecolors="k")
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=8, font_color="white")
    handles = [Line2D([], [], marker="o", ls="", color=EXCITATORY_COLOR, label="excitatory"),
               Line2D([], [], marker="o", ls="", color=INHIBITORY_COLOR, label="inhibitory")]
    handles += [Line2D([], [], marker=m, ls="", color="grey", label=r) for r, m in shapes.items()]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title or f"circuit for task {circuit.task!r}: {len(circuit.cells)} cells, "
                          f"{g.number_of_edges()} connections", fontsize=10)
    ax.margins(0.15)
    ax.axis("off")


def plot_circuit(circuit, path: Path, *, title: str | None = None) -> Path:
    """The circuit diagram as a PNG (see :func:`draw_circuit`)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    draw_circuit(circuit, ax, title=title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)


# --------------------------------------------------------------------------- all together
def show_modality(ds: Dataset, modality: str, out_dir: Path) -> list[Path]:
    """Slices of one modality (and the barcode composite for ExM)."""
    arr, voxel = ds.image(modality)
    info = ds.modality(modality)
    names = list(info.get("channels", []))
    made = []
    labels = None
    label_path = ds.truth / "labels" / f"{modality}.zarr"
    if label_path.exists():
        larr, _ = open_ome_zarr(label_path)
        labels = mid_planes(larr, 0)
    channel = 0
    if modality == "exm":
        bc = barcode_channels(names)
        non_bc = [i for i in range(arr.shape[0]) if i not in bc]
        channel = bc[0] if bc else 0
        title = f"{modality}: channel {names[channel] if names else 0}"
        if bc:
            planes = mid_planes(arr, bc)
            rgb = {k: barcode_rgb(v) for k, v in planes.items()}
            how = "channels" if len(bc) <= 3 else f"first 3 principal components of {len(bc)} channels"
            made.append(plot_slices(rgb, voxel, arr.shape[1:], out_dir / "exm_barcodes.png", rgb=True,
                                    title=f"ExM barcode composite ({how}): one colour per cell",
                                    label_planes=labels))
        if non_bc:  # receptor stains show synapses
            # synapses are puncta a few voxels wide: a mid-plane misses nearly all of them, so
            # project the maximum through the block instead (up to three stains as R, G, B)
            stains = non_bc[:3]
            proj = max_projections(arr, stains, smooth_voxels=1.0)
            rgb = {k: stain_rgb(v) for k, v in proj.items()}
            stain_names = [str(names[i]).split(":")[-1] if names else str(i) for i in stains]
            colours = ", ".join(f"{n} {c}" for n, c in zip(stain_names, ("red", "green", "blue")))
            made.append(plot_slices(rgb, voxel, arr.shape[1:], out_dir / "exm_receptor_slices.png", rgb=True,
                                    title=f"ExM receptor stains, maximum-intensity projections ({colours})",
                                    plane_titles=MIP_TITLES))  # no labels: a projection has no one plane
    else:
        title = f"{modality}: channel {names[0] if names else 0}, voxel {tuple(voxel)} nm"
    made.insert(0, plot_slices(mid_planes(arr, channel), voxel, arr.shape[1:], out_dir / f"{modality}_slices.png",
                               title=title, label_planes=labels))
    return made


def show(dataset_dir: Path, out_dir: Path, *, progress: bool = True, modalities: Sequence[str] | None = None) -> list[Path]:
    """Write PNG previews of a dataset into ``out_dir``; returns the files written.

    Parameters
    ----------
    dataset_dir : Path
        A dataset written by ``generate`` (``truth/`` optional: without it only scans are shown).
    out_dir : Path
        Directory for the PNGs (created).
    progress : bool
        A bar over the previews on stderr.
    modalities : sequence of str, optional
        Which scans to show (default: all in the manifest).
    """
    from tqdm import tqdm

    ds = Dataset(dataset_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mods = list(modalities) if modalities is not None else ds.modalities
    for m in mods:
        ds.modality(m)  # unknown modality -> one clear error before any work
    has_truth = (ds.truth / "circuit.json").is_file()
    jobs = [("slices", m) for m in mods] + ([("3d", None), ("circuit", None)] if has_truth else [])
    made: list[Path] = []
    for kind, m in tqdm(jobs, desc="show", file=sys.stderr, disable=not progress or None, leave=False):
        if kind == "slices":
            made += show_modality(ds, m, out_dir)
        elif kind == "3d":
            circuit = ds.circuit()
            exc = {c.id: c.transmitter == "glutamate" for c in circuit.cells}
            made.append(render_3d(ds.truth, out_dir / "tissue_3d.png", excitatory=exc)[0])
        else:
            made.append(plot_circuit(ds.circuit(), out_dir / "circuit.png"))
    return made

"""The compiled circuit as a picture: a layered node-link diagram (layers left to right,
excitatory cells red and inhibitory blue, edge width by weight) and, for large circuits, the
signed weight matrix next to it.

Cells are labelled with their ids as given (a dataset's ``truth/circuit.json`` uses the truth cell
ids, which are also the label values of the volumes; a freshly compiled circuit counts from 0 until
:func:`pretty_printer.dataset.generate.renumber_cells` shifts it).  Node size and label size follow
the largest layer so that 36 input pixels stay legible; with more than
:data:`DENSE_EDGES` connections only the strongest :data:`STRONGEST_INPUTS` inputs of each cell are
drawn as links (the title says so) and :func:`draw_weight_matrix` shows every connection.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

EXCITATORY_COLOR = "#d62728"
INHIBITORY_COLOR = "#1f77b4"

#: Above this many connections a node-link diagram is a hairball: draw only the strongest inputs.
DENSE_EDGES = 120
#: How many inputs per cell (the strongest by peak conductance) a dense diagram draws.
STRONGEST_INPUTS = 3

_SHAPES = {"input": "s", "hidden": "o", "output": "D"}


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


def cell_color(cid: int, excitatory: dict[int, bool]) -> str:
    """A cell's colour by its sign (grey for a cell the map does not know, e.g. background)."""
    if cid in excitatory:
        return EXCITATORY_COLOR if excitatory[cid] else INHIBITORY_COLOR
    return "#7f7f7f"


def _shown_edges(circuit, max_inputs: int | None) -> list:
    """Connections with a positive weight; with ``max_inputs`` only each cell's strongest ones."""
    conns = [k for k in circuit.connections if k.weight_uS > 0]
    if max_inputs is None:
        return conns
    by_post: dict[int, list] = {}
    for k in conns:
        by_post.setdefault(k.post, []).append(k)
    return [k for ks in by_post.values() for k in sorted(ks, key=lambda k: -k.weight_uS)[:max_inputs]]


def _node_size_pt2(ax, n_rows: int) -> float:
    """Marker area (pt^2) so that ``n_rows`` nodes stacked in one column do not overlap."""
    fig = ax.get_figure()
    height_pt = ax.get_position().height * fig.get_figheight() * 72.0
    spacing_pt = height_pt / (1.15 * max(n_rows, 1))  # ax.margins(0.15) spread over the tall column
    return float(min(500.0, (0.9 * spacing_pt) ** 2))


def draw_circuit(circuit, ax, *, title: str | None = None, max_inputs_per_cell: int | None = None) -> None:
    """Draw the circuit into ``ax``: layers left to right, red excitatory, blue inhibitory,
    edge width by weight, node shape by role, node labels = cell ids.

    ``max_inputs_per_cell`` draws only each cell's strongest inputs; by default that is
    :data:`STRONGEST_INPUTS` when the circuit has more than :data:`DENSE_EDGES` connections.
    """
    import networkx as nx
    from matplotlib.lines import Line2D

    n_conn = sum(1 for k in circuit.connections if k.weight_uS > 0)
    if max_inputs_per_cell is None and n_conn > DENSE_EDGES:
        max_inputs_per_cell = STRONGEST_INPUTS
    edges = _shown_edges(circuit, max_inputs_per_cell)
    g = nx.DiGraph()
    g.add_nodes_from(c.id for c in circuit.cells)
    for k in edges:
        g.add_edge(k.pre, k.post, weight=k.weight_uS)
    pos = circuit_layout(circuit)
    exc = {c.id: c.transmitter == "glutamate" for c in circuit.cells}
    rows = max(np.unique([p[0] for p in pos.values()], return_counts=True)[1])
    size = _node_size_pt2(ax, rows)
    weights = np.array([g.edges[e]["weight"] for e in g.edges]) if g.number_of_edges() else np.zeros(0)
    widths = list(0.4 + 3.0 * weights / weights.max()) if weights.size else []
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color=[cell_color(e[0], exc) for e in g.edges],
                           alpha=0.6 if n_conn <= DENSE_EDGES else 0.45, arrows=True,
                           arrowsize=max(4, int(np.sqrt(size) / 2.5)), connectionstyle="arc3,rad=0.08",
                           node_size=size)
    for role, marker in _SHAPES.items():
        ids = [c.id for c in circuit.cells if c.role == role]
        if ids:
            nx.draw_networkx_nodes(g, pos, nodelist=ids, node_shape=marker, ax=ax, node_size=size,
                                   node_color=[cell_color(i, exc) for i in ids], edgecolors="k", linewidths=0.5)
    nx.draw_networkx_labels(g, pos, ax=ax, font_size=float(np.clip(0.45 * np.sqrt(size), 5, 8)),
                            font_color="white")
    handles = [Line2D([], [], marker="o", ls="", color=EXCITATORY_COLOR, label="excitatory"),
               Line2D([], [], marker="o", ls="", color=INHIBITORY_COLOR, label="inhibitory")]
    handles += [Line2D([], [], marker=m, ls="", color="grey", label=r) for r, m in _SHAPES.items()]
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0),
              title="label = cell id", title_fontsize=8)
    shown = (f"\nlinks: the {max_inputs_per_cell} strongest inputs of each cell "
             f"({len(edges)} of {n_conn})" if max_inputs_per_cell is not None else "")
    ax.set_title((title or f"circuit for task {circuit.task!r}: {len(circuit.cells)} cells, "
                           f"{n_conn} connections") + shown, fontsize=10)
    ax.margins(0.15)
    ax.axis("off")


def weight_matrix(circuit) -> tuple[np.ndarray, list[int]]:
    """Signed peak conductances (nS), shape (n_cells, n_cells), rows = presynaptic, columns =
    postsynaptic, in cell-id order; negative for GABAergic presynaptic cells.  Also the ids."""
    ids = sorted(c.id for c in circuit.cells)
    index = {cid: i for i, cid in enumerate(ids)}
    exc = {c.id: c.transmitter == "glutamate" for c in circuit.cells}
    w = np.zeros((len(ids), len(ids)))
    for k in circuit.connections:
        w[index[k.pre], index[k.post]] += (1.0 if exc[k.pre] else -1.0) * k.weight_uS * 1000.0
    return w, ids


def draw_weight_matrix(circuit, ax) -> object:
    """Every connection as a pixel (pre rows x post columns, cell ids on the axes); returns the image."""
    w, ids = weight_matrix(circuit)
    lim = float(np.abs(w).max()) or 1.0
    im = ax.imshow(w, cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest",
                   extent=[ids[0] - 0.5, ids[-1] + 0.5, ids[-1] + 0.5, ids[0] - 0.5])
    ax.set(xlabel="postsynaptic cell id", ylabel="presynaptic cell id",
           title=f"all {int(np.count_nonzero(w))} connections (red excitatory, blue inhibitory)")
    ax.title.set_fontsize(10)
    return im


def plot_circuit(circuit, path: Path, *, title: str | None = None) -> Path:
    """The circuit diagram as a PNG (see :func:`draw_circuit`); a dense circuit also gets its
    weight matrix (:func:`draw_weight_matrix`) so that no connection goes unseen."""
    from pretty_printer.viz import figures

    pos = circuit_layout(circuit)
    rows = max(np.unique([p[0] for p in pos.values()], return_counts=True)[1])
    height = max(4.5, 0.3 * rows)
    dense = sum(1 for k in circuit.connections if k.weight_uS > 0) > DENSE_EDGES
    if dense:
        fig, (ax, ax_w) = figures.subplots(1, 2, figsize=(7 + height, height), dpi=100,
                                           gridspec_kw={"width_ratios": [7, height]})
        im = draw_weight_matrix(circuit, ax_w)
        fig.colorbar(im, ax=ax_w, label="signed peak conductance (nS)", shrink=0.6)
    else:
        fig, ax = figures.subplots(figsize=(7, height), dpi=100)
    draw_circuit(circuit, ax, title=title)
    fig.tight_layout()
    fig.savefig(path)
    figures.close(fig)
    return Path(path)

"""The compiled circuit as a picture: layers left to right, excitatory cells red and inhibitory
blue, edge width by weight."""

from __future__ import annotations

from pathlib import Path

import numpy as np

EXCITATORY_COLOR = "#d62728"
INHIBITORY_COLOR = "#1f77b4"


def cell_color(cid: int, excitatory: dict[int, bool]) -> str:
    """A cell's colour by its sign (grey for a cell the map does not know, e.g. background)."""
    if cid in excitatory:
        return EXCITATORY_COLOR if excitatory[cid] else INHIBITORY_COLOR
    return "#7f7f7f"



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
    nx.draw_networkx_edges(g, pos, ax=ax, width=widths, edge_color=[cell_color(e[0], exc) for e in g.edges],
                           alpha=0.6, arrows=True, arrowsize=10, connectionstyle="arc3,rad=0.08",
                           node_size=500)
    shapes = {"input": "s", "hidden": "o", "output": "D"}
    for role, marker in shapes.items():
        ids = [c.id for c in circuit.cells if c.role == role]
        if ids:
            nx.draw_networkx_nodes(g, pos, nodelist=ids, node_shape=marker, ax=ax, node_size=500,
                                   node_color=[cell_color(i, exc) for i in ids], edgecolors="k")
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
    from pretty_printer.viz import figures as plt  # no backend change, no global state
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=100)
    draw_circuit(circuit, ax, title=title)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return Path(path)



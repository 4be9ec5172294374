"""
How a cell grows
================

The phantom turns each cell of the circuit into a neuron-shaped skeleton: a soma, tapering
dendrites that branch and wander (persistence plus Perlin noise), and axons that travel to their
partners, where a bouton meets a spine and a synapse is placed.  Nodes are added one by one, so
replaying them in the order they were added shows the cell growing.
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.lines import Line2D

import phantoms
from phantoms.phantom import SWC_AXON

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# Grow a small feed-forward circuit (2 inputs, 5 hidden, 1 output) into a 2 x 5 x 5 um block.
phantom = phantoms.grow(phantoms.layered_spec(rng=0), phantoms.GrowthConfig(), rng=0)
print(f"{len(phantom.cell_ids)} cells, {len(phantom.synapses)} synapses")

# %%
# Pick the cell with the most skeleton nodes and replay its growth in four steps, projected on
# the (x, y) plane, coloured by the SWC type of each node (``phantoms.SWC_*``): soma and dendrites
# green, the axon orange; line width follows the node radius; the gold dots are its synapses
# (input synapses sit on its dendrites, output synapses at its axon's boutons).
sizes = {cid: len(phantom.skeleton(cid).radii_nm) for cid in phantom.cell_ids}
cid = max(sizes, key=sizes.get)
nodes, radii, parent, types = phantom.skeleton(cid)
syn = phantom.synapses
mine = (syn["pre_cell"] == cid) | (syn["post_cell"] == cid)
fractions = (0.1, 0.3, 0.6, 1.0)
fig, axes = plt.subplots(1, len(fractions), figsize=(14, 4), sharex=True, sharey=True)
for ax, f in zip(axes, fractions):
    n = max(2, int(round(f * len(radii))))
    for i in range(1, n):
        p = parent[i]
        if p < 0:
            continue
        color = "tab:orange" if types[i] == SWC_AXON else "tab:green"
        ax.plot(nodes[[p, i], 2] / 1000, nodes[[p, i], 1] / 1000, color=color, lw=0.5 + 6 * radii[i] / 1000)
    ax.add_patch(plt.Circle((nodes[0, 2] / 1000, nodes[0, 1] / 1000), radii[0] / 1000, color="tab:green"))
    if f == 1.0:
        ax.scatter(syn["post_x_nm"][mine] / 1000, syn["post_y_nm"][mine] / 1000, color="gold", s=25,
                   edgecolors="k", zorder=3)
    ax.set(title=f"first {n} of {len(radii)} nodes", xlabel="x (um)", aspect="equal")
axes[0].set_ylabel("y (um)")
handles = [Line2D([], [], color="tab:green", lw=3, label="soma and dendrites"),
           Line2D([], [], color="tab:orange", lw=3, label="axon"),
           Line2D([], [], marker="o", ls="", color="gold", markeredgecolor="k", label="its synapses")]
axes[0].legend(handles=handles, loc="lower right", fontsize=8)
fig.suptitle(f"cell {cid} growing (cell id as in the dataset's labels)", fontsize=11)
fig.tight_layout(rect=(0, 0, 1, 0.95))
fig.savefig(OUT / "plot_cell_growth.png")

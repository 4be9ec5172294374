"""
The task and its ANN
====================

Everything starts from a function we know exactly.  Here it is XOR: two noisy binary inputs,
one of two classes.  A small rate network learns it, with two constraints that make it a
candidate for biology: every unit's activation is the *measured* f-I curve of the neuron model
it will become, and every unit is either excitatory or inhibitory (Dale's law), so all its
outgoing weights share one sign.
"""

# %%
# The task: train inputs coloured by class.
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from pretty_printer.sim.fi import fi_curve
from pretty_printer.task.tasks import make_task
from pretty_printer.task.training import TrainConfig, forward, train

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

task = make_task("xor", rng=0)
fi = fi_curve("wang_buzsaki")  # measured once in NEURON, then cached on disk

# %%
# Train a Dale's-law ANN whose units fire like Wang-Buzsaki interneurons.  Weights come out in
# physical units (nA of synaptic current per Hz of presynaptic rate).
ann = train(task, fi, TrainConfig(n_excitatory=4, n_inhibitory=2, epochs=300), seed=0)
test_rates = forward(ann, fi, task.X_test)["output"]
accuracy = float(np.mean(np.argmax(test_rates, axis=1) == task.y_test))

# %%
# Its decision map: the class it answers over the input square, and its weights (colour bar:
# red positive = excitatory presynaptic unit, blue negative = inhibitory; a column is one unit).
g = np.linspace(-0.2, 1.2, 71)
grid = np.stack(np.meshgrid(g, g), -1).reshape(-1, 2)
out = forward(ann, fi, grid)["output"]
margin = (out[:, 1] - out[:, 0]).reshape(len(g), len(g))

fig, axes = plt.subplots(1, 3, figsize=(13, 4))
ax = axes[0]
cmap = plt.get_cmap("coolwarm")
for k in np.unique(task.y_train):
    pick = task.y_train == k
    ax.scatter(task.X_train[pick, 0], task.X_train[pick, 1], color=cmap(float(k)), s=8, label=f"class {k}")
ax.legend(fontsize=8, loc="center", title="target", title_fontsize=8)
ax.set(title="XOR training set", xlabel="input 0", ylabel="input 1", aspect="equal")
ax = axes[1]
lim = np.abs(margin).max()
im = ax.imshow(margin, origin="lower", extent=[g[0], g[-1], g[0], g[-1]], cmap="coolwarm", vmin=-lim, vmax=lim)
ax.contour(g, g, margin, levels=[0], colors="k")
ax.set(title=f"ANN: rate(class 1) - rate(class 0)\ntest accuracy {accuracy:.2f}", xlabel="input 0", ylabel="input 1")
fig.colorbar(im, ax=ax, label="Hz")
ax = axes[2]
lim_w = np.abs(ann.w_ho).max()
im_w = ax.imshow(ann.w_ho, cmap="coolwarm", vmin=-lim_w, vmax=lim_w)
fig.colorbar(im_w, ax=ax, label="weight (nA/Hz)", shrink=0.45)
# labelled with the cell ids these units get in a dataset (inputs 1.., then hidden, then outputs:
# the truth ids of ``pretty-printer show`` and of the labels)
first_hidden = ann.n_inputs + 1
ax.set_xticks(range(ann.n_hidden), [f"{first_hidden + j}\n{'E' if s > 0 else 'I'}"
                                    for j, s in enumerate(ann.hidden_sign)])
ax.set_yticks(range(ann.n_outputs), [f"cell {first_hidden + ann.n_hidden + k}\n(class {k})"
                                     for k in range(ann.n_outputs)])
ax.set_xlabel("hidden cell id")
ax.set_title("hidden -> output weights\ncolumns share a sign: Dale's law", fontsize=10)
fig.tight_layout()
fig.savefig(OUT / "plot_task_and_ann.png")

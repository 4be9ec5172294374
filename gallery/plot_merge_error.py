"""
What a merge error does to function
===================================

Structure scores count voxels; a brain emulation needs the computation.  Start from the perfect
submission of the ``tiny`` dataset and merge a growing fraction of cells into their nearest
neighbour, as an over-eager segmentation would.  Each merge fuses two neurons into one node of
the rebuilt circuit, so its inputs and outputs mix.  Watch how the voxel score (VI merge), the
wiring score (edge F1) and the function score (task accuracy of the rebuilt circuit, simulated in
NEURON) move together -- or do not.
"""

# %%
import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pretty_printer.dataset.layout import Dataset
from pretty_printer.dataset.generate import generate
from pretty_printer.submission.perturb import perturb
from pretty_printer.dataset.presets import load_preset
from pretty_printer.reconstruct.methods import get_method
from pretty_printer.scoring.score import score
from pretty_printer.submission.format import write_submission

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# One ``tiny`` dataset, shared by the gallery scripts that need a whole dataset.
DATA = Path(os.environ.get("GALLERY_DATASET", OUT / "tiny-seed0"))
if not (DATA / "public" / "manifest.json").is_file():
    generate(load_preset("tiny"), DATA, seed=0, force=True, progress=False)
ds = Dataset(DATA)
info = ds.modality("em")
truth_sub = get_method("truth", "em")(ds, "em")

# %%
# Merge 0 %, 30 % and 60 % of the cells (the same seed, so each level contains the
# merges of the previous one) and score each submission.
levels = (0.0, 0.3, 0.6)
cards = []
with tempfile.TemporaryDirectory() as tmp:
    for level in levels:
        sub = perturb(truth_sub, {"merge": level}, origin_nm=ds.phantom().block_origin_nm,
                      voxel_nm=info["voxel_nm"], rng=0) if level else truth_sub
        path = write_submission(Path(tmp) / f"merge-{level}", sub, voxel_nm=info["voxel_nm"])
        cards.append(score(DATA, path))

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.2))
ax.plot(levels, [c["segmentation"]["vi_merge"] / max(1e-9, max(k["segmentation"]["vi_merge"] for k in cards))
                 for c in cards], "o-", label="VI merge (scaled to its max)")
ax.plot(levels, [c["connectome"]["edge_f1"] for c in cards], "s-", label="connectome edge F1")
ax.plot(levels, [c["function"]["accuracy"] for c in cards], "D-", label="task accuracy of rebuilt circuit")
ax.axhline(cards[0]["function"]["reference_accuracy"], color="k", ls=":", lw=1, label="ground-truth circuit accuracy")
ax.set(xlabel="fraction of cells merged", ylabel="score", title="merge errors: voxels vs wiring vs function")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "plot_merge_error.png")
for level, c in zip(levels, cards):
    print(f"merge {level:.1f}: vi_merge {c['segmentation']['vi_merge']:.3f}  edge_f1 {c['connectome']['edge_f1']:.3f}  "
          f"accuracy {c['function']['accuracy']:.3f}")

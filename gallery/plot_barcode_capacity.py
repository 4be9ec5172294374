"""
How many cells can a barcode tell apart?
========================================

In barcoded expansion microscopy each neuron expresses a subset of N tagged proteins, so it
carries an N-bit code that a stain-and-image round per protein reads out (FIELD.md,
"Barcodes").  Counting is exact:

* any non-empty subset: ``2^N - 1`` codes (each protein on or off, "all off" is invisible);
* exactly k of N (what the phantom does, ``tissue.barcode_k`` of ``tissue.barcode_proteins``):
  ``C(N, k)`` codes.

Codes drawn at random collide long before they run out: this is the birthday problem.  With
M equally likely codes and n cells, the chance that at least two cells share a code is
``1 - prod_{i<n} (1 - i/M)``, about 50 % already at ``n ~ 1.18 sqrt(M)``; the expected
fraction of cells whose code is unique is ``(1 - 1/M)^(n-1)``.  (Real expression is not uniform
over codes, which makes collisions more likely still.)  The phantom sidesteps this by drawing
distinct codes (``phantoms/barcodes.py``); a real brain cannot.

Last panel: the codes *read back* from a rendered ExM volume of the ``tiny`` dataset (12
proteins, 4 per cell, shot noise, dropout, bleaching): the mean of each barcode channel inside
each true cell, its k brightest channels taken as the code.
"""

# %%
import os
from math import comb
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import csv

import matplotlib.pyplot as plt
import numpy as np

from pretty_printer.dataset.engine import EngineConfig
from pretty_printer.dataset.generate import generate
from pretty_printer.dataset.layout import Dataset, open_ome_zarr
from pretty_printer.dataset.presets import load_preset
from pretty_printer.viz.show import barcode_channels

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)


def p_collision(n_cells: np.ndarray, n_codes: float) -> np.ndarray:
    """Birthday problem: P(at least two of n cells share one of M equally likely codes)."""
    n_cells = np.asarray(n_cells, float)
    out = np.empty_like(n_cells)
    for j, n in enumerate(n_cells):
        i = np.arange(int(n))
        out[j] = 1.0 - np.exp(np.sum(np.log1p(-np.minimum(i / n_codes, 1.0 - 1e-300)))) if n <= n_codes else 1.0
    return out


# %%
# Capacity against N, and the collision probability for growing numbers of cells.
Ns = np.arange(1, 33)
fig, axes = plt.subplots(1, 3, figsize=(16, 4.4))
ax = axes[0]
ax.semilogy(Ns, 2.0 ** Ns - 1, "o-", ms=3, label="any subset: 2^N - 1")
for k in (2, 4):
    ax.semilogy(Ns[Ns >= k], [comb(int(n), k) for n in Ns[Ns >= k]], "s-", ms=3, label=f"exactly {k} of N: C(N, {k})")
# whole-brain neuron counts for scale: mouse ~7.1e7 (Herculano-Houzel, Mota & Lent 2006, PNAS
# 103:12138), human ~8.6e10 (Azevedo et al. 2009, J Comp Neurol 513:532)
ax.axhline(7e7, color="grey", ls=":", lw=1)
ax.text(1, 1.2e8, "~7e7 neurons: mouse brain", fontsize=8, color="grey")
ax.axhline(8.6e10, color="grey", ls=":", lw=1)
ax.text(1, 1.4e11, "~8.6e10 neurons: human brain", fontsize=8, color="grey")
ax.set(xlabel="N barcode proteins", ylabel="distinct codes", title="how many codes N proteins make")
ax.legend(fontsize=8, loc="lower right")
ax.grid(alpha=0.3)

ax = axes[1]
n_cells = np.unique(np.round(np.logspace(0, 6, 200)))
for N in (8, 12, 16, 24, 32):
    M = 2.0 ** N - 1
    ax.semilogx(n_cells, p_collision(n_cells, M), label=f"N = {N} (M = {M:.3g})")
ax.axhline(0.5, color="grey", ls=":", lw=1)
ax.set(xlabel="cells in the volume (n)", ylabel="P(some two cells share a code)",
       title="random codes collide early (birthday problem)")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)

# %%
# Read the codes back from the ``tiny`` dataset's ExM volume (generated once, shared by the
# gallery scripts that need a dataset).
DATA = Path(os.environ.get("GALLERY_DATASET", OUT / "tiny-seed0"))
if not (DATA / "public" / "manifest.json").is_file():
    # workers=1: no dask worker processes (a spawned worker would re-run this unguarded script)
    generate(load_preset("tiny"), DATA, seed=0, force=True, progress=False, engine=EngineConfig(workers=1))
ds = Dataset(DATA)
arr, _ = ds.image("exm")
names = ds.modality("exm")["channels"]
bc = barcode_channels(names)
image = np.asarray(arr[bc[0]:bc[-1] + 1], np.float32)
labels = np.asarray(open_ome_zarr(ds.truth / "labels" / "exm.zarr")[0][0])
with open(ds.truth / "barcodes.csv", newline="") as f:
    truth = {int(r["cell"]): np.array([int(r[f"protein_{i}"]) for i in range(len(bc))]) for r in csv.DictReader(f)}
k = int(round(np.mean([t.sum() for t in truth.values()])))
means, decoded = {}, {}
for cid in truth:
    inside = labels == cid
    if not inside.any():
        continue
    means[cid] = image[:, inside].mean(axis=1)
    code = np.zeros(len(bc), int)
    code[np.argsort(-means[cid])[:k]] = 1
    decoded[cid] = code
correct = sum(bool(np.array_equal(decoded[c], truth[c])) for c in decoded)
codes = [tuple(c) for c in decoded.values()]
unique = sum(codes.count(c) == 1 for c in codes)

ax = axes[2]
ids = sorted(means)
norm = np.array([means[c] / means[c].max() for c in ids])
ax.imshow(norm, cmap="magma", aspect="auto", vmin=0, vmax=1)
for r, c in enumerate(ids):
    for j in np.flatnonzero(truth[c]):
        ax.add_patch(plt.Rectangle((j - 0.5, r - 0.5), 1, 1, fill=False, ec="cyan", lw=1.2))
ax.set_yticks(range(len(ids)), [str(c) for c in ids])
ax.set_xticks(range(len(bc)), [str(i) for i in range(len(bc))], fontsize=8)
ax.set(xlabel="barcode protein", ylabel="cell id",
       title=f"read from the ExM volume: {correct}/{len(ids)} codes right, {unique} unique\n"
             f"(mean signal per cell, brightest = 1; cyan = true {k} of {len(bc)})")
ax.title.set_fontsize(9)
fig.tight_layout()
fig.savefig(OUT / "plot_barcode_capacity.png")
print(f"C({len(bc)}, {k}) = {comb(len(bc), k)} codes; 2^{len(bc)} - 1 = {2 ** len(bc) - 1}")
for N in (12, 16, 24, 32):
    M = 2.0 ** N - 1
    print(f"N = {N}: P(collision) for 1000 cells = {p_collision(np.array([1000]), M)[0]:.3f}, "
          f"unique fraction of 1e5 cells = {(1 - 1 / M) ** (1e5 - 1):.3f}")
print(f"ExM read-back: {correct}/{len(ids)} cells decoded correctly, {unique} unique codes")

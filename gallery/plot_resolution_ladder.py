"""
A resolution ladder
===================

The same tissue, imaged by the same electron microscope at four lateral voxel sizes: 4 nm
(the fly connectome's ssTEM, 4 x 4 x 40 nm; FIELD.md), 8 nm (FIB-SEM-like), 16 nm (the ``tiny``
preset's SBEM) and 32 nm.  Each image is a real render of the ``tiny`` phantom by the SBEM
scanner model (beam blur, section thickness, Poisson dose noise) with only ``voxel_nm`` changed,
at the same dose per nm^2, so a small voxel also collects fewer electrons and is noisier.  The
bottom row shows the true cell labels on the same grid: the extracellular gaps between cells
(black) and the membranes are a few tens of nm wide, so at 32 nm the gaps close and two
membranes blur into one dark line that a segmentation must still split, while at 4 nm the image
is sharp but, at the same dose per nm^2, each pixel has 1/64 of the electrons of a 32 nm pixel
and the noise dominates.  The titles count the cells present and the length of label boundary
on each grid.
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import phantoms
from pretty_printer.dataset import stages
from pretty_printer.dataset.presets import load_preset
from pretty_printer.viz.show import contrast, label_colors

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

# %%
# Grow the ``tiny`` tissue (dense neuropil around the XOR-sized circuit) once.
preset = load_preset("tiny")
phantom = phantoms.grow(phantoms.layered_spec(rng=0), stages.growth_config(preset), rng=0)
tissue = phantoms.tissue_function(phantom)

# %%
# A 1.6 x 1.6 um field, two 40 nm sections deep, in a corner of the block (away from the
# somata, among thin neurites); the scanner is the preset's SBEM with only the lateral voxel
# size changed.
SECTION_NM = 40.0
field = np.array([2 * SECTION_NM, 1600.0, 1600.0])
block_origin = np.asarray(phantom.block_origin_nm, float)
origin = block_origin + np.array([np.asarray(phantom.block_size_nm)[0] / 2 - SECTION_NM, 200.0, 200.0])
lateral = (4.0, 8.0, 16.0, 32.0)
images, grids = [], []
for k, v in enumerate(lateral):
    p = load_preset("tiny", [f"scan.em.voxel_nm=[{SECTION_NM}, {v}, {v}]"])
    scanner = stages.make_scanner(p, "em")
    vol = np.asarray(scanner.render_volume(tissue, origin, field, seed=np.random.SeedSequence([0, k])))
    images.append(vol[0, 0])
    shape = (1, int(round(field[1] / v)), int(round(field[2] / v)))
    lab = tissue(origin, shape, (SECTION_NM, v, v), ["labels"])["labels"][0]
    grids.append(lab)

# %%
fig, axes = plt.subplots(2, len(lateral), figsize=(4 * len(lateral), 9.0), gridspec_kw={"hspace": 0.35})
extent = [0, field[2] / 1000, field[1] / 1000, 0]
for j, (v, img, lab) in enumerate(zip(lateral, images, grids)):
    ax = axes[0, j]
    ax.imshow(contrast(img), cmap="gray", extent=extent, interpolation="nearest")
    ax.set_title(f"EM, voxel {SECTION_NM:g} x {v:g} x {v:g} nm\n{img.shape[1]} x {img.shape[0]} pixels", fontsize=10)
    ax = axes[1, j]
    ax.imshow(label_colors(lab), extent=extent, interpolation="nearest")
    cells = len(np.unique(lab[lab > 0]))
    edges = int(np.count_nonzero(lab[:, 1:] != lab[:, :-1]) + np.count_nonzero(lab[1:] != lab[:-1]))
    ax.set_title(f"true labels on that grid: {cells} cells present\n"
                 f"{edges * v / 1000:.0f} um of label boundary", fontsize=10)
    ax.set_xlabel("x (um)")
    # a 500 nm scale bar on every image
    for a in axes[:, j]:
        a.plot([0.1, 0.6], [1.5, 1.5], color="yellow", lw=4, solid_capstyle="butt")
        a.text(0.35, 1.42, "500 nm", color="yellow", ha="center", va="bottom", fontsize=9, fontweight="bold")
axes[0, 0].set_ylabel("y (um)")
axes[1, 0].set_ylabel("y (um)")
fig.suptitle("one tissue, four voxel sizes (the same SBEM scanner model and dose per nm^2)", fontsize=12)
fig.savefig(OUT / "plot_resolution_ladder.png", bbox_inches="tight")
for v, lab in zip(lateral, grids):
    print(f"{v:g} nm: {len(np.unique(lab[lab > 0]))} cells present in the field")

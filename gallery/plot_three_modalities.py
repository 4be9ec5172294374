"""
Three modalities side by side
=============================

One tissue block, three simulated scanners, as set in the ``tiny`` preset:

* **EM** (serial block-face SEM): heavy-metal stain makes membranes, vesicles and synaptic
  densities dark; grey levels only, so cells must be told apart by their boundaries.
* **ExM** (expansion + light-sheet): coarser, but each cell expresses a random subset of barcode
  proteins, so a colour composite of the barcode channels shows every cell in its own colour.
* **X-ray** (holographic nanotomography): phase contrast shows membranes without molecular
  information, at coarser voxels, reconstructed from projections.
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
from pretty_printer.viz.show import barcode_channels, barcode_rgb, contrast, label_colors

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

preset = load_preset("tiny")
# the ExM scanner reads as many barcode proteins as the tissue expresses
n_barcodes = stages.growth_config(preset).barcode_proteins
preset = load_preset("tiny", [f"scan.exm.n_barcode_proteins={n_barcodes}"])
phantom = phantoms.grow(phantoms.layered_spec(rng=0), stages.growth_config(preset), rng=0)
tissue = phantoms.tissue_function(phantom)

# %%
# Scan the central 1 um slab of the block with each scanner (same seed tree as ``generate``).
origin = np.asarray(phantom.block_origin_nm, float)
size = np.asarray(phantom.block_size_nm, float)
slab_origin = origin + np.array([size[0] / 2 - 500.0, 0.0, 0.0])
slab_size = np.array([1000.0, size[1], size[2]])
images = {}
for k, modality in enumerate(("em", "exm", "xray")):
    scanner = stages.make_scanner(preset, modality)
    vol = scanner.render_volume(tissue, slab_origin, slab_size, seed=np.random.SeedSequence([0, k]))
    images[modality] = (np.asarray(vol), scanner)

# %%
# The middle z-plane of each, and the true cell labels for reference.
fig, axes = plt.subplots(1, 4, figsize=(16, 4.4))
extent = [0, size[2] / 1000, size[1] / 1000, 0]
for ax, modality in zip(axes, ("em", "exm", "xray")):
    vol, scanner = images[modality]
    mid = vol.shape[1] // 2
    if modality == "exm":
        bc = barcode_channels(scanner.channel_names)
        img = barcode_rgb(vol[bc, mid])
        ax.imshow(img, extent=extent)
        what = f"{len(bc)} barcode channels as colour"
    else:
        ax.imshow(contrast(vol[0, mid]), cmap="gray", extent=extent)
        what = "grey levels"
    ax.set_title(f"{modality}: voxel {' x '.join(f'{v:g}' for v in scanner.voxel_nm)} nm\n{what}", fontsize=9)
    ax.set_xlabel("x (um)")
axes[0].set_ylabel("y (um)")
em_voxel = images["em"][1].voxel_nm
labels = tissue(slab_origin + np.array([500.0, 0, 0]) - np.array([em_voxel[0] / 2, 0, 0]),
                (1, int(size[1] // em_voxel[1]), int(size[2] // em_voxel[2])), em_voxel, ["labels"])["labels"][0]
axes[3].imshow(label_colors(labels), extent=extent)
axes[3].set_title("ground truth: cell labels", fontsize=9)
axes[3].set_xlabel("x (um)")
fig.tight_layout()
fig.savefig(OUT / "plot_three_modalities.png")

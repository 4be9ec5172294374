"""
One synapse, three modalities, and its truth
============================================

Two synapses of the same grown tissue, an excitatory (glutamatergic) and an inhibitory
(GABAergic) one, each imaged by the three simulated scanners and shown beside the truth:

* **EM** (serial-section TEM, 4 x 4 nm pixels): the glutamatergic synapse is *asymmetric* (Gray
  type I): a thick post-synaptic density under the cleft and round vesicles in the bouton.  The
  GABAergic one is *symmetric* (Gray type II): thin densities on both sides and flattened
  vesicles.  The cleft between them is extracellular space, lighter than the membranes.
  Mitochondria (dark, with cristae-like texture) sit in the bouton and the dendrite.
* **ExM** (expansion + light-sheet): the cells in grey (their barcode channels summed; the barcode
  colours would hide the stains), the receptor stain as a punctum at the PSD (AMPA green, GABA_A
  magenta); with labelling noise on, expression varies and the stain is speckled.
* **X-ray** (phase-contrast nanotomography, 40 nm voxels): membranes and mitochondria, no cleft.
* **Truth**: the semantic class volume written to ``truth/semantic/`` (extracellular, neuron,
  mitochondrion, nucleus, vesicle, PSD, cleft).
"""

# %%
import dataclasses
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import phantoms
import scanners
from phantoms.organelle_fields import synapse_geometry
from phantoms.organelles import place_organelles
from phantoms.rasterize import SEMANTIC_CLASSES
from pretty_printer.viz.show import contrast

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

cfg = phantoms.GrowthConfig()
phantom = phantoms.grow(phantoms.xor_spec(0), cfg, 0)
phantom = dataclasses.replace(phantom, organelles=place_organelles(phantom, np.random.default_rng(0)).arrays())
tissue = phantoms.tissue_function(phantom)

# %%
# Pick, of each type, the synapse whose cleft plane is most nearly vertical: a z-section then cuts
# the cleft across, as an electron microscopist would choose.
geo = synapse_geometry(phantom)
picks = {}
for name, inhibitory in (("glutamatergic (Gray I)", False), ("GABAergic (Gray II)", True)):
    idx = np.flatnonzero(geo.inhibitory == inhibitory)
    picks[name] = int(idx[np.argmin(np.abs(geo.u[idx, 0]))])

HALF = np.array([60.0, 500.0, 500.0])  # the field of view: 1 um square, 120 nm deep


def region(i):
    centre = 0.5 * (phantom.synapses.post_nm[i] + phantom.synapses.pre_nm[i])
    return centre - HALF, 2 * HALF


em = scanners.make_scanner({"preset": "sstem", "voxel_nm": [40.0, 4.0, 4.0], "misalignment_step_nm": 0.0,
                            "misalignment_jitter_nm": 0.0, "missing_section_rate": 0.0, "fold_rate": 0.0})
exm = scanners.make_scanner({"preset": "exm_lightsheet", "n_barcode_proteins": cfg.barcode_proteins,
                             "distortion_rms_nm": 0.0, "jitter_nm": 0.0, "expression_cv": 0.4,
                             "labelling_fraction": 0.3, "receptor_detection_efficiency": 0.6})
xray = scanners.make_scanner({"preset": "xnh", "n_angles": 90})

# %%
# Image each synapse with each scanner (its middle section) and rasterize the truth there.
fig, axes = plt.subplots(2, 4, figsize=(15, 7.6))
extent = [0, 1.0, 1.0, 0]
for row, (name, i) in enumerate(picks.items()):
    o, size = region(i)
    e = em.render_volume(tissue, o, size, seed=1)[0]
    axes[row, 0].imshow(contrast(e[e.shape[0] // 2]), cmap="gray", extent=extent)
    x = exm.render_volume(tissue, o - [240, 0, 0], size + [480, 0, 0], seed=1).astype(np.float32)
    mid = x.shape[1] // 2
    # the cells in grey (summed barcode channels) so that only the receptor stains carry colour
    rgb = np.repeat(0.6 * contrast(x[: cfg.barcode_proteins, mid].sum(axis=0))[..., None], 3, axis=-1)
    for ch, colour in (("receptor:AMPA", (0, 1, 0)), ("receptor:GABA_A", (1, 0, 1))):
        r = x[exm.channel_names.index(ch), mid]
        med = np.median(r)  # show only stain above the field's noise: median + 3 robust sigma
        floor = med + 3 * 1.4826 * np.median(np.abs(r - med))
        r = np.clip((r - floor) / (r.max() - floor + 1e-6), 0, 1)
        rgb = np.clip(rgb + r[..., None] * np.array(colour), 0, 1)
    axes[row, 1].imshow(rgb, extent=extent)
    xr = xray.render_volume(tissue, o - [220, 0, 0], size + [440, 0, 0], seed=1)[0]
    axes[row, 2].imshow(contrast(-xr[xr.shape[0] // 2]), cmap="gray", extent=extent)
    vox = np.array([10.0, 4.0, 4.0])
    sem = phantoms.rasterize(phantom, o + [HALF[0] - 5, 0, 0], (1, 250, 250), vox,
                             ["semantic"])["semantic"][0]
    cmap = plt.get_cmap("tab10", len(SEMANTIC_CLASSES))
    axes[row, 3].imshow(sem, cmap=cmap, vmin=-0.5, vmax=len(SEMANTIC_CLASSES) - 0.5, extent=extent,
                        interpolation="nearest")
    axes[row, 0].set_ylabel(f"{name}\ny (um)")
for ax, title in zip(axes[0], ("EM, sstem 4 x 4 x 40 nm", "ExM: cells (grey) + AMPA (green) / GABA_A (magenta)",
                               "X-ray, XNH 40 nm (dense = dark)", "truth: semantic classes")):
    ax.set_title(title, fontsize=10)
for ax in axes[1]:
    ax.set_xlabel("x (um)")
handles = [plt.Rectangle((0, 0), 1, 1, color=cmap(k)) for k in range(len(SEMANTIC_CLASSES))]
fig.legend(handles, SEMANTIC_CLASSES, loc="lower center", ncol=len(SEMANTIC_CLASSES), fontsize=9)
fig.tight_layout(rect=(0, 0.05, 1, 1))
fig.savefig(OUT / "plot_same_synapse.png", dpi=80)

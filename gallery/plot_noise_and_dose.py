"""
Noise and dose
==============

An electron microscope counts electrons: the image of a voxel is a Poisson draw whose mean
grows with the dose (electrons per nm^2).  Halving the noise costs four times the dose, and
dose costs time and damages the sample.  Here the same small patch of tissue is imaged at
four doses; the noise is measured from two independent exposures of each (their difference has
twice the noise variance and no signal), and compared with the shot-noise law 1/sqrt(dose).
"""

# %%
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

import phantoms
import scanners

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

phantom = phantoms.grow(phantoms.layered_spec(rng=0), phantoms.GrowthConfig(), rng=0)
tissue = phantoms.tissue_function(phantom)
origin = np.asarray(phantom.block_origin_nm, float) + np.array([800.0, 1500.0, 1500.0])
size = np.array([160.0, 2000.0, 2000.0])

# %%
# Image the patch at each dose, twice with independent noise.  Gain is fixed so that grey levels
# mean the same thing at every dose.
doses = (1.0, 4.0, 16.0, 64.0)
images, noise = [], []
for dose in doses:
    params = {"preset": "sbem", "voxel_nm": [40.0, 8.0, 8.0], "dose_e_per_nm2": dose, "dtype": "float32",
              "gain_adu_per_e": 220.0 / (dose * 0.1 * 64.0), "misalignment_jitter_nm": 0.0,
              "missing_section_rate": 0.0, "charging_amplitude": 0.0, "brightness_drift": 0.0}
    scanner = scanners.make_scanner(params)
    a = scanner.render_volume(tissue, origin, size, seed=np.random.SeedSequence([1, int(dose)]))[0, 1]
    b = scanner.render_volume(tissue, origin, size, seed=np.random.SeedSequence([2, int(dose)]))[0, 1]
    images.append(a)
    noise.append(float(np.std(a - b) / np.sqrt(2)))

# %%
# Images (same grey scale) and the measured noise against the shot-noise law.
fig, axes = plt.subplots(1, len(doses) + 1, figsize=(17, 3.8))
lo, hi = np.percentile(images[-1], [1, 99])
for ax, dose, img in zip(axes, doses, images):
    ax.imshow(img, cmap="gray", vmin=lo, vmax=hi, extent=[0, size[2] / 1000, size[1] / 1000, 0])
    ax.set_title(f"{dose:g} e/nm^2", fontsize=10)
    ax.set_xlabel("x (um)")
ax = axes[-1]
d = np.asarray(doses)
ax.loglog(d, noise, "o-", label="measured noise (ADU)")
ax.loglog(d, noise[0] * np.sqrt(d[0] / d), "k--", label="1/sqrt(dose)")
ax.set(xlabel="dose (e/nm^2)", ylabel="noise std (ADU)", title="shot noise")
ax.legend(fontsize=8)
fig.tight_layout()
fig.savefig(OUT / "plot_noise_and_dose.png")
for dose, n in zip(doses, noise):
    print(f"dose {dose:5g} e/nm^2: noise {n:.2f} ADU")

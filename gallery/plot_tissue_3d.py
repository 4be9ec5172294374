"""
The tissue in 3D
================

The grown block: every cell as tubes along its skeleton (radius from the skeleton), excitatory
cells red, inhibitory blue, and every synapse as a gold sphere; the legend says so, and the
black bar gives the scale.  The render is off screen with pyvista (VTK through EGL, no display
needed); ``pretty-printer show`` makes the same picture (title, legend and scale bar included)
for any dataset.
"""

# %%
import os
from pathlib import Path

os.environ.setdefault("VTK_DEFAULT_OPENGL_WINDOW", "vtkEGLRenderWindow")

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

import phantoms
from pretty_printer.viz.show import render_3d_matplotlib, render_3d_pyvista

HERE = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
OUT = Path(os.environ.get("GALLERY_OUT", HERE / "_out"))
OUT.mkdir(parents=True, exist_ok=True)

phantom = phantoms.grow(phantoms.layered_spec(rng=0), phantoms.GrowthConfig(), rng=0)
cells = {cid: tuple(phantom.skeleton(cid)[:3]) for cid in phantom.cell_ids}
excitatory = {cid: phantom.cell_spec(cid).excitatory for cid in phantom.cell_ids}
synapses = phantom.synapses.post_nm

# %%
# Render; without OpenGL, fall back to a line drawing (and say so).
path = OUT / "plot_tissue_3d.png"
title = (f"{len(cells)} cells, {len(synapses)} synapses in a "
         f"{' x '.join(f'{s / 1000:g}' for s in phantom.block_size_nm)} um block (z, y, x)")
try:
    render_3d_pyvista(cells, synapses, excitatory, path, title=title)
except Exception as e:  # noqa: BLE001 - any VTK/OpenGL failure means "no 3D renderer here"
    print(f"pyvista render failed ({e}); drawing lines with matplotlib instead")
    render_3d_matplotlib(cells, synapses, excitatory, path, title=title)

# %%
# Show the rendered image (it carries its own title, legend and scale bar) as a figure, which is
# what sphinx-gallery captures.
fig, ax = plt.subplots(figsize=(8, 6.5))
ax.imshow(plt.imread(path))
ax.axis("off")
fig.tight_layout()

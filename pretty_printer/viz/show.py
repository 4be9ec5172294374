"""PNG previews of a dataset: what each scanner saw, the cells in 3D, and the circuit.

``show(DIR, PNGDIR)`` writes

* ``<modality>_slices.png``: z, y and x mid-planes of each scan (channel 0 for EM and X-ray),
  over the ground-truth labels on the same grid when ``truth/`` is present;
* ``exm_receptor_slices.png``: maximum-intensity projections of the ExM receptor stains (up to
  three, as R, G, B), since synapses are puncta that a single plane would miss;
* ``exm_barcodes.png``: an RGB composite of the ExM barcode channels (the first three principal
  components when there are more than three), so each cell shows as its own colour;
* ``tissue_3d.png``: the morphologies as tubes (``truth/swc``) and the synapses as spheres
  (``truth/synapses.csv``), rendered off screen with pyvista; without OpenGL it falls back to a
  matplotlib 3D line drawing and says so on stderr;
* ``circuit.png``: the compiled circuit (``truth/circuit.json``, nodes labelled with the truth
  cell ids), layers left to right, excitatory cells red and inhibitory blue, edge width by weight;
  a dense circuit (glyphs) also gets its weight matrix.

Volumes are read plane by plane from the Zarr arrays, so any dataset size previews in bounded
memory.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from pretty_printer.dataset.layout import Dataset, open_ome_zarr
# the pieces of a preview, importable from here as before
from pretty_printer.viz.circuit_plot import (  # noqa: F401
    EXCITATORY_COLOR, INHIBITORY_COLOR, circuit_layout, draw_circuit, plot_circuit)
from pretty_printer.viz.slices import (  # noqa: F401
    MIP_TITLES, barcode_channels, barcode_rgb, contrast, label_colors, max_projections, mid_planes,
    plot_slices, stain_rgb)
from pretty_printer.viz.tissue3d import (  # noqa: F401
    load_morphologies, read_swc, read_synapse_positions, render_3d, render_3d_matplotlib,
    render_3d_pyvista, unbranched_paths)


def show_modality(ds: Dataset, modality: str, out_dir: Path) -> list[Path]:
    """Slices of one modality (and the barcode composite for ExM)."""
    arr, voxel = ds.image(modality)
    info = ds.modality(modality)
    names = list(info.get("channels", []))
    made = []
    labels = None
    label_path = ds.truth / "labels" / f"{modality}.zarr"
    if label_path.exists():
        larr, _ = open_ome_zarr(label_path)
        labels = mid_planes(larr, 0)
    channel = 0
    if modality == "exm":
        bc = barcode_channels(names)
        non_bc = [i for i in range(arr.shape[0]) if i not in bc]
        channel = bc[0] if bc else 0
        title = f"{modality}: channel {names[channel] if names else 0}"
        if bc:
            planes = mid_planes(arr, bc)
            rgb = {k: barcode_rgb(v) for k, v in planes.items()}
            how = "channels" if len(bc) <= 3 else f"first 3 principal components of {len(bc)} channels"
            made.append(plot_slices(rgb, voxel, arr.shape[1:], out_dir / "exm_barcodes.png", rgb=True,
                                    title=f"ExM barcode composite ({how}): one colour per cell",
                                    label_planes=labels))
        if non_bc:  # receptor stains show synapses
            # synapses are puncta a few voxels wide: a mid-plane misses nearly all of them, so
            # project the maximum through the block instead (up to three stains as R, G, B)
            stains = non_bc[:3]
            proj = max_projections(arr, stains, smooth_voxels=1.0)
            rgb = {k: stain_rgb(v) for k, v in proj.items()}
            stain_names = [str(names[i]).split(":")[-1] if names else str(i) for i in stains]
            colours = ", ".join(f"{n} {c}" for n, c in zip(stain_names, ("red", "green", "blue")))
            made.append(plot_slices(rgb, voxel, arr.shape[1:], out_dir / "exm_receptor_slices.png", rgb=True,
                                    title=f"ExM receptor stains, maximum-intensity projections ({colours})",
                                    plane_titles=MIP_TITLES))  # no labels: a projection has no one plane
    else:
        title = f"{modality}: channel {names[0] if names else 0}, voxel {tuple(voxel)} nm"
    made.insert(0, plot_slices(mid_planes(arr, channel), voxel, arr.shape[1:], out_dir / f"{modality}_slices.png",
                               title=title, label_planes=labels))
    return made


def show(dataset_dir: Path, out_dir: Path, *, progress: bool = True, modalities: Sequence[str] | None = None) -> list[Path]:
    """Write PNG previews of a dataset into ``out_dir``; returns the files written.

    Parameters
    ----------
    dataset_dir : Path
        A dataset written by ``generate`` (``truth/`` optional: without it only scans are shown).
    out_dir : Path
        Directory for the PNGs (created).
    progress : bool
        A bar over the previews on stderr.
    modalities : sequence of str, optional
        Which scans to show (default: all in the manifest).
    """
    from tqdm import tqdm

    ds = Dataset(dataset_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    mods = list(modalities) if modalities is not None else ds.modalities
    for m in mods:
        ds.modality(m)  # unknown modality -> one clear error before any work
    has_truth = (ds.truth / "circuit.json").is_file()
    jobs = [("slices", m) for m in mods] + ([("3d", None), ("circuit", None)] if has_truth else [])
    made: list[Path] = []
    for kind, m in tqdm(jobs, desc="show", file=sys.stderr, disable=not progress or None, leave=False):
        if kind == "slices":
            made += show_modality(ds, m, out_dir)
        elif kind == "3d":
            circuit = ds.circuit()
            exc = {c.id: c.transmitter == "glutamate" for c in circuit.cells}
            made.append(render_3d(ds.truth, out_dir / "tissue_3d.png", excitatory=exc)[0])
        else:
            made.append(plot_circuit(ds.circuit(), out_dir / "circuit.png"))
    return made

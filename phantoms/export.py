"""Exports: SWC per cell, watertight PLY meshes, synapse and barcode tables, morphometrics.

SWC files are in micrometres, columns ``id type x y z radius parent`` (x, y, z order as SWC
expects; the phantom's (z, y, x) nm is converted), with a single-point soma: loadable by
NEURON's ``Import3d_SWC_read``, MorphIO and NeuroM.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from .channels import channels_doc
from .phantom import SYNAPSE_COLUMNS, Phantom
from .rasterize import _cells, _Grid, primitives


def write_swc(phantom: Phantom, cid: int, path) -> Path:
    """One cell's skeleton as SWC (um, x y z order, 1-based ids).

    A neurite whose first node (the one attached to the soma) is already a branch point would
    give a one-point, zero-length root section, which NeuroM's checks reject; such a neurite gets
    one extra node on the straight line from the soma to its first node, 1% of the way back
    towards the soma (same type and radius), so its root section has length.
    """
    sk = phantom.skeleton(cid)
    lines = [f"# cell {cid} of a neural-pretty-printer phantom; units um; soma is a single point",
             "# id type x y z radius parent"]
    xyz_um = sk.nodes_nm[:, ::-1] / 1000.0
    parent = np.asarray(sk.parent, np.int64)
    types = np.asarray(sk.types, np.int64)
    n_children = np.bincount(parent[parent >= 0], minlength=len(parent))
    is_root = (parent >= 0) & (types[np.maximum(parent, 0)] == 1) & (types != 1)
    new_id = np.cumsum(1 + (is_root & (n_children > 1))) - 1  # 0-based SWC row of each node
    rows = []
    for i in range(len(sk.radii_nm)):
        r = sk.radii_nm[i] / 1000.0
        p = int(new_id[parent[i]]) + 1 if parent[i] >= 0 else -1
        if is_root[i] and n_children[i] > 1:
            x, y, z = xyz_um[i] + 0.01 * (xyz_um[parent[i]] - xyz_um[i])
            rows.append(f"{len(rows) + 1} {int(types[i])} {x:.5f} {y:.5f} {z:.5f} {r:.5f} {p}")
            p = len(rows)
        x, y, z = xyz_um[i]
        rows.append(f"{len(rows) + 1} {int(types[i])} {x:.5f} {y:.5f} {z:.5f} {r:.5f} {p}")
    path = Path(path)
    path.write_text("\n".join(lines + rows) + "\n")
    return path


def cell_mesh(phantom: Phantom, cid: int, voxel_nm: float = 20.0):
    """A watertight triangle mesh (trimesh) of one cell: marching cubes on its distance field.

    The field is sampled over the cell's bounding box padded by two voxels of outside, so the
    surface is closed.
    """
    import trimesh
    from skimage.measure import marching_cubes

    P = primitives(phantom)
    mine = P.cid == cid
    lo = P.lo[mine].min(axis=0) - 2 * voxel_nm
    hi = P.hi[mine].max(axis=0) + 2 * voxel_nm
    shape = np.ceil((hi - lo) / voxel_nm).astype(int) + 1
    g = _Grid(lo, shape, voxel_nm)
    _, _, depth = _cells(phantom, g, True, False, [cid])
    depth = np.where(np.isfinite(depth), depth, -voxel_nm).astype(np.float32)
    depth[0], depth[-1], depth[:, 0], depth[:, -1], depth[:, :, 0], depth[:, :, -1] = (-voxel_nm,) * 6
    verts, faces, _, _ = marching_cubes(depth, level=0.0, spacing=(voxel_nm,) * 3)
    verts = verts + lo + 0.5 * voxel_nm  # voxel centres, (z, y, x) nm
    mesh = trimesh.Trimesh(vertices=verts[:, ::-1], faces=faces, process=True)  # x, y, z for viewers
    trimesh.repair.fix_normals(mesh)
    return mesh


def write_synapses_csv(phantom: Phantom, path) -> Path:
    cols = phantom.synapses.columns()
    names = [n for n, _ in SYNAPSE_COLUMNS]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(names)
        for i in range(len(phantom.synapses)):
            w.writerow([_fmt(cols[n][i]) for n in names])
    return Path(path)


def write_barcodes_csv(phantom: Phantom, path) -> Path:
    n = phantom.n_barcode_proteins
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["cell"] + [f"protein_{k}" for k in range(n)])
        for c in phantom.cell_ids:
            w.writerow([c] + [int(v) for v in phantom.barcodes[c]])
    return Path(path)


def _fmt(v) -> str:
    if isinstance(v, (np.floating, float)):
        return f"{float(v):.10g}"
    return str(int(v))


def write_exports(phantom: Phantom, directory, *, mesh_voxel_nm: float = 20.0, meshes: bool = True) -> Path:
    """Write ``swc/cell_<id>.swc``, ``meshes/cell_<id>.ply``, ``synapses.csv``, ``barcodes.csv``,
    ``channels.json`` and ``morphometrics.json`` into ``directory``."""
    from .morphometrics import morphometrics

    d = Path(directory)
    (d / "swc").mkdir(parents=True, exist_ok=True)
    for c in phantom.cell_ids:
        write_swc(phantom, c, d / "swc" / f"cell_{c}.swc")
    if meshes:
        (d / "meshes").mkdir(parents=True, exist_ok=True)
        for c in phantom.cell_ids:
            cell_mesh(phantom, c, mesh_voxel_nm).export(d / "meshes" / f"cell_{c}.ply")
    write_synapses_csv(phantom, d / "synapses.csv")
    write_barcodes_csv(phantom, d / "barcodes.csv")
    (d / "channels.json").write_text(json.dumps(channels_doc(phantom), indent=1, sort_keys=True))
    stats = {str(c): morphometrics(d / "swc" / f"cell_{c}.swc") for c in phantom.cell_ids}
    (d / "morphometrics.json").write_text(json.dumps(stats, indent=1, sort_keys=True))
    return d

"""Per-cell meshes from the labels, chunk by chunk (zmesh marching cubes), as engine tasks.

The block is rasterized into cell labels on an isotropic grid of ``voxel_nm``, one chunk per
task; each task meshes its labels with ``zmesh`` (a maintained multi-label marching cubes) and
returns, per cell, vertices in block nm and triangles.  Chunks overlap by one voxel on their high
side, so every marching cube belongs to exactly one chunk and the vertices on a shared face are
the same in both; merging them gives closed (watertight) surfaces.  A layer of extracellular
voxels around the block closes cells cut by the block faces.  Work is one rasterization of the
block, however many cells it holds (the old per-cell distance fields scaled with cells x bbox).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

MESH_VOXEL_NM = 20.0  # isotropic sampling of the labels for meshing
MESH_CHUNK = 96  # voxels per chunk side (bounded memory per task: 96^3 uint32 = 3.5 MB)


def mesh_task(tissue, grid_origin_nm, grid_shape, voxel_nm: float, box) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Mesh one chunk: ``{cell id: (vertices (n, 3) float64 z,y,x nm, faces (m, 3) int64)}``."""
    import zmesh

    lo = np.array([s.start for s in box])
    hi = np.minimum(np.array([s.stop for s in box]) + 1, np.asarray(grid_shape))  # +1: shared face
    size = hi - lo
    vox = np.full(3, float(voxel_nm))
    labels = tissue(np.asarray(grid_origin_nm) + lo * vox, tuple(int(n) for n in size), vox, ["labels"])["labels"]
    labels = np.ascontiguousarray(labels, dtype=np.uint32)
    for d in range(3):  # the padding layer around the block stays extracellular: surfaces close
        idx = [slice(None)] * 3
        if lo[d] == 0:
            idx[d] = slice(0, 1)
            labels[tuple(idx)] = 0
        if hi[d] == grid_shape[d]:
            idx[d] = slice(size[d] - 1, size[d])
            labels[tuple(idx)] = 0
    if not labels.any():
        return {}
    mesher = zmesh.Mesher(tuple(vox))
    mesher.mesh(labels, close=False)
    out = {}
    for cid in mesher.ids():
        m = mesher.get(int(cid), normals=False, reduction_factor=0, max_error=0, voxel_centered=True)
        out[int(cid)] = (np.asarray(m.vertices, float) + np.asarray(grid_origin_nm) + lo * vox,
                         np.asarray(m.faces, np.int64))
    mesher.clear()
    return out


def merge_chunks(parts: list[tuple[np.ndarray, np.ndarray]], voxel_nm: float):
    """One trimesh from chunk pieces: vertices on shared faces (equal to 1e-4 voxel) merged."""
    import trimesh

    verts = np.concatenate([v for v, _ in parts])
    offsets = np.cumsum([0] + [len(v) for v, _ in parts[:-1]])
    faces = np.concatenate([f + o for (_, f), o in zip(parts, offsets)])
    q = np.round(verts / (voxel_nm * 1e-4)).astype(np.int64)
    _, first, inverse = np.unique(q, axis=0, return_index=True, return_inverse=True)
    faces = inverse.reshape(-1)[faces]
    faces = faces[(faces[:, 0] != faces[:, 1]) & (faces[:, 1] != faces[:, 2]) & (faces[:, 0] != faces[:, 2])]
    mesh = trimesh.Trimesh(vertices=verts[first][:, ::-1], faces=faces, process=False)  # x, y, z for viewers
    trimesh.repair.fix_normals(mesh)
    return mesh


def write_meshes(phantom, directory: Path, *, engine, progress=None, voxel_nm: float = MESH_VOXEL_NM,
                 chunk: int = MESH_CHUNK) -> list[Path]:
    """Write ``cell_<id>.ply`` (x, y, z nm) for every cell of ``phantom`` into ``directory``.

    Parameters
    ----------
    phantom : phantoms.Phantom
    directory : Path
    engine : pretty_printer.dataset.engine.Engine
        A running engine; one task per chunk.
    voxel_nm, chunk : float, int
        Label sampling (nm, isotropic) and chunk side in voxels.
    """
    import phantoms

    from pretty_printer.dataset.engine import chunk_boxes

    tissue = phantoms.tissue_function(phantom)
    origin = np.asarray(phantom.block_origin_nm, float) - voxel_nm  # one padding voxel each side
    shape = tuple(int(n) for n in np.ceil(np.asarray(phantom.block_size_nm, float) / voxel_nm).astype(int) + 2)
    boxes = list(chunk_boxes(shape, (chunk,) * 3))
    bar = (lambda it, total: progress.bar(it, "meshes", total=total)) if progress is not None else None
    results = engine.map(mesh_task, (tissue,), boxes, fixed=(origin, shape, float(voxel_nm)), bar=bar)
    per_cell: dict[int, list] = {}
    for res in results:  # chunk order: the same merge whatever the scheduler
        for cid, part in res.items():
            per_cell.setdefault(cid, []).append(part)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for cid in phantom.cell_ids:
        if cid in per_cell:
            path = directory / f"cell_{cid}.ply"
            merge_chunks(per_cell[cid], voxel_nm).export(path)
            written.append(path)
    return written

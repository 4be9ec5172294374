"""Per-cell meshes from the labels, chunk by chunk (zmesh marching cubes), as engine tasks.

The block is rasterized into cell labels on an isotropic grid of ``voxel_nm``, one chunk per
task; each task meshes the circuit cells' labels with ``zmesh`` (a maintained multi-label marching
cubes) and writes, per cell, vertices in block nm and triangles to its own part file.  Chunks
overlap by one voxel on their high side, so every marching cube belongs to exactly one chunk and
the vertices on a shared face are the same in both; merging them gives closed (watertight)
surfaces.  A layer of extracellular voxels around the block closes cells cut by the block faces.
One merge task per cell then reads that cell's parts, in chunk order, and writes its ``.ply``.
Nothing is gathered into the calling process: memory is a chunk's labels per mesh task and one
cell's surface per merge task, whatever the block size.
"""

from __future__ import annotations

from pathlib import Path

import shutil
import uuid

import numpy as np

MESH_VOXEL_NM = 20.0  # isotropic sampling of the labels for meshing
MESH_CHUNK = 96  # voxels per chunk side (bounded memory per task: 96^3 uint32 = 3.5 MB)


def mesh_task(tissue, grid_origin_nm, grid_shape, voxel_nm: float, cells, parts_dir: str, item) -> list[int]:
    """Mesh one chunk ``item = (index, box)``; returns the cells it holds, sorted.

    The cells' pieces go to ``parts_dir/chunk_<index>.npz`` as ``v<id>`` (vertices (n, 3) float64
    z, y, x nm) and ``f<id>`` (faces (m, 3) int64).  Only ``cells`` are meshed (other labels are
    set to 0 first: zmesh meshes each label as its own binary mask, so their surfaces do not change).
    """
    import zmesh

    index, box = item
    lo = np.array([s.start for s in box])
    hi = np.minimum(np.array([s.stop for s in box]) + 1, np.asarray(grid_shape))  # +1: shared face
    size = hi - lo
    vox = np.full(3, float(voxel_nm))
    labels = tissue(np.asarray(grid_origin_nm) + lo * vox, tuple(int(n) for n in size), vox, ["labels"])["labels"]
    labels = np.ascontiguousarray(np.where(np.isin(labels, cells), labels, 0), dtype=np.uint32)
    for d in range(3):  # the padding layer around the block stays extracellular: surfaces close
        idx = [slice(None)] * 3
        if lo[d] == 0:
            idx[d] = slice(0, 1)
            labels[tuple(idx)] = 0
        if hi[d] == grid_shape[d]:
            idx[d] = slice(size[d] - 1, size[d])
            labels[tuple(idx)] = 0
    if not labels.any():
        return []
    mesher = zmesh.Mesher(tuple(vox))
    mesher.mesh(labels, close=False)
    out = {}
    for cid in sorted(int(c) for c in mesher.ids()):
        m = mesher.get(cid, normals=False, reduction_factor=0, max_error=0, voxel_centered=True)
        out[f"v{cid}"] = np.asarray(m.vertices, float) + np.asarray(grid_origin_nm) + lo * vox
        out[f"f{cid}"] = np.asarray(m.faces, np.int64)
    mesher.clear()
    np.savez(Path(parts_dir) / f"chunk_{index:06d}.npz", **out)
    return sorted(int(k[1:]) for k in out if k[0] == "v")


def merge_task(parts_dir: str, voxel_nm: float, out_path: str, item) -> None:
    """Merge cell ``item = (id, chunk indices in order)`` from its parts and write ``out_path/cell_<id>.ply``."""
    cid, chunks = item
    parts = []
    for i in chunks:
        with np.load(Path(parts_dir) / f"chunk_{i:06d}.npz") as z:
            parts.append((z[f"v{cid}"], z[f"f{cid}"]))
    merge_chunks(parts, voxel_nm).export(Path(out_path) / f"cell_{cid}.ply")


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
                 chunk: int = MESH_CHUNK, scratch: Path | None = None) -> list[Path]:
    """Write ``cell_<id>.ply`` (x, y, z nm) for every circuit cell of ``phantom`` into ``directory``.

    Parameters
    ----------
    phantom : phantoms.Phantom
    directory : Path
    engine : pretty_printer.dataset.engine.Engine
        A running engine; one task per chunk, then one per cell.
    voxel_nm, chunk : float, int
        Label sampling (nm, isotropic) and chunk side in voxels.
    scratch : Path, optional
        Where the tasks write (chunk parts, then the cells' files, moved into ``directory`` at the
        end); it must be on a file system every worker sees.  Default: ``directory``.

    Returns
    -------
    list of Path
        The written files, in ``phantom.cell_ids`` order (cells with no voxel in the block have none).
    """
    import phantoms

    from pretty_printer.dataset.engine import as_path, chunk_boxes

    tissue = phantoms.tissue_function(phantom)
    origin = np.asarray(phantom.block_origin_nm, float) - voxel_nm  # one padding voxel each side
    shape = tuple(int(n) for n in np.ceil(np.asarray(phantom.block_size_nm, float) / voxel_nm).astype(int) + 2)
    items = list(enumerate(chunk_boxes(shape, (chunk,) * 3)))
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    work = Path(scratch or directory) / f".mesh-parts-{uuid.uuid4().hex}"
    (work / "parts").mkdir(parents=True)
    try:
        bar = (lambda name: lambda it, total: progress.bar(it, name, total=total)) if progress is not None else None
        cells = np.asarray(phantom.cell_ids, np.uint32)
        held = engine.map(mesh_task, (tissue,), items, fixed=(origin, shape, float(voxel_nm), cells,
                                                              as_path(work / "parts")), bar=bar and bar("meshes"))
        per_cell = {c: [i for (i, _), ids in zip(items, held) if c in ids] for c in phantom.cell_ids}
        todo = [(c, per_cell[c]) for c in phantom.cell_ids if per_cell[c]]
        engine.map(merge_task, (), todo, fixed=(as_path(work / "parts"), float(voxel_nm), as_path(work)),
                   bar=bar and bar("cell meshes"))
        written = []
        for c, _ in todo:
            written.append(directory / f"cell_{c}.ply")
            shutil.move(str(work / written[-1].name), written[-1])
        return written
    finally:
        shutil.rmtree(work, ignore_errors=True)

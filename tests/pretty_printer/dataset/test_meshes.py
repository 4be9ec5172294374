"""Per-cell meshes from labels, chunk by chunk: closed, the cell's volume, independent of chunking."""

from __future__ import annotations

import numpy as np
import pytest

from pretty_printer.dataset.engine import Engine, EngineConfig
from pretty_printer.dataset.layout import Dataset
from pretty_printer.dataset.meshes import MESH_VOXEL_NM, write_meshes


@pytest.fixture(scope="module")
def phantom(tiny_dataset):
    return Dataset(tiny_dataset).phantom()


def test_generated_meshes_are_watertight_with_the_cell_volume(tiny_dataset, phantom):
    import phantoms
    import trimesh

    v = MESH_VOXEL_NM
    labels = phantoms.rasterize(phantom, phantom.block_origin_nm, np.round(phantom.block_size_nm / v).astype(int),
                                v)["labels"]
    for c in phantom.cell_ids:
        mesh = trimesh.load(tiny_dataset / "truth" / "meshes" / f"cell_{c}.ply")
        assert mesh.is_watertight and mesh.is_winding_consistent
        assert mesh.volume == pytest.approx(np.count_nonzero(labels == c) * v ** 3, rel=0.05)


def test_meshes_do_not_depend_on_the_chunk_size(phantom, tmp_path):
    import trimesh

    cells = phantom.cell_ids[:2]
    with Engine(EngineConfig(workers=1)) as eng:
        # 40 nm sampling keeps the test fast; the property does not depend on the sampling
        small = write_meshes(phantom, tmp_path / "small", engine=eng, voxel_nm=40.0, chunk=24)
        whole = write_meshes(phantom, tmp_path / "whole", engine=eng, voxel_nm=40.0, chunk=200)
    assert [p.name for p in small] == [p.name for p in whole]
    for a, b in list(zip(small, whole))[: len(cells)]:
        ma, mb = trimesh.load(a), trimesh.load(b)
        assert ma.is_watertight and len(ma.faces) == len(mb.faces)
        assert ma.volume == pytest.approx(mb.volume, rel=1e-9)
        va = np.unique(np.round(ma.vertices, 3), axis=0)
        vb = np.unique(np.round(mb.vertices, 3), axis=0)
        assert np.array_equal(va, vb)

import csv
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import phantoms


@pytest.fixture(scope="module")
def exported(tiny, tmp_path_factory):
    d = tmp_path_factory.mktemp("exports")
    phantoms.write_exports(tiny, d)  # the default mesh voxel, as generate writes them
    return d


def test_files_exist(tiny, exported):
    for c in tiny.cell_ids:
        assert (exported / "swc" / f"cell_{c}.swc").is_file()
        assert (exported / "meshes" / f"cell_{c}.ply").is_file()
    for name in ("synapses.csv", "barcodes.csv", "morphometrics.json", "channels.json"):
        assert (exported / name).is_file()


def test_swc_loads_in_neurom_and_morphio(tiny, exported):
    import morphio
    import neurom

    for c in tiny.cell_ids:
        path = exported / "swc" / f"cell_{c}.swc"
        m = morphio.Morphology(str(path))
        assert m.soma.type == morphio.SomaType.SOMA_SINGLE_POINT
        n = neurom.load_morphology(str(path))
        nodes = tiny.skeleton(c).nodes_nm
        assert len(m.points) + 1 >= len(nodes) - 1  # every non-soma node is a section point
        # lengths survive the um conversion
        assert np.allclose(n.soma.center, nodes[0, ::-1] / 1000.0, atol=1e-5)


def test_swc_loads_in_neuron_import3d(tiny, exported):
    script = textwrap.dedent(f"""
        from neuron import h
        h.load_file("stdlib.hoc"); h.load_file("import3d.hoc")
        class Cell: pass
        for cid in {list(tiny.cell_ids)!r}:
            r = h.Import3d_SWC_read(); r.input(r"{exported}/swc/cell_%d.swc" % cid)
            c = Cell(); h.Import3d_GUI(r, 0).instantiate(c)
            assert len(list(c.all)) > 1 and sum(seg.area() for s in c.all for seg in s) > 1.0
        print("ok")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-2000:]


def test_meshes_are_watertight_with_the_cell_volume(tiny, exported):
    import trimesh

    labels = phantoms.rasterize(tiny, tiny.block_origin_nm, np.round(tiny.block_size_nm / 20).astype(int),
                                20.0)["labels"]
    for c in tiny.cell_ids[:3]:
        mesh = trimesh.load(exported / "meshes" / f"cell_{c}.ply")
        assert mesh.is_watertight
        assert mesh.volume == pytest.approx(np.count_nonzero(labels == c) * 8000.0, rel=0.1)


def test_tables(tiny, exported):
    with open(exported / "synapses.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(tiny.synapses)
    for key in ("id", "pre_cell", "post_cell", "pre_z_nm", "post_x_nm", "psd_area_nm2", "n_AMPA", "n_NMDA",
                "n_GABA_A", "conductance_nS"):
        assert key in rows[0]
    assert float(rows[0]["conductance_nS"]) == pytest.approx(tiny.synapses["conductance_nS"][0], rel=1e-9)
    with open(exported / "barcodes.csv") as f:
        codes = list(csv.reader(f))
    assert len(codes) == len(tiny.cell_ids) + 1 and len(codes[0]) == tiny.cfg.barcode_proteins + 1


def test_morphometrics(tiny, exported):
    stats = json.loads((exported / "morphometrics.json").read_text())
    assert set(stats) == {str(c) for c in tiny.cell_ids}
    for c, s in stats.items():
        d = s["dendrite"]
        assert d["total_length_um"] > 2.0 and d["n_sections"] >= tiny.cfg.dendrites_min
        assert sum(d["sholl"]) > 0
        # NeuroM's length agrees with the skeleton's own
        nodes, _, parent, types = tiny.skeleton(int(c))
        seg = (types == 3) & (parent >= 0)
        seg &= types[np.maximum(parent, 0)] == 3
        own = np.linalg.norm(nodes[seg] - nodes[parent[seg]], axis=1).sum() / 1000.0
        assert d["total_length_um"] == pytest.approx(own, rel=0.01, abs=0.01)

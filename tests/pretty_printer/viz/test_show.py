"""``show``: PNG previews from a small dataset written in the documented layout."""

from __future__ import annotations

import numpy as np
import pytest

from pretty_printer.dataset import layout as dataset
from pretty_printer.circuit.description import Cell, Circuit, Connection
from pretty_printer.cli.main import main
from pretty_printer.errors import DatasetError
from pretty_printer.viz.show import (
    barcode_rgb, circuit_layout, contrast, max_projections, mid_planes, read_swc, render_3d, show, stain_rgb,
)

SHAPE = (6, 40, 48)  # z, y, x
VOXEL = (40.0, 16.0, 16.0)


def _labels():
    """Two box-shaped cells side by side along x (ids 1 and 2), 0 outside."""
    lab = np.zeros(SHAPE, np.uint32)
    lab[:, 5:35, 4:22] = 1
    lab[:, 5:35, 26:44] = 2
    return lab


def _write_swc(path, nodes_zyx_nm, radii_nm, parents):
    lines = ["# units um", "# id type x y z radius parent"]
    for i, ((z, y, x), r, p) in enumerate(zip(nodes_zyx_nm, radii_nm, parents)):
        lines.append(f"{i + 1} {1 if p < 0 else 3} {x / 1000} {y / 1000} {z / 1000} {r / 1000} {p + 1 if p >= 0 else -1}")
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def small_dataset(tmp_path):
    root = tmp_path / "ds"
    pub, truth = root / "public", root / "truth"
    rng = np.random.default_rng(0)
    lab = _labels()
    em = (120 + 60 * (lab > 0) + rng.normal(0, 5, SHAPE)).astype(np.uint8)[None]
    barcodes = {1: [1, 0, 1, 0], 2: [0, 1, 1, 1]}
    exm = np.zeros((5,) + SHAPE, np.uint16)
    for cid, bits in barcodes.items():
        for k, b in enumerate(bits):
            exm[k][lab == cid] = 1000 * b
    exm[4, 3, 20, 24] = 5000  # one receptor punctum
    exm = exm + rng.poisson(20, exm.shape).astype(np.uint16)
    modalities = {}
    for name, vol, chans in (("em", em, ["em"]), ("exm", exm, [f"barcode:{k}" for k in range(4)] + ["receptor:AMPA"])):
        arr = dataset.create_ome_zarr(pub / f"{name}.zarr", shape=vol.shape, chunks=(4, 32, 32), dtype=vol.dtype,
                                      voxel_nm=VOXEL, name=name, channel_names=chans)
        arr[...] = vol
        dataset.write_volume(truth / "labels" / f"{name}.zarr", lab, voxel_nm=VOXEL, chunks=(4, 32, 32), name="labels")
        modalities[name] = {"path": f"{name}.zarr", "voxel_nm": list(VOXEL), "shape": list(vol.shape),
                            "channels": chans, "origin_nm": [0.0, 0.0, 0.0]}
    dataset.write_json(pub / "manifest.json", {"format": dataset.MANIFEST_FORMAT, "modalities": modalities})
    circuit = Circuit(
        task="xor",
        cells=(Cell(1, "input", 0, "hh", "glutamate"), Cell(2, "output", 1, "hh", "gaba")),
        connections=(Connection(1, 2, "AMPA", 0.004),), input_cells=(1,), output_cells=(2,))
    circuit.save(truth / "circuit.json")
    (truth / "swc").mkdir()
    _write_swc(truth / "swc" / "cell_1.swc", [(120, 320, 200), (120, 320, 400), (120, 200, 600)], [150, 60, 50], [-1, 0, 1])
    _write_swc(truth / "swc" / "cell_2.swc", [(120, 320, 560), (120, 450, 600), (120, 500, 700)], [150, 60, 50], [-1, 0, 1])
    (truth / "synapses.csv").write_text(
        "id,pre_cell,post_cell,pre_z_nm,pre_y_nm,pre_x_nm,post_z_nm,post_y_nm,post_x_nm,psd_area_nm2\n"
        "0,1,2,120,200,580,120,200,600,20000\n")
    (truth / "seed.json").write_text("{}")
    return root


def test_mid_planes_pick_the_middle():
    arr = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    p = mid_planes(arr, 1)
    assert np.array_equal(p["z"], arr[1, 1]) and np.array_equal(p["y"], arr[1, :, 2]) and np.array_equal(p["x"], arr[1, :, :, 2])
    assert mid_planes(arr, [0, 1])["z"].shape == (2, 4, 5)


def test_max_projections_match_numpy():
    rng = np.random.default_rng(1)
    arr = rng.normal(size=(3, 4, 5, 6))
    p = max_projections(arr, [2, 0])
    assert np.allclose(p["z"], arr[[2, 0]].max(axis=1)) and np.allclose(p["y"], arr[[2, 0]].max(axis=2))
    assert np.allclose(p["x"], arr[[2, 0]].max(axis=3))
    # smoothing keeps a punctum spanning the PSF and suppresses a single-voxel noise spike
    vol = np.zeros((1, 3, 21, 21))
    vol[0, 1, 4:7, 4:7] = 10.0
    vol[0, 2, 15, 15] = 10.0
    s = max_projections(vol, [0], smooth_voxels=1.0)["z"][0]
    assert s[5, 5] > 2 * s[15, 15]


def test_stain_rgb_keeps_noise_black_and_shows_puncta():
    rng = np.random.default_rng(2)
    noise = rng.normal(100, 3, size=(2, 64, 64))
    noise[0, 10, 10] = 300  # a punctum in the first stain; the second has none
    rgb = stain_rgb(noise)
    assert rgb.shape == (64, 64, 3) and rgb[10, 10, 0] == 1.0
    assert np.mean(rgb[..., 0] > 0.2) < 0.01 and np.mean(rgb[..., 1] > 0.2) < 0.01  # noise stays dark
    assert np.all(rgb[..., 2] == 0)  # missing third stain


def test_contrast_is_robust_and_bounded():
    img = np.linspace(0, 1, 1000)
    img[0] = 1e6  # a hot pixel must not flatten the rest
    c = contrast(img)
    assert c.min() == 0 and c.max() == 1 and np.median(c) == pytest.approx(0.5, abs=0.02)
    assert np.all(contrast(np.ones((3, 3))) == 0)


def test_barcode_composite_separates_cells():
    lab = _labels()[3]
    stack = np.stack([(lab == 1) * 1.0, (lab == 2) * 1.0, (lab > 0) * 1.0, (lab == 2) * 0.5, np.zeros_like(lab, float)])
    rgb = barcode_rgb(stack)
    assert rgb.shape == lab.shape + (3,) and rgb.min() >= 0 and rgb.max() <= 1
    c1, c2, bg = rgb[lab == 1].mean(0), rgb[lab == 2].mean(0), rgb[lab == 0].mean(0)
    assert np.linalg.norm(c1 - c2) > 0.3 and np.linalg.norm(c1 - bg) > 0.3
    # three channels or fewer are shown as they are
    assert np.allclose(barcode_rgb(stack[:2])[..., 2], 0)


def test_read_swc_converts_to_nm_zyx(tmp_path):
    _write_swc(tmp_path / "c.swc", [(1000, 2000, 3000), (1000, 2000, 4000)], [500, 100], [-1, 0])
    nodes, radii, parents = read_swc(tmp_path / "c.swc")
    assert np.allclose(nodes, [[1000, 2000, 3000], [1000, 2000, 4000]])
    assert np.allclose(radii, [500, 100]) and parents.tolist() == [-1, 0]


def test_circuit_layout_puts_layers_left_to_right(small_dataset):
    circuit = Circuit.load(small_dataset / "truth" / "circuit.json")
    pos = circuit_layout(circuit)
    assert pos[1][0] < pos[2][0]


def test_show_writes_every_preview(small_dataset, tmp_path):
    made = show(small_dataset, tmp_path / "png", progress=False)
    names = {p.name for p in made}
    assert {"em_slices.png", "exm_slices.png", "exm_barcodes.png", "exm_receptor_slices.png",
            "tissue_3d.png", "circuit.png"} <= names
    for p in made:
        assert p.stat().st_size > 5000
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_3d_render_falls_back_without_opengl(small_dataset, tmp_path, monkeypatch, capsys):
    import pretty_printer.viz.tissue3d as show_mod  # render_3d lives there

    def no_gl(*a, **k):
        raise RuntimeError("no OpenGL context")

    monkeypatch.setattr(show_mod, "render_3d_pyvista", no_gl)
    path, renderer = render_3d(small_dataset / "truth", tmp_path / "r.png")
    assert renderer == "matplotlib" and path.stat().st_size > 5000
    assert "falling back" in capsys.readouterr().err


def test_cli_show_and_errors(small_dataset, tmp_path, capsys):
    assert main(["show", str(small_dataset), "--out", str(tmp_path / "p"), "--modality", "em", "--quiet"]) == 0
    assert (tmp_path / "p" / "em_slices.png").stat().st_size > 0
    assert main(["show", str(small_dataset), "--out", str(tmp_path / "q"), "--modality", "xray"]) == 2
    assert "xray" in capsys.readouterr().err
    with pytest.raises(DatasetError):
        show(tmp_path / "missing", tmp_path / "r")


def test_unbranched_paths_cover_every_edge_once():
    from pretty_printer.viz.show import unbranched_paths

    parents = [-1, 0, 1, 1, 3, 3, 5]
    paths = unbranched_paths(parents)
    edges = sorted((p[i], p[i + 1]) for p in paths for i in range(len(p) - 1))
    assert edges == sorted((p, c) for c, p in enumerate(parents) if p >= 0)
    assert [3, 5, 6] in paths

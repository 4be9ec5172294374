"""NGFF 0.4 pyramids and labels: known reductions, chunked == whole, outside validators agree."""

import numpy as np
import pytest
import zarr

from pretty_printer.dataset import ngff
from pretty_printer.dataset.layout import create_ome_zarr, write_volume

ome_models = pytest.importorskip("ome_zarr_models.v04.image", reason="ome-zarr-models (dev extra) not installed")


def _validate_image(path):
    from ome_zarr_models.v04.image import Image

    return Image.from_zarr(zarr.open_group(str(path), mode="r"))


def _validate_label(path):
    from ome_zarr_models.v04.image_label import ImageLabel

    return ImageLabel.from_zarr(zarr.open_group(str(path), mode="r"))


def test_mean_and_mode_of_2x2x2_blocks():
    block = np.arange(16, dtype=np.float32).reshape(1, 2, 2, 4)
    out = ngff._downsample(block, (2, 2, 2), labels=False)
    assert out.shape == (1, 1, 1, 2)
    np.testing.assert_allclose(out[0, 0, 0], [block[0, :, :, :2].mean(), block[0, :, :, 2:].mean()])
    lab = np.array([[[[7, 7], [7, 3]], [[3, 3], [7, 9]]]], np.uint32)  # five 7s, three others
    assert ngff._downsample(lab, (2, 2, 2), labels=True).ravel().tolist() == [7]


def test_levels_halve_the_fine_axes_first_and_reach_three():
    assert ngff.plan_levels((1, 50, 312, 312), (40.0, 16.0, 16.0))[:2] == [(1, 2, 2), (2, 4, 4)]
    assert len(ngff.plan_levels((1, 8, 8, 8), (10.0, 10.0, 10.0))) + 1 >= ngff.MIN_LEVELS


def test_chunked_pyramid_equals_whole_array_reduction_and_validates(tmp_path):
    rng = np.random.default_rng(0)
    img = rng.integers(0, 255, (2, 9, 37, 41)).astype(np.uint8)
    arr = create_ome_zarr(tmp_path / "im.zarr", shape=img.shape, chunks=(4, 8, 8), dtype=img.dtype,
                          voxel_nm=(40.0, 16.0, 16.0), name="im", channel_names=["a", "b"],
                          origin_nm=(100.0, 0.0, 50.0))
    arr[...] = img
    n = ngff.write_pyramid(tmp_path / "im.zarr")
    g = zarr.open_group(str(tmp_path / "im.zarr"), mode="r")
    ds = g.attrs["multiscales"][0]["datasets"]
    assert n == len(ds) >= 3
    prev = img
    for k in range(1, n):
        f0 = np.asarray(ds[k - 1]["coordinateTransformations"][0]["scale"][1:]) / [40.0, 16.0, 16.0]
        f1 = np.asarray(ds[k]["coordinateTransformations"][0]["scale"][1:]) / [40.0, 16.0, 16.0]
        whole = ngff._downsample(prev, tuple(int(x) for x in f1 / f0), labels=False)
        np.testing.assert_array_equal(g[str(k)][...], whole)
        # voxel centres: origin + half a (downsampled) voxel
        t = ds[k]["coordinateTransformations"][1]["translation"][1:]
        np.testing.assert_allclose(t, np.array([100.0, 0.0, 50.0]) + 0.5 * f1 * [40.0, 16.0, 16.0])
        prev = whole
    _validate_image(tmp_path / "im.zarr")
    win = g.attrs["omero"]["channels"][0]["window"]
    assert (win["min"], win["max"]) == (float(img.min()), float(img.max()))


def test_labels_are_ngff_labels_read_by_ome_zarr_py(tmp_path):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Reader

    lab = np.zeros((6, 20, 20), np.uint32)
    lab[:, :10] = 3
    lab[:, 10:, 5:] = 11
    write_volume(tmp_path / "lab.zarr", lab, voxel_nm=(40.0, 16.0, 16.0), chunks=(4, 8, 8), name="labels")
    model = _validate_label(tmp_path / "lab.zarr")
    colors = zarr.open_group(str(tmp_path / "lab.zarr"), mode="r").attrs["image-label"]["colors"]
    assert [c["label-value"] for c in colors] == [3, 11]
    assert model is not None
    nodes = list(Reader(parse_url(str(tmp_path / "lab.zarr")))())
    assert any(isinstance(s, Label) for s in nodes[0].specs)
    assert set(np.unique(np.asarray(nodes[0].data[1]))) <= {0, 3, 11}


def test_em_of_every_preset_gets_three_levels():
    from pretty_printer.dataset import stages
    from pretty_printer.dataset.presets import load_preset, preset_names

    for name in preset_names():
        preset = load_preset(name)
        if "em" not in preset.scan:
            continue
        scanner = stages.make_scanner(preset, "em")
        shape = scanner.output_shape(np.asarray(preset.tissue["block_nm"], float))
        assert len(ngff.plan_levels(shape, scanner.voxel_nm)) + 1 >= 3, name


def test_every_zarr_of_a_dataset_is_valid_ngff(tiny_dataset):
    from ome_zarr.io import parse_url
    from ome_zarr.reader import Label, Reader

    public = sorted((tiny_dataset / "public").glob("*.zarr"))
    labels = sorted((tiny_dataset / "truth" / "labels").glob("*.zarr"))
    assert len(public) == 3 and {p.name for p in public} <= {p.name for p in labels}  # + undeformed grids
    for p in public:
        img = _validate_image(p)
        assert len(img.attributes.multiscales[0].datasets) >= (3 if p.stem == "em" else 2)
    for p in labels:
        _validate_label(p)
        nodes = list(Reader(parse_url(str(p)))())  # the source scan (hidden), then the labels
        assert any(isinstance(s, Label) for n in nodes for s in n.specs), p
        if "undeformed" not in p.name:  # labels on the scan's frame name the scan as their source
            assert any(f"public/{p.name}" in str(n.zarr) for n in nodes), "the source scan is found"
    semantic = sorted((tiny_dataset / "truth" / "semantic").glob("*.zarr"))
    assert {p.stem for p in semantic} == {"classes", "organelles"}
    for p in semantic:  # class and organelle-instance volumes are label images with pyramids too
        model = _validate_label(p)
        assert len(model.attributes.multiscales[0].datasets) >= 2, p


def test_a_level_chunk_task_waits_for_every_lower_chunk_it_reduces(tmp_path):
    """submit_pyramid's dependencies: the level-0 writers a level-1 chunk waits for cover its input."""
    from itertools import product

    arr = create_ome_zarr(tmp_path / "im.zarr", shape=(1, 9, 37, 41), chunks=(4, 8, 8), dtype="uint8",
                          voxel_nm=(40.0, 16.0, 16.0), name="im")
    writers = [tuple(slice(a, min(a + c, n)) for a, c, n in zip(s, (3, 16, 24), (9, 37, 41)))
               for s in product(range(0, 9, 3), range(0, 37, 16), range(0, 41, 24))]  # a coarser task grid
    g = zarr.open_group(str(tmp_path / "im.zarr"), mode="r+")
    dst = g.create_array("1", shape=(1, 9, 19, 21), dtype="uint8", chunks=(1, 4, 8, 8))
    waits = []
    for out, inp in ngff._level_boxes(arr.shape, dst, (1, 2, 2)):
        covered = np.zeros((9, 37, 41), bool)
        deps = [box for box in writers if ngff._overlaps(box, inp[1:])]
        for box in deps:
            covered[box] = True
        assert covered[inp[1:]].all()  # every voxel it reads is written by a task it waits for
        waits.append(len(deps))
    assert max(waits) < len(writers)  # and not on the whole level

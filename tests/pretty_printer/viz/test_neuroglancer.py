"""`show --neuroglancer`: a state neuroglancer's own parser accepts, all layers in one physical frame."""

import json

import numpy as np
import pytest
import zarr

from pretty_printer.cli.main import main

ng = pytest.importorskip("neuroglancer", reason="neuroglancer (dev extra) not installed")


def _box(path):
    """Physical (z, y, x) extent in nm of a multiscale group's level 0, from its NGFF metadata."""
    g = zarr.open_group(str(path), mode="r")
    tr = {t["type"]: t[t["type"]] for t in g.attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"]}
    scale, centre0 = np.asarray(tr["scale"][1:]), np.asarray(tr["translation"][1:])
    lo = centre0 - 0.5 * scale
    return lo, lo + np.asarray(g["0"].shape[1:]) * scale


def test_state_overlays_modalities_and_truth_in_one_frame(tiny_dataset, capsys):
    assert main(["show", str(tiny_dataset), "--neuroglancer", "--url-base", "http://example.org/ds"]) == 0
    text = capsys.readouterr().out
    state = ng.ViewerState(json.loads(text))  # neuroglancer's own parser
    kinds = {}
    for layer in state.layers:
        kinds.setdefault(layer.type, []).append(layer.name)
    assert kinds["image"] == ["em", "exm", "xray"]
    assert len(kinds["segmentation"]) == 3 and len(kinds["annotation"]) == 1
    raw = json.loads(text)
    boxes = []
    for layer in raw["layers"]:
        if layer["type"] in ("image", "segmentation"):
            rel = layer["source"].removeprefix("zarr://http://example.org/ds/")
            boxes.append(_box(tiny_dataset / rel))
    # every modality and every truth volume covers the same physical block (voxel corners)
    for lo, hi in boxes[1:]:
        np.testing.assert_allclose(lo, boxes[0][0], atol=1e-6)
        assert np.all(np.abs(hi - boxes[0][1]) <= max(np.max(hi - lo) * 0.02, 200.0))
    syn = [ly for ly in raw["layers"] if ly["type"] == "annotation"][0]["annotations"]
    pts = np.array([a["pointA"][::-1] for a in syn])  # x, y, z -> z, y, x
    # the grown circuit may reach past the scanned block; most of its synapses lie inside it
    inside = np.all((pts >= boxes[0][0] - 1) & (pts <= boxes[0][1] + 1), axis=1)
    assert len(pts) > 0 and inside.mean() >= 0.5, inside.mean()


def test_show_without_out_or_neuroglancer_is_a_usage_error(tiny_dataset, capsys):
    assert main(["show", str(tiny_dataset)]) == 2
    assert "--out" in capsys.readouterr().err

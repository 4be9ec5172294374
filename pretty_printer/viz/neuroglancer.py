"""A neuroglancer viewer state that overlays a dataset's scans and its truth in one physical frame.

Every volume is OME-Zarr whose ``translation`` places voxel centres in the phantom's frame
(nanometres, :mod:`pretty_printer.dataset.ngff`), so neuroglancer aligns them by itself: the
state only names the sources.  Layers: one image layer per modality (``public/``), one
segmentation layer per modality's truth labels, and the truth synapses as point annotations
(presynaptic site -> postsynaptic site, from ``truth/synapses.csv``).

Neuroglancer loads data over HTTP: serve the dataset directory with CORS enabled (e.g.
``npx http-server DIR --cors -p 9000``) and pass its address as ``url_base``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np

from pretty_printer.dataset.layout import Dataset

DEFAULT_URL_BASE = "http://127.0.0.1:9000"
_SHADER_GREY = "#uicontrol invlerp normalized\nvoid main() { emitGrayscale(normalized()); }\n"


def _source(url_base: str, rel: str) -> str:
    return f"zarr://{url_base.rstrip('/')}/{rel}"


def _synapse_layer(path: Path) -> dict | None:
    if not path.is_file():
        return None
    anns = []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            pre = [float(row[f"pre_{a}_nm"]) for a in "xyz"]
            post = [float(row[f"post_{a}_nm"]) for a in "xyz"]
            anns.append({"type": "line", "id": str(row["id"]), "pointA": pre, "pointB": post,
                         "description": f"{row['pre_cell']} -> {row['post_cell']}"})
    return {"type": "annotation", "name": "truth synapses (pre -> post)", "tab": "annotations",
            "source": {"url": "local://annotations",
                       "transform": {"outputDimensions": _dimensions()}},
            "annotationColor": "#ffcc00", "annotations": anns}


def _dimensions() -> dict:
    return {a: [1e-9, "m"] for a in "xyz"}


def neuroglancer_state(dataset_dir: str | Path, url_base: str = DEFAULT_URL_BASE) -> dict:
    """The viewer state (a JSON-able dict) for a dataset served at ``url_base``.

    Parameters
    ----------
    dataset_dir : path of a dataset written by ``generate`` (``truth/`` layers when present)
    url_base : str
        HTTP address at which ``dataset_dir`` is served (neuroglancer cannot read local files).
    """
    ds = Dataset(Path(dataset_dir))
    layers = []
    lo, hi = [], []
    for m in ds.modalities:
        info = ds.modality(m)
        origin = np.asarray(info["origin_nm"], float)
        lo.append(origin)
        hi.append(origin + np.asarray(info["shape"][1:], float) * np.asarray(info["voxel_nm"], float))
        layer = {"type": "image", "name": m, "source": _source(url_base, f"public/{info['path']}"),
                 "opacity": 1.0 if not layers else 0.5, "visible": not layers}
        if len(info["channels"]) == 1:
            layer["shader"] = _SHADER_GREY
        layers.append(layer)
    if (ds.truth / "labels").is_dir():
        for m in ds.modalities:
            if (ds.truth / "labels" / f"{m}.zarr").is_dir():
                layers.append({"type": "segmentation", "name": f"truth cells ({m} grid)",
                               "source": _source(url_base, f"truth/labels/{m}.zarr"),
                               "selectedAlpha": 0.4, "visible": m == ds.modalities[0]})
    syn = _synapse_layer(ds.truth / "synapses.csv")
    if syn:
        layers.append(syn)
    centre_zyx = (np.min(lo, 0) + np.max(hi, 0)) / 2 if lo else np.zeros(3)
    return {"dimensions": _dimensions(), "position": [float(v) for v in centre_zyx[::-1]],
            "crossSectionScale": 1.0, "projectionScale": float(np.max(np.max(hi, 0) - np.min(lo, 0))) if lo else 1.0,
            "layers": layers, "layout": "4panel",
            "selectedLayer": {"layer": layers[0]["name"], "visible": True} if layers else {}}


def neuroglancer_json(dataset_dir, url_base: str = DEFAULT_URL_BASE) -> str:
    return json.dumps(neuroglancer_state(dataset_dir, url_base), indent=1)


DEFAULT_VIEWER = "https://neuroglancer-demo.appspot.com/"


def neuroglancer_link(info: dict, modality: str, position_zyx_nm, *, segments=(), submission_rel: str | None = None,
                      url_base: str = DEFAULT_URL_BASE, viewer: str = DEFAULT_VIEWER) -> str:
    """A neuroglancer URL centred on one position: the scan, the truth cells and, if given, the
    submission's segmentation, with ``segments`` (truth cell ids) selected.

    Parameters
    ----------
    info : dict
        The modality's entry of ``public/manifest.json`` (``path`` of the scan).
    modality : str
        Its name (the truth label layer is ``truth/labels/<modality>.zarr``).
    position_zyx_nm : sequence of 3 float
        Where to centre the view, nm in the dataset frame, (z, y, x).
    segments : iterable of int
        Truth cell ids to show selected.
    submission_rel : str, optional
        Path of the submission's segmentation relative to the served directory (an OME-Zarr with
        the scan's grid; a plain array carries no position and is left out).
    url_base, viewer : str
        Where the dataset is served; which neuroglancer to open.
    """
    import urllib.parse

    layers = [{"type": "image", "name": modality, "source": _source(url_base, f"public/{info['path']}")},
              {"type": "segmentation", "name": "truth cells", "source": _source(url_base, f"truth/labels/{modality}.zarr"),
               "segments": [str(int(s)) for s in segments], "selectedAlpha": 0.35}]
    if submission_rel:
        layers.append({"type": "segmentation", "name": "submission", "source": _source(url_base, submission_rel),
                       "selectedAlpha": 0.35, "visible": False})
    state = {"dimensions": _dimensions(), "position": [float(v) for v in list(position_zyx_nm)[::-1]],
             "crossSectionScale": 1.0, "layers": layers, "layout": "xy"}
    return viewer.rstrip("/") + "/#!" + urllib.parse.quote(json.dumps(state, separators=(",", ":")), safe="")

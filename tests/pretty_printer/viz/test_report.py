"""The HTML report shows where a submission fails: crops of the worst errors and neuroglancer
links centred on them; the reference accuracy is a marker, not a score bar."""

from __future__ import annotations

import copy
import json
import re
import urllib.parse

import numpy as np

from pretty_printer.dataset.layout import Dataset
from pretty_printer.scoring.score import score
from pretty_printer.submission.format import read_submission, write_submission
from pretty_printer.viz.report import _BARS, write_html_report


def test_reference_values_are_not_bars():
    assert all(key not in ("reference_accuracy", "ann_accuracy") for _, key in _BARS)


def test_report_has_crops_and_links_at_the_merge(tiny_dataset, truth_submission, tmp_path):
    ds = Dataset(tiny_dataset)
    sub = copy.deepcopy(read_submission(truth_submission))
    a, b = sorted(c.id for c in ds.circuit().cells)[:2]
    gt = ds.truth_labels("em")
    sa, sb = (int(np.bincount(sub.segmentation[gt == c].astype(np.int64)).argmax()) for c in (a, b))
    sub.segmentation = np.where(sub.segmentation == sb, sa, sub.segmentation).astype(np.uint64)
    sub_dir = write_submission(tmp_path / "merged", sub, voxel_nm=ds.modality("em")["voxel_nm"])
    card = score(tiny_dataset, sub_dir, function=False)
    out = tmp_path / "r.html"
    write_html_report(card, out, dataset_dir=tiny_dataset, submission_dir=sub_dir, url_base="http://127.0.0.1:9000")
    text = out.read_text()
    assert "Worst merges (1 segments" in text and card["dataset_id"] in text
    crops = re.findall(r"<img alt='merge: segment (\d+)'", text)
    assert crops == [str(sa)]
    links = re.findall(r"href='https://neuroglancer-demo.appspot.com/#!([^']+)'", text)
    states = [json.loads(urllib.parse.unquote(u.replace("&amp;", "&"))) for u in links]
    at_merge = [st for st in states if st["position"][::-1] == card["diagnostics"]["worst_merges"][0]["position_zyx_nm"]]
    assert at_merge and at_merge[0]["layers"][1]["source"].endswith("truth/labels/em.zarr")
    assert not list(tmp_path.glob(".r.html*"))  # written atomically, no temporary left


def test_report_without_dataset_has_tables_but_no_crops(tiny_dataset, truth_submission, tmp_path):
    card = score(tiny_dataset, truth_submission, function=False)
    write_html_report(card, tmp_path / "r.html")
    text = (tmp_path / "r.html").read_text()
    assert "Worst merges (0 segments" in text and "<img alt='merge" not in text and "neuroglancer-demo" not in text

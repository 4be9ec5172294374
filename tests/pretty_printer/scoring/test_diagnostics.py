"""The scorecard's diagnostics say where a submission fails: known merges, splits, missed and
spurious synapses and lost edges on hand-built volumes, silence for the perfect submission, and a
deliberate merge found at the place it was made."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from pretty_printer.dataset.layout import Dataset
from pretty_printer.scoring import diagnostics as dg
from pretty_printer.scoring.score import score
from pretty_printer.submission.format import read_submission, write_submission

ORIGIN, VOXEL = (0.0, 0.0, 0.0), (10.0, 10.0, 10.0)


def _two_cells():
    gt = np.zeros((4, 10, 10), np.uint64)
    gt[:, :, :4] = 1  # 160 voxels
    gt[:, :, 6:] = 2  # 160 voxels
    return gt


def test_a_merge_is_found_with_its_cells_and_a_position_inside_the_smaller():
    gt = _two_cells()
    gt[:, :5, 6:] = 3  # cell 3: 80 voxels, cell 2 keeps 80
    seg = np.where(gt > 0, 7, 0).astype(np.uint64)  # one segment over all three cells
    seg[gt == 1] = 5
    d = dg.segment_errors(gt, seg, ORIGIN, VOXEL, circuit_ids={3})
    assert d["n_merges"] == 1 and d["n_splits"] == 0
    m = d["worst_merges"][0]
    assert m["circuit_cells"] == [3]
    assert m["segment"] == 7 and m["voxels"] == 160 and m["error_voxels"] == 80
    assert [c for c, _ in m["truth_cells"]] == [2, 3]  # ties: smaller id first
    z, y, x = (np.asarray(m["position_zyx_nm"]) / 10 - 0.5).astype(int)
    assert gt[z, y, x] == 3 and seg[z, y, x] == 7  # a voxel of the merged-in cell, inside the segment


def test_a_split_lists_its_pieces_and_unassigned_voxels_count_as_one():
    gt = _two_cells()
    seg = gt.copy()
    seg[:, :3, :4] = 9  # 48 voxels of cell 1 in another segment
    seg[:, 8:, :4] = 0  # 32 unassigned; 80 stay in segment 1
    d = dg.segment_errors(gt, seg, ORIGIN, VOXEL)
    assert d["n_merges"] == 0 and d["n_splits"] == 1
    s = d["worst_splits"][0]
    assert s["cell"] == 1 and s["voxels"] == 160 and s["error_voxels"] == 80
    assert s["segments"] == [[1, 80], [9, 48], [0, 32]]
    z, y, x = (np.asarray(s["position_zyx_nm"]) / 10 - 0.5).astype(int)
    assert seg[z, y, x] == 9


def test_boundary_slivers_are_not_listed():
    gt = _two_cells()
    seg = gt.copy()
    seg[0, 0, 4] = 1  # one voxel of extracellular space: not a cell, never counts
    seg[0, :3, 6] = 1  # 3 voxels of cell 2 (1.9 % of segment 1): a sliver
    d = dg.segment_errors(gt, seg, ORIGIN, VOXEL)
    assert d["n_merges"] == 0 and d["n_splits"] == 0
    seg[:, :, 6] = 1  # 40 voxels of cell 2 (20 % of segment 1, 25 % of cell 2): a merge and a split
    d = dg.segment_errors(gt, seg, ORIGIN, VOXEL)
    assert d["n_merges"] == 1 and d["n_splits"] == 1


def test_a_merge_lists_neither_slivers_nor_their_circuit_cells_and_prints_voxel_counts():
    gt = _two_cells()
    gt[0, 0, :2] = 3  # circuit cell 3: 2 voxels, all inside the merged segment (0.6 %): a sliver
    seg = np.where(gt > 0, 7, 0).astype(np.uint64)  # cells 1 (158), 2 (160) and 3 (2) in one segment
    d = dg.segment_errors(gt, seg, ORIGIN, VOXEL, circuit_ids={3})
    m = d["worst_merges"][0]
    assert m["truth_cells"] == [[2, 160], [1, 158]] and m["circuit_cells"] == []
    assert m["error_voxels"] == 160  # the sliver still has to be cut away
    lines = dg.summary_lines({**d, "lost_edges": {"n_lost": 0, "by_reason": {}}, "n_missed": 0, "n_spurious": 0,
                              "dropped_synapses": {}})
    assert any("joins cells 2 (160 voxels), 1 (158 voxels) (160 voxels to cut)" in ln for ln in lines), lines


def test_perfect_segmentation_has_no_entries():
    gt = _two_cells()
    d = dg.segment_errors(gt, gt * 3, ORIGIN, VOXEL)
    assert d["worst_merges"] == [] and d["worst_splits"] == [] and d["n_merges"] == 0


def _syn(pre, post, **cols):
    return {"pre_nm": np.asarray(pre, float), "post_nm": np.asarray(post, float), **{k: np.asarray(v) for k, v in cols.items()}}


def test_missed_and_spurious_synapses_with_distances():
    true = _syn([[0, 0, 0], [0, 0, 1000]], [[0, 0, 20], [0, 0, 1020]], id=[11, 12], pre_cell=[1, 1], post_cell=[2, 3])
    pred = _syn([[0, 0, 0], [0, 0, 3000]], [[0, 0, 20], [0, 0, 3020]], row=[0, 1], pre_cell=[1, 4], post_cell=[2, 5])
    d = dg.synapse_errors(true, pred, np.array([[0, 0]]), threshold_nm=200)
    assert d["n_missed"] == 1 and d["n_spurious"] == 1 and d["missed"][0]["reason"] == "not_detected"
    near = dg.synapse_errors(true, pred, np.zeros((0, 2), int), threshold_nm=200)
    assert [m["reason"] for m in near["missed"]] == ["wrong_cells", "not_detected"]  # 0 nm away, but unmatched
    assert d["missed"][0]["id"] == 12 and d["missed"][0]["nearest_submitted_nm"] == pytest.approx(1000.0)
    assert d["spurious"][0]["row"] == 1 and d["spurious"][0]["nearest_true_nm"] == pytest.approx(2000.0)
    assert d["missed"][0]["position_zyx_nm"] == [0.0, 0.0, 1010.0]


def test_lost_edges_name_their_reason():
    true = _syn([[0, 0, 0], [0, 0, 1000], [0, 0, 2000]], [[0, 0, 20], [0, 0, 1020], [0, 0, 2020]],
                id=[1, 2, 3], pre_cell=[1, 1, 2], post_cell=[2, 3, 3])
    # synapse 1 found on the right cells; 2 found but its post site is unassigned; 3 found on cells 4 -> 3
    pred = _syn([[0, 0, 0], [0, 0, 1000], [0, 0, 2000]], [[0, 0, 20], [0, 0, 1020], [0, 0, 2020]],
                row=[0, 1, 2], pre_seg=[10, 10, 40], post_seg=[20, 0, 30], pre_cell=[1, 1, 4], post_cell=[2, -1, 3])
    out = dg.lost_edges(true, pred, [(1, 2), (1, 3), (2, 3), (3, 1)], [(1, 2), (4, 3)], threshold_nm=200)
    reasons = {(e["pre_cell"], e["post_cell"]): e["reason"] for e in out["lost"]}
    assert reasons == {(1, 3): "site_unassigned", (2, 3): "wrong_cells", (3, 1): "not_detected"}
    assert out["by_reason"] == {"not_detected": 1, "site_unassigned": 1, "wrong_cells": 1}
    wrong = next(e for e in out["lost"] if e["reason"] == "wrong_cells")
    assert wrong["resolved_to"] == [4, 3]


def test_dropped_synapses_by_reason():
    got = dg.dropped_synapses([True, False, True, True, True, True, True, True], [1, 1, 0, 5, 5, 5, 5, 999],
                              [2, 2, 2, 6, 6, 6, 6, 2], [1, 1, -1, -1, 1, 1, 1, -1], [2, 2, 2, 2, 1, 1000, 2, 2],
                              circuit_ids={1, 2}, segment_ids=[0, 1, 2, 5, 6])
    assert got == {"outside_image": 1, "site_unassigned": 1, "unknown_segment": 1, "no_cell": 1, "same_cell": 1,
                   "background_cell": 1}


@pytest.fixture(scope="module")
def perfect(truth_submission):
    return read_submission(truth_submission)


def test_perfect_submission_has_nothing_to_diagnose(tiny_dataset, truth_submission):
    d = score(tiny_dataset, truth_submission, function=False)["diagnostics"]
    assert d["n_merges"] == d["n_splits"] == 0
    assert d["n_missed"] == d["n_spurious"] == 0 and d["lost_edges"]["n_lost"] == 0


def test_a_deliberate_merge_is_reported_where_it_was_made(tiny_dataset, perfect, tmp_path):
    circuit = Dataset(tiny_dataset).circuit()
    a, b = sorted(c.id for c in circuit.cells)[:2]
    s = copy.deepcopy(perfect)
    s.segmentation = s.segmentation.copy()
    seg_a = int(np.bincount(s.segmentation[Dataset(tiny_dataset).truth_labels("em") == a].astype(np.int64)).argmax())
    seg_b = int(np.bincount(s.segmentation[Dataset(tiny_dataset).truth_labels("em") == b].astype(np.int64)).argmax())
    s.segmentation[s.segmentation == seg_b] = seg_a
    for c in ("pre_id", "post_id"):
        s.synapses[c] = np.where(s.synapses[c] == seg_b, seg_a, s.synapses[c]).astype(np.uint64)
    voxel = Dataset(tiny_dataset).modality("em")["voxel_nm"]
    card = score(tiny_dataset, write_submission(tmp_path / "merged", s, voxel_nm=voxel), function=False)
    d = card["diagnostics"]
    assert d["n_merges"] == 1 and d["n_splits"] == 0
    m = d["worst_merges"][0]
    assert m["segment"] == seg_a and sorted(c for c, _ in m["truth_cells"]) == sorted([a, b])
    gt = Dataset(tiny_dataset).truth_labels("em")
    info = Dataset(tiny_dataset).modality("em")
    idx = np.floor((np.asarray(m["position_zyx_nm"]) - info["origin_nm"]) / np.asarray(voxel)).astype(int)
    assert gt[tuple(idx)] in (a, b)  # the position lies in one of the merged cells
    lost = d["lost_edges"]
    assert lost["by_reason"]["wrong_cells"] == lost["n_lost"]  # every edge lost to the merge is said to be

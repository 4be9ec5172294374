"""ERL on GT skeletons: known answers, perfect submission, splits and merges."""

import numpy as np
import pytest

from pretty_printer.errors import DatasetError
from pretty_printer.scoring.metrics.erl import erl_scores, sample_labels

VOXEL = (10.0, 10.0, 10.0)


def _world(n_cells=3, length=40):
    """Straight axons along x, one per row of y; GT volume and skeletons (nodes at voxel centres)."""
    gt = np.zeros((4, 4 * n_cells, length), np.uint32)
    skeletons = {}
    for k in range(n_cells):
        cid = 10 + k
        gt[:, 4 * k + 1:4 * k + 3, :] = cid
        x = np.arange(length) * 10.0 + 5.0
        nodes = np.stack([np.full(length, 15.0), np.full(length, (4 * k + 1) * 10 + 5.0), x], 1)
        edges = np.stack([np.arange(length - 1), np.arange(1, length)], 1)
        skeletons[cid] = (nodes, edges)
    return gt, skeletons


def test_perfect_submission_reaches_erl_max_exactly():
    gt, sk = _world()
    r = erl_scores(sk, gt, VOXEL)
    assert r["erl_nm"] == r["erl_max_nm"] == r["erl_merge_aware_nm"]
    # Each skeleton is one 390 nm run: ERL = 3 * 390^2 / (3 * 390) = 390 nm.
    assert r["erl_max_nm"] == pytest.approx(390.0)
    assert r["total_length_nm"] == pytest.approx(3 * 390.0)
    # Relabelled ids score the same.
    r2 = erl_scores(sk, np.where(gt > 0, gt + 1000, 0), VOXEL)
    assert r2["erl_nm"] == r["erl_max_nm"]


def test_known_answer_split_in_half():
    gt, sk = _world(n_cells=1)
    seg = gt.copy()
    seg[..., 20:] = 99  # nodes 0..19 in 10, 20..39 in 99: edge 19-20 broken
    r = erl_scores(sk, seg, VOXEL)
    assert r["erl_nm"] == pytest.approx(2 * 190.0**2 / 390.0)
    assert r["erl_merge_aware_nm"] == r["erl_nm"]


def test_unassigned_nodes_break_runs():
    gt, sk = _world(n_cells=1)
    seg = gt.copy()
    seg[..., 10] = 0
    r = erl_scores(sk, seg, VOXEL)
    # Edges 9-10 and 10-11 are lost: runs of 90 nm and 280 nm.
    assert r["erl_nm"] == pytest.approx((90.0**2 + 280.0**2) / 390.0)


def test_merge_costs_only_the_merge_aware_erl():
    gt, sk = _world()
    seg = gt.copy()
    seg[seg == 11] = 10  # merge cells 10 and 11
    r = erl_scores(sk, seg, VOXEL)
    assert r["erl_nm"] == r["erl_max_nm"]
    assert r["erl_merge_aware_nm"] == pytest.approx(390.0**2 / (3 * 390.0))
    assert r["n_merged_segments"] == 1


@pytest.mark.parametrize("kind", ["split", "merge"])
def test_monotone_over_three_levels(kind):
    gt, sk = _world(n_cells=4)
    plain, aware = [], []
    for level in range(4):
        seg = gt.copy()
        if kind == "split":
            piece = np.arange(seg.shape[-1]) * (level + 1) // seg.shape[-1]  # level cuts
            seg = np.where(gt == 10, 10 + 1000 * piece, gt)
        else:
            for c in range(level):  # merge cell 11+c into cell 10
                seg[seg == 11 + c] = 10
        r = erl_scores(sk, seg, VOXEL)
        plain.append(r["erl_nm"])
        aware.append(r["erl_merge_aware_nm"])
    assert all(np.diff(aware) < 0), aware
    if kind == "split":
        assert all(np.diff(plain) < 0), plain
    else:
        assert len(set(plain)) == 1


def test_origin_and_out_of_volume_nodes():
    seg = np.arange(8).reshape(2, 2, 2) + 1
    pts = np.array([[100 + 5, 200 + 5, 300 + 15], [100 + 15, 200 + 15, 300 + 15], [0, 0, 0]], float)
    np.testing.assert_array_equal(sample_labels(seg, pts, VOXEL, origin_nm=(100, 200, 300)), [2, 8, 0])


def test_accepts_zarr_like_arrays():
    class VIndexOnly:  # point indexing only, as zarr arrays offer through .vindex
        def __init__(self, a):
            self._a, self.shape, self.vindex = a, a.shape, a

        def __array__(self, *a, **k):
            raise AssertionError("the volume must not be loaded whole")

    gt, sk = _world()
    assert erl_scores(sk, VIndexOnly(gt), VOXEL)["erl_nm"] == pytest.approx(390.0)


def test_bad_skeleton_and_empty_input():
    with pytest.raises(DatasetError, match="node indices"):
        erl_scores({1: (np.zeros((2, 3)), np.array([[0, 2]]))}, np.ones((2, 2, 2), int), VOXEL)
    with pytest.raises(DatasetError, match=r"\(N, 3\)"):
        erl_scores({1: (np.zeros((2, 2)), np.array([[0, 1]]))}, np.ones((2, 2, 2), int), VOXEL)
    r = erl_scores({}, np.ones((2, 2, 2), int), VOXEL)
    assert r["erl_nm"] is None and r["total_length_nm"] == 0.0

"""VI / ARAND / contingency: known answers, agreement with scikit-image, error directions."""

import numpy as np
import pytest
from skimage.metrics import adapted_rand_error, variation_of_information

from pretty_printer.errors import DatasetError, SubmissionError
from pretty_printer.scoring.metrics.segmentation import (
    best_match,
    contingency,
    scores_from_contingency,
    segmentation_scores,
)


def _blocks(shape=(16, 16, 16), n=4):
    """GT of n x n columns of cells along x with a 1-voxel extracellular (0) border."""
    gt = np.zeros(shape, np.uint32)
    step = shape[1] // n
    for i in range(n):
        for j in range(n):
            gt[:, i * step + 1:(i + 1) * step, j * step + 1:(j + 1) * step] = 1 + i * n + j
    return gt


def _to_singletons(seg):
    """Give every 0 voxel a fresh label: how our convention reads unassigned voxels."""
    out = seg.astype(np.int64)
    zero = out == 0
    out[zero] = out.max() + 1 + np.arange(int(zero.sum()))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_agrees_with_skimage_on_random_label_pairs(seed):
    # Conventions aligned for the comparison:
    # * skimage's variation_of_information(image0=gt, image1=seg) returns
    #   (H(seg|gt), H(gt|seg)) in bits (log2) = (vi_split, vi_merge);
    # * ignore_labels=[0] drops voxels whose *GT* is 0, as we do;
    # * skimage treats seg 0 as an ordinary label, we treat each 0 voxel as a singleton,
    #   so the seg passed to skimage has its 0 voxels relabelled to fresh singleton ids;
    # * skimage's adapted_rand_error counts pairs of distinct voxels (n^2 - n) where CREMI
    #   counts sum n^2, hence count_self_pairs=False for the ARAND comparison; and its
    #   "precision" is sum n^2 / sum (GT sizes)^2, which is our rand_recall (and vice versa).
    rng = np.random.default_rng(seed)
    shape = tuple(rng.integers(5, 25, 3))
    gt = rng.integers(0, rng.integers(2, 12), shape)
    seg = rng.integers(0, rng.integers(2, 15), shape)
    ours = segmentation_scores(gt, seg)
    sk_seg = _to_singletons(seg)
    split, merge = variation_of_information(gt, sk_seg, ignore_labels=[0])
    assert ours["vi_split"] == pytest.approx(split, abs=1e-9)
    assert ours["vi_merge"] == pytest.approx(merge, abs=1e-9)

    aligned = scores_from_contingency(contingency(gt, seg), count_self_pairs=False)
    are, prec, rec = adapted_rand_error(gt, sk_seg, ignore_labels=[0])
    assert aligned["arand"] == pytest.approx(are, abs=1e-9)
    assert aligned["rand_recall"] == pytest.approx(prec, abs=1e-9)
    assert aligned["rand_precision"] == pytest.approx(rec, abs=1e-9)
    # VI does not depend on the self-pair convention.
    assert aligned["vi_split"] == ours["vi_split"]


def test_agrees_with_skimage_on_wide_labels():
    # Labels beyond 32 bits take the relabelling path of the contingency table.
    rng = np.random.default_rng(7)
    gt = rng.integers(0, 4, (10, 12, 14)).astype(np.uint64) * np.uint64(2**40)
    seg = rng.integers(1, 6, (10, 12, 14)).astype(np.uint64) * np.uint64(2**35) + np.uint64(3)
    ours = segmentation_scores(gt, seg)
    # skimage builds a table indexed by label value: give it small labels with the same
    # partition (np.unique's inverse keeps 0 as 0 since it is the smallest value present).
    g_small = np.unique(gt, return_inverse=True)[1].reshape(gt.shape)
    s_small = np.unique(seg, return_inverse=True)[1].reshape(seg.shape) + 1
    split, merge = variation_of_information(g_small, s_small, ignore_labels=[0])
    assert ours["vi_split"] == pytest.approx(split, abs=1e-9)
    assert ours["vi_merge"] == pytest.approx(merge, abs=1e-9)


@pytest.mark.parametrize("case", ["dense", "voxel_sort", "compacted", "wide", "many_labels"])
def test_every_counting_path_matches_a_naive_table(case):
    # Small labels: bincount.  Huge sparse incoherent labels: sort over voxels.  Huge labels
    # in coherent runs: runs compacted by sorting, then bincount ("compacted", and "wide" for
    # ids beyond 32 bits).  Over ~1e6 (gt, seg) index combinations: sort over runs.
    rng = np.random.default_rng(3)
    g = rng.integers(0, 5, 6000).astype(np.uint64)
    s = rng.integers(0, 7, 6000).astype(np.uint64)
    if case == "many_labels":
        g = np.repeat(rng.integers(0, 1100, 5000), 4).astype(np.uint64)
        s = np.repeat(rng.integers(0, 1100, 5000), 4).astype(np.uint64)
    elif case != "dense":
        g = g * np.uint64(50_000_000)
        s = s * np.uint64(70_000_000) + np.uint64(1)
    if case == "wide":
        g = g * np.uint64(2**20)
    if case in ("compacted", "wide"):
        order = np.lexsort((s, g))
        g, s = g[order], s[order]
    t = contingency(g, s)
    pairs, counts = np.unique(np.stack([g, s], 1), axis=0, return_counts=True)
    np.testing.assert_array_equal(t.gt_ids, pairs[:, 0])
    np.testing.assert_array_equal(t.seg_ids, pairs[:, 1])
    np.testing.assert_array_equal(t.counts, counts)
    assert t.n_voxels == g.size


def test_perfect_submission_scores_exactly_zero():
    gt = _blocks()
    relabelled = np.where(gt > 0, gt * 7 + 100, 0)  # ids need not match, only the partition
    for seg in (gt, relabelled, np.where(gt > 0, gt, 5)):  # what seg says in GT 0 is ignored
        r = segmentation_scores(gt, seg)
        assert r["vi_split"] == 0.0 and r["vi_merge"] == 0.0 and r["arand"] == 0.0
        assert r["n_gt"] == 16 and r["n_seg"] in (16, 17)


def test_known_answer_half_split():
    # One cell of 2N voxels split in two halves: H(S|G) = 1 bit, H(G|S) = 0.
    # ARAND: sum n^2 = 2 N^2, sum a^2 = 4 N^2, sum b^2 = 2 N^2 -> P = 1, R = 1/2, F = 2/3.
    gt = np.ones((4, 4, 8), np.uint8)
    seg = gt.copy()
    seg[..., 4:] = 2
    r = segmentation_scores(gt, seg)
    assert r["vi_split"] == pytest.approx(1.0, abs=1e-12)
    assert r["vi_merge"] == 0.0
    assert r["arand"] == pytest.approx(1 / 3, abs=1e-12)
    # The mirror case (two cells merged) swaps split and merge.
    r2 = segmentation_scores(seg, gt)
    assert r2["vi_merge"] == pytest.approx(1.0, abs=1e-12) and r2["vi_split"] == 0.0


def test_unassigned_voxels_are_singleton_splits():
    gt = np.ones((1, 1, 8), np.uint8)
    seg = np.ones_like(gt)
    seg[..., :4] = 0  # 4 unassigned voxels = 4 singleton segments
    r = segmentation_scores(gt, seg)
    # H(S|G) = -sum p log2 p over segment sizes (4, 1, 1, 1, 1)/8 = 0.5 + 4/8 * 3 = 2 bits.
    assert r["vi_split"] == pytest.approx(2.0, abs=1e-12)
    assert r["vi_merge"] == 0.0
    assert r["n_unassigned"] == 4


@pytest.mark.parametrize("kind", ["split", "merge", "unassigned"])
def test_errors_move_metrics_monotonically(kind):
    gt = _blocks((8, 32, 32), n=4)
    rng = np.random.default_rng(0)
    scores = []
    for level in range(4):
        seg = gt.copy()
        cells = rng.permutation(np.arange(1, 17))
        if kind == "split":
            for c in range(1, 1 + 4 * level):  # split the first 4*level cells along z
                seg[4:][seg[4:] == c] = 100 + c
        elif kind == "merge":
            for k in range(level * 2):  # merge pairs of cells
                seg[gt == 2 * k + 2] = 2 * k + 1
        else:
            for c in cells[: 3 * level]:
                seg[(gt == c) & (np.arange(8)[:, None, None] < 2)] = 0
        scores.append(segmentation_scores(gt, seg))
    split = [s["vi_split"] for s in scores]
    merge = [s["vi_merge"] for s in scores]
    arand = [s["arand"] for s in scores]
    assert all(np.diff(arand) > 0), arand
    if kind == "merge":
        assert all(np.diff(merge) > 0) and split == [0.0] * 4
    else:
        assert all(np.diff(split) > 0) and merge == [0.0] * 4


def test_best_match_picks_largest_overlap_and_skips_extracellular():
    gt = np.array([[1, 1, 1, 2, 2, 0, 0]])
    seg = np.array([[5, 5, 6, 6, 6, 7, 7]])
    assert best_match(gt, seg) == {5: 1, 6: 2}  # 7 lies only in GT 0
    # Ties go to the smaller GT id.
    assert best_match(np.array([3, 2]), np.array([9, 9])) == {9: 2}


def test_shape_mismatch_names_both_shapes():
    with pytest.raises(SubmissionError, match=r"\(2, 3\).*\(3, 2\)"):
        segmentation_scores(np.zeros((2, 3), int), np.zeros((3, 2), int))
    with pytest.raises(ValueError):  # SubmissionError is a ValueError
        contingency(np.zeros(3, int), np.zeros(4, int))


def test_rejects_bad_labels_and_empty_truth():
    with pytest.raises(SubmissionError, match="integer"):
        segmentation_scores(np.ones(4, int), np.ones(4, float))
    with pytest.raises(SubmissionError, match="non-negative"):
        segmentation_scores(np.ones(4, int), -np.ones(4, int))
    with pytest.raises(DatasetError, match="non-zero"):
        segmentation_scores(np.zeros(4, int), np.ones(4, int))


def test_scores_are_plain_python_numbers():
    r = segmentation_scores(_blocks(), _blocks())
    assert r.pop("vi_unassigned") == "singletons"  # the convention used, stated in the result
    assert all(type(v) in (int, float) for v in r.values())

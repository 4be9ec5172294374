"""Synaptic-partner matching: perfect, dropped, added, displaced and mislabelled synapses."""

import itertools

import numpy as np
import pytest
from scipy.optimize import linear_sum_assignment

from pretty_printer.errors import SubmissionError
from pretty_printer.scoring.metrics.synapses import DEFAULT_THRESHOLD_NM, match_synapses, synapse_scores


def _truth(n=60, seed=0):
    rng = np.random.default_rng(seed)
    pre = rng.uniform(0, 20_000, (n, 3))
    post = pre + rng.normal(0, 150, (n, 3))
    cells = rng.integers(1, 12, (n, 2))
    return pre, post, cells


def _score(t, p, **kw):
    (tp, tq, tc), (pp, pq, pc) = t, p
    return synapse_scores(tp, tq, tc[:, 0], tc[:, 1], pp, pq, pc[:, 0], pc[:, 1], **kw)


def test_perfect_submission_scores_one():
    t = _truth()
    r = _score(t, t)
    assert (r["precision"], r["recall"], r["f1"]) == (1.0, 1.0, 1.0)
    assert r["n_matched"] == r["n_true"] == r["n_pred"] == 60
    assert r["threshold_nm"] == DEFAULT_THRESHOLD_NM
    assert r["matches"] == [[i, i] for i in range(60)]
    # Order of predictions does not matter; matches point at the right rows.
    perm = np.random.default_rng(1).permutation(60)
    r2 = _score(t, tuple(a[perm] for a in t))
    assert r2["f1"] == 1.0
    assert all(perm[j] == i for i, j in r2["matches"])


def test_dropped_and_added_move_recall_and_precision_monotonically():
    tp, tq, tc = _truth()
    rng = np.random.default_rng(2)
    recalls, precisions = [], []
    for k in range(4):
        keep = 60 - 10 * k
        r = _score((tp, tq, tc), (tp[:keep], tq[:keep], tc[:keep]))
        recalls.append(r["recall"])
        assert r["precision"] == 1.0
        extra = rng.uniform(0, 20_000, (10 * k, 3))
        added = (np.concatenate([tp, extra + 1e6]), np.concatenate([tq, extra + 1e6]),
                 np.concatenate([tc, np.ones((10 * k, 2), int)]))
        r = _score((tp, tq, tc), added)
        precisions.append(r["precision"])
        assert r["recall"] == 1.0
    assert all(np.diff(recalls) < 0) and all(np.diff(precisions) < 0)


def test_threshold_applies_to_each_end_and_is_reported():
    tp, tq, tc = _truth(5)
    shifted_post = tq + np.array([0, 0, 300.0])
    assert _score((tp, tq, tc), (tp, shifted_post, tc), threshold_nm=400.0)["f1"] == 1.0
    r = _score((tp, tq, tc), (tp, shifted_post, tc), threshold_nm=200.0)
    assert r["n_matched"] == 0 and r["threshold_nm"] == 200.0
    assert DEFAULT_THRESHOLD_NM == 200.0 and _score((tp, tq, tc), (tp, shifted_post, tc))["n_matched"] == 0


def test_labels_must_agree_and_unmapped_never_matches():
    tp, tq, tc = _truth(8)
    wrong = tc.copy()
    wrong[:3, 1] = 99  # wrong postsynaptic partner
    wrong[3:5, 0] = -1  # unmapped presynaptic segment
    r = _score((tp, tq, tc), (tp, tq, wrong))
    assert r["n_matched"] == 3
    assert sorted(i for i, _ in r["matches"]) == [5, 6, 7]


def test_one_to_one_prefers_more_matches_then_smaller_distance():
    # Two true synapses 100 nm apart, two predictions: the greedy nearest choice for the
    # first would steal the only candidate of the second; Hungarian matching finds both.
    t_pre = np.array([[0, 0, 0], [0, 0, 100.0]])
    p_pre = np.array([[0, 0, 60.0], [0, 0, -200.0]])
    cells = np.array([[1, 2], [1, 2]])
    r = synapse_scores(t_pre, t_pre, cells[:, 0], cells[:, 1], p_pre, p_pre, cells[:, 0],
                       cells[:, 1], threshold_nm=250.0)
    assert r["matches"] == [[0, 1], [1, 0]]


def test_matches_brute_force_assignment():
    # The component-wise sparse solver equals a dense assignment over all pairs.
    rng = np.random.default_rng(5)
    tp = rng.uniform(0, 3000, (40, 3))
    pp = tp[rng.permutation(40)[:30]] + rng.normal(0, 150, (30, 3))
    m = match_synapses(tp, tp, pp, pp, 300.0)
    d = np.linalg.norm(tp[:, None] - pp[None], axis=2)
    allowed = d <= 300.0
    big = 1e9
    cost = np.where(allowed, d, big)
    rr, cc = linear_sum_assignment(cost)
    ok = allowed[rr, cc]
    assert len(m) == ok.sum()
    assert d[m[:, 0], m[:, 1]].sum() == pytest.approx(d[rr[ok], cc[ok]].sum())


def test_nri_from_segments_sees_merges():
    tp, tq, tc = _truth(30)
    base = _score((tp, tq, tc), (tp, tq, tc), pred_pre_segment=tc[:, 0], pred_post_segment=tc[:, 1])
    assert base["nri"] == 1.0
    merged_seg = np.where(tc == 2, 1, tc)  # cells 1 and 2 merged into one segment
    merged_cells = np.where(tc == 2, 1, tc)  # which maps to cell 1
    r = _score((tp, tq, tc), (tp, tq, merged_cells), pred_pre_segment=merged_seg[:, 0],
               pred_post_segment=merged_seg[:, 1])
    assert r["nri"] < 1.0 and r["nri_precision"] < 1.0 and r["nri_recall"] == 1.0


def test_empty_and_malformed_inputs():
    e = np.zeros((0, 3))
    r = synapse_scores(e, e, [], [], e, e, [], [])
    # honest zeros: nothing predicted and nothing true leaves every score undefined (None)
    assert (r["precision"], r["recall"], r["f1"], r["n_matched"]) == (None, None, None, 0)
    tp, tq, tc = _truth(4)
    r = synapse_scores(tp, tq, tc[:, 0], tc[:, 1], e, e, [], [])
    assert r["precision"] is None and r["recall"] == 0.0 and r["f1"] == 0.0
    r = synapse_scores(e, e, [], [], tp, tq, tc[:, 0], tc[:, 1])
    assert r["precision"] == 0.0 and r["recall"] is None and r["f1"] == 0.0
    with pytest.raises(SubmissionError, match=r"\(N, 3\)"):
        synapse_scores(tp, tq, tc[:, 0], tc[:, 1], tp[:, :2], tq, tc[:, 0], tc[:, 1])
    with pytest.raises(SubmissionError, match="one \\(pre, post\\) cell"):
        synapse_scores(tp, tq, tc[:, 0], tc[:, 1], tp, tq, tc[:3, 0], tc[:3, 1])
    with pytest.raises(SubmissionError, match="threshold_nm"):
        match_synapses(tp, tq, tp, tq, threshold_nm=0)


def test_result_is_json_ready():
    import json

    tp, tq, tc = _truth(5)
    json.dumps(_score((tp, tq, tc), (tp, tq, tc), pred_pre_segment=tc[:, 0], pred_post_segment=tc[:, 1]))
    assert all(isinstance(i, int) for i in itertools.chain(*_score((tp, tq, tc), (tp, tq, tc))["matches"]))

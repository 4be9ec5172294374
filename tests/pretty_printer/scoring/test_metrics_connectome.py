"""Connectome edges, signs, weight correlation and NRI; receptor-count errors."""

import json

import numpy as np
import pytest

from pretty_printer.errors import SubmissionError
from pretty_printer.scoring.metrics.connectome import connectome_scores, nri, terminal_count_table
from pretty_printer.scoring.metrics.receptors import receptor_errors


def _edges(n=12, seed=0):
    rng = np.random.default_rng(seed)
    pairs = [(a, b) for a in range(1, n + 1) for b in range(1, n + 1) if a != b]
    chosen = rng.choice(len(pairs), 40, replace=False)
    return {pairs[k]: (float(rng.uniform(0.1, 5.0)), int(rng.choice([1, -1]))) for k in chosen}


def test_perfect_connectome_scores_perfectly():
    e = _edges()
    r = connectome_scores(e, e)
    assert (r["edge_precision"], r["edge_recall"], r["edge_f1"]) == (1.0, 1.0, 1.0)
    assert r["sign_accuracy"] == 1.0 and r["sign_balanced_accuracy"] == 1.0
    assert r["weight_spearman"] == pytest.approx(1.0)
    assert r["nri"] is None  # no terminal table given
    json.dumps(r)


def test_dropped_and_added_edges_monotone():
    e = _edges()
    keys = sorted(e)
    recalls, precisions = [], []
    for k in range(4):
        dropped = {key: e[key] for key in keys[: 40 - 8 * k]}
        recalls.append(connectome_scores(e, dropped)["edge_recall"])
        added = dict(e)
        added.update({(100 + i, 200 + i): (1.0, 1) for i in range(8 * k)})
        precisions.append(connectome_scores(e, added)["edge_precision"])
    assert all(np.diff(recalls) < 0) and all(np.diff(precisions) < 0)


def test_weight_noise_lowers_spearman_monotonically():
    e = _edges()
    keys = sorted(e)
    rng = np.random.default_rng(3)
    noise = rng.normal(size=len(keys))
    rhos = []
    for sigma in (0.0, 0.5, 2.0, 8.0):
        noisy = {k: (e[k][0] + sigma * noise[i], e[k][1]) for i, k in enumerate(keys)}
        rhos.append(connectome_scores(e, noisy)["weight_spearman"])
    assert all(np.diff(rhos) < 0), rhos


def test_sign_accuracy_and_missing_signs():
    e = _edges()
    keys = sorted(e)
    flipped = {k: (w, -s if i < 10 else s) for i, (k, (w, s)) in enumerate(sorted(e.items()))}
    assert connectome_scores(e, flipped)["sign_accuracy"] == pytest.approx(30 / 40)
    unsigned = {k: (w, None) for k, (w, _) in e.items()}
    assert connectome_scores(e, unsigned)["sign_accuracy"] is None
    partly = {k: (e[k][0], e[k][1] if i % 2 else None) for i, k in enumerate(keys)}
    assert connectome_scores(e, partly)["sign_accuracy"] == pytest.approx(0.5)


def test_spearman_undefined_cases_are_none():
    e = {(1, 2): (1.0, 1), (2, 3): (2.0, 1)}
    assert connectome_scores(e, e)["weight_spearman"] is None  # < 3 matched edges
    e3 = {(1, 2): (1.0, 1), (2, 3): (2.0, 1), (3, 1): (3.0, 1)}
    const = {k: (1.0, 1) for k in e3}
    assert connectome_scores(e3, const)["weight_spearman"] is None


def test_nri_known_answer():
    # Count table and expected values of the reference implementation's demo (Reilly et al.,
    # connectome_nri README): rows 0 = insertions, columns 0 = deletions.
    c = np.array([[0, 100, 15, 10, 200], [10, 1, 10, 300, 20], [5, 10, 100, 5, 10]])
    r = nri(c)
    assert r["nri"] == pytest.approx(0.642756410256, abs=1e-11)
    assert r["nri_precision"] == pytest.approx(0.559261531597, abs=1e-11)
    assert r["nri_recall"] == pytest.approx(0.75555723005, abs=1e-10)


def test_nri_by_hand_and_direction():
    # One GT cell with 4 terminals on one segment: 6 TP pairs, perfect.
    assert nri(np.array([[0, 0], [0, 4]]))["nri"] == 1.0
    # Split 2 + 2: TP = 1 + 1, FN = 4 (cross pairs).  NRI = 4 / (4 + 4) = 0.5.
    assert nri(np.array([[0, 0, 0], [0, 2, 2]]))["nri"] == pytest.approx(0.5)
    # Two cells with 2 terminals each merged: TP = 2, FP = 4.  NRI = 4 / 8.
    assert nri(np.array([[0, 0], [0, 2], [0, 2]]))["nri"] == pytest.approx(0.5)
    # More deletions, lower NRI.
    vals = [nri(np.array([[0, 0], [d, 6 - d]]))["nri"] for d in range(4)]
    assert all(np.diff(vals) < 0)


def test_terminal_count_table_layout():
    t_pre, t_post = np.array([1, 1, 2]), np.array([2, 3, 3])
    p_pre, p_post = np.array([7, 7, 0]), np.array([8, 8, 9])
    # true 0 <-> pred 0, true 1 <-> pred 1; true 2 unmatched; pred 2 unmatched.
    t = terminal_count_table(t_pre, t_post, p_pre, p_post, [(0, 0), (1, 1)]).toarray()
    # rows: insert, cell 1, 2, 3; cols: delete, seg 7, 8, 9
    expected = np.array([
        [0, 0, 0, 1],  # pred 2's post terminal on segment 9 (its pre is on no segment)
        [0, 2, 0, 0],  # cell 1: two pre terminals on segment 7
        [1, 0, 1, 0],  # cell 2: post of synapse 0 on seg 8; pre of unmatched synapse 2
        [1, 0, 1, 0],  # cell 3: post of synapse 1 on seg 8; post of unmatched synapse 2
    ])
    np.testing.assert_array_equal(t, expected)
    r = connectome_scores({}, {}, terminal_counts=t)
    assert r["nri"] is not None and 0 < r["nri"] < 1


def test_receptor_errors():
    t = {"AMPA": np.array([10, 20, 30]), "GABA_A": np.array([0, 0, 4]), "NMDA": np.array([1, 1, 1])}
    r = receptor_errors(t, t)
    assert r["mae"] == 0.0 and r["relative_error"] == 0.0
    assert r["per_type"]["GABA_A"]["n"] == 3
    maes = []
    for k in (0, 1, 2, 4):
        p = {"AMPA": t["AMPA"] + k, "GABA_A": t["GABA_A"], "Foo": np.zeros(3)}
        r = receptor_errors(t, p)
        maes.append(r["per_type"]["AMPA"]["mae"])
        assert r["per_type"]["AMPA"]["relative_error"] == pytest.approx(3 * k / 60)
        assert r["missing_types"] == ["NMDA"] and r["unknown_types"] == ["Foo"]
    assert all(np.diff(maes) > 0)
    assert receptor_errors(t, {})["mae"] is None
    with pytest.raises(SubmissionError, match="AMPA"):
        receptor_errors(t, {"AMPA": np.zeros(2)})
    json.dumps(receptor_errors(t, t))


def test_sign_balanced_accuracy_known_answer():
    """9 excitatory and 1 inhibitory matched edges (Brodersen et al. 2010): calling all excitatory
    scores 0.9 on accuracy but 0.5 balanced; finding the inhibitory one at the cost of one
    excitatory edge scores 0.9 and (8/9 + 1) / 2; with one sign matched there is no balanced score."""
    true = {(1, k): (1.0, 1) for k in range(2, 11)}
    true[(2, 1)] = (1.0, -1)
    all_exc = {k: (w, 1) for k, (w, _) in true.items()}
    r = connectome_scores(true, all_exc)
    assert r["sign_accuracy"] == pytest.approx(0.9) and r["sign_balanced_accuracy"] == pytest.approx(0.5)
    traded = dict(all_exc)
    traded[(2, 1)] = (1.0, -1)
    traded[(1, 2)] = (1.0, -1)
    r = connectome_scores(true, traded)
    assert r["sign_accuracy"] == pytest.approx(0.9)
    assert r["sign_counts"] == {"n_excitatory": 9, "n_inhibitory": 1, "correct_excitatory": 8,
                                "correct_inhibitory": 1}
    assert r["sign_balanced_accuracy"] == pytest.approx((8 / 9 + 1) / 2)
    one_class = {k: v for k, v in true.items() if v[1] == 1}
    flipped = {k: (w, -1 if k == (1, 2) else 1) for k, (w, _) in one_class.items()}
    r = connectome_scores(one_class, flipped)  # one sign matched: no balanced score, plain stays
    assert r["sign_balanced_accuracy"] is None and r["sign_accuracy"] == pytest.approx(8 / 9)
    assert r["sign_counts"] == {"n_excitatory": 9, "n_inhibitory": 0, "correct_excitatory": 8,
                                "correct_inhibitory": 0}
    assert connectome_scores(one_class, one_class)["sign_balanced_accuracy"] is None  # even when perfect
    unsigned = {k: (w, None) for k, (w, _) in true.items()}
    assert connectome_scores(true, unsigned)["sign_balanced_accuracy"] is None
    partly = {k: (w, None if k == (2, 1) else s) for k, (w, s) in true.items()}
    assert connectome_scores(true, partly)["sign_balanced_accuracy"] == pytest.approx(0.5)  # missing = wrong

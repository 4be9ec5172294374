"""Synaptic-partner detection: one-to-one matching of predicted to true (pre, post) pairs.

Conventions (pinned, following CREMI's synaptic-partner score)
--------------------------------------------------------------
* A predicted pair may match a true pair when its presynaptic site lies within
  ``threshold_nm`` of the true presynaptic site *and* its postsynaptic site within
  ``threshold_nm`` of the true postsynaptic site (Euclidean, nm), and, unless disabled, the
  labels agree: the predicted pre/post segments, mapped to GT cells by the caller, equal the
  true pre/post cells.  A predicted end mapped to no cell (-1) never agrees.
* The cost of a candidate is the mean of the two distances, as in CREMI.  Matching is
  one-to-one and minimises the total cost among maximum-cardinality assignments
  (``scipy.optimize.linear_sum_assignment``); forbidden pairs get a cost larger than any sum of
  allowed costs and are rejected after assignment.
* Candidates are found with a k-d tree and the assignment is solved per connected component of
  the candidate graph, so memory grows with the number of candidates, not ``T x P``.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from pretty_printer.errors import SubmissionError
from pretty_printer.scoring.conventions import SYNAPSE_THRESHOLD_NM
from pretty_printer.scoring.metrics.connectome import _prf, nri, terminal_count_table

__all__ = ["DEFAULT_THRESHOLD_NM", "match_synapses", "synapse_scores"]

#: The matching distance, written once in :mod:`pretty_printer.scoring.conventions`.
DEFAULT_THRESHOLD_NM = SYNAPSE_THRESHOLD_NM


def _points(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return a.reshape(0, 3)
    if a.ndim != 2 or a.shape[1] != 3:
        raise SubmissionError(f"{name}: expected positions of shape (N, 3) in nm, got {a.shape}")
    return a


def match_synapses(
    true_pre_nm,
    true_post_nm,
    pred_pre_nm,
    pred_post_nm,
    threshold_nm: float = DEFAULT_THRESHOLD_NM,
    true_labels=None,
    pred_labels=None,
) -> np.ndarray:
    """One-to-one matching of predicted to true synapses.

    Parameters
    ----------
    true_pre_nm, true_post_nm : (T, 3) float
        True pre- and postsynaptic site positions, nm, (z, y, x).
    pred_pre_nm, pred_post_nm : (P, 3) float
        Predicted site positions.
    threshold_nm : float
        Maximum distance of each end.
    true_labels, pred_labels : (T, 2) and (P, 2) int, optional
        (pre, post) cell labels; when given, a match also requires equal labels and no -1.

    Returns
    -------
    ndarray of shape (M, 2), int
        ``(true_index, pred_index)`` rows, sorted by true index.

    Raises
    ------
    SubmissionError
        Positions not of shape (N, 3); unequal numbers of pre and post sites; a threshold that
        is not a positive distance.

    References
    ----------
    The CREMI challenge's synaptic-partner score (cremi.org, "Synaptic partner identification"):
    a pair matches when both ends lie within the threshold (CREMI: 400 nm; ours,
    :data:`~pretty_printer.scoring.conventions.SYNAPSE_THRESHOLD_NM`, says why 200 nm), one-to-one,
    with the mean end distance as the cost.  The assignment is the Hungarian method
    (Kuhn 1955, Naval Res. Logist. Q. 2:83-97) as implemented by SciPy (Crouse 2016).
    """
    tp, tq = _points("true_pre_nm", true_pre_nm), _points("true_post_nm", true_post_nm)
    pp, pq = _points("pred_pre_nm", pred_pre_nm), _points("pred_post_nm", pred_post_nm)
    if len(tp) != len(tq) or len(pp) != len(pq):
        raise SubmissionError(
            f"synapse ends: expected as many pre as post sites, got true {len(tp)}/{len(tq)}, "
            f"pred {len(pp)}/{len(pq)}"
        )
    if not threshold_nm > 0:
        raise SubmissionError(f"threshold_nm: expected a positive distance, got {threshold_nm}")
    empty = np.zeros((0, 2), np.int64)
    if len(tp) == 0 or len(pp) == 0:
        return empty

    ti, pi, cost = _candidates(tp, tq, pp, pq, threshold_nm, true_labels, pred_labels)
    if len(ti) == 0:
        return empty
    return _assign(ti, pi, cost, len(tp), len(pp), threshold_nm)


def _candidates(tp, tq, pp, pq, threshold_nm: float, true_labels, pred_labels):
    """Allowed (true, pred) pairs and their cost, the mean of the two end distances (nm)."""
    cand = cKDTree(pp).query_ball_point(tp, r=threshold_nm)
    ti = np.repeat(np.arange(len(tp)), [len(c) for c in cand])
    pi = np.fromiter((j for c in cand for j in c), dtype=np.int64, count=len(ti))
    d_pre = np.linalg.norm(tp[ti] - pp[pi], axis=1)
    d_post = np.linalg.norm(tq[ti] - pq[pi], axis=1)
    ok = (d_pre <= threshold_nm) & (d_post <= threshold_nm)
    if true_labels is not None and pred_labels is not None:
        tl = np.asarray(true_labels, np.int64).reshape(-1, 2)
        pl = np.asarray(pred_labels, np.int64).reshape(-1, 2)
        ok &= np.all(tl[ti] == pl[pi], axis=1) & np.all(pl[pi] >= 0, axis=1)
    return ti[ok], pi[ok], 0.5 * (d_pre[ok] + d_post[ok])


def _assign(ti, pi, cost, n_true: int, n_pred: int, threshold_nm: float) -> np.ndarray:
    """Maximum-cardinality, minimum-cost one-to-one matching of the candidate pairs, solved per
    connected component of the bipartite candidate graph; ``(M, 2)`` rows sorted by true index."""
    nt, n_all = n_true, n_true + n_pred
    graph = coo_matrix((np.ones(len(ti)), (ti, nt + pi)), shape=(n_all, n_all))
    _, comp = connected_components(graph, directed=False)
    edge_comp = comp[ti]
    order = np.argsort(edge_comp, kind="stable")
    bounds = np.flatnonzero(np.diff(edge_comp[order])) + 1
    out = []
    for idx in np.split(order, bounds):
        rows_u, r = np.unique(ti[idx], return_inverse=True)
        cols_u, c = np.unique(pi[idx], return_inverse=True)
        if len(idx) == 1:
            out.append((rows_u[0], cols_u[0]))
            continue
        # Forbidden entries cost more than any complete set of allowed ones, so the solver
        # first maximises the number of allowed matches, then minimises their distance.
        big = 2.0 * threshold_nm * (min(len(rows_u), len(cols_u)) + 1) + 1.0
        m = np.full((len(rows_u), len(cols_u)), big)
        m[r, c] = cost[idx]
        rr, cc = linear_sum_assignment(m)
        good = m[rr, cc] < big
        out.extend(zip(rows_u[rr[good]], cols_u[cc[good]]))
    res = np.array(sorted(out), dtype=np.int64).reshape(-1, 2)
    return res


def synapse_scores(
    true_pre_nm,
    true_post_nm,
    true_pre_cell,
    true_post_cell,
    pred_pre_nm,
    pred_post_nm,
    pred_pre_cell,
    pred_post_cell,
    threshold_nm: float = DEFAULT_THRESHOLD_NM,
    *,
    pred_pre_segment=None,
    pred_post_segment=None,
) -> dict:
    """Synaptic-partner precision, recall and F1 (conventions in the module doc).

    Parameters
    ----------
    true_pre_nm, true_post_nm : (T, 3) float
        True site positions, nm, (z, y, x).
    true_pre_cell, true_post_cell : (T,) int
        True pre/post cell ids.
    pred_pre_nm, pred_post_nm : (P, 3) float
        Predicted site positions.
    pred_pre_cell, pred_post_cell : (P,) int
        GT cells the predicted ends' segments map to (-1 = unmapped).
    threshold_nm : float
        Matching distance for each end (default: :data:`~pretty_printer.scoring.conventions.SYNAPSE_THRESHOLD_NM`); echoed as ``threshold_nm``.
    pred_pre_segment, pred_post_segment : (P,) int, optional
        Raw submitted segment ids of the predicted ends.  When given, the NRI is also computed,
        from a location-only matching (labels not required, so splits and merges show up in the
        count table instead of hiding as unmatched synapses).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``f1`` (``None`` where undefined: precision with nothing predicted, recall with nothing true), ``n_true``,
        ``n_pred``, ``n_matched``, ``threshold_nm``, ``matches`` (list of
        ``[true_index, pred_index]``, for receptor-count errors); with segments also ``nri``,
        ``nri_precision``, ``nri_recall``.

    Raises
    ------
    SubmissionError
        As :func:`match_synapses`; or the cell arrays' lengths differ from the site counts.

    References
    ----------
    Precision, recall and F1 of one-to-one matches as in the CREMI synaptic-partner score; NRI
    (neural reconstruction integrity): Reilly E. P. et al. (2018) Neural reconstruction
    integrity: a metric for assessing the connectivity accuracy of reconstructed neural
    networks. Front. Neuroinform. 12:74 (see :func:`~pretty_printer.scoring.metrics.connectome.nri`).
    """
    t_cells = np.stack([np.asarray(true_pre_cell, np.int64).ravel(),
                        np.asarray(true_post_cell, np.int64).ravel()], axis=1)
    p_cells = np.stack([np.asarray(pred_pre_cell, np.int64).ravel(),
                        np.asarray(pred_post_cell, np.int64).ravel()], axis=1)
    n_true, n_pred = len(_points("true_pre_nm", true_pre_nm)), len(_points("pred_pre_nm", pred_pre_nm))
    if len(t_cells) != n_true or len(p_cells) != n_pred:
        raise SubmissionError(
            f"synapse cells: expected one (pre, post) cell per synapse ({n_true} true, "
            f"{n_pred} predicted), got {len(t_cells)} and {len(p_cells)}"
        )
    matches = match_synapses(true_pre_nm, true_post_nm, pred_pre_nm, pred_post_nm,
                             threshold_nm, t_cells, p_cells)
    out = _match_counts(matches, n_true, n_pred, threshold_nm)
    if pred_pre_segment is not None and pred_post_segment is not None:
        loc = match_synapses(true_pre_nm, true_post_nm, pred_pre_nm, pred_post_nm, threshold_nm)
        table = terminal_count_table(t_cells[:, 0], t_cells[:, 1], pred_pre_segment,
                                     pred_post_segment, loc)
        r = nri(table)
        out.update(nri=r["nri"], nri_precision=r["nri_precision"], nri_recall=r["nri_recall"])
    return out


def _match_counts(matches: np.ndarray, n_true: int, n_pred: int, threshold_nm: float) -> dict:
    """Precision, recall, F1 and the counts behind them, as :func:`synapse_scores` returns them."""
    precision, recall, f1 = _prf(len(matches), n_true, n_pred)
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "n_true": int(n_true),
        "n_pred": int(n_pred),
        "n_matched": int(len(matches)),
        "threshold_nm": float(threshold_nm),
        "matches": matches.tolist(),
    }

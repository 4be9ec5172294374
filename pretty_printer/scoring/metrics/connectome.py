"""Connectome-level metrics: edge precision/recall/F1, sign accuracy, weight rank correlation,
and the Neural Reconstruction Integrity (NRI).

Edges are directed ``(pre_cell, post_cell)`` pairs between ground-truth cells; the caller maps
submitted segments to cells first (:func:`pretty_printer.scoring.metrics.segmentation.best_match`).

NRI (Reilly et al. 2017, "Neural Reconstruction Integrity: a metric for assessing the
connectivity of reconstructed neural networks") is an F-score over *pairs of synaptic
terminals*.  Every synapse has two terminals (pre and post).  The count table ``C`` has one row
per GT cell and one column per submitted segment; ``C[i, j]`` counts terminals that belong to GT
cell ``i`` and were found (matched by location and polarity) on segment ``j``.  Row 0 holds
*inserted* terminals (submitted terminals with no GT match), column 0 *deleted* ones (GT
terminals with no match); ``C[0, 0] = 0``.  A pair of terminals is

* a true positive when both lie on the same GT cell and the same segment,
* a false negative when both lie on the same GT cell but on different segments (or deleted),
* a false positive when both lie on the same segment but on different GT cells (or inserted).

With ``a_i`` the row sums (i >= 1, deletions included) and ``b_j`` the column sums (j >= 1,
insertions included)::

    TP = sum_{i,j>=1} C_ij (C_ij - 1) / 2
    FN = sum_{i>=1} [(a_i^2 - sum_{j>=0} C_ij^2) / 2 + C_i0 (C_i0 - 1) / 2]
    FP = sum_{j>=1} [(b_j^2 - sum_{i>=0} C_ij^2) / 2 + C_0j (C_0j - 1) / 2]
    NRI = 2 TP / (2 TP + FP + FN)
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import scipy.sparse as sp
from scipy.stats import spearmanr

__all__ = ["connectome_scores", "nri", "sign_counts", "terminal_count_table"]


def _prf(n_match: int, n_true: int, n_pred: int) -> tuple[float, float, float]:
    """Precision, recall, F1, with honest zeros: precision is ``None`` (undefined) when nothing
    was predicted, recall ``None`` when nothing is true, F1 ``None`` when both are empty."""
    precision = float(n_match / n_pred) if n_pred else None
    recall = float(n_match / n_true) if n_true else None
    f1 = float(2 * n_match / (n_true + n_pred)) if (n_true + n_pred) else None
    return precision, recall, f1


def _sum_sq(x) -> float:
    x = np.asarray(x, dtype=np.float64).ravel()
    return float(np.dot(x, x))


def nri(count_table) -> dict:
    """Neural Reconstruction Integrity from a terminal count table.

    Parameters
    ----------
    count_table : array_like or scipy.sparse matrix, shape (1 + n_gt_cells, 1 + n_segments)
        ``C[i, j]`` = terminals of GT cell ``i`` found on segment ``j``; row 0 = inserted
        (unmatched submitted) terminals, column 0 = deleted (unmatched GT) terminals.  Build it
        with :func:`terminal_count_table`.  See the module doc for the formulas.

    Returns
    -------
    dict
        ``nri``, ``nri_precision`` = TP/(TP+FP), ``nri_recall`` = TP/(TP+FN), and the pair
        counts ``tp``, ``fp``, ``fn``.  With no pairs at all (fewer than two terminals) the
        three scores are ``None``.
    """
    coo = sp.coo_matrix(count_table, dtype=np.float64)
    if coo.shape[0] < 1 or coo.shape[1] < 1:
        raise ValueError(f"count_table: expected shape (>=1, >=1), got {coo.shape}")
    # C[0, 0] would be a terminal both inserted and deleted: meaningless, so it is dropped.
    keep = (coo.row != 0) | (coo.col != 0)
    c = sp.csr_matrix((coo.data[keep], (coo.row[keep], coo.col[keep])), shape=coo.shape)
    rows = np.asarray(c.sum(axis=1)).ravel()
    cols = np.asarray(c.sum(axis=0)).ravel()
    body = c[1:, 1:]
    tp = float((body.data * (body.data - 1)).sum() / 2)
    row_sq = np.asarray(c.multiply(c).sum(axis=1)).ravel()
    col_sq = np.asarray(c.multiply(c).sum(axis=0)).ravel()
    del_col = np.asarray(c[:, 0].todense()).ravel()
    ins_row = np.asarray(c[0, :].todense()).ravel()
    fn = float(((rows[1:] ** 2 - row_sq[1:]) / 2).sum() + (del_col[1:] * (del_col[1:] - 1) / 2).sum())
    fp = float(((cols[1:] ** 2 - col_sq[1:]) / 2).sum() + (ins_row[1:] * (ins_row[1:] - 1) / 2).sum())
    denom = 2 * tp + fp + fn
    return {
        "nri": (2 * tp / denom) if denom else None,
        "nri_precision": (tp / (tp + fp)) if tp + fp else None,
        "nri_recall": (tp / (tp + fn)) if tp + fn else None,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def terminal_count_table(
    true_pre_cell, true_post_cell, pred_pre_segment, pred_post_segment, matches
) -> sp.csr_matrix:
    """The NRI count table from a synapse-level assignment.

    Parameters
    ----------
    true_pre_cell, true_post_cell : (T,) int
        GT cells of each true synapse's terminals.
    pred_pre_segment, pred_post_segment : (P,) int
        *Submitted segment* ids (not mapped to cells: a merged segment must stay one column)
        of each predicted synapse's terminals; 0 or negative = on no segment.
    matches : sequence of (true_index, pred_index)
        One-to-one synapse matching by location and polarity (pre with pre, post with post),
        e.g. ``match_synapses(..., require_labels=False)``.

    Returns
    -------
    scipy.sparse.csr_matrix
        Rows: 0 = inserted, then GT cells in ascending id order; columns: 0 = deleted, then
        segments in ascending id order.  A matched terminal whose submitted segment is 0 counts
        as deleted (found nowhere).
    """
    t_pre, t_post = np.asarray(true_pre_cell, np.int64), np.asarray(true_post_cell, np.int64)
    p_pre, p_post = np.asarray(pred_pre_segment, np.int64), np.asarray(pred_post_segment, np.int64)
    m = np.asarray(matches, dtype=np.int64).reshape(-1, 2)
    t_matched = np.zeros(len(t_pre), bool)
    p_matched = np.zeros(len(p_pre), bool)
    t_matched[m[:, 0]] = True
    p_matched[m[:, 1]] = True

    cells = np.unique(np.concatenate([t_pre, t_post]))
    segs = np.unique(np.concatenate([p_pre, p_post]))
    segs = segs[segs > 0]

    def row(cell_ids):  # GT cell -> row (1-based)
        return np.searchsorted(cells, cell_ids) + 1

    def col(seg_ids):  # segment -> column (1-based), 0 for "no segment"
        c = np.searchsorted(segs, seg_ids) + 1
        return np.where(seg_ids > 0, c, 0)

    r_parts, c_parts = [], []
    # Matched terminals: GT cell x submitted segment.
    for t_cells, p_segs in ((t_pre, p_pre), (t_post, p_post)):
        r_parts.append(row(t_cells[m[:, 0]]))
        c_parts.append(col(p_segs[m[:, 1]]))
        # Deleted: true terminals of unmatched true synapses.
        r_parts.append(row(t_cells[~t_matched]))
        c_parts.append(np.zeros(int((~t_matched).sum()), np.int64))
        # Inserted: terminals of unmatched predicted synapses that lie on a segment.
        ins = p_segs[~p_matched]
        ins = ins[ins > 0]
        r_parts.append(np.zeros(len(ins), np.int64))
        c_parts.append(col(ins))
    r = np.concatenate(r_parts)
    c = np.concatenate(c_parts)
    keep = (r > 0) | (c > 0)  # an inserted terminal on no segment is in no column
    table = sp.coo_matrix(
        (np.ones(int(keep.sum())), (r[keep], c[keep])), shape=(len(cells) + 1, len(segs) + 1)
    )
    return table.tocsr()


def sign_counts(pairs) -> dict:
    """Confusion counts of edge signs.

    Parameters
    ----------
    pairs : iterable of (true_sign, predicted_sign)
        One per matched edge; signs are +1 (excitatory) or -1 (inhibitory); a predicted sign of
        ``None`` (not given) counts as wrong.

    Returns
    -------
    dict
        ``n_excitatory``, ``n_inhibitory`` (matched edges by true sign) and ``correct_excitatory``,
        ``correct_inhibitory`` (those called right), all int.
    """
    out = {"n_excitatory": 0, "n_inhibitory": 0, "correct_excitatory": 0, "correct_inhibitory": 0}
    for t, p in pairs:
        cls = "excitatory" if int(t) > 0 else "inhibitory"
        out[f"n_{cls}"] += 1
        out[f"correct_{cls}"] += int(p is not None and int(p) == int(t))
    return out


def connectome_scores(
    true_edges: Mapping[tuple[int, int], tuple[float, int | None]],
    pred_edges: Mapping[tuple[int, int], tuple[float, int | None]],
    *,
    terminal_counts=None,
) -> dict:
    """Compare a submitted connectome with the ground truth.

    Parameters
    ----------
    true_edges, pred_edges : mapping (pre_cell, post_cell) -> (weight, sign)
        Directed edges between GT cells.  ``sign`` is +1 (excitatory), -1 (inhibitory), or
        ``None`` where the submission gives none.
    terminal_counts : count table, optional
        From :func:`terminal_count_table`; when given, ``nri`` (and its precision/recall) are
        computed from it, otherwise they are ``None``.

    Returns
    -------
    dict
        ``edge_precision``, ``edge_recall``, ``edge_f1`` over the sets of directed pairs;
        ``sign_accuracy`` over matched edges (a missing sign counts as wrong; ``None`` if no
        matched edge has a sign); ``sign_balanced_accuracy``, the mean over the two signs of the
        share of their matched edges called right (Brodersen et al. 2010 ICPR), ``None`` unless
        the matched edges hold both signs (over one sign it would be that sign's recall, a plain
        accuracy again, and calling every edge excitatory would score 1 on an all-excitatory
        match), or if no matched edge has a sign; ``sign_counts`` (:func:`sign_counts`, the
        confusion counts both scores come from); ``weight_spearman`` (Spearman rho of weights over matched
        edges, ``None`` with fewer than 3 matched edges or constant weights); ``nri``,
        ``nri_precision``, ``nri_recall``; ``n_true_edges``, ``n_pred_edges``,
        ``n_matched_edges``.
    """
    true_keys = {(int(a), int(b)) for a, b in true_edges}
    pred_map = {(int(a), int(b)): v for (a, b), v in pred_edges.items()}
    true_map = {(int(a), int(b)): v for (a, b), v in true_edges.items()}
    matched = sorted(true_keys & set(pred_map))
    precision, recall, f1 = _prf(len(matched), len(true_keys), len(pred_map))

    counts = sign_counts([(true_map[k][1], pred_map[k][1]) for k in matched])
    n, right = counts["n_excitatory"] + counts["n_inhibitory"], counts["correct_excitatory"] + counts["correct_inhibitory"]
    signed = any(pred_map[k][1] is not None for k in matched)
    sign_accuracy = float(right / n) if n and signed else None
    both = counts["n_excitatory"] > 0 and counts["n_inhibitory"] > 0
    sign_balanced = (0.5 * (counts["correct_excitatory"] / counts["n_excitatory"]
                            + counts["correct_inhibitory"] / counts["n_inhibitory"]) if both and signed else None)

    rho = None
    if len(matched) >= 3:
        wt = np.array([float(true_map[k][0]) for k in matched])
        wp = np.array([float(pred_map[k][0]) for k in matched])
        if np.ptp(wt) > 0 and np.ptp(wp) > 0:
            rho = float(spearmanr(wt, wp).statistic)

    out = {
        "edge_precision": precision,
        "edge_recall": recall,
        "edge_f1": f1,
        "sign_accuracy": sign_accuracy,
        "sign_balanced_accuracy": sign_balanced,
        "sign_counts": counts,
        "weight_spearman": rho,
        "nri": None,
        "nri_precision": None,
        "nri_recall": None,
        "n_true_edges": len(true_keys),
        "n_pred_edges": len(pred_map),
        "n_matched_edges": len(matched),
    }
    if terminal_counts is not None:
        r = nri(terminal_counts)
        out.update(nri=r["nri"], nri_precision=r["nri_precision"], nri_recall=r["nri_recall"])
    return out

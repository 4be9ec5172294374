"""Receptor-count error over matched synapses.

The caller aligns the arrays: element ``k`` of ``true_counts[type]`` and ``pred_counts[type]``
belong to the ``k``-th matched synapse pair (``synapse_scores(...)["matches"]``).
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from pretty_printer.errors import SubmissionError

__all__ = ["receptor_errors"]


def _errors(t: np.ndarray, p: np.ndarray) -> dict:
    diff = np.abs(p - t)
    total = float(t.sum())
    return {
        "mae": float(diff.mean()) if diff.size else None,
        # Relative to the total true count (not per synapse) so synapses without a receptor
        # of this type do not divide by zero and large synapses weigh by their size.
        "relative_error": float(diff.sum() / total) if total > 0 else None,
        "bias": float((p - t).mean()) if diff.size else None,
        "n": int(diff.size),
    }


def receptor_errors(
    true_counts: Mapping[str, np.ndarray], pred_counts: Mapping[str, np.ndarray]
) -> dict:
    """Mean absolute and relative error of receptor counts, per receptor type and overall.

    Parameters
    ----------
    true_counts : mapping receptor type -> (M,) counts
        True receptor counts of the matched synapses (e.g. ``{"AMPA": ..., "GABA_A": ...}``).
    pred_counts : mapping receptor type -> (M,) counts
        Submitted counts, aligned with ``true_counts``.  Types may be missing (not submitted).

    Returns
    -------
    dict
        ``per_type``: ``{type: {"mae", "relative_error", "bias", "n"}}`` for every type the
        submission provides that the truth knows; ``mae`` and ``relative_error`` pooled over
        those types (``None`` when none is provided); ``missing_types``: true types the
        submission left out; ``unknown_types``: submitted types the truth lacks.

    Raises
    ------
    SubmissionError
        If a submitted array's length differs from the true one.
    """
    per_type = {}
    pooled_t, pooled_p = [], []
    for rtype in sorted(true_counts):
        if rtype not in pred_counts:
            continue
        t = np.asarray(true_counts[rtype], np.float64).ravel()
        p = np.asarray(pred_counts[rtype], np.float64).ravel()
        if t.shape != p.shape:
            raise SubmissionError(
                f"receptor counts {rtype!r}: expected {t.size} values (one per matched "
                f"synapse), got {p.size}"
            )
        per_type[rtype] = _errors(t, p)
        pooled_t.append(t)
        pooled_p.append(p)
    pooled = _errors(np.concatenate(pooled_t), np.concatenate(pooled_p)) if pooled_t else None
    return {
        "per_type": per_type,
        "mae": pooled["mae"] if pooled else None,
        "relative_error": pooled["relative_error"] if pooled else None,
        "missing_types": sorted(set(true_counts) - set(pred_counts)),
        "unknown_types": sorted(set(pred_counts) - set(true_counts)),
    }

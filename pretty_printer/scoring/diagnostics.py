"""Where a submission fails: the worst merges and splits, missed and spurious synapses, lost edges.

The scorecard's numbers say *how much* a reconstruction is wrong; this section says *where*, so a
pipeline developer can look.  Every entry carries a position in the dataset's physical frame
(``position_zyx_nm``, nanometres, the frame of ``truth/synapses.csv`` and of the OME-Zarr
translations), which the HTML report turns into an image crop and a neuroglancer link.

Definitions (all counts are voxels of the scan's grid; ground-truth label 0, extracellular
space, never counts, as in the VI/ARAND section):

* **merge** -- a submitted segment in which a second truth cell holds at least
  :data:`MIN_PART_FRACTION` of the segment's voxels (smaller parts are boundary slivers, counted
  by VI but not listed).  Its size is the number of its voxels outside its dominant truth cell
  (the voxels a proofreader must cut away); merges are listed largest second part first.  The
  position is a voxel of the second-largest truth cell inside it.
* **split** -- a truth cell whose second-largest piece (label 0, unassigned, counts as a piece of
  its own) holds at least :data:`MIN_PART_FRACTION` of the cell's voxels.  Its size is the number
  of the cell's voxels outside its dominant segment.  The position is a voxel of the second piece.
* Entries name which truth cells belong to the known circuit (``circuit_cells``; the others are
  background neurites and glia, which matter for segmentation scores but not for function).
* **missed synapse** -- an imaged truth synapse that no submitted synapse matches (one-to-one,
  both sites within ``threshold_nm``, the same partner cells; see
  :func:`pretty_printer.scoring.metrics.synapses.match_synapses`); its ``reason`` is
  ``not_detected`` (nothing submitted within the threshold) or ``wrong_cells`` (a submitted synapse
  lies within the threshold but its sites resolve to other cells).
* **spurious synapse** -- an imaged submitted synapse that matches no truth synapse.
* **lost edge** -- a truth connection between circuit cells, imaged, that the rebuilt connectome
  lacks, with the first reason that applies (:data:`EDGE_LOSS_REASONS`).
* **dropped synapse** -- a submitted synapse that contributes to no connectome edge, counted by
  reason (:data:`DROP_REASONS`).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from pretty_printer.scoring.metrics.segmentation import Contingency, contingency
from pretty_printer.scoring.metrics.synapses import match_synapses

DEFAULT_N_WORST = 10
#: A merge or split is listed when its second-largest part holds at least this fraction of the
#: segment's (merge) or the cell's (split) voxels; smaller parts are boundary slivers.
MIN_PART_FRACTION = 0.05

EDGE_LOSS_REASONS = {
    "not_detected": "no submitted synapse lies within the threshold of any of the pair's synapses",
    "site_unassigned": "a synapse was detected but a site fell on label 0 (no segment)",
    "wrong_cells": "a synapse was detected but its sites resolve to other cells (a merge or a split)",
}
DROP_REASONS = {
    "outside_image": "a site lies outside the scan's grid",
    "site_unassigned": "a site resolves to label 0 (no segment)",
    "unknown_segment": "a site names a segment id that the segmentation does not contain",
    "no_cell": "a site's segment overlaps no truth cell (it lies in extracellular space)",
    "same_cell": "both sites resolve to the same cell (an autapse after a merge)",
    "background_cell": "a partner is a background (non-circuit) cell: counted in synapse F1 only",
}


def _centroids_nm(gt: np.ndarray, seg: np.ndarray, pairs, origin_nm, voxel_nm) -> list[list[float]]:
    """For each pair ``(g, s)``, the centre (nm, z y x) of the voxel labelled ``(g, s)`` nearest
    the centroid of all such voxels (a non-convex piece's centroid may lie outside it)."""
    out = []
    origin, voxel = np.asarray(origin_nm, float), np.asarray(voxel_nm, float)
    for g, s in pairs:
        idx = np.argwhere((gt == g) & (seg == s))
        centres = origin + (idx + 0.5) * voxel
        c = centres[np.argmin(((centres - centres.mean(axis=0)) ** 2).sum(axis=1))]
        out.append([round(float(v), 1) for v in c])
    return out


def _worst(table: Contingency, by: str, n: int):
    """Rows grouped by ``by`` ('seg' groups by segment: merges; 'gt' by truth cell: splits).

    Returns ``[(key, total, error, [(other_id, count), ...] sorted by count desc)]`` for the
    ``n`` groups with the largest error (ties: smaller key first)."""
    keep = table.gt_ids != 0
    if by == "seg":
        keep &= table.seg_ids != 0
        key, other = table.seg_ids[keep], table.gt_ids[keep]
    else:
        key, other = table.gt_ids[keep], table.seg_ids[keep]
    counts = table.counts[keep]
    groups: dict[int, list] = {}
    for k, o, c in zip(key.tolist(), other.tolist(), counts.tolist()):
        groups.setdefault(int(k), []).append((int(o), int(c)))
    rows = []
    for k, parts in groups.items():
        if len(parts) < 2:
            continue
        parts.sort(key=lambda p: (-p[1], p[0]))
        total = sum(c for _, c in parts)
        if parts[1][1] >= MIN_PART_FRACTION * total:  # a real second part, not a boundary sliver
            rows.append((k, total, total - parts[0][1], parts))
    rows.sort(key=lambda r: (-r[3][1][1], r[0]))  # largest second part first
    return rows[:n]


def segment_errors(gt: np.ndarray, seg: np.ndarray, origin_nm, voxel_nm, *, n: int = DEFAULT_N_WORST,
                   table: Contingency | None = None, circuit_ids=()) -> dict:
    """The worst merges and splits of a segmentation.

    Parameters
    ----------
    gt, seg : ndarray of shape (Z, Y, X), non-negative int
        Truth labels and submitted segmentation on the same grid.
    origin_nm, voxel_nm : sequence of 3 float
        Grid origin (corner of voxel 0) and voxel size, nm, (z, y, x).
    n : int
        How many of each to list.
    table : Contingency, optional
        ``contingency(gt, seg)`` if already computed.
    circuit_ids : iterable of int
        The known circuit's cell ids (flagged in the entries).

    Returns
    -------
    dict
        ``worst_merges``: ``[{segment, voxels, error_voxels, truth_cells: [[cell, voxels], ...],
        circuit_cells, position_zyx_nm}]`` (``truth_cells`` and ``circuit_cells`` leave out slivers
        under :data:`MIN_PART_FRACTION` of the segment; ``error_voxels`` counts them); ``worst_splits``: ``[{cell, circuit, voxels,
        error_voxels, segments: [[segment, voxels], ...], position_zyx_nm}]`` (segment 0 =
        unassigned); ``n_merges``, ``n_splits``: how many there are in all (above the sliver
        fraction :data:`MIN_PART_FRACTION`).
    """
    t = contingency(gt, seg) if table is None else table
    merges = _worst(t, "seg", len(t.counts))
    splits = _worst(t, "gt", len(t.counts))
    m_pos = _centroids_nm(gt, seg, [(p[1][0], k) for k, _, _, p in merges[:n]], origin_nm, voxel_nm)
    s_pos = _centroids_nm(gt, seg, [(k, p[1][0]) for k, _, _, p in splits[:n]], origin_nm, voxel_nm)
    circuit = {int(c) for c in circuit_ids}
    return {
        "n_merges": len(merges),
        "n_splits": len(splits),
        "worst_merges": [{"segment": k, "voxels": tot, "error_voxels": err,
                          "truth_cells": [list(p) for p in _not_slivers(parts, tot)[:5]],
                          "circuit_cells": [c for c, _ in _not_slivers(parts, tot) if c in circuit],
                          "position_zyx_nm": pos}
                         for (k, tot, err, parts), pos in zip(merges[:n], m_pos)],
        "worst_splits": [{"cell": k, "circuit": k in circuit, "voxels": tot, "error_voxels": err,
                          "segments": [list(p) for p in parts[:5]], "position_zyx_nm": pos}
                         for (k, tot, err, parts), pos in zip(splits[:n], s_pos)],
    }


def _not_slivers(parts, total: int) -> list:
    """``(cell, voxels)`` parts holding at least :data:`MIN_PART_FRACTION` of ``total`` voxels."""
    return [p for p in parts if p[1] >= MIN_PART_FRACTION * total]


def _nearest(points: np.ndarray, others: np.ndarray) -> np.ndarray:
    """Distance (nm) from each point to the nearest of ``others`` (inf if there are none)."""
    if len(others) == 0:
        return np.full(len(points), np.inf)
    from scipy.spatial import cKDTree

    return cKDTree(others).query(points)[0]


def _mid(pre: np.ndarray, post: np.ndarray) -> np.ndarray:
    return (np.asarray(pre, float) + np.asarray(post, float)) / 2


def synapse_errors(true: dict, pred: dict, matches: np.ndarray, *, threshold_nm: float = np.inf,
                   n: int = 2 * DEFAULT_N_WORST) -> dict:
    """Missed and spurious synapses.

    Parameters
    ----------
    true : dict
        Imaged truth synapses: ``id`` (T,), ``pre_cell``/``post_cell`` (T,), ``pre_nm``/``post_nm``
        (T, 3) nm (z, y, x).
    pred : dict
        Imaged submitted synapses: ``row`` (P,) row in ``synapses.csv``, ``pre_nm``/``post_nm``
        (P, 3), ``pre_cell``/``post_cell`` (P,) the truth cells their segments map to (-1: none).
    matches : ndarray of shape (M, 2), int
        ``(true index, pred index)`` rows of the one-to-one matching.
    threshold_nm : float
        The matching distance: a missed synapse with a submitted one this close is ``wrong_cells``.
    n : int
        How many of each to list (in increasing id / row order).

    Returns
    -------
    dict
        ``n_missed``, ``n_spurious``, ``missed``: ``[{id, pre_cell, post_cell, reason,
        position_zyx_nm, nearest_submitted_nm}]``, ``spurious``: ``[{row, pre_cell, post_cell,
        position_zyx_nm, nearest_true_nm}]``; positions and distances are of the midpoint of the
        two sites.
    """
    m = np.asarray(matches, np.int64).reshape(-1, 2)
    t_mid, p_mid = _mid(true["pre_nm"], true["post_nm"]), _mid(pred["pre_nm"], pred["post_nm"])
    missed = np.setdiff1d(np.arange(len(t_mid)), m[:, 0])
    spurious = np.setdiff1d(np.arange(len(p_mid)), m[:, 1])
    d_missed, d_spur = _nearest(t_mid[missed], p_mid), _nearest(p_mid[spurious], t_mid)

    def dist(d):
        return None if not np.isfinite(d) else round(float(d), 1)

    return {
        "n_missed": int(len(missed)), "n_spurious": int(len(spurious)),
        "missed": [{"id": int(true["id"][i]), "pre_cell": int(true["pre_cell"][i]),
                    "post_cell": int(true["post_cell"][i]),
                    "reason": "wrong_cells" if d <= threshold_nm else "not_detected",
                    "position_zyx_nm": [round(float(v), 1) for v in t_mid[i]], "nearest_submitted_nm": dist(d)}
                   for i, d in zip(missed[:n], d_missed[:n])],
        "spurious": [{"row": int(pred["row"][i]), "pre_cell": int(pred["pre_cell"][i]),
                      "post_cell": int(pred["post_cell"][i]),
                      "position_zyx_nm": [round(float(v), 1) for v in p_mid[i]], "nearest_true_nm": dist(d)}
                     for i, d in zip(spurious[:n], d_spur[:n])],
    }


def drop_reason(imaged: bool, pre_seg: int, post_seg: int, pre_cell: int, post_cell: int,
                circuit_ids: set, segment_ids=None) -> str | None:
    """Why a submitted synapse makes no connectome edge (a key of :data:`DROP_REASONS`), or None.
    ``segment_ids`` (the labels present in the segmentation) tells an unknown id from one in
    extracellular space."""
    if not imaged:
        return "outside_image"
    if pre_seg == 0 or post_seg == 0:
        return "site_unassigned"
    if segment_ids is not None and (pre_seg not in segment_ids or post_seg not in segment_ids):
        return "unknown_segment"
    if pre_cell < 0 or post_cell < 0:
        return "no_cell"
    if pre_cell == post_cell:
        return "same_cell"
    if pre_cell not in circuit_ids or post_cell not in circuit_ids:
        return "background_cell"
    return None


def dropped_synapses(imaged, pre_seg, post_seg, pre_cell, post_cell, circuit_ids: set, segment_ids=None) -> dict:
    """Counts of submitted synapses that make no edge, by :data:`DROP_REASONS` key."""
    ids = None if segment_ids is None else {int(i) for i in segment_ids}
    c = Counter(drop_reason(bool(i), int(a), int(b), int(x), int(y), circuit_ids, ids)
                for i, a, b, x, y in zip(imaged, pre_seg, post_seg, pre_cell, post_cell))
    c.pop(None, None)
    return {k: int(c.get(k, 0)) for k in DROP_REASONS}


def lost_edges(true: dict, pred: dict, true_edges, pred_edges, threshold_nm: float,
               *, n: int = 2 * DEFAULT_N_WORST) -> dict:
    """Truth edges missing from the rebuilt connectome, each with its reason.

    Parameters
    ----------
    true, pred : dict
        As for :func:`synapse_errors`; ``pred`` also needs ``pre_seg``/``post_seg`` (P,).
    true_edges, pred_edges : iterable of (pre cell, post cell)
        The scored truth edges (circuit cells, imaged) and the rebuilt ones.
    threshold_nm : float
        The synapse matching distance; here matching is by position only (cells ignored), to
        tell an undetected synapse from a detected one assigned to the wrong cells.

    Returns
    -------
    dict
        ``n_lost``, ``by_reason`` (counts per :data:`EDGE_LOSS_REASONS` key) and ``lost``:
        ``[{pre_cell, post_cell, reason, n_true_synapses, resolved_to, position_zyx_nm}]`` in
        (pre, post) order; ``resolved_to`` is the (pre, post) truth cells a detected synapse's
        sites went to (``wrong_cells`` only; -1: no cell); the position is the pair's first
        synapse.
    """
    have = set(pred_edges)
    lost = sorted(e for e in true_edges if e not in have)
    pos_match = match_synapses(true["pre_nm"], true["post_nm"], pred["pre_nm"], pred["post_nm"],
                               threshold_nm=threshold_nm)
    pred_of = dict(zip(pos_match[:, 0].tolist(), pos_match[:, 1].tolist()))
    pairs = list(zip(np.asarray(true["pre_cell"]).tolist(), np.asarray(true["post_cell"]).tolist()))
    out, by = [], Counter()
    for a, b in lost:
        rows = [i for i, p in enumerate(pairs) if p == (a, b)]
        found = [pred_of[i] for i in rows if i in pred_of]
        resolved = None
        if not found:
            reason = "not_detected"
        elif any(int(pred["pre_seg"][j]) == 0 or int(pred["post_seg"][j]) == 0 for j in found):
            reason = "site_unassigned"
        else:
            reason = "wrong_cells"
            resolved = [int(pred["pre_cell"][found[0]]), int(pred["post_cell"][found[0]])]
        by[reason] += 1
        if len(out) < n:
            mid = _mid(true["pre_nm"][rows[0]], true["post_nm"][rows[0]]) if rows else None
            out.append({"pre_cell": int(a), "post_cell": int(b), "reason": reason, "n_true_synapses": len(rows),
                        "resolved_to": resolved,
                        "position_zyx_nm": None if mid is None else [round(float(v), 1) for v in mid]})
    return {"n_lost": len(lost), "by_reason": {k: int(by.get(k, 0)) for k in EDGE_LOSS_REASONS}, "lost": out}


def _at(pos) -> str:
    return "n/a" if pos is None else "(" + ", ".join(f"{v:.0f}" for v in pos) + ") nm"


def summary_lines(d: dict) -> list[str]:
    """A few terminal lines naming where the submission fails most (the worst of each kind)."""
    lines = ["  diagnostics (where; positions z, y, x in nm in the dataset frame)",
             f"    lost edges {d['lost_edges']['n_lost']}, merges {d['n_merges']}, splits {d['n_splits']}, "
             f"missed synapses {d['n_missed']}, spurious synapses {d['n_spurious']}"]
    lost = {k: v for k, v in d["lost_edges"]["by_reason"].items() if v}
    if lost:
        lines.append("    lost edges by reason: " + ", ".join(f"{k} {v}" for k, v in lost.items()))
    merges = [m for m in d["worst_merges"] if m["circuit_cells"]] or d["worst_merges"]
    if merges:
        m = merges[0]
        cells = ", ".join(f"{c}{'*' if c in m['circuit_cells'] else ''} ({v:,} voxels)" for c, v in m["truth_cells"])
        lines.append(f"    worst merge: segment {m['segment']} joins cells {cells} "
                     f"({m['error_voxels']} voxels to cut) at {_at(m['position_zyx_nm'])}")
    splits = [m for m in d["worst_splits"] if m["circuit"]] or d["worst_splits"]
    if splits:
        m = splits[0]
        lines.append(f"    worst split: cell {m['cell']}{'*' if m['circuit'] else ''} in {len(m['segments'])}"
                     f"{'+' if len(m['segments']) == 5 else ''} pieces ({m['error_voxels']} voxels outside its "
                     f"main segment) at {_at(m['position_zyx_nm'])}")
    drop = {k: v for k, v in d["dropped_synapses"].items() if v and k != "background_cell"}
    if drop:
        lines.append("    submitted synapses making no edge: " + ", ".join(f"{k} {v}" for k, v in drop.items()))
    if d["dropped_synapses"].get("background_cell"):
        lines.append(f"    ({d['dropped_synapses']['background_cell']} submitted synapses involve background cells: "
                     "scored in synapse F1, not in the circuit's connectome)")
    lines.append("    (* = a cell of the known circuit; the others are background neurites and glia)")
    return lines

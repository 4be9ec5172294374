"""Expected run length (ERL) of a segmentation along ground-truth skeletons.

Conventions (pinned)
--------------------
* Each skeleton node (nm, (z, y, x)) is looked up in the submission: voxel index
  ``floor((node - origin_nm) / voxel_nm)``, i.e. voxel ``i`` covers
  ``[origin + i * voxel, origin + (i + 1) * voxel)``.  Nodes outside the volume read label 0.
* An edge is *correct* when both end nodes lie in the same non-zero segment.  Runs are the
  connected components of correct edges within one skeleton; a run's length is the summed
  Euclidean length (nm) of its edges.
* ``erl_nm = sum over skeletons and runs of run_length^2 / total skeleton length``: the expected
  length of the correct run containing a point drawn uniformly along all skeletons.
* Merge-aware ERL: a segment found at the nodes of two or more skeletons earns nothing; every
  run inside it counts as length 0.
* ``erl_max_nm`` is what a perfect submission earns: every edge correct, i.e. each connected
  component of a skeleton is one run.
* Nodes are made consistent with the truth labels when they are given (``gt``): a node of cell
  ``c`` is read at its own voxel if the truth labels it ``c`` there, else at the nearest voxel
  (Euclidean, nm) labelled ``c`` within ``SNAP_NM`` per axis (at least one voxel); a node with no
  such voxel (the cell is thinner than the grid there, or a scanner artifact removed or moved it
  beyond reach) is *skipped*: it reads the label of its nearest kept neighbour along the skeleton,
  so it neither breaks a run nor makes one; a part of a skeleton with no kept node at all (outside
  the volume) is left out, in the total length and ``erl_max_nm`` alike.  Edge lengths are always
  those of the skeleton.  So
  the truth labels earn ``erl_max_nm`` on any grid and any image frame.  ``n_nodes_skipped``
  counts the skipped nodes.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from pretty_printer.errors import DatasetError

__all__ = ["erl_scores", "sample_labels", "snap_nodes"]

SNAP_NM = 150.0


def sample_labels(seg, points_nm: np.ndarray, voxel_nm: Sequence[float],
                  origin_nm: Sequence[float] = (0.0, 0.0, 0.0)) -> np.ndarray:
    """Labels of ``seg`` at points given in nm; 0 for points outside the volume.

    ``seg`` may be a numpy array or any array with zarr-style ``vindex`` point indexing, so
    large volumes need not be loaded whole.
    """
    pts = np.asarray(points_nm, dtype=np.float64).reshape(-1, 3)
    idx = np.floor((pts - np.asarray(origin_nm, np.float64)) / np.asarray(voxel_nm, np.float64))
    idx = idx.astype(np.int64)
    shape = np.asarray(seg.shape[:3])
    inside = np.all((idx >= 0) & (idx < shape), axis=1)
    out = np.zeros(len(pts), dtype=np.int64)
    if inside.any():
        z, y, x = idx[inside].T
        vals = seg.vindex[z, y, x] if hasattr(seg, "vindex") else np.asarray(seg)[z, y, x]
        out[inside] = np.asarray(vals).astype(np.int64)
    return out


def snap_nodes(gt, cell: int, points_nm: np.ndarray, voxel_nm, origin_nm, snap_nm: float = SNAP_NM):
    """Voxel-centre positions (nm) of the nearest voxels of ``gt`` labelled ``cell``; NaN rows if none.

    See the module doc for the rule.  ``gt`` is a numpy array (z, y, x).
    """
    gt = np.asarray(gt)
    pts = np.asarray(points_nm, np.float64).reshape(-1, 3)
    vox = np.asarray(voxel_nm, np.float64)
    org = np.asarray(origin_nm, np.float64)
    idx = np.floor((pts - org) / vox).astype(np.int64)
    shape = np.asarray(gt.shape[:3])
    out = np.full(pts.shape, np.nan)
    inside = np.all((idx >= 0) & (idx < shape), axis=1)
    good = np.zeros(len(pts), bool)
    good[inside] = gt[tuple(idx[inside].T)] == cell
    out[good] = org + (idx[good] + 0.5) * vox
    reach = np.maximum(1, np.ceil(snap_nm / vox)).astype(np.int64)
    for i in np.flatnonzero(~good):
        lo = np.maximum(idx[i] - reach, 0)
        hi = np.minimum(idx[i] + reach + 1, shape)
        if np.any(hi <= lo):
            continue
        win = np.argwhere(gt[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]] == cell)
        if len(win) == 0:
            continue
        centres = org + (win + lo + 0.5) * vox
        out[i] = centres[np.argmin(np.linalg.norm(centres - pts[i], axis=1))]
    return out


def _fill_lost(lab: np.ndarray, lost: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """A skipped node reads the label of its nearest kept neighbour along the skeleton, so it
    neither breaks nor makes a run on its own (lengths stay those of the skeleton)."""
    lab = lab.copy()
    todo = lost.copy()
    lab[todo] = 0
    while todo.any() and len(edges):
        a, b = edges[:, 0], edges[:, 1]
        moved = False
        for src, dst in ((a, b), (b, a)):
            m = todo[dst] & ~todo[src]
            if m.any():
                lab[dst[m]] = lab[src[m]]
                todo[dst[m]] = False
                moved = True
        if not moved:
            break
    return lab, todo


def _runs(n_nodes: int, edges: np.ndarray, lengths: np.ndarray, correct: np.ndarray):
    """(run id of each correct edge, run lengths) for the graph of correct edges."""
    e = edges[correct]
    graph = coo_matrix((np.ones(len(e)), (e[:, 0], e[:, 1])), shape=(n_nodes, n_nodes))
    _, comp = connected_components(graph, directed=False)
    run_of_edge = comp[e[:, 0]]
    run_len = np.bincount(run_of_edge, weights=lengths[correct], minlength=n_nodes)
    return run_of_edge, run_len


def _check_skeleton(gt_id, nodes, edges) -> tuple[np.ndarray, np.ndarray]:
    nodes = np.asarray(nodes, dtype=np.float64)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    if nodes.ndim != 2 or nodes.shape[1] != 3:
        raise DatasetError(f"skeleton {gt_id} nodes_nm: expected shape (N, 3), got {nodes.shape}")
    if edges.size and (edges.min() < 0 or edges.max() >= len(nodes)):
        raise DatasetError(
            f"skeleton {gt_id} edges: expected node indices in [0, {len(nodes)}), "
            f"got range [{edges.min()}, {edges.max()}]"
        )
    return nodes, edges


def _sample_skeletons(skeletons, seg, voxel_nm, origin_nm, gt):
    """Each skeleton's node labels in ``seg``: ``([(gt_id, nodes, edges)], [labels (N,)], n_skipped)``.

    With ``gt``, nodes are first snapped into their own cell; a node with no voxel of its cell in
    reach takes its neighbours' label (:func:`_fill_lost`), and edges of a part with none at all
    are dropped.
    """
    sampled = []
    n_skipped = 0
    for gt_id, (nodes, edges) in skeletons.items():
        nodes, edges = _check_skeleton(gt_id, nodes, edges)
        lost = np.zeros(len(nodes), bool)
        points = nodes
        if gt is not None:
            points = snap_nodes(gt, int(gt_id), nodes, voxel_nm, origin_nm)
            lost = np.isnan(points[:, 0])
            n_skipped += int(lost.sum())
        sampled.append((int(gt_id), nodes, edges, points, lost))

    labels, items = [], []
    for gt_id, nodes, edges, pts, lost in sampled:
        lab, unreached = _fill_lost(sample_labels(seg, np.where(lost[:, None], 0.0, pts), voxel_nm, origin_nm),
                                    lost, edges)
        if unreached.any() and len(edges):  # a part of the skeleton with no voxel of its cell at all
            edges = edges[~(unreached[edges[:, 0]] | unreached[edges[:, 1]])]
        labels.append(lab)
        items.append((gt_id, nodes, edges))
    return items, labels, n_skipped


def _merged_segments(labels: list[np.ndarray]) -> np.ndarray:
    """Segment ids (non-zero) that touch the nodes of two or more skeletons."""
    if not labels:
        return np.zeros(0, np.int64)
    all_lab = np.concatenate(labels)
    all_skel = np.concatenate([np.full(len(l), k) for k, l in enumerate(labels)])
    pairs = np.unique(np.stack([all_lab, all_skel], 1)[all_lab != 0], axis=0)
    segs, n_skel = np.unique(pairs[:, 0], return_counts=True) if len(pairs) else ([], [])
    return np.asarray(segs)[np.asarray(n_skel) >= 2]


def _run_sums(items, labels, merged) -> tuple[float, float, float, float]:
    """``(total length, sum of run length^2, the same with merged runs zeroed, the same if every
    edge were correct)`` over all skeletons, lengths in nm."""
    total = sum_sq = sum_sq_merge = sum_sq_max = 0.0
    for (gt_id, nodes, edges), lab in zip(items, labels):
        if len(edges) == 0:
            continue
        lengths = np.linalg.norm(nodes[edges[:, 0]] - nodes[edges[:, 1]], axis=1)
        total += float(lengths.sum())
        all_ok = np.ones(len(edges), bool)
        _, max_len = _runs(len(nodes), edges, lengths, all_ok)
        sum_sq_max += float(np.dot(max_len, max_len))

        l0, l1 = lab[edges[:, 0]], lab[edges[:, 1]]
        correct = (l0 == l1) & (l0 != 0)
        run_of_edge, run_len = _runs(len(nodes), edges, lengths, correct)
        sum_sq += float(np.dot(run_len, run_len))
        # A run's segment is the label shared by its edges' nodes; zero the merged ones.
        run_seg = np.zeros(len(nodes), np.int64)
        run_seg[run_of_edge] = l0[correct]
        ok_len = np.where(np.isin(run_seg, merged), 0.0, run_len)
        sum_sq_merge += float(np.dot(ok_len, ok_len))
    return total, sum_sq, sum_sq_merge, sum_sq_max


def erl_scores(
    skeletons: Mapping[int, tuple[np.ndarray, np.ndarray]],
    seg,
    voxel_nm: Sequence[float],
    origin_nm: Sequence[float] = (0.0, 0.0, 0.0),
    *,
    gt=None,
) -> dict:
    """ERL and merge-aware ERL of a segmentation on ground-truth skeletons.

    Parameters
    ----------
    skeletons : mapping of GT cell id -> (nodes_nm (N, 3), edges (E, 2))
        Node positions in nm, (z, y, x); edges index into the nodes.
    seg : ndarray (or zarr array) of int
        Submitted segmentation, (z, y, x).
    voxel_nm : sequence of 3 floats
        Voxel size of ``seg`` in nm, (z, y, x).
    origin_nm : sequence of 3 floats
        Position of the corner of voxel (0, 0, 0) in nm.
    gt : ndarray of int, optional
        Truth labels on the same grid: nodes are snapped to their cell (module doc).

    Returns
    -------
    dict
        ``erl_nm``, ``erl_merge_aware_nm``, ``erl_max_nm`` (floats, nm), ``total_length_nm``,
        ``n_skeletons``, ``n_merged_segments`` (segments touching two or more skeletons),
        ``n_nodes_skipped`` (nodes with no voxel of their cell in reach, when ``gt`` is given).
        With no skeleton length at all, the three ERLs are ``None``.

    References
    ----------
    Expected run length: Januszewski, M. et al. (2018) "High-precision automated reconstruction
    of neurons with flood-filling networks", Nature Methods 15:605-610,
    doi:10.1038/s41592-018-0049-4.  The snapping and skipping of nodes are this module's own
    conventions (module docstring).
    """
    items, labels, n_skipped = _sample_skeletons(skeletons, seg, voxel_nm, origin_nm, gt)
    merged = _merged_segments(labels)
    total, sum_sq, sum_sq_merge, sum_sq_max = _run_sums(items, labels, merged)
    if total == 0.0:
        erl = erl_merge = erl_max = None
    else:
        erl, erl_merge, erl_max = sum_sq / total, sum_sq_merge / total, sum_sq_max / total
    return {
        "erl_nm": erl,
        "erl_merge_aware_nm": erl_merge,
        "erl_max_nm": erl_max,
        "total_length_nm": total,
        "n_skeletons": len(items),
        "n_merged_segments": int(len(merged)),
        "n_nodes_skipped": n_skipped,
    }

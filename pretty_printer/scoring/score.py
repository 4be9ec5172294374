"""Score a submission against a dataset's withheld truth: structure and function.

Sections of the scorecard (keys are a user-facing contract, see README):
``segmentation`` (vi_split, vi_merge, arand, erl_nm, ...), ``synapses`` (precision, recall, f1,
threshold_nm), ``connectome`` (edge_precision, edge_recall, edge_f1, sign_accuracy,
sign_balanced_accuracy, sign_counts, weight_spearman, nri), ``receptors`` (where counts are submitted), ``function`` (accuracy,
reference_accuracy, output_correlation, plus the rebuild rules used).
"""

from __future__ import annotations

import numpy as np

from pathlib import Path

from pretty_printer.scoring import diagnostics, metrics
from pretty_printer.dataset.layout import Dataset
from pretty_printer.errors import ConfigError, SubmissionError
from pretty_printer.scoring.conventions import (DEFAULT_VI_CONVENTION, SITE_RADIUS_NM, SYNAPSE_THRESHOLD_NM,
                                                VI_CONVENTIONS)
from pretty_printer.scoring.rebuild import SITE_RULE, rebuild_circuit, synapse_partners
from pretty_printer.submission.format import Submission, read_meta, read_submission

__all__ = ["SYNAPSE_THRESHOLD_NM", "format_scorecard", "function_score", "load_for_scoring", "score"]


def load_for_scoring(ds: Dataset, sub_dir) -> Submission:
    """Verify the dataset's truth against its commitment, then read the submission on its scan's
    grid (shape and declared voxel size checked before any voxel is read)."""
    ds.verify_truth()
    root = Path(sub_dir)
    if not root.is_dir():
        raise SubmissionError(f"submission directory {str(root)!r}: expected a directory, which does not exist")
    modality = read_meta(root)["modality"]
    if modality not in ds.modalities:
        raise SubmissionError(f"submission.json modality: expected one of {', '.join(ds.modalities)}, got {modality[:40]!r}")
    info = ds.modality(modality)
    _check_manifest_grid(ds, modality, info)
    return read_submission(root, expected_shape=info["shape"][1:], voxel_nm=info["voxel_nm"])


def _check_manifest_grid(ds: Dataset, modality: str, info: dict) -> None:
    """The manifest's grid (not covered by the commitment it carries) must be the committed
    truth labels' grid, so editing it cannot change what is scored."""
    from pretty_printer.dataset.layout import open_ome_zarr
    from pretty_printer.errors import DatasetError

    try:
        arr, voxel = open_ome_zarr(ds.truth / "labels" / f"{modality}.zarr")
    except Exception as e:
        raise DatasetError(f"truth/labels/{modality}.zarr: expected an OME-Zarr label volume, got a damaged one ({type(e).__name__})") from None
    want = (tuple(int(s) for s in arr.shape[1:]), tuple(float(v) for v in voxel))
    got = (tuple(int(s) for s in info["shape"][1:]), tuple(float(v) for v in info["voxel_nm"]))
    if want != got:
        raise DatasetError(f"public/manifest.json modalities.{modality}: expected shape {want[0]} and voxel_nm {want[1]} "
                           f"(the committed truth labels' grid), got {got[0]} and {got[1]}")


def _grid(ds: Dataset, modality: str, phantom):
    voxel = np.asarray(ds.modality(modality)["voxel_nm"], float)
    origin = np.asarray(phantom.block_origin_nm, float)
    return origin, voxel


def _skeletons(phantom) -> dict:
    out = {}
    for cid in phantom.cell_ids:
        sk = phantom.skeleton(cid)
        nodes, parents = np.asarray(sk[0]), np.asarray(sk[2])
        child = np.flatnonzero(parents >= 0)
        out[int(cid)] = (nodes, np.stack([child, parents[child]], axis=1))
    return out


def _imaged(points_nm, origin_nm, voxel_nm, shape) -> np.ndarray:
    """True where a position (nm, (n, 3)) falls in a voxel of the imaged grid."""
    p = np.asarray(points_nm, float).reshape(-1, 3)
    idx = np.floor((p - np.asarray(origin_nm, float)) / np.asarray(voxel_nm, float))
    return np.all((idx >= 0) & (idx < np.asarray(shape[-3:])), axis=1)


def _map_cells(ids: np.ndarray, mapping: dict) -> np.ndarray:
    return np.array([mapping.get(int(i), -1) if int(i) > 0 else -1 for i in ids], dtype=np.int64)


def _synapse_sets(phantom, sub: Submission, origin, voxel, shape, mapping: dict):
    """Truth and submitted synapses as dicts of arrays, with which of them are imaged (both
    sites inside the scan's grid: only those are scored, true and predicted alike)."""
    tsyn = phantom.synapses
    t_pre = np.stack([tsyn["pre_z_nm"], tsyn["pre_y_nm"], tsyn["pre_x_nm"]], 1)
    t_post = np.stack([tsyn["post_z_nm"], tsyn["post_y_nm"], tsyn["post_x_nm"]], 1)
    p_pre_seg, p_post_seg = synapse_partners(sub, origin, voxel)
    true = {"id": np.asarray(tsyn["id"], np.int64), "pre_nm": t_pre, "post_nm": t_post,
            "pre_cell": np.asarray(tsyn["pre_cell"], np.int64), "post_cell": np.asarray(tsyn["post_cell"], np.int64)}
    pred = {"row": np.arange(len(p_pre_seg)), "pre_nm": np.asarray(sub.pre_nm, float).reshape(-1, 3),
            "post_nm": np.asarray(sub.post_nm, float).reshape(-1, 3),
            "pre_seg": np.asarray(p_pre_seg), "post_seg": np.asarray(p_post_seg),
            "pre_cell": _map_cells(p_pre_seg, mapping), "post_cell": _map_cells(p_post_seg, mapping)}
    t_keep = _imaged(t_pre, origin, voxel, shape) & _imaged(t_post, origin, voxel, shape)
    p_keep = _imaged(pred["pre_nm"], origin, voxel, shape) & _imaged(pred["post_nm"], origin, voxel, shape)
    return true, pred, t_keep, p_keep


def _subset(d: dict, keep: np.ndarray) -> dict:
    return {k: np.asarray(v)[keep] for k, v in d.items()}


def _synapse_section(true: dict, pred: dict, t_keep, p_keep, threshold_nm: float):
    """The ``synapses`` section, NRI and the matches as rows of the full tables."""
    t_idx, p_idx = np.flatnonzero(t_keep), np.flatnonzero(p_keep)
    ti, pi = _subset(true, t_keep), _subset(pred, p_keep)
    synapses = metrics.synapse_scores(
        ti["pre_nm"], ti["post_nm"], ti["pre_cell"], ti["post_cell"],
        pi["pre_nm"], pi["post_nm"], pi["pre_cell"], pi["post_cell"],
        threshold_nm=threshold_nm, pred_pre_segment=pi["pre_seg"], pred_post_segment=pi["post_seg"],
    )
    synapses["n_true_outside_image"] = int(len(t_keep) - len(t_idx))
    synapses["n_predicted_outside_image"] = int(len(p_keep) - len(p_idx))
    nri = {k: synapses.pop(k) for k in ("nri", "nri_precision", "nri_recall") if k in synapses}
    matched = np.asarray(synapses.pop("matches", np.zeros((0, 2), np.int64)), np.int64).reshape(-1, 2)
    local = matched.copy()
    if len(matched):  # back to rows of the full tables
        matched = np.stack([t_idx[matched[:, 0]], p_idx[matched[:, 1]]], 1)
    return synapses, nri, matched, local


def _edges(true: dict, pred: dict, t_keep, p_keep, sub: Submission, phantom, circuit):
    """Scored truth edges (circuit cells, imaged) and the rebuilt ones:
    ``{(pre, post): (weight nS, sign)}`` each."""
    from pretty_printer.scoring.rebuild import synapse_strength_nS

    sign_of = {c.id: (1 if c.transmitter == "glutamate" else -1) for c in circuit.cells}
    imaged_pairs = set(zip(true["pre_cell"][t_keep].tolist(), true["post_cell"][t_keep].tolist()))
    true_edges = {(k.pre, k.post): (k.weight_uS * 1000.0, sign_of[k.pre]) for k in circuit.connections
                  if k.weight_uS > 0 and (k.pre, k.post) in imaged_pairs}  # an edge is scored where it is imaged
    strength, _rule = synapse_strength_nS(sub, phantom.cfg.psd_area_per_nS_nm2)
    sign = sub.synapses.get("sign")
    pred_w: dict = {}
    circuit_ids = {c.id for c in circuit.cells}
    for i, (a, b) in enumerate(zip(pred["pre_cell"].tolist(), pred["post_cell"].tolist())):
        if not p_keep[i] or a < 0 or b < 0 or a == b:
            continue
        if a not in circuit_ids or b not in circuit_ids:
            continue  # the connectome is the circuit's: background cells' synapses count in synapse F1 only
        w, votes = pred_w.get((a, b), (0.0, []))
        pred_w[(a, b)] = (w + float(strength[i]), votes + ([float(sign[i])] if sign is not None else []))
    pred_edges = {k: (w, (1 if np.sum(v) >= 0 else -1) if v else None) for k, (w, v) in pred_w.items()}
    return true_edges, pred_edges, circuit_ids


def _diagnostics(gt, seg, table, origin, voxel, true, pred, t_keep, p_keep, local_matches,
                 true_edges, pred_edges, circuit_ids, threshold_nm) -> dict:
    """The scorecard's ``diagnostics`` section (:mod:`pretty_printer.scoring.diagnostics`)."""
    ti, pi = _subset(true, t_keep), _subset(pred, p_keep)
    out = diagnostics.segment_errors(gt, seg, origin, voxel, table=table, circuit_ids=circuit_ids)
    out.update(diagnostics.synapse_errors(ti, pi, local_matches, threshold_nm=threshold_nm))
    out["lost_edges"] = diagnostics.lost_edges(ti, pi, true_edges, pred_edges, threshold_nm)
    out["dropped_synapses"] = diagnostics.dropped_synapses(p_keep, pred["pre_seg"], pred["post_seg"],
                                                           pred["pre_cell"], pred["post_cell"], circuit_ids,
                                                           segment_ids=table.seg_ids)
    return out


def structure_scores(ds: Dataset, sub: Submission, phantom, circuit, threshold_nm: float,
                     vi_convention: str = DEFAULT_VI_CONVENTION) -> dict:
    """The ``segmentation``, ``synapses``, ``connectome``, ``receptors`` and ``diagnostics``
    sections of the scorecard (see :func:`score`)."""
    gt = ds.truth_labels(sub.modality)
    seg = sub.segmentation
    origin, voxel = _grid(ds, sub.modality, phantom)
    segmentation = metrics.segmentation_scores(gt, seg, unassigned=vi_convention)
    segmentation.update(metrics.erl_scores(_skeletons(phantom), seg, voxel, origin, gt=gt))
    table = metrics.contingency(gt, seg)
    true, pred, t_keep, p_keep = _synapse_sets(phantom, sub, origin, voxel, gt.shape,
                                               metrics.best_match(gt, seg, table=table))
    synapses, nri, matched, local = _synapse_section(true, pred, t_keep, p_keep, threshold_nm)
    true_edges, pred_edges, circuit_ids = _edges(true, pred, t_keep, p_keep, sub, phantom, circuit)
    connectome = metrics.connectome_scores(true_edges, pred_edges)
    connectome.update(nri)  # NRI (Reilly et al.) from synapse terminals, reported with the connectome

    card = {"segmentation": segmentation, "synapses": synapses, "connectome": connectome}
    receptor_cols = [c for c in ("n_AMPA", "n_NMDA", "n_GABA_A") if c in sub.synapses]
    if receptor_cols and len(matched):
        tsyn = phantom.synapses
        card["receptors"] = metrics.receptor_errors(
            {c: np.asarray(tsyn[c], float)[matched[:, 0]] for c in receptor_cols},
            {c: np.asarray(sub.synapses[c], float)[matched[:, 1]] for c in receptor_cols},
        )
    card["diagnostics"] = _diagnostics(gt, seg, table, origin, voxel, true, pred, t_keep, p_keep, local,
                                       true_edges, pred_edges, circuit_ids, threshold_nm)
    return card


def _reference(ds: Dataset, circuit, task):
    """The truth circuit's activity, saved by ``generate`` (simulated here if it is missing)."""
    from types import SimpleNamespace

    from pretty_printer.sim.neuron_backend import evaluate_circuit

    path = ds.truth / "reference_activity.npz"
    if path.is_file():
        with np.load(path) as z:
            return SimpleNamespace(accuracy=float(z["accuracy"]), output_rates=z["output_rates"])
    return evaluate_circuit(circuit, task)


def _first_samples(task, ref, n_samples: int | None):
    """``task`` and reference activity restricted to the first ``n_samples`` held-out samples (None:
    all).  Samples are simulated as independent copies of the circuit, so the first n of a full
    run are exactly a run of the first n."""
    if n_samples is None:
        return task, ref
    from dataclasses import replace
    from types import SimpleNamespace

    from pretty_printer.task.tasks import accuracy

    total = len(task.y_test)
    if isinstance(n_samples, bool) or not isinstance(n_samples, (int, np.integer)) or not 1 <= n_samples <= total:
        raise ConfigError(f"n_samples: expected an integer from 1 to {total} (the held-out samples), got {n_samples!r}")
    task = replace(task, X_test=task.X_test[:n_samples], y_test=task.y_test[:n_samples])
    rates = np.asarray(ref.output_rates)[:n_samples]
    return task, SimpleNamespace(accuracy=accuracy(task.y_test, rates), output_rates=rates)


def function_scores(ds: Dataset, sub: Submission, phantom, circuit, n_samples: int | None = None) -> dict:
    """The ``function`` section (see :func:`score`); with ``n_samples``, on the first that many
    held-out samples only (accuracies and correlation over those; the section records ``n_samples``)."""
    from pretty_printer.sim.neuron_backend import evaluate_circuit

    origin, voxel = _grid(ds, sub.modality, phantom)
    task = ds.task_data()
    rebuilt, info = rebuild_circuit(sub, circuit, phantom, origin, voxel)
    task, ref = _first_samples(task, _reference(ds, circuit, task), n_samples)
    got = evaluate_circuit(rebuilt, task)
    a, b = np.asarray(got.output_rates, float).ravel(), np.asarray(ref.output_rates, float).ravel()
    corr = float(np.corrcoef(a, b)[0, 1]) if a.std() > 0 and b.std() > 0 else 0.0
    fid = ds.truth / "fidelity.json"
    out = {
        "accuracy": float(got.accuracy),
        "reference_accuracy": float(ref.accuracy),
        "output_correlation": corr,
    }
    if fid.is_file():
        import json

        out["ann_accuracy"] = float(json.loads(fid.read_text())["ann_accuracy"])
    if n_samples is not None:
        out["n_samples"] = int(n_samples)
    out.update(info)
    return out


def conventions(threshold_nm: float, vi_convention: str) -> dict:
    """The conventions a scorecard was computed with (written into ``score.json``)."""
    vi = {"singletons": "submission label 0 = each voxel its own segment (SNEMI3D); GT label 0 not scored",
          "cremi": "submission label 0 = one ordinary segment (CREMI voi); GT label 0 not scored"}
    return {"vi_unassigned": vi_convention, "vi_rule": vi[vi_convention], "vi_units": "bits",
            "synapse_threshold_nm": float(threshold_nm), "site_radius_nm": SITE_RADIUS_NM,
            "site_rule": SITE_RULE, "undefined_scores": "null (e.g. precision when nothing was predicted)",
            "synapse_scope": "synapses and edges are scored where imaged: both sites inside the scan's grid "
                             "(counts outside are reported); the function section uses every submitted synapse"}


def dataset_id(ds: Dataset) -> str:
    """``<preset>-<first 12 hex digits of the truth commitment>``: names one generated dataset
    (same preset and seed give the same id; any change to the truth gives another)."""
    m = ds.manifest
    return f"{m.get('preset', 'dataset')}-{str(m.get('truth_sha256', ''))[:12]}"


def score(dataset_dir, sub_dir, *, threshold_nm: float = SYNAPSE_THRESHOLD_NM, function: bool = True,
          vi_convention: str = DEFAULT_VI_CONVENTION) -> dict:
    """The full scorecard of submission ``sub_dir`` against dataset ``dataset_dir``.

    Parameters
    ----------
    dataset_dir : Path
        A dataset with its ``truth/``; the truth is verified against the commitment in
        ``public/manifest.json`` before anything is read.
    sub_dir : Path
        A submission directory (format: :mod:`pretty_printer.submission.format`).
    threshold_nm : float
        Synaptic-partner matching distance, nm (> 0, finite; default
        :data:`~pretty_printer.scoring.conventions.SYNAPSE_THRESHOLD_NM`).
    function : bool
        Also rebuild the circuit (:mod:`pretty_printer.scoring.rebuild`) and re-simulate it in
        NEURON on the task's held-out inputs (the slow part).
    vi_convention : str
        One of :data:`~pretty_printer.scoring.conventions.VI_CONVENTIONS`.

    Returns
    -------
    dict
        ``modality``, ``method``, ``conventions`` (every rule used, :func:`conventions`), the
        structure sections (:func:`structure_scores`) and, with ``function``, ``function``:
        ``accuracy``, ``reference_accuracy``, ``output_correlation`` (Pearson r of output rates,
        rebuilt vs truth, over held-out inputs) and the rebuild rules.  Undefined scores are None.

    Raises
    ------
    ConfigError
        A bad ``threshold_nm`` or ``vi_convention``.
    DatasetError
        The dataset is missing, damaged or its truth does not match its commitment.
    SubmissionError
        The submission is malformed (one line naming the field).
    """
    if vi_convention not in VI_CONVENTIONS:
        raise ConfigError(f"--vi-convention: expected one of {', '.join(VI_CONVENTIONS)}, got {vi_convention!r}")
    if not threshold_nm > 0 or not np.isfinite(threshold_nm):
        raise ConfigError(f"--threshold-nm: expected a positive distance in nm, got {threshold_nm}")
    ds = Dataset(dataset_dir)
    sub = load_for_scoring(ds, sub_dir)
    phantom, circuit = ds.phantom(), ds.circuit()
    card = {"modality": sub.modality, "method": sub.method, "dataset_id": dataset_id(ds),
            "conventions": conventions(threshold_nm, vi_convention)}
    card.update(structure_scores(ds, sub, phantom, circuit, threshold_nm, vi_convention))
    if function:
        card["function"] = function_scores(ds, sub, phantom, circuit)
    if sub.activity is not None:
        card.setdefault("function", {})["submitted_activity"] = submitted_activity(ds, sub, circuit)
    return card


def function_score(dataset_dir, sub_dir, *, n_samples: int | None = None) -> dict:
    """Only the scorecard's ``function`` section: rebuild the submission's circuit and re-simulate
    it in NEURON (:func:`function_scores`), without the structure metrics and diagnostics.

    The same truth checks as :func:`score` (commitment, submission format and grid).  Without
    ``n_samples`` the result equals ``score(dataset_dir, sub_dir)["function"]`` for a submission
    without an activity file.

    Parameters
    ----------
    n_samples : int, optional
        Simulate only the first ``n_samples`` held-out samples (1 to all; the cost is linear in
        it, ~40 ms of CPU per sample on ``tiny``); ``accuracy``, ``reference_accuracy`` and
        ``output_correlation`` are then over those samples, and the section says ``n_samples``.

    Raises
    ------
    ConfigError
        A bad ``n_samples``.
    DatasetError, SubmissionError
        As :func:`score`.
    """
    ds = Dataset(dataset_dir)
    sub = load_for_scoring(ds, sub_dir)
    return function_scores(ds, sub, ds.phantom(), ds.circuit(), n_samples)


def submitted_activity(ds: Dataset, sub: Submission, circuit) -> dict:
    """The submission's own activity file against ``truth/activity.nwb``
    (:func:`pretty_printer.scoring.activity.activity_scores`)."""
    from pretty_printer.scoring.activity import activity_scores, dominant_segments

    table = metrics.contingency(ds.truth_labels(sub.modality), sub.segmentation)
    return activity_scores(sub.activity, ds.truth / "activity.nwb", circuit, dominant_segments(table),
                           ds.task_data().y_test)


def _flatten(d: dict, prefix: str = ""):
    for k, v in d.items():
        if isinstance(v, dict):
            yield from _flatten(v, f"{prefix}{k}.")
        else:
            yield f"{prefix}{k}", v


def format_scorecard(card: dict) -> str:
    """A terminal table of the scorecard; text longer than 60 characters is cut (``--json`` has it whole)."""
    lines = [f"scorecard  dataset={card.get('dataset_id')}  modality={card.get('modality')}  method={card.get('method')}"]
    for section in ("segmentation", "synapses", "connectome", "receptors", "function", "conventions"):
        if section not in card:
            continue
        lines.append(f"  {section}")
        for k, v in _flatten(card[section]):
            if isinstance(v, float):
                v = f"{v:.4g}"
            elif isinstance(v, str) and len(v) > 60:
                v = v[:56] + " ..."  # the whole text is in the JSON scorecard
            elif v is None:
                v = "n/a"
            lines.append(f"    {k:<28} {v}")
    if "diagnostics" in card:
        lines.extend(diagnostics.summary_lines(card["diagnostics"]))
    return "\n".join(lines)

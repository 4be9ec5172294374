"""The perfect submission, built from the truth: for tests, for teaching, and as the base that
error injection (:mod:`pretty_printer.submission.perturb`) degrades."""

from __future__ import annotations

import numpy as np

from pretty_printer.circuit.excitability import CHANNEL_COLUMNS
from pretty_printer.submission.format import POSITION_COLUMNS, Submission
from pretty_printer.reconstruct.registry import METHODS
from pretty_printer.scoring.conventions import SITE_RADIUS_NM


def truth_synapse_table(phantom, circuit) -> dict[str, np.ndarray]:
    """The phantom's synapses in submission columns, with partner ids, strength and sign."""
    syn = phantom.synapses
    excit = {c.id: (1 if c.transmitter == "glutamate" else -1) for c in circuit.cells}
    # background (decoy) synapses: their cells' own sign
    excit.update({c: (1 if phantom.excitatory(c) else -1) for c in getattr(phantom, "background_ids", ())})
    pre = np.asarray(syn["pre_cell"], dtype=np.int64)
    cols = {
        "id": np.asarray(syn["id"], dtype=np.int64),
        "pre_z_nm": syn["pre_z_nm"], "pre_y_nm": syn["pre_y_nm"], "pre_x_nm": syn["pre_x_nm"],
        "post_z_nm": syn["post_z_nm"], "post_y_nm": syn["post_y_nm"], "post_x_nm": syn["post_x_nm"],
        "pre_id": pre,
        "post_id": np.asarray(syn["post_cell"], dtype=np.int64),
        "conductance_nS": np.asarray(syn["conductance_nS"], float),
        "psd_area_nm2": np.asarray(syn["psd_area_nm2"], float),
        "sign": np.array([excit[int(p)] for p in pre], dtype=np.int64),
        "n_AMPA": np.asarray(syn["n_AMPA"]), "n_NMDA": np.asarray(syn["n_NMDA"]),
        "n_GABA_A": np.asarray(syn["n_GABA_A"]),
    }
    return {k: np.asarray(v) for k, v in cols.items()}


def sites_inside_cells(cols: dict, labels: np.ndarray, origin_nm, voxel_nm,
                       radius_nm: float = SITE_RADIUS_NM) -> dict:
    """Move each site off the cleft face into its own cell on this scan's grid.

    The phantom puts a synapse's pre and post sites on the two faces of the cleft, which on a
    coarse grid often fall in extracellular (label 0) or the partner's voxels.  Each site is
    walked from its partner through itself (away from the cleft) in quarter-voxel steps, up to
    ``radius_nm``, and placed at the first point whose voxel carries its own cell's label; a site
    already in such a voxel stays.  So the perfect submission's sites resolve to the right cells
    without ``pre_id``/``post_id`` by the scorer's site rule (:data:`~pretty_printer.scoring.
    rebuild.SITE_RULE`).  ``labels`` is the truth label volume (z, y, x); positions in nm.
    """
    origin, voxel = np.asarray(origin_nm, float), np.asarray(voxel_nm, float)
    shape = np.asarray(labels.shape)
    steps = np.arange(0, int(radius_nm / (0.25 * voxel.min())) + 1) * 0.25 * voxel.min()
    out = dict(cols)
    ends = (("pre", POSITION_COLUMNS[:3], POSITION_COLUMNS[3:], "pre_id"),
            ("post", POSITION_COLUMNS[3:], POSITION_COLUMNS[:3], "post_id"))
    for _, own_cols, other_cols, id_col in ends:
        own = np.stack([np.asarray(cols[c], float) for c in own_cols], 1)
        other = np.stack([np.asarray(cols[c], float) for c in other_cols], 1)
        d = own - other
        n = np.linalg.norm(d, axis=1, keepdims=True)
        d = np.divide(d, n, out=np.zeros_like(d), where=n > 0)
        pts = own[:, None, :] + steps[None, :, None] * d[:, None, :]
        idx = np.floor((pts - origin) / voxel).astype(np.int64)
        inside = np.all((idx >= 0) & (idx < shape), axis=-1)
        lab = np.zeros(inside.shape, np.int64)
        ii = idx[inside]
        lab[inside] = labels[ii[:, 0], ii[:, 1], ii[:, 2]]
        hit = lab == np.asarray(cols[id_col], np.int64)[:, None]
        first = np.argmax(hit, axis=1)
        moved = np.where(hit.any(axis=1)[:, None], pts[np.arange(len(pts)), first], own)
        for k, c in enumerate(own_cols):
            out[c] = moved[:, k]
    return out


@METHODS.register("truth")
def reconstruct_truth(ds, modality: str, *, rng=None) -> Submission:
    circuit = ds.circuit()
    cells = {
        "segment_id": np.array([c.id for c in circuit.cells], dtype=np.int64),
        "bias_nA": np.array([c.bias_nA for c in circuit.cells], dtype=float),
    }
    for col in CHANNEL_COLUMNS:  # the tonic channel densities that set each cell's excitability
        cells[col] = np.array([getattr(c, col) for c in circuit.cells], dtype=float)
    labels = ds.truth_labels(modality)
    phantom = ds.phantom()
    info = ds.modality(modality)
    table = sites_inside_cells(truth_synapse_table(phantom, circuit), labels,
                               info.get("origin_nm", phantom.block_origin_nm), info["voxel_nm"])
    return Submission(
        modality=modality,
        segmentation=labels.astype(np.uint64),
        synapses=table,
        cells=cells,
        method="truth",
    )

"""The perfect submission, built from the truth: for tests, for teaching, and as the base that
error injection (:mod:`pretty_printer.submission.perturb`) degrades."""

from __future__ import annotations

import numpy as np

from pretty_printer.submission.format import Submission
from pretty_printer.reconstruct.registry import METHODS


def truth_synapse_table(phantom, circuit) -> dict[str, np.ndarray]:
    """The phantom's synapses in submission columns, with partner ids, strength and sign."""
    syn = phantom.synapses
    excit = {c.id: (1 if c.transmitter == "glutamate" else -1) for c in circuit.cells}
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


@METHODS.register("truth")
def reconstruct_truth(ds, modality: str, *, rng=None) -> Submission:
    circuit = ds.circuit()
    cells = {
        "segment_id": np.array([c.id for c in circuit.cells], dtype=np.int64),
        "bias_nA": np.array([c.bias_nA for c in circuit.cells], dtype=float),
    }
    return Submission(
        modality=modality,
        segmentation=ds.truth_labels(modality).astype(np.uint64),
        synapses=truth_synapse_table(ds.phantom(), circuit),
        cells=cells,
        method="truth",
    )

"""Per-cell morphometrics with NeuroM: total length, branch count, max branch order, Sholl.

Reference (real, unscaled) values for comparison, mouse/rat cortex: a layer-2/3 pyramidal cell
has ~4-7 mm of dendrite, ~30-60 bifurcations, branch orders up to ~6-10 and a Sholl profile
peaking ~50-100 um from the soma; its axon is centimetres long within the column.  The phantom's
cells are scaled to fit a few-um block (see ``phantoms.config``).
"""

from __future__ import annotations

import numpy as np


def morphometrics(swc_path, sholl_step_um: float = 0.25) -> dict:
    """NeuroM morphometrics of one SWC file, per neurite kind (``dendrite``, ``axon``).

    Returns
    -------
    dict
        ``{"dendrite": {...}, "axon": {...}}`` with ``total_length_um``, ``n_sections``,
        ``n_bifurcations``, ``max_branch_order``, ``sholl_step_um`` and ``sholl`` (crossing
        counts of spheres every ``sholl_step_um`` from the soma).
    """
    import neurom
    from neurom import NeuriteType

    m = neurom.load_morphology(str(swc_path))
    out = {}
    for name, kind in (("dendrite", NeuriteType.basal_dendrite), ("axon", NeuriteType.axon)):
        if not any(n.type == kind for n in m.neurites):
            out[name] = {"total_length_um": 0.0, "n_sections": 0, "n_bifurcations": 0,
                         "max_branch_order": 0, "sholl_step_um": sholl_step_um, "sholl": []}
            continue
        orders = neurom.get("section_branch_orders", m, neurite_type=kind)
        sholl = neurom.get("sholl_frequency", m, neurite_type=kind, step_size=sholl_step_um)
        out[name] = {
            "total_length_um": float(neurom.get("total_length", m, neurite_type=kind)),
            "n_sections": int(neurom.get("number_of_sections", m, neurite_type=kind)),
            "n_bifurcations": int(neurom.get("number_of_bifurcations", m, neurite_type=kind)),
            "max_branch_order": int(np.max(orders)) if len(orders) else 0,
            "sholl_step_um": sholl_step_um,
            "sholl": [int(v) for v in sholl],
        }
    return out

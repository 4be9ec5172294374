"""``grow``: a CircuitSpec becomes a Phantom (somata -> dendrites -> synapses -> molecules)."""

from __future__ import annotations

import numpy as np

from .barcodes import assign_barcodes
from .collision import CapsuleIndex
from .config import GrowthConfig, GrowthError
from .neurites import Arbor, NoiseField, Stepper, grow_dendrites
from .phantom import RECEPTOR_TYPES, SYNAPSE_COLUMNS, Phantom, SynapseTable
from .placement import place_somata
from .receptors import plan_synapses, receptor_counts
from .spec import CircuitSpec
from .synapses import realize_synapse


def _validate(spec: CircuitSpec) -> None:
    ids = [c.id for c in spec.cells]
    if len(set(ids)) != len(ids):
        raise ValueError(f"spec.cells: expected unique cell ids, got {ids}")
    known = set(ids)
    for e in spec.edges:
        if e.pre not in known or e.post not in known:
            raise ValueError(f"spec.edges: connection {e.pre} -> {e.post} names an unknown cell")
        if not e.conductance_nS > 0:
            raise ValueError(f"spec.edges: connection {e.pre} -> {e.post}: expected conductance_nS > 0, "
                             f"got {e.conductance_nS!r}")
        if e.receptor not in RECEPTOR_TYPES:
            raise ValueError(f"spec.edges: connection {e.pre} -> {e.post}: expected receptor in "
                             f"{RECEPTOR_TYPES}, got {e.receptor!r}")


def grow(spec: CircuitSpec, cfg: GrowthConfig | None = None, rng=None, *, progress=None) -> Phantom:
    """Grow the circuit ``spec`` into a tissue block.

    Parameters
    ----------
    spec : CircuitSpec
        Cells (role, layer, Dale sign, channel densities) and connections (conductance, receptor).
    cfg : GrowthConfig, optional
        Growth settings; defaults to ``GrowthConfig()``.
    rng : np.random.Generator | int | None
        Split internally into independent streams (placement, dendrites, synapse plan, axons,
        barcodes), so e.g. the barcodes do not change when a growth setting does.
    progress : callable, optional
        ``progress(step, done, total)`` after the dendrites (``"dendrites"``, counting cells) and
        as each planned synapse is tried (``"synapses"``); for progress bars, never changes the result.

    Returns
    -------
    Phantom

    Raises
    ------
    GrowthError
        When a connection cannot be realized by at least one synapse; the message names it.
    """
    cfg = cfg or GrowthConfig()
    _validate(spec)
    rng = np.random.default_rng(rng)
    r_place, r_dend, r_plan, r_axon, r_code = rng.spawn(5)
    (r_dense,) = rng.spawn(1)  # a later spawn: the circuit's streams above are unchanged
    cell_ids = tuple(c.id for c in spec.cells)
    centers, radii = place_somata(spec, cfg, r_place)

    index = CapsuleIndex(cell_nm=max(4 * cfg.step_nm, 400.0))
    stepper = Stepper(index, cfg.block_nm, cfg.block_margin_nm, cfg.extracellular_gap_nm)
    arbors, noises, rngs = _start_arbors(cell_ids, centers, radii, cfg, index, r_dend)
    grow_dendrites(arbors, cfg, stepper, noises, rngs)
    if progress is not None:
        progress("dendrites", len(cell_ids), len(cell_ids))

    plans = plan_synapses(spec, cfg, r_plan)
    contacts, dropped = _realize_all(spec, cfg, plans, arbors, stepper, noises, r_axon, progress)
    synapses, vesicles, ves_syn = _synapse_table(spec, plans, contacts)
    barcodes = assign_barcodes(cell_ids, cfg.barcode_proteins, cfg.barcode_k, r_code)
    phantom = Phantom(
        cfg=cfg, spec=spec, cell_ids=cell_ids, soma_centers=centers, soma_radii=radii,
        skeletons=tuple(arbors[c].skeleton() for c in cell_ids), synapses=synapses,
        vesicles_nm=vesicles, vesicle_synapse=ves_syn, barcodes=barcodes,
        block_origin_nm=np.zeros(3), block_size_nm=np.asarray(cfg.block_nm, float),
        meta={"synapses_planned": len(plans), "synapses_dropped_extra": dropped},
    )
    if cfg.dense:
        from .neuropil import densify

        phantom = densify(phantom, index, r_dense)
    return phantom


def _start_arbors(cell_ids, centers, radii, cfg, index, r_dend):
    """One arbor (its soma filed into ``index``), Perlin field and generator per cell."""
    arbors, noises, rngs = {}, {}, {}
    for cid, c, r, crng in zip(cell_ids, centers, radii, r_dend.spawn(len(cell_ids))):
        arbors[cid] = Arbor(cid, c, r)
        index.add(c, c, r, cid)
        rngs[cid] = crng
        noises[cid] = NoiseField(cfg.noise_scale_nm, crng)
    return arbors, noises, rngs


def _realize_all(spec, cfg, plans, arbors, stepper, noises, r_axon, progress):
    """Grow every planned synapse: ``({plan index: Contact}, number of extra synapses dropped)``.

    Every connection's first synapse goes before anyone's second, so extras never starve a
    connection; a connection whose first synapse finds no site raises :class:`GrowthError`.
    """
    excitatory = {c.id: c.excitatory for c in spec.cells}
    order = sorted(range(len(plans)), key=lambda i: (plans[i].k, plans[i].edge_index))
    contacts: dict[int, object] = {}
    dropped = 0
    for n_done, i in enumerate(order, 1):
        if progress is not None:
            progress("synapses", n_done, len(order))
        pl = plans[i]
        edge = spec.edges[pl.edge_index]
        spine = excitatory[edge.post] and edge.receptor in ("AMPA", "NMDA")
        contact = realize_synapse(arbors[edge.pre], arbors[edge.post], pl.psd_area_nm2, spine, cfg,
                                  stepper, noises[edge.pre], r_axon)
        if contact is None:
            if pl.k == 0:
                raise GrowthError(
                    f"connection {edge.pre} -> {edge.post}: no collision-free apposition found after "
                    f"{cfg.synapse_attempts} sites (block too small or too crowded; enlarge block_nm, "
                    f"or lower dendrite/axon sizes or max_synapses_per_connection)")
            dropped += 1  # an extra synapse: its conductance goes to the connection's others
            continue
        contacts[i] = contact
    return contacts, dropped


def _synapse_table(spec, plans, contacts):
    """Receptor counts from the realized synapses' shares; ids 1.. in plan order."""
    cols = {name: [] for name, _ in SYNAPSE_COLUMNS}
    vesicles, ves_syn = [], []
    sid = 0
    for e_i, edge in enumerate(spec.edges):
        mine = [i for i, p in enumerate(plans) if p.edge_index == e_i and i in contacts]
        if not mine:
            continue
        counts, unit_pS = receptor_counts(edge, np.array([plans[i].share for i in mine]))
        for i, n in zip(mine, counts):
            c = contacts[i]
            sid += 1
            row = {"id": sid, "pre_cell": edge.pre, "post_cell": edge.post,
                   "psd_area_nm2": plans[i].psd_area_nm2, "conductance_nS": n * unit_pS / 1000.0,
                   "receptor_unit_pS": unit_pS, "spine": int(c.spine),
                   "bouton_radius_nm": c.bouton_radius}
            for rt in ("AMPA", "NMDA", "GABA_A"):
                row[f"n_{rt}"] = int(n) if rt == edge.receptor else 0
            for k, ax in enumerate("zyx"):
                row[f"pre_{ax}_nm"] = c.pre_site[k]
                row[f"post_{ax}_nm"] = c.post_site[k]
                row[f"bouton_{ax}_nm"] = c.bouton[k]
            for name in cols:
                cols[name].append(row[name])
            vesicles.append(c.vesicles)
            ves_syn.append(np.full(len(c.vesicles), sid, np.int64))
    table = SynapseTable({k: np.asarray(v) for k, v in cols.items()}) if sid else SynapseTable.empty()
    ves = np.concatenate(vesicles) if vesicles else np.zeros((0, 4))
    vs = np.concatenate(ves_syn) if ves_syn else np.zeros(0, np.int64)
    return table, ves, vs

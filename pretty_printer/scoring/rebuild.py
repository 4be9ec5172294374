"""Rebuild a circuit from a submission: segments -> cells, synapses -> connections.

The rules, stated once (they appear in the scorecard):

* A synapse's partners are its ``pre_id``/``post_id`` columns if given (exact 64-bit ids), else
  each site resolves to a segment by :data:`SITE_RULE`.
* Segment ids are opaque 64-bit integers: the rebuilt circuit numbers its cells 1..n in
  increasing segment-id order (``info["segment_of_cell"]`` maps back).
* Connection strength: the sum of the synapses' ``conductance_nS`` if given; else PSD area
  divided by the tissue's mean PSD area per nS (``psd_area_per_nS_nm2``, a property of the
  simulated biology, like a known receptor density) if ``psd_area_nm2`` is given; else synapse
  count times :data:`DEFAULT_SYNAPSE_NS`.
* Sign: the majority ``sign`` of a pre segment's synapses if given, else excitatory.
* Excitability: each cell's tonic channel densities (``g_cation_leak_mS_cm2``,
  ``g_tonic_gabaa_mS_cm2``) from ``cells.csv`` if given (a segment without a row, or a column
  not given, gets the default); else the default densities
  (:data:`pretty_printer.circuit.excitability.DEFAULT_DENSITIES`: 0 mS/cm^2, the cell model's
  own membrane).
* Bias current: ``cells.csv`` ``bias_nA`` if given, else 0 nA (injected on top of the channels).
* Only cells upstream of an output port are simulated (the others cannot change an output).
* Input and output ports: the segment covering most of each true input/output soma (the scorer
  knows where the sensory and motor cells are, as an experimenter would); -1 if none.
* Cell model, encoding and read-out: those of the ground-truth circuit (the emulation's chosen
  neuron model is not what is being reconstructed here).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace

import numpy as np

from pretty_printer.circuit.description import Cell, Circuit, Connection
from pretty_printer.circuit.excitability import CHANNEL_COLUMNS, DEFAULT_DENSITIES, with_densities
from pretty_printer.scoring.conventions import SITE_RADIUS_NM

DEFAULT_SYNAPSE_NS = 1.0

SITE_RULE = (f"a site takes the label of its voxel; a site in an unassigned voxel (label 0) takes the first "
             f"label met walking from its partner site through it (away from the cleft) up to {SITE_RADIUS_NM:g} nm "
             f"further, else the label of the nearest labelled voxel centre within {SITE_RADIUS_NM:g} nm "
             f"(ties: smaller id), else stays unassigned")


def voxel_index(positions_nm: np.ndarray, origin_nm, voxel_nm, shape) -> np.ndarray:
    """Index of the voxel holding each position, clipped into the grid.

    Voxel ``i`` covers ``[origin + i * voxel, origin + (i + 1) * voxel)`` nm on each axis.

    Parameters
    ----------
    positions_nm : (..., 3) float
        Positions, nm, (z, y, x).
    origin_nm, voxel_nm : (3,) float
        Corner of voxel (0, 0, 0) and voxel size, nm.
    shape : (3,) int
        The grid; indices outside it are clipped to its edge.

    Returns
    -------
    (..., 3) int64
    """
    idx = np.floor((np.asarray(positions_nm, float) - np.asarray(origin_nm)) / np.asarray(voxel_nm)).astype(np.int64)
    return np.clip(idx, 0, np.asarray(shape) - 1)


def _label_at(seg: np.ndarray, positions_nm: np.ndarray, origin_nm, voxel_nm) -> np.ndarray:
    """Label of the voxel containing each position (0 outside the grid); uint64."""
    idx = np.floor((positions_nm - np.asarray(origin_nm)) / np.asarray(voxel_nm))
    inside = np.all((idx >= 0) & (idx < np.asarray(seg.shape)), axis=-1)
    out = np.zeros(idx.shape[:-1], np.uint64)
    ii = idx[inside].astype(np.int64)
    out[inside] = seg[ii[:, 0], ii[:, 1], ii[:, 2]]
    return out


def _nearest_label(seg, position, origin_nm, voxel_nm, radius_nm) -> int:
    voxel = np.asarray(voxel_nm, float)
    lo = np.floor((position - radius_nm - np.asarray(origin_nm)) / voxel).astype(np.int64)
    hi = np.floor((position + radius_nm - np.asarray(origin_nm)) / voxel).astype(np.int64) + 1
    lo, hi = np.maximum(lo, 0), np.minimum(hi, seg.shape)
    if np.any(hi <= lo):
        return 0
    patch = seg[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]]
    grids = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij")
    d2 = sum((np.asarray(origin_nm)[k] + (grids[k] + 0.5) * voxel[k] - position[k]) ** 2 for k in range(3))
    ok = (patch != 0) & (d2 <= radius_nm ** 2)
    if not ok.any():
        return 0
    d, lab = d2[ok], patch[ok]
    best = d == d.min()
    return int(lab[best].min())


def segment_at(seg: np.ndarray, positions_nm: np.ndarray, origin_nm, voxel_nm, partners_nm=None,
               radius_nm: float = SITE_RADIUS_NM) -> np.ndarray:
    """Segment id (uint64) of each synapse site, by :data:`SITE_RULE`.

    Parameters
    ----------
    seg : (Z, Y, X) uint64
        The submitted segmentation.
    positions_nm : (N, 3) float
        Site positions, nm, (z, y, x), in the dataset frame.
    partners_nm : (N, 3) float, optional
        The partner site of each (post for a pre site and vice versa), giving the walking
        direction; without it only the nearest-labelled-voxel step applies.
    origin_nm, voxel_nm : (3,) float
        Corner of voxel (0, 0, 0) and voxel size of ``seg``, nm, (z, y, x).
    radius_nm : float
        How far an unassigned site looks, nm
        (default :data:`~pretty_printer.scoring.conventions.SITE_RADIUS_NM`).

    Returns
    -------
    (N,) uint64
        0 where the site stays unassigned (or lies outside the grid with nothing in reach).
    """
    positions_nm = np.asarray(positions_nm, float).reshape(-1, 3)
    out = _label_at(seg, positions_nm, origin_nm, voxel_nm)
    todo = np.flatnonzero(out == 0)
    if todo.size and partners_nm is not None:
        d = positions_nm[todo] - np.asarray(partners_nm, float).reshape(-1, 3)[todo]
        norm = np.linalg.norm(d, axis=1, keepdims=True)
        d = np.divide(d, norm, out=np.zeros_like(d), where=norm > 0)
        step = 0.25 * float(np.min(voxel_nm))
        ts = np.arange(1, int(np.floor(radius_nm / step)) + 1) * step
        samples = positions_nm[todo, None, :] + ts[None, :, None] * d[:, None, :]
        labs = _label_at(seg, samples, origin_nm, voxel_nm)
        hit = labs != 0
        first = np.argmax(hit, axis=1)
        found = hit.any(axis=1) & (norm[:, 0] > 0)
        out[todo[found]] = labs[found, first[found]]
    for i in np.flatnonzero(out == 0):
        out[i] = _nearest_label(seg, positions_nm[i], origin_nm, voxel_nm, radius_nm)
    return out


def port_segment(seg: np.ndarray, center_nm, radius_nm: float, origin_nm, voxel_nm) -> int:
    """The segment covering most of a sphere (a soma); -1 if it is all unassigned.

    Parameters
    ----------
    seg : (Z, Y, X) uint64
        The submitted segmentation.
    center_nm : (3,) float
        Sphere centre, nm, (z, y, x).
    radius_nm : float
        Sphere radius, nm; voxels whose centres lie inside count.
    origin_nm, voxel_nm : (3,) float
        The grid of ``seg``, nm.

    Returns
    -------
    int
        The most frequent non-zero label among those voxels (ties: the one counted first, in
        C order), or -1.
    """
    center = np.asarray(center_nm, float)
    lo = voxel_index(center - radius_nm, origin_nm, voxel_nm, seg.shape)
    hi = voxel_index(center + radius_nm, origin_nm, voxel_nm, seg.shape) + 1
    grids = np.meshgrid(*[np.arange(a, b) for a, b in zip(lo, hi)], indexing="ij")
    centers = [np.asarray(origin_nm)[d] + (grids[d] + 0.5) * np.asarray(voxel_nm)[d] for d in range(3)]
    inside = sum((c - center[d]) ** 2 for d, c in enumerate(centers)) <= radius_nm ** 2
    labels = seg[lo[0]:hi[0], lo[1]:hi[1], lo[2]:hi[2]][inside]
    labels = labels[labels != 0]
    if labels.size == 0:
        return -1
    return int(Counter(labels.tolist()).most_common(1)[0][0])


def synapse_partners(sub, origin_nm, voxel_nm) -> tuple[np.ndarray, np.ndarray]:
    """(pre, post) segment ids of every submitted synapse, uint64 (0 = unassigned).

    The ``pre_id``/``post_id`` columns where given (exact 64-bit ids, used as they are), else each
    site resolved in ``sub.segmentation`` by :data:`SITE_RULE` (:func:`segment_at`, the partner
    site giving the walking direction).

    Parameters
    ----------
    sub : Submission
    origin_nm, voxel_nm : (3,) float
        The grid of ``sub.segmentation``, nm, (z, y, x).

    Returns
    -------
    pre, post : (N,) uint64
    """
    s = sub.synapses
    pre = (np.asarray(s["pre_id"]).astype(np.uint64) if "pre_id" in s
           else segment_at(sub.segmentation, sub.pre_nm, origin_nm, voxel_nm, sub.post_nm))
    post = (np.asarray(s["post_id"]).astype(np.uint64) if "post_id" in s
            else segment_at(sub.segmentation, sub.post_nm, origin_nm, voxel_nm, sub.pre_nm))
    return pre, post


def synapse_strength_nS(sub, psd_area_per_nS_nm2: float) -> tuple[np.ndarray, str]:
    """Each submitted synapse's strength, nS, and the rule that gave it (first that applies):

    ``conductance_nS`` as submitted; else ``psd_area_nm2 / psd_area_per_nS_nm2`` (the tissue's
    mean PSD area per nS of conductance); else :data:`DEFAULT_SYNAPSE_NS` per synapse.

    Returns
    -------
    strength : (N,) float
        nS.
    rule : str
        Human-readable, reported as ``function.weight_rule``.
    """
    s = sub.synapses
    if "conductance_nS" in s:
        return s["conductance_nS"].astype(float), "submitted conductance_nS"
    if "psd_area_nm2" in s:
        return (s["psd_area_nm2"] / psd_area_per_nS_nm2,
                f"PSD area / {psd_area_per_nS_nm2:g} nm^2 per nS")
    return np.full(sub.n_synapses, DEFAULT_SYNAPSE_NS), f"synapse count x {DEFAULT_SYNAPSE_NS} nS"


def rebuild_circuit(sub, truth: Circuit, phantom, origin_nm, voxel_nm) -> tuple[Circuit, dict]:
    """The circuit a submission describes, simulated with the truth's cell model and protocol.

    Applies every rule of the module doc: synapse partners (:func:`synapse_partners`), strengths
    (:func:`synapse_strength_nS`), ports (:func:`port_segments`), then
    :func:`circuit_from_synapses`.

    Parameters
    ----------
    sub : Submission
        A validated submission (:func:`pretty_printer.submission.format.read_submission`).
    truth : Circuit
        The ground-truth circuit: its cell model, encoding, read-out and task are reused.
    phantom : phantoms.Phantom
        The truth tissue: where the input/output somata are (``soma_center_nm``,
        ``soma_radius_nm``) and the PSD area per nS (``cfg.psd_area_per_nS_nm2``).
    origin_nm, voxel_nm : (3,) float
        The scan grid of ``sub.segmentation``: corner of voxel (0, 0, 0) and voxel size, nm, (z, y, x).

    Returns
    -------
    circuit : Circuit
        Cells numbered 1..n in increasing segment-id order; only cells upstream of an output port.
    info : dict
        The rules applied (``weight_rule``, ``sign_rule``, ``bias_rule``, ``excitability_rule``)
        and counts (``n_cells``, ``n_connections``, ``input_ports_found``, ``output_ports_found``),
        reported in the scorecard's ``function`` section.
    """
    pre, post = synapse_partners(sub, origin_nm, voxel_nm)
    strength, rule = synapse_strength_nS(sub, phantom.cfg.psd_area_per_nS_nm2)
    ports_in, ports_out = port_segments(sub.segmentation, truth, phantom, origin_nm, voxel_nm)
    return circuit_from_synapses(sub, truth, pre, post, strength, rule, ports_in, ports_out)


def port_segments(seg: np.ndarray, truth: Circuit, phantom, origin_nm, voxel_nm) -> tuple[list[int], list[int]]:
    """The segment of each true input and output soma (:func:`port_segment`; -1 where none),
    ordered like ``truth.input_cells`` and ``truth.output_cells``."""
    def find(cells):
        return [port_segment(seg, phantom.soma_center_nm(c), phantom.soma_radius_nm(c), origin_nm, voxel_nm)
                for c in cells]

    return find(truth.input_cells), find(truth.output_cells)


def circuit_from_synapses(sub, truth: Circuit, pre, post, strength_nS, weight_rule: str,
                          ports_in: list[int], ports_out: list[int]) -> tuple[Circuit, dict]:
    """The rebuilt circuit from resolved synapse partners (the rules after site look-up).

    Parameters
    ----------
    sub : Submission
        Read for ``synapses["sign"]``, ``cells`` (``bias_nA``, channel densities) and ``method``.
    truth : Circuit
        Supplies the cell model, encoding, read-out, task and (smallest) synaptic delay.
    pre, post : (N,) uint64
        Segment id of each synapse's ends (0 = unassigned: the synapse is dropped, as is an
        autapse ``pre == post``).
    strength_nS : (N,) float
        Each synapse's strength, nS; a connection's weight is the sum over its synapses
        (``weight_uS`` = sum / 1000).
    weight_rule : str
        How the strengths were obtained (echoed as ``info["weight_rule"]``).
    ports_in, ports_out : list of int
        Segment of each true input / output soma, -1 where none.

    Returns
    -------
    (Circuit, dict)
        As :func:`rebuild_circuit`.
    """
    sign = sub.synapses.get("sign")
    weights: dict[tuple[int, int], float] = defaultdict(float)
    votes: dict[int, list[float]] = defaultdict(list)
    for i, (a, b) in enumerate(zip(np.asarray(pre).tolist(), np.asarray(post).tolist())):
        if a <= 0 or b <= 0 or a == b:
            continue  # unassigned partner or autapse: no connection
        weights[(a, b)] += float(strength_nS[i])
        if sign is not None:
            votes[a].append(float(sign[i]))
    excitatory = {a: (np.sum(v) >= 0) for a, v in votes.items()}

    biases = {}
    if sub.cells is not None and "bias_nA" in sub.cells:
        biases = dict(zip(np.asarray(sub.cells["segment_id"]).astype(np.uint64).tolist(), sub.cells["bias_nA"].tolist()))
    densities, excitability_rule = submitted_densities(sub)

    weights = _upstream_of_outputs(weights, [p for p in ports_out if p > 0])
    ids = sorted({i for pair in weights for i in pair} | {p for p in ports_in + ports_out if p > 0})
    cell_of = {seg_id: k + 1 for k, seg_id in enumerate(ids)}  # opaque 64-bit ids -> 1..n
    model = truth.cells[0].model
    input_ids = set(p for p in ports_in if p > 0)
    output_ids = set(p for p in ports_out if p > 0)
    cells = tuple(
        with_densities(Cell(
            id=cell_of[i],
            role="input" if i in input_ids else ("output" if i in output_ids else "hidden"),
            layer=0 if i in input_ids else 1,
            model=model,
            transmitter="glutamate" if excitatory.get(i, True) else "gaba",
            bias_nA=float(biases.get(i, 0.0)),
        ), densities.get(i, DEFAULT_DENSITIES))
        for i in ids
    )
    connections = tuple(
        Connection(pre=cell_of[a], post=cell_of[b], receptor="AMPA" if excitatory.get(a, True) else "GABA_A",
                   weight_uS=w / 1000.0, delay_ms=_truth_delay(truth))
        for (a, b), w in sorted(weights.items())
    )
    circuit = replace(truth, cells=cells, connections=connections,
                      input_cells=tuple(cell_of.get(p, -1) for p in ports_in),
                      output_cells=tuple(cell_of.get(p, -1) for p in ports_out), meta={"rebuilt_from": sub.method})
    info = {"weight_rule": weight_rule,
            "sign_rule": "submitted sign (majority per segment)" if sign is not None else "all excitatory (no sign submitted)",
            "bias_rule": "submitted bias_nA" if biases else "0 nA (no bias_nA submitted)",
            "excitability_rule": excitability_rule,
            "n_cells": len(cells), "n_connections": len(connections),
            "input_ports_found": int(sum(p > 0 for p in ports_in)),
            "output_ports_found": int(sum(p > 0 for p in ports_out))}
    return circuit, info


def submitted_densities(sub) -> tuple[dict[int, dict[str, float]], str]:
    """Per-segment tonic channel densities from ``cells.csv`` and the rule that was applied.

    Returns
    -------
    densities : dict
        ``{segment id: {column: mS/cm^2}}`` for every ``cells.csv`` row: the submitted columns of
        :data:`~pretty_printer.circuit.excitability.CHANNEL_COLUMNS`, the others at their default
        (:data:`~pretty_printer.circuit.excitability.DEFAULT_DENSITIES`); empty if no density
        column was submitted (then every cell gets the defaults).
    rule : str
        Reported as ``function.excitability_rule``.
    """
    cols = [c for c in CHANNEL_COLUMNS if sub.cells is not None and c in sub.cells]
    default = ", ".join(f"{c}={v:g}" for c, v in DEFAULT_DENSITIES.items())
    if not cols:
        return {}, f"default channel densities ({default}; no densities submitted)"
    seg = np.asarray(sub.cells["segment_id"]).astype(np.uint64).tolist()
    out = {s: dict(DEFAULT_DENSITIES, **{c: float(sub.cells[c][k]) for c in cols})
           for k, s in enumerate(seg)}
    missing = [c for c in CHANNEL_COLUMNS if c not in cols]
    rule = f"submitted {', '.join(cols)} per segment"
    if missing:
        rule += f" (default {', '.join(missing)})"
    return out, rule + f"; segments without a row: default ({default})"


def _upstream_of_outputs(weights: dict, outputs: list[int]) -> dict:
    """Keep only connections onto cells that can reach an output port.

    Exact: a cell with no path to an output cannot change any output rate, so dropping it (and
    everything that only feeds it) changes nothing but the simulation time.
    """
    parents: dict[int, list[int]] = defaultdict(list)
    for a, b in weights:
        parents[b].append(a)
    keep, stack = set(outputs), list(outputs)
    while stack:
        for a in parents.get(stack.pop(), ()):
            if a not in keep:
                keep.add(a)
                stack.append(a)
    return {(a, b): w for (a, b), w in weights.items() if b in keep}


def _truth_delay(truth: Circuit) -> float:
    delays = {k.delay_ms for k in truth.connections}
    return float(min(delays)) if delays else 1.0

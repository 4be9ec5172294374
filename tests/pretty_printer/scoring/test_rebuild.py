"""The rebuild rules (``scoring/rebuild.py``) on small hand-built volumes and tables with known
answers: site look-up, partner assignment, ports, sign, weight, excitability and pruning."""

from __future__ import annotations

import numpy as np
import pytest

from pretty_printer.circuit.description import Cell, Circuit, Connection
from pretty_printer.circuit.excitability import CHANNEL_COLUMNS, DEFAULT_DENSITIES
from pretty_printer.scoring.rebuild import (
    DEFAULT_SYNAPSE_NS, circuit_from_synapses, port_segment, segment_at, submitted_densities,
    synapse_partners, synapse_strength_nS, voxel_index,
)
from pretty_printer.submission.format import POSITION_COLUMNS, Submission

ORIGIN = (0.0, 0.0, 0.0)
VOXEL = (10.0, 10.0, 10.0)


def _seg():
    """A 1 x 4 x 10 grid (z, y, x): segment 5 at x < 4, unassigned x = 4, 5, segment 7 at x > 5."""
    seg = np.zeros((1, 4, 10), np.uint64)
    seg[..., :4] = 5
    seg[..., 6:] = 7
    return seg


def _sub(pre_nm, post_nm, seg=None, cells=None, **columns) -> Submission:
    pre, post = np.asarray(pre_nm, float).reshape(-1, 3), np.asarray(post_nm, float).reshape(-1, 3)
    syn = {c: np.concatenate([pre, post], axis=1)[:, k] for k, c in enumerate(POSITION_COLUMNS)}
    syn.update({k: np.asarray(v) for k, v in columns.items()})
    return Submission(modality="em", segmentation=_seg() if seg is None else seg, synapses=syn,
                      cells=cells, method="hand-built")


def _truth() -> Circuit:
    cells = (Cell(1, "input", 0, "hh", "glutamate"), Cell(2, "output", 1, "hh", "glutamate"))
    return Circuit(task="xor", cells=cells, connections=(Connection(1, 2, "AMPA", 0.002, delay_ms=2.5),
                                                         Connection(2, 1, "AMPA", 0.001, delay_ms=4.0)),
                   input_cells=(1,), output_cells=(2,))


# --------------------------------------------------------------------------- sites
def test_voxel_index_half_open_voxels_clipped_to_the_grid():
    idx = voxel_index(np.array([[0.0, 9.999, 10.0], [-5.0, 39.0, 1e6]]), ORIGIN, VOXEL, (1, 4, 10))
    assert idx.tolist() == [[0, 0, 1], [0, 3, 9]]


def test_site_in_a_labelled_voxel_takes_its_label():
    assert segment_at(_seg(), [[5.0, 15.0, 25.0], [5.0, 15.0, 95.0]], ORIGIN, VOXEL).tolist() == [5, 7]


def test_unassigned_site_walks_away_from_its_partner():
    # the site at x = 45 nm (unassigned) with its partner at x = 25 nm (inside 5): walking from
    # the partner through the site, away from the cleft, meets segment 7 at x = 60 nm (15 nm on)
    got = segment_at(_seg(), [[5.0, 15.0, 45.0]], ORIGIN, VOXEL, partners_nm=[[5.0, 15.0, 25.0]])
    assert got.tolist() == [7]
    # the same site with its partner on the other side walks into segment 5 instead
    got = segment_at(_seg(), [[5.0, 15.0, 55.0]], ORIGIN, VOXEL, partners_nm=[[5.0, 15.0, 85.0]])
    assert got.tolist() == [5]


def test_unassigned_site_without_partner_takes_the_nearest_labelled_centre_ties_to_the_smaller_id():
    # x = 50 nm: the centres at x = 35 (segment 5) and x = 65 (segment 7) are both 15 nm away
    assert segment_at(_seg(), [[5.0, 15.0, 50.0]], ORIGIN, VOXEL).tolist() == [5]
    # x = 52 nm: 17 nm to segment 5, 13 nm to segment 7
    assert segment_at(_seg(), [[5.0, 15.0, 52.0]], ORIGIN, VOXEL).tolist() == [7]


def test_site_with_nothing_in_reach_stays_unassigned():
    seg = np.zeros((1, 4, 30), np.uint64)
    seg[..., 25:] = 3  # 250 nm and beyond: further than the radius from x = 45 nm
    assert segment_at(seg, [[5.0, 15.0, 45.0]], ORIGIN, VOXEL, partners_nm=[[5.0, 15.0, 35.0]],
                      radius_nm=100.0).tolist() == [0]
    assert segment_at(seg, [[5.0, 15.0, 45.0]], ORIGIN, VOXEL, radius_nm=210.0).tolist() == [3]


def test_port_is_the_segment_covering_most_of_the_soma_or_minus_one():
    seg = np.zeros((1, 4, 10), np.uint64)
    seg[..., :3] = 5
    seg[..., 3:] = 7
    # centre x = 38 nm, radius 20 nm: voxel centres x = 25 (segment 5) and 35, 45, 55 (segment 7),
    # two rows each: 7 covers six voxels, 5 two
    assert port_segment(seg, (5.0, 20.0, 38.0), 20.0, ORIGIN, VOXEL) == 7
    assert port_segment(seg, (5.0, 20.0, 12.0), 12.0, ORIGIN, VOXEL) == 5  # x = 5, 15: all segment 5
    assert port_segment(_seg(), (5.0, 20.0, 50.0), 6.0, ORIGIN, VOXEL) == -1  # only unassigned voxels


# --------------------------------------------------------------------------- partners and strength
def test_submitted_ids_win_over_the_segmentation():
    sub = _sub([[5, 15, 25]], [[5, 15, 95]], pre_id=np.array([2**63 + 1], np.uint64),
               post_id=np.array([9], np.uint64))
    pre, post = synapse_partners(sub, ORIGIN, VOXEL)
    assert pre.tolist() == [2**63 + 1] and post.tolist() == [9] and pre.dtype == np.uint64


def test_partners_from_sites_use_each_other_as_walking_direction():
    sub = _sub([[5, 15, 25], [5, 15, 45]], [[5, 15, 95], [5, 15, 25]])
    pre, post = synapse_partners(sub, ORIGIN, VOXEL)
    assert pre.tolist() == [5, 7] and post.tolist() == [7, 5]


def test_strength_rule_order_conductance_then_psd_area_then_count():
    base = ([[5, 15, 25]] * 2, [[5, 15, 95]] * 2)
    s, rule = synapse_strength_nS(_sub(*base, conductance_nS=[0.5, 2.0], psd_area_nm2=[1.0, 1.0]), 100.0)
    assert s.tolist() == [0.5, 2.0] and "conductance_nS" in rule
    s, rule = synapse_strength_nS(_sub(*base, psd_area_nm2=[300.0, 50.0]), 100.0)
    assert s.tolist() == [3.0, 0.5] and "PSD area" in rule
    s, rule = synapse_strength_nS(_sub(*base), 100.0)
    assert s.tolist() == [DEFAULT_SYNAPSE_NS] * 2 and "count" in rule


# --------------------------------------------------------------------------- the circuit
def _rebuild(pre, post, strength, ports_in=(5,), ports_out=(7,), **columns):
    n = len(pre)
    sub = _sub([[5, 15, 25]] * n, [[5, 15, 95]] * n, **columns)
    return circuit_from_synapses(sub, _truth(), np.asarray(pre, np.uint64), np.asarray(post, np.uint64),
                                 np.asarray(strength, float), "test rule", list(ports_in), list(ports_out))


def test_weights_sum_over_synapses_and_cells_are_numbered_by_segment_id():
    circuit, info = _rebuild([5, 5, 9, 5], [7, 7, 7, 9], [1.0, 2.5, 4.0, 0.5])
    # segments 5 < 7 < 9 become cells 1, 2, 3
    assert [c.id for c in circuit.cells] == [1, 2, 3]
    got = {(k.pre, k.post): k.weight_uS for k in circuit.connections}
    assert got == pytest.approx({(1, 2): 3.5e-3, (3, 2): 4.0e-3, (1, 3): 0.5e-3})
    assert all(k.delay_ms == 2.5 for k in circuit.connections)  # the truth's smallest delay
    assert circuit.input_cells == (1,) and circuit.output_cells == (2,)
    assert [c.role for c in circuit.cells] == ["input", "output", "hidden"]
    assert [c.layer for c in circuit.cells] == [0, 1, 1]
    assert info["weight_rule"] == "test rule" and info["n_cells"] == 3 and info["n_connections"] == 3
    assert info["input_ports_found"] == 1 and info["output_ports_found"] == 1


def test_unassigned_partners_and_autapses_make_no_connection():
    circuit, info = _rebuild([0, 5, 7, 5], [7, 0, 7, 7], [9.0, 9.0, 9.0, 1.0])
    assert [(k.pre, k.post, k.weight_uS) for k in circuit.connections] == [(1, 2, pytest.approx(1e-3))]


def test_only_cells_upstream_of_an_output_are_kept():
    # 5 -> 7 (output) is kept; 7 -> 11 and 11 -> 13 lead away from every output
    circuit, info = _rebuild([5, 7, 11], [7, 11, 13], [1.0, 1.0, 1.0])
    assert len(circuit.cells) == 2 and len(circuit.connections) == 1
    # 13 -> 5 -> 7: 13 feeds the output through 5, so it stays
    circuit, _ = _rebuild([5, 13], [7, 5], [1.0, 1.0])
    assert len(circuit.cells) == 3 and len(circuit.connections) == 2


def test_sign_is_the_majority_per_pre_segment_ties_excitatory_default_excitatory():
    circuit, info = _rebuild([5, 5, 5, 9, 9], [7, 7, 9, 7, 7], [1.0] * 5, sign=[-1, -1, 1, 1, -1])
    by_id = {c.id: c for c in circuit.cells}
    assert by_id[1].transmitter == "gaba"  # segment 5: two of three inhibitory
    assert by_id[3].transmitter == "glutamate"  # segment 9: a tie
    assert by_id[2].transmitter == "glutamate"  # segment 7: no synapse of its own
    assert {(k.pre, k.receptor) for k in circuit.connections} == {(1, "GABA_A"), (3, "AMPA")}
    assert "majority" in info["sign_rule"]
    circuit, info = _rebuild([5], [7], [1.0])
    assert all(c.transmitter == "glutamate" for c in circuit.cells) and "all excitatory" in info["sign_rule"]


def test_missing_ports_are_minus_one_and_found_ports_are_counted():
    circuit, info = _rebuild([5], [7], [1.0], ports_in=(-1,), ports_out=(7,))
    assert circuit.input_cells == (-1,) and info["input_ports_found"] == 0
    circuit, info = _rebuild([5], [7], [1.0], ports_in=(5,), ports_out=(-1,))
    # no output port: nothing is upstream of an output, only the input port remains
    assert circuit.output_cells == (-1,) and circuit.connections == () and [c.id for c in circuit.cells] == [1]


def test_bias_and_channel_densities_come_from_cells_csv_else_defaults():
    col = CHANNEL_COLUMNS[0]
    cells = {"segment_id": np.array([7], np.uint64), "bias_nA": np.array([0.25]), col: np.array([0.03])}
    sub = _sub([[5, 15, 25]], [[5, 15, 95]], cells=cells)
    circuit, info = circuit_from_synapses(sub, _truth(), np.array([5], np.uint64), np.array([7], np.uint64),
                                          np.array([1.0]), "r", [5], [7])
    by_id = {c.id: c for c in circuit.cells}
    assert by_id[2].bias_nA == 0.25 and getattr(by_id[2], col) == 0.03
    for other in CHANNEL_COLUMNS[1:]:
        assert getattr(by_id[2], other) == DEFAULT_DENSITIES[other]  # a column not given: default
    assert by_id[1].bias_nA == 0.0 and all(getattr(by_id[1], c) == DEFAULT_DENSITIES[c] for c in CHANNEL_COLUMNS)
    assert info["bias_rule"] == "submitted bias_nA" and col in info["excitability_rule"]


def test_densities_rule_without_any_density_column():
    sub = _sub([[5, 15, 25]], [[5, 15, 95]], cells={"segment_id": np.array([7], np.uint64)})
    densities, rule = submitted_densities(sub)
    assert densities == {} and rule.startswith("default channel densities")


def test_model_encoding_and_readout_are_the_truths():
    truth = _truth()
    circuit, _ = _rebuild([5], [7], [1.0])
    assert {c.model for c in circuit.cells} == {"hh"}
    assert circuit.encoding == truth.encoding and circuit.readout == truth.readout and circuit.task == truth.task
    assert circuit.meta == {"rebuilt_from": "hand-built"}

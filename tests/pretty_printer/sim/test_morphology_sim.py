"""Grown cells in NEURON: sections from skeletons, synapses at grown sites, recalibrated circuit."""

import json
from dataclasses import replace

import numpy as np
import pytest

import phantoms
from pretty_printer.circuit.cellmodels import get_cell_model, nA_per_uA_cm2
from pretty_printer.sim.fi import fi_curve
from pretty_printer.circuit.description import Cell, Circuit, Connection, Encoding
from pretty_printer.sim.morphology import Morphology, morphology_from_phantom
from pretty_printer.sim.morphology_calibration import (Recalibration, RecalibrationConfig, _fit_cell,
                                                   area_scaled)
from pretty_printer.sim.neuron_backend import simulate_morphological

WB = get_cell_model("wang_buzsaki")


@pytest.fixture(scope="module")
def grown():
    spec = phantoms.xor_spec(0)
    cells = tuple(replace(c, g_na_mS_cm2=WB.g_na_mS_cm2, g_k_mS_cm2=WB.g_k_mS_cm2,
                          g_leak_mS_cm2=WB.g_leak_mS_cm2) for c in spec.cells)
    phantom = phantoms.grow(phantoms.CircuitSpec(cells, spec.edges), phantoms.GrowthConfig(), 0)
    return phantom, morphology_from_phantom(phantom)


def _point_on(section, x):
    """The 3D point (um) at fraction x of a section's arc length."""
    pts = section.xyz_um
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(pts, axis=0), axis=1))])
    s = x * arc[-1]
    return np.array([np.interp(s, arc, pts[:, k]) for k in range(3)])


def test_sections_cover_the_skeleton_and_sites_sit_at_grown_synapses(grown):
    phantom, morph = grown
    for cid in phantom.cell_ids:
        cm, sk = morph.cell(cid), phantom.skeleton(cid)
        assert cm.sections[0].kind == "soma"
        assert all(s.parent < i for i, s in enumerate(cm.sections))  # parents come first
        # soma area = the grown sphere's
        assert cm.sections[0].area_um2 == pytest.approx(4 * np.pi * (sk.radii_nm[0] / 1000) ** 2)
        # every skeleton edge lies in exactly one section: total neurite length is preserved
        edge_um = np.linalg.norm(sk.nodes_nm[1:] - sk.nodes_nm[sk.parent[1:]], axis=1).sum() / 1000
        sec_um = sum(s.length_um for s in cm.sections[1:])
        soma_children = (sk.parent == 0).sum()
        assert edge_um - soma_children * sk.radii_nm[0] / 1000 - 1e-6 <= sec_um <= edge_um + 1e-6
    syn = phantom.synapses
    post_um = syn.post_nm[:, ::-1] / 1000
    for (pre, post), sites in morph.sites.items():
        assert sum(s.share for s in sites) == pytest.approx(1.0)
        mine = np.flatnonzero((syn["pre_cell"] == pre) & (syn["post_cell"] == post))
        assert len(mine) == len(sites)
        for site, i in zip(sites, mine):
            sec = morph.cell(post).sections[site.section]
            # the site is on the membrane next to the PSD: within the section's calibre
            assert np.linalg.norm(_point_on(sec, site.x) - post_um[i]) < sec.diam_um.max() + 0.05
            assert 0 <= site.delay_ms < 0.2


def _one_cell(cid, bias_nA=0.0):
    return Circuit("t", (Cell(cid, "input", 0, "wang_buzsaki", "glutamate", bias_nA),), (), (cid,),
                   (cid,), Encoding(scale_nA=1.0))


def test_grown_cell_fires_at_the_soma_like_its_point_model(grown):
    phantom, morph = grown
    cid = phantom.cell_ids[0]
    area = morph.cell(cid).area_um2
    dens = np.array([0.0, 2.0, 4.0])  # uA/cm2, injected at the soma
    sim = simulate_morphological(_one_cell(cid), morph, (dens * nA_per_uA_cm2(area))[:, None],
                                 record_spikes=True)
    rates = sim.rates_Hz[:, 0]
    assert rates[0] == 0.0 and len(sim.spike_times[0][0]) == 0
    assert rates[1] > 0 and rates[2] > rates[1]
    # uniform densities on a compact cell: the same f-I curve per unit area as the point cell
    np.testing.assert_allclose(rates[1:], fi_curve("wang_buzsaki").rate(dens[1:]), rtol=0.15, atol=6)


def test_synapse_at_grown_location_raises_post_rate(grown):
    phantom, morph = grown
    pre, post = next((k for k, sites in morph.sites.items()
                      if phantom.cell_spec(k[0]).excitatory and any(s.section > 0 for s in sites)))
    k_post = nA_per_uA_cm2(morph.cell(post).area_um2)
    k_pre = nA_per_uA_cm2(morph.cell(pre).area_um2)
    cells = (Cell(pre, "input", 0, "wang_buzsaki", "glutamate"),
             Cell(post, "output", 1, "wang_buzsaki", "glutamate", 0.1 * k_post))
    # ~1 nS per 1000 um2 (see test_neuron_backend), scaled to the grown area
    g_uS = 0.003 * morph.cell(post).area_um2 / 1000.0
    base = Circuit("t", cells, (), (pre,), (post,), Encoding(scale_nA=k_pre))
    wired = base.with_connections([Connection(pre, post, "AMPA", g_uS)])
    X = np.array([[0.0], [3.0]])
    r0 = simulate_morphological(base, morph, X).rates_of((pre, post))
    r1 = simulate_morphological(wired, morph, X).rates_of((pre, post))
    assert r1[1, 0] > 20 and r0[1, 1] == 0.0  # pre fires; unconnected post stays silent
    assert r1[0, 1] == 0.0 and r1[1, 1] > 5.0  # the grown synapse drives post only when pre fires
    # the same conductance on a bare soma site only: distal placement must not make it stronger
    soma_only = Morphology(morph.cells, {})
    r_soma = simulate_morphological(wired, soma_only, X).rates_of((post,))[1, 0]
    assert r1[1, 1] <= r_soma + 5.0


def test_area_scaling_and_fit_known_answers(grown):
    phantom, morph = grown
    cells = tuple(Cell(c.id, c.role, c.layer, "wang_buzsaki", "glutamate" if c.excitatory else "gaba",
                       0.5) for c in phantom.spec.cells)
    conns = tuple(Connection(e.pre, e.post, e.receptor, e.conductance_nS / 1000) for e in phantom.spec.edges)
    circuit = Circuit("t", cells, conns, (1, 2), (8,))
    rec = area_scaled(circuit, morph)
    for old, new in zip(circuit.connections, rec.circuit.connections):
        assert new.weight_uS == pytest.approx(old.weight_uS * morph.cell(old.post).area_um2 / 1000.0)
    assert rec.input_gain[1] == pytest.approx(morph.cell(1).area_um2 / 1000.0)
    # the per-cell fit recovers a known gain and offset (no ridge)
    drive = np.linspace(0.5, 3.0, 12)
    g, b = _fit_cell(0.2 + drive, 0.7 + 1.3 * drive, 0.2, RecalibrationConfig(ridge=0.0))
    assert g == pytest.approx(1.3) and b == pytest.approx(0.7)
    # clipped gains refit the offset
    g, _ = _fit_cell(0.2 + drive, 5.0 * drive, 0.2, RecalibrationConfig(ridge=0.0, max_gain=2.0))
    assert g == 2.0


def test_tiny_xor_dataset_computes_with_grown_cells(tiny_dataset):
    fid = json.loads((tiny_dataset / "truth" / "fidelity.json").read_text())
    assert 0 < fid["morphology_n_test"] <= 100
    assert fid["morphology_accuracy"] >= fid["ann_accuracy"] - 0.05
    rec = Recalibration.load(tiny_dataset / "truth" / "circuit_morphology.json")
    assert rec.report["rounds"] and rec.report["movement"]["weight_ratio_to_point"]["max"] < 1.0
    assert set(rec.area_um2) == {c.id for c in rec.circuit.cells}

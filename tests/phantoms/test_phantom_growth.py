import numpy as np
import pytest

import phantoms
from phantoms.collision import CapsuleIndex
from phantoms.rasterize import cell_depth, primitives
from phantoms.receptors import RECEPTOR_UNIT_pS, plan_synapses


def test_every_connection_has_a_synapse_at_the_cell_surfaces(tiny):
    S = tiny.synapses
    for e in tiny.spec.edges:
        rows = np.flatnonzero((S["pre_cell"] == e.pre) & (S["post_cell"] == e.post))
        assert len(rows) >= 1, f"{e.pre} -> {e.post} has no synapse"
        for i in rows:
            assert abs(cell_depth(tiny, e.pre, S.pre_nm[i])[0]) <= 50.0
            assert abs(cell_depth(tiny, e.post, S.post_nm[i])[0]) <= 50.0
            # the sites face each other across the cleft and sit on no third cell
            assert 10.0 <= np.linalg.norm(S.pre_nm[i] - S.post_nm[i]) <= 30.0
            assert cell_depth(tiny, e.pre, S.post_nm[i])[0] < 0
            assert cell_depth(tiny, e.post, S.pre_nm[i])[0] < 0


def test_receptors_convert_back_to_the_circuit_conductance(tiny):
    S = tiny.synapses
    for e in tiny.spec.edges:
        rows = (S["pre_cell"] == e.pre) & (S["post_cell"] == e.post)
        assert S["conductance_nS"][rows].sum() == pytest.approx(e.conductance_nS, rel=1e-12)
        counts = S[f"n_{e.receptor}"][rows]
        assert np.all(counts >= 1)
        unit = S["receptor_unit_pS"][rows]
        assert counts.sum() * unit[0] / 1000.0 == pytest.approx(e.conductance_nS, rel=1e-12)
        # the effective unit is within half a receptor of the nominal single-receptor conductance
        nominal = RECEPTOR_UNIT_pS[e.receptor]
        assert abs(unit[0] - nominal) <= 0.5 * nominal / counts.sum() * 1.0001 * (e.conductance_nS * 1000 / nominal)
        for other in ("AMPA", "NMDA", "GABA_A"):
            if other != e.receptor:
                assert np.all(S[f"n_{other}"][rows] == 0)


def test_spines_on_excitatory_targets_only(tiny):
    S = tiny.synapses
    exc = {c.id: c.excitatory for c in tiny.spec.cells}
    for i in range(len(S)):
        if S["spine"][i] and int(S["pre_cell"][i]) in exc:  # the circuit's synapses
            assert exc[int(S["post_cell"][i])] and exc[int(S["pre_cell"][i])]
    assert S["spine"].sum() > 0


def test_stronger_connections_get_more_synapse(tiny):
    S = tiny.synapses
    g = np.array([e.conductance_nS for e in tiny.spec.edges])
    n = np.array([np.sum((S["pre_cell"] == e.pre) & (S["post_cell"] == e.post)) for e in tiny.spec.edges])
    area = np.array([S["psd_area_nm2"][(S["pre_cell"] == e.pre) & (S["post_cell"] == e.post)].sum()
                     for e in tiny.spec.edges])
    assert np.corrcoef(g, n)[0, 1] > 0.5
    assert np.corrcoef(g, area)[0, 1] > 0.5


def test_cells_keep_the_extracellular_gap(tiny):
    """Every capsule of every cell clears every other cell's by the gap (exact geometry check)."""
    P = primitives(tiny)
    index = CapsuleIndex()
    for i in range(len(P.cid)):
        index.add(P.a[i], P.b[i], max(P.ra[i], P.rb[i]), int(P.cid[i]))
    gap = tiny.cfg.extracellular_gap_nm
    worst = min(index.clearance(P.a[i], P.b[i], max(P.ra[i], P.rb[i]), int(P.cid[i]), gap)
                for i in range(len(P.cid)))
    assert worst >= -1e-6


def test_somata_spacing_and_layers(tiny):
    c = tiny.soma_centers
    d = np.linalg.norm(c[:, None] - c[None], axis=2) + np.eye(len(c)) * 1e9
    assert d.min() >= tiny.cfg.min_soma_spacing_nm
    x = {cell.layer: [] for cell in tiny.spec.cells}
    for cell, pos in zip(tiny.spec.cells, c):
        x[cell.layer].append(pos[tiny.cfg.layer_axis])
    assert max(x[0]) < min(x[1]) and max(x[1]) < min(x[2])
    lo, hi = tiny.block_origin_nm, tiny.block_origin_nm + tiny.block_size_nm
    for sk in tiny.skeletons:
        assert np.all(sk.nodes_nm - sk.radii_nm[:, None] >= lo - 1e-6)
        assert np.all(sk.nodes_nm + sk.radii_nm[:, None] <= hi + 1e-6)


def test_skeletons_are_trees_with_tapering_dendrites(tiny):
    cfg = tiny.cfg
    for cid in tiny.cell_ids:
        nodes, radii, parent, types = tiny.skeleton(cid)
        assert parent[0] == -1 and types[0] == 1 and np.all(parent[1:] < np.arange(1, len(parent)))
        assert np.all(parent[1:] >= 0)
        dend = types == 3
        assert radii[dend].min() >= min(cfg.dendrite_min_radius_nm, cfg.spine_neck_radius_nm) - 1e-9
        assert radii[dend].max() <= max(cfg.dendrite_radius_nm, cfg.psd_area_max_nm2 ** 0.5)
    # an axon leaves every cell with outgoing connections, thin except at boutons
    for pre in {e.pre for e in tiny.spec.edges}:
        _, radii, _, types = tiny.skeleton(pre)
        assert np.median(radii[types == 2]) == pytest.approx(cfg.axon_radius_nm)


def test_barcodes_unique_k_of_n(tiny):
    codes = [tuple(tiny.barcodes[c]) for c in tiny.cell_ids]
    assert len(set(codes)) == len(codes)
    assert all(sum(c) == tiny.cfg.barcode_k and len(c) == tiny.cfg.barcode_proteins for c in codes)


def test_channel_densities_equal_the_cell_model(tiny):
    for cell in tiny.spec.cells:
        ch = tiny.channel_densities(cell.id)
        n = len(tiny.skeleton(cell.id).radii_nm)
        assert np.all(ch["g_na_mS_cm2"] == cell.g_na_mS_cm2) and len(ch["g_na_mS_cm2"]) == n
        assert np.all(ch["g_k_mS_cm2"] == cell.g_k_mS_cm2)
        assert np.all(ch["g_leak_mS_cm2"] == cell.g_leak_mS_cm2)


def test_same_seed_same_bytes_other_seed_differs(tiny, tmp_path):
    again = phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 0)
    tiny.save(tmp_path / "a")
    again.save(tmp_path / "b")
    for name in ("phantom.json", "arrays.npz"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    other = phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 1)
    assert not np.array_equal(other.soma_centers, tiny.soma_centers)


def test_save_load_round_trip(tiny, tmp_path):
    tiny.save(tmp_path / "p")
    back = phantoms.load_phantom(tmp_path / "p")
    assert back.cfg == tiny.cfg and back.spec == tiny.spec and back.cell_ids == tiny.cell_ids
    for a, b in zip(back.skeletons, tiny.skeletons):
        for x, y in zip(a, b):
            assert np.array_equal(x, y) and x.dtype == y.dtype
    for k, v in tiny.synapses.columns().items():
        assert np.array_equal(back.synapses[k], v)
    assert all(np.array_equal(back.barcodes[c], tiny.barcodes[c]) for c in tiny.all_cell_ids)
    assert back.background_ids == tiny.background_ids and back.packing == tiny.packing
    assert back.background_classes == tiny.background_classes
    for a, b in zip(back.background_skeletons, tiny.background_skeletons):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    back.save(tmp_path / "q")
    assert (tmp_path / "q" / "arrays.npz").read_bytes() == (tmp_path / "p" / "arrays.npz").read_bytes()


def test_unrealizable_connection_names_it():
    spec = phantoms.xor_spec(0)
    # somata and dendrites fit, but a bouton this big fits nowhere in a 2 um thick block
    cfg = phantoms.GrowthConfig(bouton_radius_nm=1100.0, synapse_attempts=3)
    first = spec.edges[0]
    with pytest.raises(phantoms.GrowthError, match=rf"connection {first.pre} -> {first.post}\b"):
        phantoms.grow(spec, cfg, 0)


def test_receptor_size_correlation_knob():
    spec = phantoms.layered_spec(8, 8, 4, density=0.8, rng=3)
    def corr(rho):
        cfg = phantoms.GrowthConfig(receptor_size_correlation=rho, psd_area_min_nm2=1.0,
                                    psd_area_max_nm2=1e9, max_synapses_per_connection=4)
        plans = plan_synapses(spec, cfg, 0)
        g = np.array([spec.edges[p.edge_index].conductance_nS * p.share for p in plans])
        return np.corrcoef(np.log(g), np.log([p.psd_area_nm2 for p in plans]))[0, 1]
    assert corr(1.0) > 0.999
    assert 0.35 < corr(0.6) < 0.8
    assert abs(corr(0.0)) < 0.25

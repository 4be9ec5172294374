"""Dense neuropil: background cells around the circuit, the packing rule, and measured statistics."""

import numpy as np
import pytest

import phantoms
from phantoms.rasterize import cell_depth
from phantoms.stats import tissue_stats

ONE_CELL = phantoms.CircuitSpec(cells=(phantoms.CellSpec(id=1, role="hidden", layer=0, excitatory=True),), edges=())


@pytest.mark.parametrize("target", [0.05, 0.20])
def test_measured_extracellular_fraction_meets_the_target(target):
    cfg = phantoms.GrowthConfig(block_nm=(1500.0, 2500.0, 2500.0), ecs_fraction=target)
    ph = phantoms.grow(ONE_CELL, cfg, 3)
    shape = np.round(ph.block_size_nm / 20.0).astype(int)
    labels = phantoms.rasterize(ph, ph.block_origin_nm, shape, 20.0)["labels"]
    assert abs(np.mean(labels == 0) - target) <= 0.03
    assert len(ph.background_ids) > 10


@pytest.fixture(scope="module")
def stats(tiny):
    return tissue_stats(tiny, 0)


def test_tiny_is_dense_neuropil(tiny, stats):
    assert abs(stats["ecs_fraction"] - tiny.cfg.ecs_fraction) <= 0.03
    assert stats["membrane_within_50nm"] >= 0.8
    assert stats["profiles_per_um2"] > 3.0
    assert stats["volume_fractions"]["background_axon"] > 0.05
    assert stats["volume_fractions"]["glia"] > 0.01
    assert 0.1 <= stats["axon_diameter_um"]["median"] <= 0.4
    assert 0.4 <= stats["synapse_density_per_um3"] <= 1.5
    assert stats["synapses_per_connection"]["max"] > 1
    # the cell counts are disjoint and add up to every cell of the phantom
    assert sum(stats["cells"].values()) == len(tiny.cell_ids) + len(tiny.background_ids)
    assert stats["cells"]["glia"] > 0 and stats["cells"]["background_neurons"] > 0


def test_the_circuit_is_untouched_by_its_neuropil(tiny, tiny_sparse):
    assert tiny.cell_ids == tiny_sparse.cell_ids
    for a, b in zip(tiny.skeletons, tiny_sparse.skeletons):
        assert all(np.array_equal(x, y) for x, y in zip(a, b))
    circuit = np.isin(tiny.synapses["pre_cell"], tiny.cell_ids)
    for k, v in tiny_sparse.synapses.columns().items():
        assert np.array_equal(tiny.synapses[k][circuit], v)
    assert all(np.array_equal(tiny.barcodes[c], tiny_sparse.barcodes[c]) for c in tiny.cell_ids)


def test_background_cells_have_classes_and_synapse_only_among_themselves(tiny):
    assert set(tiny.background_classes) == {"neuron_background", "glia"}
    assert not set(tiny.background_ids) & set(tiny.cell_ids)
    assert all(tiny.cell_class(c) == "neuron_circuit" for c in tiny.cell_ids)
    pre, post = tiny.synapses["pre_cell"], tiny.synapses["post_cell"]
    circuit_pre, circuit_post = np.isin(pre, tiny.cell_ids), np.isin(post, tiny.cell_ids)
    assert np.array_equal(circuit_pre, circuit_post)  # no synapse joins the circuit to the background
    bg = ~circuit_pre
    assert bg.sum() > 10
    glia = [c for c, k in zip(tiny.background_ids, tiny.background_classes) if k == "glia"]
    assert not np.isin(pre[bg], glia).any() and not np.isin(post[bg], glia).any()


def test_background_synapses_sit_where_their_labels_meet(tiny):
    S = tiny.synapses
    rows = np.flatnonzero(~np.isin(S["pre_cell"], tiny.cell_ids))[:6]
    for i in rows:
        P, Q = S.post_nm[i], S.pre_nm[i]
        gap = np.linalg.norm(Q - P)
        assert gap == pytest.approx(tiny.packing["gap_nm"], abs=1e-6)
        n = (Q - P) / gap
        pts = np.array([P - 4.0 * n, Q + 4.0 * n, 0.5 * (P + Q)])
        lab = [phantoms.rasterize(tiny, p - 0.5, (1, 1, 1), 1.0)["labels"][0, 0, 0] for p in pts]
        assert lab == [S["post_cell"][i], S["pre_cell"][i], 0]
        # vesicles in proportion to the bouton's volume
        v = np.sum(tiny.vesicle_synapse == S["id"][i])
        expect = tiny.cfg.vesicles_per_um3 * 4 / 3 * np.pi * (S["bouton_radius_nm"][i] / 1000) ** 3
        assert v == pytest.approx(expect, rel=0.1, abs=2)
        assert cell_depth(tiny, int(S["pre_cell"][i]), S["bouton_z_nm"][i:i + 1].tolist()
                          + S["bouton_y_nm"][i:i + 1].tolist() + S["bouton_x_nm"][i:i + 1].tolist())[0] > 0


def test_bad_ecs_fraction_is_named():
    with pytest.raises(ValueError, match="ecs_fraction"):
        phantoms.GrowthConfig(ecs_fraction=1.5)

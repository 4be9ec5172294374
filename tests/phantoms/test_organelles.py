"""Organelles and synapse types: placed deterministically, inside their cells, rasterized chunk-exactly."""

import dataclasses

import numpy as np
import pytest

import phantoms
from phantoms.organelle_fields import glia_ids, synapse_geometry
from phantoms.organelles import Organelles, place_organelles
from phantoms.rasterize import SEMANTIC_CLASSES

VOX = (40.0, 16.0, 16.0)


@pytest.fixture(scope="module")
def ph(tiny):
    return dataclasses.replace(tiny, organelles=place_organelles(tiny, np.random.default_rng(5)).arrays())


@pytest.fixture(scope="module")
def fields(ph):
    shape = tuple(int(s) for s in np.asarray(ph.block_size_nm) // np.array(VOX))
    return phantoms.rasterize(ph, ph.block_origin_nm, shape, VOX,
                              ["labels", "semantic", "mito", "nucleus", "organelles", "cleft", "psd", "vesicles"])


def test_placement_is_deterministic(tiny):
    a = place_organelles(tiny, np.random.default_rng(1)).arrays()
    b = place_organelles(tiny, np.random.default_rng(1)).arrays()
    c = place_organelles(tiny, np.random.default_rng(2)).arrays()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["mito_a"], c["mito_a"])


def test_every_soma_has_a_nucleus_and_organelles_sit_inside_their_cell(ph, fields):
    org = Organelles.from_arrays(ph.organelles)
    assert sorted(org.nucleus_cell.tolist()) == sorted(c for c, r in zip(ph.cell_ids, ph.soma_radii) if r > 0)
    lab, ids = fields["labels"], fields["organelles"]
    owner = np.r_[org.mito_cell, org.nucleus_cell]
    hit = ids > 0
    assert hit.any()
    assert np.array_equal(lab[hit], owner[ids[hit] - 1])  # every organelle voxel is in its own cell
    for kind in ("soma", "dendrite", "axon", "bouton"):
        assert (org.mito_kind == ("soma", "dendrite", "axon", "bouton").index(kind)).sum() > 0, kind


def test_mitochondrion_fraction_of_cells_in_the_documented_range(ph, fields):
    # phantoms.organelles: dendrites 44-70 % of length x (d_mito / d_dendrite)^2, axons 3-11 %,
    # somata 5-10 %: neuronal volume holds roughly 3-15 % mitochondria
    # of the whole tissue's neuronal volume: circuit cells and dense tiny's background neurites
    # (glia carry none; measured 0.041 on dense tiny, circuit cells alone 0.045, background 0.038)
    lab, mito = fields["labels"], fields["semantic"] == SEMANTIC_CLASSES.index("mitochondrion")
    neurons = (lab > 0) & ~np.isin(lab, glia_ids(ph))
    background = neurons & ~np.isin(lab, ph.cell_ids)
    assert background.sum() > neurons.sum() / 2  # dense: most of the neuronal volume is background
    for cells in (neurons, background):
        frac = (mito & cells).sum() / cells.sum()
        assert 0.03 <= frac <= 0.15, frac
    assert not (mito & np.isin(lab, glia_ids(ph))).any()


def test_background_organelles_come_after_the_circuit_cells_draws(tiny):
    # background neurites' mitochondria are drawn last, so the circuit cells' are those drawn
    # without any background cells at all
    alone = dataclasses.replace(tiny, background_ids=(), background_skeletons=(), background_classes=())
    a = place_organelles(alone, np.random.default_rng(5)).arrays()
    b = place_organelles(tiny, np.random.default_rng(5)).arrays()
    n = len(a["mito_r"])
    assert len(b["mito_r"]) > n
    assert all(np.array_equal(a[k], b[k][:n] if k.startswith("mito") else b[k]) for k in a)
    assert set(b["mito_cell"][n:].tolist()) <= set(tiny.background_ids)


def test_semantic_classes_and_cleft_is_extracellular(fields):
    sem, lab = fields["semantic"], fields["labels"]
    present = set(np.unique(sem).tolist())
    for name in ("extracellular", "neuron", "mitochondrion", "nucleus", "vesicle", "psd", "cleft"):
        assert SEMANTIC_CLASSES.index(name) in present, name
    assert np.all(lab[sem == SEMANTIC_CLASSES.index("cleft")] == 0)  # the cleft is no cell's
    # the gap between the membranes is extracellular (the disc may graze a widening shaft at its rim;
    # in dense neuropil the rim also meets the neighbours packed around the contact, and the 22 nm
    # circuit cleft is 2 nm wider than the 20 nm extracellular band: measured 0.85 on dense tiny)
    assert np.mean(lab[fields["cleft"] > 0] == 0) > 0.8


def test_new_fields_are_chunk_exact(ph, fields):
    o = np.asarray(ph.block_origin_nm) + np.array([10, 37, 41]) * np.array(VOX)
    part = phantoms.rasterize(ph, o, (13, 61, 47), VOX, ["semantic", "organelles", "psd", "cleft", "vesicles", "mito"])
    for k, v in part.items():
        assert np.array_equal(v, fields[k][10:23, 37:98, 41:88]), k


def test_gray_type_ii_has_thin_psd_and_flat_vesicles(ph):
    geo = synapse_geometry(ph)
    assert geo.inhibitory.any() and (~geo.inhibitory).any()
    assert geo.psd_nm[geo.inhibitory].max() < geo.psd_nm[~geo.inhibitory].min()
    # fine grid around one synapse of each type: the PSD volume per unit area follows the type
    vol = {}
    for inh in (False, True):
        i = int(np.flatnonzero(geo.inhibitory == inh)[0])
        c = ph.synapses.post_nm[i]
        f = phantoms.rasterize(ph, c - 150, (60, 60, 60), 5.0, ["psd", "vesicles"])
        vol[inh] = f["psd"].sum() * 125 / ph.synapses["psd_area_nm2"][i]
    assert vol[True] < 0.7 * vol[False]

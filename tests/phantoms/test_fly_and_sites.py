"""Synapses inside the imaged block; the fly preset's polyadic synapses, T-bars, transmitters and rind."""

import tomllib
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import phantoms
from phantoms.stats import _calibres
from phantoms.organelle_fields import (TBAR_PEDESTAL_NM, TBAR_PLATFORM_NM, TBAR_PLATFORM_RADIUS_NM,
                                       release_sites, tbar_geometry)

FLY_TOML = Path(__file__).resolve().parents[2] / "pretty_printer" / "dataset" / "presets" / "fly.toml"


def _fly_cfg(**over) -> phantoms.GrowthConfig:
    tissue = tomllib.loads(FLY_TOML.read_text())["tissue"]
    return phantoms.GrowthConfig(**{**tissue, **over})


def _inside_by_psd_radius(ph) -> np.ndarray:
    """Per synapse: both sites at least the PSD radius inside the block."""
    S = ph.synapses
    r = np.sqrt(np.asarray(S["psd_area_nm2"], float) / np.pi)[:, None]
    B = np.asarray(ph.block_size_nm, float)
    return np.all((S.pre_nm >= r) & (S.pre_nm <= B - r) & (S.post_nm >= r) & (S.post_nm <= B - r), axis=1)


@pytest.fixture(scope="module")
def fly():
    """A small circuit grown with the fly preset's tissue settings in a smaller block."""
    return phantoms.grow(phantoms.layered_spec(1, 2, 1, rng=1), _fly_cfg(block_nm=(2400.0, 4000.0, 4000.0)), 1)


def test_every_tiny_synapse_is_imaged(tiny):
    from phantoms.stats import _synapse_stats

    assert len(tiny.synapses) > 0
    assert _inside_by_psd_radius(tiny).all()
    assert _synapse_stats(tiny, 1.0)["synapses_inside_block_fraction"] == 1.0  # as tissue_stats.json reports it


@pytest.mark.parametrize("seed", [0, 1])
def test_every_synapse_lies_inside_the_block_whatever_the_seed(seed):
    cfg = phantoms.GrowthConfig(block_nm=(1500.0, 3000.0, 3000.0), background_axon_um_per_um3=4.0)
    ph = phantoms.grow(phantoms.layered_spec(1, 1, 1, inhibitory_hidden=0, rng=seed), cfg, seed)
    decoys = ~np.isin(ph.synapses["pre_cell"], ph.cell_ids)
    assert decoys.sum() > 0  # the property is about decoys too, which used to leave the block
    assert _inside_by_psd_radius(ph).all()


def test_fly_has_polyadic_release_sites(fly):
    S = fly.synapses
    site, first = release_sites(fly)
    assert _inside_by_psd_radius(fly).all()
    pre, post = np.asarray(S["pre_cell"]), np.asarray(S["post_cell"])
    partners = [set(post[site == k].tolist()) for k in range(len(first))]
    counts = np.array([len(p) for p in partners])
    assert counts.max() >= 2  # one presynaptic site, several postsynaptic partners
    assert counts.max() <= fly.cfg.polyadic_partners_max
    for k in np.flatnonzero(counts >= 2):
        rows = np.flatnonzero(site == k)
        assert len(set(pre[rows].tolist())) == 1  # one presynaptic cell per release site
        assert len(rows) == counts[k]  # each pre -> post pair is one row of the truth table
        assert pre[rows[0]] not in partners[k]


def test_a_tbar_is_drawn_at_every_release_site_and_only_with_tbar_on(fly):
    site, first = release_sites(fly)
    T = tbar_geometry(fly)
    assert len(T.base) == len(first)
    # the pedestal's middle and the platform's rim, on a 5 nm grid around one polyadic T-bar
    k = int(np.argmax(np.bincount(site)))
    mid = T.base[k] + T.u[k] * (0.5 * TBAR_PEDESTAL_NM)
    side = np.cross(T.u[k], [1.0, 0.0, 0.0] if abs(T.u[k][0]) < 0.9 else [0.0, 1.0, 0.0])
    side /= np.linalg.norm(side)
    rim = T.base[k] + T.u[k] * (TBAR_PEDESTAL_NM + 0.5 * TBAR_PLATFORM_NM) + side * 0.8 * TBAR_PLATFORM_RADIUS_NM

    def density_at(ph, p):
        return float(phantoms.rasterize(ph, p - 2.5, (1, 1, 1), 5.0, ("psd",))["psd"][0, 0, 0])

    assert density_at(fly, mid) == 1.0 and density_at(fly, rim) == 1.0
    plain = replace(fly, cfg=replace(fly.cfg, tbar=False))
    assert density_at(plain, mid) == 0.0 and density_at(plain, rim) == 0.0


def test_fly_transmitters_follow_dale_and_the_preset_mix(fly):
    bg = [c for c, k in zip(fly.background_ids, fly.background_classes) if k == "neuron_background"]
    kinds = [fly.transmitter(c) for c in bg]
    assert set(kinds) == {"acetylcholine", "GABA", "glutamate"}
    assert kinds.count("acetylcholine") > kinds.count("GABA")  # 0.55 against 0.2 of the neurons
    S = fly.synapses
    for i, p in enumerate(S["pre_cell"].tolist()):
        if p in fly.background_ids:
            gaba = fly.transmitter(p) == "GABA"
            assert (S["n_GABA_A"][i] > 0) == gaba and (S["n_AMPA"][i] > 0) == (not gaba)


def test_fly_somata_lie_in_the_rind(fly):
    top = fly.soma_centers[:, 0] + fly.soma_radii
    assert np.all(top <= fly.cfg.soma_rind_nm + 1e-6)


def test_acetylcholine_share_is_checked():
    with pytest.raises(ValueError, match="acetylcholine_share"):
        phantoms.GrowthConfig(inhibitory_share=0.5, acetylcholine_share=0.6)


def test_boutons_and_spine_heads_keep_their_real_smallest_size():
    # the cortex preset's sizes: boutons >= 0.5 um across (Shepherd & Harris 1998), spine heads
    # >= ~0.03 um^3 (Harris et al. 1992); every circuit contact is at least that big
    cfg = phantoms.GrowthConfig(block_nm=(3000.0, 4500.0, 4500.0), dense=False, bouton_radius_nm=250.0,
                                spine_head_radius_nm=195.0, soma_radius_nm=600.0, min_soma_spacing_nm=1400.0)
    ph = phantoms.grow(phantoms.layered_spec(1, 2, 1, rng=0), cfg, 0)
    S = ph.synapses
    assert len(S) > 0 and np.all(S["bouton_radius_nm"] >= 250.0)
    sizes = _calibres(ph)  # what truth/tissue_stats.json reports, measured on the skeletons
    assert sizes["bouton_diameter_um"]["n"] == len(S) and sizes["bouton_diameter_um"]["q25"] >= 0.5
    assert sizes["spine_head_volume_um3"]["n"] > 0 and sizes["spine_head_volume_um3"]["q25"] >= 0.03
    assert np.all(2 * ph.soma_radii / 1000.0 >= 1.2 * 0.9)  # 0.6 um radius, +-10 % jitter


def test_glia_cells_are_glia_in_the_semantic_truth(tiny):
    from phantoms.rasterize import SEMANTIC_CLASSES

    glia = [c for c, k in zip(tiny.background_ids, tiny.background_classes) if k == "glia"]
    nodes = np.concatenate([tiny.skeleton(c).nodes_nm for c in glia])
    inside = nodes[np.all((nodes > 600.0) & (nodes < np.asarray(tiny.block_size_nm) - 600.0), axis=1)]
    origin = inside[len(inside) // 2] - 600.0  # a box around a glial process
    f = phantoms.rasterize(tiny, origin, (60, 60, 60), 20.0, ("labels", "semantic"))
    in_glia = np.isin(f["labels"], glia)
    assert in_glia.sum() > 100
    cls = f["semantic"][in_glia]
    # glia unless an organelle, vesicle or density class covers the voxel
    assert np.mean(cls == SEMANTIC_CLASSES.index("glia")) > 0.9
    assert not np.any(f["semantic"][~in_glia & (f["labels"] > 0)] == SEMANTIC_CLASSES.index("glia"))

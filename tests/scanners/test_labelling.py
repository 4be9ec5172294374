"""Stochastic ExM labelling: neutral switches give today's image; each effect is measurable."""

import numpy as np
import pytest

import scanners
from scanner_tissues import IDEAL_LABELLING
from scanners.config import load_preset

REGION = dict(region_origin_nm=(0.0, 0.0, 0.0), region_size_nm=(600.0, 1200.0, 1200.0))
QUIET = dict(noise=False, distortion_rms_nm=0.0, jitter_nm=0.0, bleach_per_round=0.0, background_photons=0.0,
             offset_adu=0.0, dtype="float32", **IDEAL_LABELLING)
NOISY = dict(expression_cv=0.5, barcode_dropout=0.2, labelling_fraction=0.3, receptor_detection_efficiency=0.5,
             structural_channel=True)


def test_neutral_switches_are_todays_image(cells):
    """The config's defaults are the idealized stain (the image before stochastic labelling)."""
    table = {k: v for k, v in load_preset("exm_lightsheet").items() if k not in IDEAL_LABELLING}
    table.pop("description", None)
    defaults = scanners.make_scanner(table)
    assert all(getattr(defaults.config, k) == v for k, v in IDEAL_LABELLING.items())
    neutral = scanners.make_scanner({"preset": "exm_lightsheet", **IDEAL_LABELLING})
    noisy = scanners.make_scanner({"preset": "exm_lightsheet"})
    a = defaults.render_volume(cells, seed=2, **REGION)
    assert np.array_equal(a, neutral.render_volume(cells, seed=2, **REGION))
    assert not np.array_equal(a, noisy.render_volume(cells, seed=2, **REGION))  # the preset labels stochastically


def test_stochastic_labelling_is_chunk_exact(cells):
    s = scanners.make_scanner({"preset": "exm_lightsheet", **NOISY})
    assert s.channel_names[-1] == "structure"
    whole = s.render_volume(cells, seed=3, chunk_shape=None, **REGION)
    assert np.array_equal(whole, s.render_volume(cells, seed=3, chunk_shape=(4, 27, 33), **REGION))


def test_expression_varies_per_cell_and_gaps_remove_whole_cells(cells):
    flat = scanners.make_scanner({"preset": "exm_lightsheet", **QUIET, "psf_fwhm_nm": [1.0, 1.0, 1.0]})
    varied = scanners.make_scanner({"preset": "exm_lightsheet", **QUIET, "psf_fwhm_nm": [1.0, 1.0, 1.0],
                                    "expression_cv": 0.5, "barcode_dropout": 0.25})
    a = flat.render_volume(cells, seed=1, **REGION)
    b = varied.render_volume(cells, seed=1, **REGION)
    lab = cells(REGION["region_origin_nm"], a.shape[1:], flat.voxel_nm, ["labels"])["labels"]
    ratios, gaps = [], 0
    for cid in np.unique(lab[lab > 0]):
        for ch in range(flat.config.n_barcode_proteins):
            on = a[ch][lab == cid]
            if on.mean() > 0:
                r = b[ch][lab == cid].mean() / on.mean()
                gaps += r == 0
                if r > 0:
                    ratios.append(r)
    ratios = np.array(ratios)
    assert gaps >= 1  # some expressed proteins are missed in a whole cell
    assert 0.25 < ratios.std() / ratios.mean() < 0.8  # expression CV 0.5 between cells


def test_receptor_detection_efficiency_scales_the_count(cells):
    base = {"preset": "exm_lightsheet", **QUIET, "voxel_nm": [80.0, 40.0, 40.0]}
    block = dict(region_origin_nm=(0.0, 0.0, 0.0), region_size_nm=tuple(cells.size_nm))  # ~3000 receptors
    full = scanners.make_scanner(base).render_volume(cells, seed=1, **block)
    half = scanners.make_scanner({**base, "receptor_detection_efficiency": 0.5}).render_volume(cells, seed=1, **block)
    ch = scanners.make_scanner(base).channel_names.index("receptor:AMPA")
    assert half[ch].sum() / full[ch].sum() == pytest.approx(0.5, rel=0.1)

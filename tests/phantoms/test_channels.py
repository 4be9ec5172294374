"""Tonic channel densities in the phantom: the size law, the raster fields and channels.json."""

import numpy as np
import pytest

from phantoms import GrowthConfig
from phantoms.channels import (CHANNEL_SPECIES, densities_from_drive, drive_from_radius,
                               soma_radius_factor, tonic_drive)
from phantoms.raster_channels import CHANNEL_FIELDS, PS_UM2_PER_MS_CM2


def test_size_law_is_exact_at_correlation_one_and_uninformative_at_zero():
    drives = np.linspace(-0.7, 1.1, 40)
    u = np.random.default_rng(0).uniform(-1, 1, len(drives))
    exact = GrowthConfig(excitability_morphology_correlation=1.0)
    f = np.array([soma_radius_factor(d, exact, x) for d, x in zip(drives, u)])
    assert np.all(np.diff(f) < 0)  # size principle: more tonic depolarization, smaller soma
    np.testing.assert_allclose(drive_from_radius(f * exact.soma_radius_nm, exact), drives, atol=1e-9)
    none = GrowthConfig(excitability_morphology_correlation=0.0)
    g = np.array([soma_radius_factor(d, none, x) for d, x in zip(drives, u)])
    np.testing.assert_array_equal(g, 1.0 + none.soma_radius_jitter * u)  # the plain jitter
    half = GrowthConfig(excitability_morphology_correlation=0.5)
    h = np.array([soma_radius_factor(d, half, x) for d, x in zip(drives, u)])
    assert np.corrcoef(h, -drives)[0, 1] > 0.2
    assert np.all(np.abs(f - 1) <= exact.soma_radius_jitter + 1e-12)


def test_size_law_knob_is_validated():
    with pytest.raises(ValueError, match="excitability_morphology_correlation"):
        GrowthConfig(excitability_morphology_correlation=1.5)


def test_drive_and_densities_round_trip():
    for d in (-0.5, 0.3):
        dens = densities_from_drive(d)
        assert tonic_drive(dens) == pytest.approx(d)


def test_channel_field_sums_to_the_cells_conductance():
    from dataclasses import replace

    from phantoms import cylinder_phantom, rasterize

    ph = cylinder_phantom(300.0, 2000.0)
    col = CHANNEL_SPECIES["tonic_gabaa"].column
    spec = replace(ph.spec, cells=tuple(replace(c, **{col: 0.05}) for c in ph.spec.cells))
    ph = replace(ph, spec=spec)
    vox = (20.0, 20.0, 20.0)
    shape = tuple(int(s // 20) for s in ph.block_size_nm)
    out = rasterize(ph, ph.block_origin_nm, shape, vox, ("membrane", "labels") + CHANNEL_FIELDS)
    assert float(out["channel:cation_leak"].sum()) == 0.0
    area_um2 = out["membrane"].sum() * 20.0 ** 3 / ph.cfg.membrane_nm * 1e-6
    total_pS = float(out["channel:tonic_gabaa"].sum())
    # one cell: the field is exactly its membrane area times its density ...
    assert total_pS == pytest.approx(0.05 * PS_UM2_PER_MS_CM2 * area_um2, rel=1e-5)
    # ... and that area is the cylinder's lateral surface 2 pi r L (the soma lies inside it)
    assert total_pS == pytest.approx(0.05 * PS_UM2_PER_MS_CM2 * 2 * np.pi * 0.3 * 2.0, rel=0.05)


def test_channel_field_is_identical_whatever_the_chunking():
    from dataclasses import replace

    from phantoms import cylinder_phantom, rasterize

    ph = cylinder_phantom(250.0, 1600.0, axis=(0.3, 0.5, 1.0))
    col = CHANNEL_SPECIES["cation_leak"].column
    ph = replace(ph, spec=replace(ph.spec, cells=tuple(replace(c, **{col: 0.02}) for c in ph.spec.cells)))
    vox = np.array([30.0, 20.0, 20.0])
    shape = tuple(int(s) for s in ph.block_size_nm // vox)
    whole = rasterize(ph, ph.block_origin_nm, shape, vox, CHANNEL_FIELDS)["channel:cation_leak"]
    half = shape[2] // 2
    a = rasterize(ph, ph.block_origin_nm, shape[:2] + (half,), vox, CHANNEL_FIELDS)["channel:cation_leak"]
    o = ph.block_origin_nm + np.array([0, 0, half]) * vox
    b = rasterize(ph, o, shape[:2] + (shape[2] - half,), vox, CHANNEL_FIELDS)["channel:cation_leak"]
    np.testing.assert_array_equal(np.concatenate([a, b], axis=2), whole)
    assert whole.sum() > 0


def test_dense_channel_shells_equal_each_cell_rasterized_alone(tiny):
    """The shared nearest-surface search gives every circuit cell exactly the membrane shell it
    has when rasterized alone (the per-cell path it replaced), in packed neuropil."""
    import importlib

    from phantoms.raster_geometry import _Grid, _membrane

    R = importlib.import_module("phantoms.rasterize")
    g = _Grid(np.array([200.0, 900.0, 1400.0]), (24, 60, 60), np.array([40.0, 30.0, 30.0]))
    own = R._own_membrane(tiny, g)
    seen = 0
    for c in tiny.cell_ids:
        alone = _membrane(R._cells(tiny, g, True, False, [c])[2], g, tiny.cfg.membrane_nm)
        np.testing.assert_array_equal(own(c), alone)
        seen += bool(alone.any())
    assert seen >= 2  # the box holds several circuit cells' membranes

"""Resolution measured on rendered edges is within 15% of each preset's configured resolution."""

import numpy as np
import pytest

import scanners
from scanner_tissues import CLEAN, HalfSpaceTissue
from scanners.resolution import edge_spread_fwhm, frc_resolution_nm


def configured_resolution(s) -> float:
    if s.modality == "em":
        return s.config.psf_fwhm_nm
    if s.modality == "exm":
        return float(s.config.resolution_nm[2])
    return s.config.resolution_nm


@pytest.mark.parametrize("preset", ["sbem", "fibsem", "sstem", "exm_lightsheet", "xnh", "exm_xray"])
def test_edge_spread_matches_configured_resolution(preset):
    kind = scanners.load_preset(preset)["kind"]
    s = scanners.make_scanner({"preset": preset, "noise": False, **CLEAN[kind]})
    vox = s.voxel_nm
    size = np.array([2 * vox[0], 64 * vox[1], 64 * vox[2]])
    edge = HalfSpaceTissue(normal=(0.0, 0.1, 1.0), offset_nm=size[2] / 2, n_barcode_proteins=8)
    img = s.render_volume(edge, (0, 0, 0), size, seed=0)[0].astype(float)
    d = edge.signed_distance((0, 0, 0), img.shape, vox)
    cfg = configured_resolution(s)
    measured = edge_spread_fwhm(img, d, window_nm=6 * cfg)
    assert abs(measured / cfg - 1) < 0.15, (measured, cfg)


def test_exm_axial_resolution():
    s = scanners.make_scanner({"preset": "exm_lightsheet", "noise": False, **CLEAN["exm"]})
    edge = HalfSpaceTissue(normal=(1.0, 0.0, 0.1), offset_nm=1500.0, n_barcode_proteins=8)
    size = (3000.0, 200.0, 1200.0)
    img = s.render_volume(edge, (0, 0, 0), size, seed=0)[0].astype(float)
    d = edge.signed_distance((0, 0, 0), img.shape, s.voxel_nm)
    cfg = s.config.resolution_nm[0]
    assert abs(edge_spread_fwhm(img, d, window_nm=5 * cfg) / cfg - 1) < 0.15


def test_frc_finds_blur(cells):
    """Two noisy images of the same tissue: the FRC cut-off gets coarser as the PSF widens."""
    res = []
    for fwhm in (20.0, 60.0):
        s = scanners.make_scanner({"preset": "fibsem", "voxel_nm": 10, "psf_fwhm_nm": fwhm, "dtype": "float32"})
        a = s.render_volume(cells, (400, 0, 0), (10, 2000, 2000), seed=1)[0, 0]
        b = s.render_volume(cells, (400, 0, 0), (10, 2000, 2000), seed=2)[0, 0]
        res.append(frc_resolution_nm(a, b, 10.0))
    assert res[1] > 1.5 * res[0]

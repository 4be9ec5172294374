import numpy as np
import pytest

import scanners
from scanners.registry import Registry

REQUIRED = ("sbem", "fibsem", "sstem", "exm_lightsheet", "xnh", "exm_xray")


def test_required_presets_ship_and_build():
    names = scanners.preset_names()
    for name in REQUIRED:
        assert name in names
        s = scanners.make_scanner({"preset": name})
        assert s.modality == scanners.load_preset(name)["kind"]
    assert set(scanners.SCANNERS.names()) == {"em", "exm", "xray"}


def test_overrides_merge_on_top_of_preset():
    s = scanners.make_scanner({"preset": "sbem", "voxel_nm": [40, 16, 16]})
    assert tuple(s.voxel_nm) == (40.0, 16.0, 16.0)
    assert s.config.dose_e_per_nm2 == scanners.load_preset("sbem")["dose_e_per_nm2"]
    assert s.output_shape((400, 1600, 1600)) == (1, 10, 100, 100)
    e = scanners.make_scanner({"preset": "exm_lightsheet", "n_barcode_proteins": 5})
    assert e.output_shape((600, 200, 200))[0] == 5 + 3
    assert e.channel_names[:2] == ["barcode:0", "barcode:1"] and e.channel_names[-1] == "receptor:GABA_A"


def test_unknown_key_names_it_and_lists_valid_ones():
    with pytest.raises(ValueError, match=r"'voxel_size'.*expected one of:.*voxel_nm"):
        scanners.make_scanner({"preset": "sbem", "voxel_size": 3})


@pytest.mark.parametrize("key,value", [("voxel_nm", [-1, 4, 4]), ("voxel_nm", 0), ("dose_e_per_nm2", 0),
                                       ("dose_e_per_nm2", -5.0), ("psf_fwhm_nm", "wide")])
def test_bad_values_name_the_key(key, value):
    with pytest.raises(ValueError, match=key) as info:
        scanners.make_scanner({"preset": "sstem", key: value})
    assert "got" in str(info.value)


def test_xray_and_exm_validation():
    with pytest.raises(ValueError, match="photons_per_pixel"):
        scanners.make_scanner({"preset": "xnh", "photons_per_pixel": 0})
    with pytest.raises(ValueError, match="voxel_nm.*square"):
        scanners.make_scanner({"preset": "xnh", "voxel_nm": [40, 40, 30]})
    with pytest.raises(ValueError, match="receptors"):
        scanners.make_scanner({"preset": "exm_lightsheet", "receptors": ["AMPA", "kainate"]})


def test_unknown_kind_and_preset_list_names():
    with pytest.raises(KeyError, match="em, exm, xray"):
        scanners.make_scanner({"kind": "mri"})
    with pytest.raises(ValueError, match="sbem"):
        scanners.load_preset("nope")
    with pytest.raises(ValueError, match="kind"):
        scanners.make_scanner({"voxel_nm": 4})


def test_registry_rejects_duplicates():
    r = Registry("thing")
    r.register("a")(object)
    with pytest.raises(ValueError, match="already registered"):
        r.register("a")(object)


def test_region_must_hold_a_voxel():
    s = scanners.make_scanner({"preset": "sbem"})
    with pytest.raises(ValueError, match="region_size_nm"):
        s.output_shape((10, 1000, 1000))
    assert s.output_shape((30.0, 95.0, 100.0)) == (1, 1, 9, 10)
    assert np.dtype(s.dtype) == np.uint8

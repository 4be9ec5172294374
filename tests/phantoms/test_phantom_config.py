import dataclasses

import pytest

import phantoms


def test_defaults_and_field_names():
    cfg = phantoms.GrowthConfig()
    names = phantoms.GrowthConfig.field_names()
    assert names == tuple(f.name for f in dataclasses.fields(cfg))
    for key in ("block_nm", "min_soma_spacing_nm", "soma_radius_nm", "extracellular_gap_nm",
                "receptor_size_correlation", "barcode_proteins", "barcode_k"):
        assert key in names


def test_toml_style_lists_become_tuples():
    cfg = phantoms.GrowthConfig(block_nm=[1000, 2000, 3000])
    assert cfg.block_nm == (1000.0, 2000.0, 3000.0)
    assert hash(cfg)  # still frozen and hashable


@pytest.mark.parametrize("key, value", [
    ("receptor_size_correlation", 1.5), ("block_nm", (1, 2)), ("step_nm", -3.0), ("barcode_k", 20),
    ("cleft_nm", 5.0), ("dendrites_max", 1), ("step_nm", "fast"),
])
def test_bad_values_name_the_key(key, value):
    kwargs = {key: value}
    if key == "dendrites_max":
        kwargs["dendrites_min"] = 3
    with pytest.raises(ValueError, match=key):
        phantoms.GrowthConfig(**kwargs)

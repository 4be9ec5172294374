"""A growth failure says which block size would grow: the suggestion is checked by growing there."""

import numpy as np
import pytest

import phantoms
from phantoms.examples import xor_spec
from pretty_printer.dataset.growth_hint import advice, block_that_grows, scaled_block


def test_scaled_block_rounds_up_to_100_nm():
    assert scaled_block((2000.0, 1010.0, 5000.0), 1.25) == (2500.0, 1300.0, 6300.0)


def test_suggested_block_grows_where_the_original_failed():
    spec = xor_spec(0)
    cfg = phantoms.GrowthConfig(block_nm=(1500.0, 2600.0, 2600.0))
    make_rng = lambda: np.random.default_rng(5)  # noqa: E731
    with pytest.raises(phantoms.GrowthError):
        phantoms.grow(spec, cfg, make_rng())
    block = block_that_grows(spec, cfg, make_rng)
    assert block is not None and all(b > a for a, b in zip(cfg.block_nm, block))
    phantoms.grow(spec, phantoms.GrowthConfig(block_nm=block), make_rng())  # really grows there
    assert f"enlarge tissue.block_nm to at least {[int(b) for b in block]}" in advice(spec, cfg, make_rng)

import pytest

import phantoms


@pytest.fixture(scope="session")
def tiny():
    """The ``tiny`` scale: the xor-sized circuit grown with the default settings (dense neuropil)."""
    return phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 0)


@pytest.fixture(scope="session")
def tiny_sparse():
    """The same circuit without the neuropil around it (``dense = false``)."""
    return phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(dense=False), 0)

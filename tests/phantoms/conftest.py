import pytest

import phantoms


@pytest.fixture(scope="session")
def tiny():
    """The ``tiny`` scale: the xor-sized circuit grown with the default settings."""
    return phantoms.grow(phantoms.xor_spec(0), phantoms.GrowthConfig(), 0)

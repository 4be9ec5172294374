"""Analytic tissues for the scanner tests (no dependency on ``phantoms``)."""

import pytest

from scanner_tissues import HalfSpaceTissue, SphereTissue, UniformTissue, random_cells  # noqa: F401


@pytest.fixture(scope="session")
def cells() -> SphereTissue:
    return random_cells(n_cells=10, n_proteins=8, size_nm=(1200.0, 2400.0, 2400.0), seed=3)


@pytest.fixture(scope="session")
def edge() -> HalfSpaceTissue:
    return HalfSpaceTissue()


@pytest.fixture(scope="session")
def uniform() -> UniformTissue:
    return UniformTissue()
